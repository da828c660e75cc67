# SPDX-License-Identifier: MIT
"""atx's vhost-user frontend against DPDK 22.11's vhost_crypto example
(docs/INTEROP-DPDK.md): AES-128/256-CBC both ways, AES-CBC + HMAC-SHA1 /
HMAC-SHA256 chains (encrypt-then-MAC, verify-then-decrypt) on payloads up
to DPDK's 2176-byte limit, the RFC 3602 references, every result compared
with python3-cryptography / hmac, and proof that the work ran on the
device (session engine "virtio0", channel ops, the backend's session log).

DPDK retries a request it cannot parse forever and never completes it, so
nothing here waits unbounded: the backend runs under a bounded start-up
wait and is killed in a finally; the frontend runs in a child process
(this file with --child) under a timeout.  Only valid requests reach the
device; oversize ones are refused by the driver before they are queued.

The example is built at test time by tests/dpdk/build-vhost-crypto.sh (its
source is DPDK's, never committed).  Skipped when DPDK is not installed
(libdpdk-dev dpdk-doc; ./configure --install-deps installs them).

Standalone: tests/dpdk/run.sh runs the same child against a fresh backend.
"""
import errno
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD_SCRIPT = os.path.join(ROOT, "tests", "dpdk", "build-vhost-crypto.sh")
EXAMPLE = os.environ.get("ATX_DPDK_EXAMPLE", "/usr/share/dpdk/examples/vhost_crypto")

CHILD_TIMEOUT = 30      # s for one frontend run (normally < 2 s)
SOCKET_TIMEOUT = 10     # s for the backend's socket to appear (normally 0.15 s)

# RFC 3602 section 4, cases 1 and 2 (AES-128-CBC)
RFC3602 = [
    ("06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
     b"Single block msg".hex(), "e353779c1079aeb82708942dbe77181a"),
    ("c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58",
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
     "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1"),
]
SIZES = [16, 48, 256, 1040, 2048, 2176]     # multiples of 16, up to DPDK's 2176
MAX = 2176


# ---------------------------------------------------------------------------
# The frontend (child process): everything that talks to the device.
# ---------------------------------------------------------------------------

def _vstats(c):
    ch = [x for x in c.channels() if x["engine"] == "virtio0"]
    assert ch, "no virtio0 channel: %r" % c.channels()
    return {k: sum(x["stats"][k] for x in ch) for k in ("ops", "bytes", "errors")}


def _child_rfc3602(c, V, atx):
    for key, iv, pt, ct in RFC3602:
        key, iv, pt = bytes.fromhex(key), bytes.fromhex(iv), bytes.fromhex(pt)
        enc = c.session("aes-128-cbc", key=key, engine="virtio0")
        dec = c.session("aes-128-cbc", key=key, encrypt=False, engine="virtio0")
        assert enc.engine == "virtio0" and dec.engine == "virtio0"
        got = enc.cipher(pt, iv)
        assert got.hex() == ct, ("RFC 3602", got.hex(), ct)
        assert dec.cipher(bytes.fromhex(ct), iv) == pt
        enc.close()
        dec.close()
    return 4


def _child_cbc(c, V, atx):
    n_ops = 0
    for name in ("aes-128-cbc", "aes-256-cbc"):
        key = os.urandom(V.CIPHERS[name][0])
        enc = c.session(name, key=key, engine="virtio0")
        dec = c.session(name, key=key, encrypt=False, engine="virtio0")
        assert enc.engine == "virtio0" and dec.engine == "virtio0", (enc.engine, dec.engine)
        for i, n in enumerate(SIZES):
            iv, data = os.urandom(16), os.urandom(n)
            want = V.cipher(name, key, iv, data)
            # plain, scattered + misaligned, and in-place buffers
            assert enc.cipher(data, iv) == want, (name, n)
            assert dec.cipher(want, iv) == data, (name, n)
            assert enc.cipher(data, iv, segments=3, offset=5) == want, (name, n, "sg")
            assert dec.cipher(want, iv, in_place=True) == data, (name, n, "in place")
            assert enc.cipher_simple(data, iv) == want, (name, n, "atx_cipher")
            n_ops += 5
        enc.close()
        dec.close()
    return n_ops


# (cipher, HMAC hash, HMAC key length, truncated MAC length or 0 = full)
CHAINS = [("aes-128-cbc", "sha1", 20, 0), ("aes-256-cbc", "sha256", 32, 0),
          ("aes-128-cbc", "sha256", 32, 0), ("aes-256-cbc", "sha1", 20, 0),
          ("aes-128-cbc", "sha1", 20, 12), ("aes-256-cbc", "sha512", 64, 0),
          ("des-ede3-cbc", "sha1", 20, 0)]


def _child_chain(c, V, atx):
    n_ops = 0
    for name, mac, akl, dlen in CHAINS:
        alg = "%s+hmac-%s" % (name, mac)
        kl, ivl = V.CIPHERS[name][0], V.CIPHERS[name][1]
        best, prio = c.probe(alg, key_len=kl, auth_key=b"k" * akl)
        if prio.get("virtio0") == -errno.EOPNOTSUPP:
            print("CHAIN-UNSUPPORTED %s %r" % (alg, prio))
            return 0
        assert best == "virtio0", (alg, best, prio)
        key, akey = os.urandom(kl), os.urandom(akl)
        enc = c.session(alg, key=key, auth_key=akey, digest_len=dlen, engine="virtio0")
        dec = c.session(alg, key=key, auth_key=akey, digest_len=dlen, encrypt=False,
                        engine="virtio0")
        assert enc.engine == "virtio0" and dec.engine == "virtio0", (enc.engine, dec.engine)
        for n in SIZES:
            iv, data = os.urandom(ivl), os.urandom(n)
            ct = V.cipher(name, key, iv, data)
            tag = hmac.new(akey, ct, mac).digest()
            want = ct + (tag[:dlen] if dlen else tag)           # encrypt-then-MAC
            got = enc.aead_encrypt(data, iv)
            assert got == want, (alg, n, got[-32:].hex(), want[-32:].hex())
            assert dec.aead_decrypt(want, iv) == data, (alg, n)   # verify-then-decrypt
            n_ops += 2
        # A wrong MAC: DPDK completes the request with VIRTIO_CRYPTO_ERR
        # (it does not hang); atx reports -EBADMSG and writes no plaintext.
        bad = bytearray(want)
        bad[-1] ^= 0x80
        try:
            dec.aead_decrypt(bytes(bad), iv)
            raise AssertionError("%s: a corrupted MAC was accepted" % alg)
        except atx.AtxError as e:
            assert e.errno == errno.EBADMSG, (alg, e)
        n_ops += 1
        assert dec.aead_decrypt(want, iv) == data       # the queue still flows
        n_ops += 1
        enc.close()
        dec.close()
    return n_ops


def _child_limits(c, V, atx):
    """What the driver keeps away from DPDK, and that the queue still flows."""
    key = os.urandom(16)
    enc = c.session("aes-128-cbc", key=key, engine="virtio0")
    iv = os.urandom(16)
    # over DPDK's 2176-byte request limit: refused by the driver, never queued
    try:
        enc.cipher(os.urandom(MAX + 16), iv)
        raise AssertionError("a %d-byte request was sent to DPDK" % (MAX + 16))
    except atx.AtxError as e:
        assert e.errno == errno.EMSGSIZE, e
    # not what DPDK serves: the software engines take it, by probe
    for alg, kl in (("aes-128-ctr", 16), ("aes-256-ctr", 32), ("hmac-sha256", 32),
                    ("sha256", None), ("aes-128-gcm", 16)):
        best, prio = c.probe(alg, key_len=kl)
        assert prio["virtio0"] == -errno.EOPNOTSUPP and best != "virtio0", (alg, prio)
    data = os.urandom(MAX)
    assert enc.cipher(data, iv) == V.cipher("aes-128-cbc", key, iv, data)
    # with failover the software engine re-runs what the device refused
    fo = c.session("aes-128-cbc", key=key, engine="virtio0", flags=1)  # ATX_SESS_F_FAILOVER
    assert fo.engine == "virtio0"
    big = os.urandom(4096)
    assert fo.cipher(big, iv) == V.cipher("aes-128-cbc", key, iv, big)
    fo.close()
    enc.close()
    return 2        # the refused request is counted too (ops and errors)


def _child_depth(c, V, atx):
    """Many requests in flight at once, chains and plain CBC mixed, of
    varied sizes: DPDK completes each at used.ring[head], so the driver
    must hand out heads in ring order."""
    import ctypes
    L = c._L
    key, akey = os.urandom(16), os.urandom(32)
    chain_ok = c.probe("aes-128-cbc+hmac-sha256", key_len=16,
                       auth_key=akey)[1].get("virtio0", -1) >= 0
    cbc = c.session("aes-128-cbc", key=key, engine="virtio0")
    ch = c.session("aes-128-cbc+hmac-sha256", key=key, auth_key=akey,
                   engine="virtio0" if chain_ok else None)
    reqs = []
    for i in range(96):
        n = SIZES[i % len(SIZES)]
        src = ctypes.create_string_buffer(os.urandom(n), n)
        dst = ctypes.create_string_buffer(n)
        tag = ctypes.create_string_buffer(32)
        iv = os.urandom(16)
        if i % 2:
            t = L.atx_aead(c._h, ch._h, dst, src, n, iv, 16, None, 0, tag, None)
        else:
            t = L.atx_cipher(c._h, cbc._h, dst, src, n, iv, None)
        assert t, "submission %d refused" % i
        reqs.append((t, i % 2, src, dst, tag, iv))
    for t, is_chain, src, dst, tag, iv in reqs:
        assert L.atx_wait(t) == 0
        L.atx_tx_ack(t)
        ct = V.cipher("aes-128-cbc", key, iv, src.raw)
        assert dst.raw == ct
        if is_chain:
            assert tag.raw == hmac.new(akey, ct, "sha256").digest()
    cbc.close()
    ch.close()
    return 96 if chain_ok else 48


CHILD_CASES = {"rfc3602": _child_rfc3602, "cbc": _child_cbc, "chain": _child_chain,
               "limits": _child_limits, "depth": _child_depth}


def child_main(cases, sock):
    sys.path.insert(0, HERE)
    import atx
    import vectors as V
    t0 = time.monotonic()
    with atx.Context(engines="virtio:" + sock) as c:
        assert "virtio0" in c.engines(), c.engines()
        for case in cases:
            before = _vstats(c)
            n = CHILD_CASES[case](c, V, atx)
            after = _vstats(c)
            ops = after["ops"] - before["ops"]
            print("OK %s %s" % (case, json.dumps({
                "device_ops": ops, "expected_ops": n, "bytes": after["bytes"] - before["bytes"],
                "errors": after["errors"] - before["errors"]})), flush=True)
            # every request of the case ran on the device
            assert ops >= n, (case, ops, n)
    print("DONE %.2fs" % (time.monotonic() - t0), flush=True)


# ---------------------------------------------------------------------------
# The harness side: backend lifetime, bounded waits.
# ---------------------------------------------------------------------------

def _dpdk_installed():
    return os.path.isfile(os.path.join(EXAMPLE, "main.c")) and subprocess.run(
        ["pkg-config", "--exists", "libdpdk"], capture_output=True).returncode == 0 \
        if _which("pkg-config") else False


def _which(p):
    return any(os.access(os.path.join(d, p), os.X_OK)
               for d in os.environ.get("PATH", "/usr/bin").split(":"))


def build_backend():
    r = subprocess.run([BUILD_SCRIPT], capture_output=True, text=True, timeout=300)
    if r.returncode == 77:
        return None
    if r.returncode:
        raise RuntimeError("tests/dpdk/build-vhost-crypto.sh failed:\n" + r.stdout + r.stderr)
    return r.stdout.strip().splitlines()[-1]


class Backend:
    """One vhost-crypto process with its own socket and --file-prefix."""
    seq = 0

    def __init__(self, binary):
        Backend.seq += 1
        self.dir = tempfile.mkdtemp(prefix="atx-dpdk-")
        self.sock = os.path.join(self.dir, "vc.sock")
        self.logpath = os.path.join(self.dir, "backend.log")
        prefix = self.prefix = "atxdpdk%d_%d" % (os.getpid(), Backend.seq)
        with open(self.logpath, "w") as log:
            self.p = subprocess.Popen(
                [binary, "-l", "0,1", "--no-huge", "-m", "512", "--no-pci",
                 "--vdev", "crypto_openssl0", "--file-prefix", prefix, "--",
                 "--config", "(1,0,0)", "--socket-file", "1," + self.sock],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        t0 = time.monotonic()
        try:
            while not os.path.exists(self.sock):
                if self.p.poll() is not None:
                    raise RuntimeError("vhost-crypto exited with %s:\n%s" % (self.p.returncode,
                                                                              self.log()))
                if time.monotonic() - t0 > SOCKET_TIMEOUT:
                    raise RuntimeError("vhost-crypto: no socket after %d s:\n%s" %
                                       (SOCKET_TIMEOUT, self.log()))
                time.sleep(0.02)
        except BaseException:
            self.stop()
            raise
        self.startup = time.monotonic() - t0

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
        # EAL's runtime folder: /var/run/dpdk/<prefix> (root), else $XDG_RUNTIME_DIR/dpdk
        for run in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
                                                  "dpdk")):
            shutil.rmtree(os.path.join(run, self.prefix), ignore_errors=True)


def run_child(backend, cases, timeout=CHILD_TIMEOUT):
    """Run the frontend against @backend in a child; (rc, stdout, stderr).
    A child that outlives @timeout is killed (rc None)."""
    env = dict(os.environ)
    env.setdefault("ATX_BUILD", os.path.join(ROOT, "build", "release"))
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child",
                          ",".join(cases), backend.sock],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        return None, out, err


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child_main(sys.argv[2].split(","), sys.argv[3])
        sys.exit(0)
    sys.exit("usage: %s --child CASE[,CASE...] SOCKET   (cases: %s)" %
             (sys.argv[0], ",".join(CHILD_CASES)))


import pytest  # noqa: E402  (not needed by the child)

pytestmark = pytest.mark.skipif(not _dpdk_installed(),
                                reason="DPDK not installed (libdpdk-dev dpdk-doc pkg-config)")


@pytest.fixture(scope="module")
def vhost_crypto():
    b = build_backend()
    if b is None:
        pytest.skip("DPDK not installed")
    return b


@pytest.fixture
def backend(vhost_crypto):
    b = Backend(vhost_crypto)
    try:
        yield b
    finally:
        b.stop()


def _check(backend, cases):
    rc, out, err = run_child(backend, cases)
    report = "frontend rc=%s\n--- stdout\n%s--- stderr\n%s--- backend log (tail)\n%s" % (
        rc, out, err, backend.log()[-4000:])
    if rc is None:
        pytest.fail("the frontend did not finish in %d s (a request DPDK never completes?)\n%s"
                    % (CHILD_TIMEOUT, report))
    assert rc == 0, report
    print(out, end="")
    done = {ln.split()[1]: json.loads(ln.split(" ", 2)[2]) for ln in out.splitlines()
            if ln.startswith("OK ")}
    assert set(done) == set(cases), report
    return out, done


def test_rfc3602(backend):
    _, done = _check(backend, ["rfc3602"])
    assert done["rfc3602"]["device_ops"] == 4 and done["rfc3602"]["errors"] == 0
    # sessions were created and closed through CREATE_SESS/CLOSE_SESS
    log = backend.log()
    assert "Session 1 created" in log and "Session 2 created" in log, log[-2000:]


def test_aes_cbc(backend):
    _, done = _check(backend, ["cbc"])
    d = done["cbc"]
    assert d["device_ops"] == d["expected_ops"] == 2 * len(SIZES) * 5 and d["errors"] == 0
    assert d["bytes"] >= 2 * 5 * sum(SIZES)


def test_cbc_hmac_chain(backend):
    out, done = _check(backend, ["chain"])
    if "CHAIN-UNSUPPORTED" in out:
        pytest.xfail("the virtio driver does not offer CIPHER+HMAC chains on a backend "
                     "without config space (DPDK) yet: " + out.split("CHAIN-UNSUPPORTED", 1)[1])
    d = done["chain"]
    assert d["device_ops"] == d["expected_ops"] == len(CHAINS) * (2 * len(SIZES) + 2)
    assert d["errors"] == len(CHAINS)       # the deliberately corrupted MACs


def test_in_flight(backend):
    _, done = _check(backend, ["depth"])
    d = done["depth"]
    assert d["device_ops"] == d["expected_ops"] and d["errors"] == 0


def test_limits_and_fallback(backend):
    _, done = _check(backend, ["limits"])
    # two refusals (-EMSGSIZE; the second re-run in software), one success
    assert done["limits"]["device_ops"] == 2 and done["limits"]["errors"] == 2


def test_backend_stays_healthy(backend):
    """Everything in one connection, then the sessions are gone from the
    backend (CLOSE_SESS has no reply in DPDK; the frontend must not wait)."""
    t0 = time.monotonic()
    _check(backend, ["rfc3602", "cbc", "chain", "limits", "depth"])
    assert time.monotonic() - t0 < CHILD_TIMEOUT
    deadline = time.monotonic() + 5
    while True:     # CLOSE_SESS is not answered: give the backend a moment to log it
        log = backend.log()
        created, deleted = log.count("created for vdev"), log.count("deleted for vdev")
        if deleted >= created or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert created >= 8 and deleted == created, (created, deleted, log[-2000:])
