# SPDX-License-Identifier: MIT
"""The virtio-crypto engine end to end against a real atx-vcryptod process.

Every algorithm the device advertises goes through the driver (session
forced onto "virtio0") and must give the bytes python3-cryptography /
hashlib give; a mixed chain crosses from the device to the software
engine; injected faults (--status, --fail-rate, --exit-after) must reach
the callbacks as the documented errno and cancel dependents.

Every test runs under a watchdog (faulthandler) so a lost completion
fails the run with a traceback instead of hanging it.
"""
import ctypes
import errno
import faulthandler
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

import atx
import vectors as V

TIMEOUT = 60  # seconds per test, hard


def vcryptod_path():
    return os.path.join(os.path.dirname(atx.lib_path()), "atx-vcryptod")


pytestmark = pytest.mark.skipif(not os.access(vcryptod_path(), os.X_OK),
                                reason="atx-vcryptod not built")


@pytest.fixture(autouse=True)
def watchdog():
    faulthandler.dump_traceback_later(TIMEOUT, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


class Daemon:
    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="atx-vc-")
        self.sock = os.path.join(self.dir, "vc.sock")
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.p = subprocess.Popen([vcryptod_path(), "--socket", self.sock] + list(args),
                                  stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if os.path.exists(self.sock):
                try:
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(self.sock)
                    s.close()
                    break
                except OSError:
                    pass
            if self.p.poll() is not None:
                break
            time.sleep(0.02)
        else:
            self.stop()
            raise RuntimeError("atx-vcryptod did not come up")
        # the probe connection above made the daemon reset once; give it a moment
        time.sleep(0.05)

    suffix = ""

    @property
    def spec(self):
        return "virtio:" + self.sock + self.suffix

    def stop(self):
        """Kill the daemon and remove its directory; returns its log."""
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(5)
        if not self.log.closed:
            self.log.seek(0)
            self.text = self.log.read()
            self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)
        return self.text


@pytest.fixture(params=["msg", "ctrlq"])
def dev(request):
    """A two-queue device; sessions by vhost-user message, or on the
    control queue (ctrlq=1 hides the backend's CRYPTO_SESSION feature)."""
    d = Daemon("--queues", "2")
    if request.param == "ctrlq":
        d.suffix = "?ctrlq=1"
    yield d
    d.stop()


def rand(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def vsess(ctx, name, **kw):
    s = ctx.session(name, engine="virtio0", **kw)
    assert s.engine == "virtio0"
    return s


# ---- channels and probing -------------------------------------------------

def test_channels_and_probe(dev):
    with atx.Context(engines=dev.spec) as c:
        assert "virtio0" in c.engines()
        names = [ch["name"] for ch in c.channels() if ch["engine"] == "virtio0"]
        assert names == ["virtio0.q0", "virtio0.q1"], names
        best, prio = c.probe("aes-256-cbc")
        assert best == "virtio0" and prio["virtio0"] == 300, (best, prio)
        # virtio-crypto has no ChaCha20 cipher: the device must decline, soft takes it
        best, prio = c.probe("chacha20")
        assert prio["virtio0"] == -errno.EOPNOTSUPP and best != "virtio0", (best, prio)
        with pytest.raises(atx.AtxError) as e:
            c.session("chacha20", key=bytes(32), engine="virtio0")
        assert e.value.status == -errno.EOPNOTSUPP


def test_attach_without_backend():
    with pytest.raises(atx.AtxError) as e:
        atx.Context(engines="virtio:/nonexistent/atx-vc.sock")
    assert e.value.status in (-errno.ENODEV, -errno.ENOENT), e.value


# ---- every algorithm, differential ---------------------------------------

@pytest.mark.parametrize("name", sorted(n for n in V.CIPHERS if n != "chacha20"))
def test_cipher(dev, rng, name):
    with atx.Context(engines=dev.spec) as c:
        key = V.cipher_key(rng, name)
        enc, dec = vsess(c, name, key=key), vsess(c, name, key=key, encrypt=False)
        ivl = V.CIPHERS[name][1]
        for n in (16, 48, 4096, 65536):
            if not V.legal_len(name, n):
                continue
            iv, data = rand(rng, ivl), rand(rng, n)
            want = V.cipher(name, key, iv, data)
            assert enc.cipher(data, iv) == want, "%s len %d" % (name, n)
            assert enc.cipher(data, iv, segments=3, offset=1) == want, "%s sg len %d" % (name, n)
            assert dec.cipher(want, iv) == data
        st = [ch["stats"] for ch in c.channels() if ch["engine"] == "virtio0"]
        assert sum(s["ops"] for s in st) > 0 and sum(s["bounced"] for s in st) > 0, st


@pytest.mark.parametrize("name", sorted(V.HASHES))
def test_hash(dev, rng, name):
    with atx.Context(engines=dev.spec) as c:
        h = vsess(c, name)
        v = vsess(c, name, encrypt=False)
        for n in (0, 1, 64, 4096, 10000):
            data = rand(rng, n)
            want = V.digest(name, data)
            assert h.digest(data) == want, "%s len %d" % (name, n)
            v.verify(data, want)
            bad = bytes([want[0] ^ 1]) + want[1:]
            with pytest.raises(atx.AtxError) as e:
                v.verify(data, bad)
            assert e.value.status == -errno.EBADMSG


@pytest.mark.parametrize("name", sorted(V.HMACS) + sorted(V.CMACS))
def test_mac(dev, rng, name):
    with atx.Context(engines=dev.spec) as c:
        key = rand(rng, V.CMACS.get(name, 32))
        m = vsess(c, name, key=key)
        t = vsess(c, name, key=key, encrypt=False, digest_len=12)
        for n in (0, 1, 100, 4096):
            data = rand(rng, n)
            want = V.mac(name, key, data)
            assert m.mac(data) == want, "%s len %d" % (name, n)
            t.verify(data, want[:12])
            with pytest.raises(atx.AtxError) as e:
                t.verify(data, bytes(12))
            assert e.value.status == -errno.EBADMSG


@pytest.mark.parametrize("name", sorted(V.AEADS))
def test_aead(dev, rng, name):
    with atx.Context(engines=dev.spec) as c:
        key = rand(rng, V.AEADS[name])
        enc, dec = vsess(c, name, key=key), vsess(c, name, key=key, encrypt=False)
        for n, al in ((0, 0), (16, 13), (4096, 0), (1000, 40)):
            if n == 0 and "ccm" in name:
                continue    # the core refuses empty CCM payloads
            iv, data, aad = rand(rng, 12), rand(rng, n), rand(rng, al)
            want = V.aead_encrypt(name, key, iv, data, aad)
            assert enc.aead_encrypt(data, iv, aad) == want, "%s len %d aad %d" % (name, n, al)
            assert dec.aead_decrypt(want, iv, aad) == data
            bad = want[:-1] + bytes([want[-1] ^ 0x80])
            with pytest.raises(atx.AtxError) as e:
                dec.aead_decrypt(bad, iv, aad)
            assert e.value.status == -errno.EBADMSG
            assert e.value.untouched, "plaintext written despite a bad tag"


def chain_session(c, key, akey, encrypt):
    p, _ = atx._params(None, key=key, encrypt=encrypt, engine="virtio0",
                       service=atx.SVC_CHAIN, cipher=atx.alg_parse("aes-128-cbc")[0]["cipher"],
                       mac=atx.alg_parse("hmac-sha256")[0]["mac"],
                       chain_order=0 if encrypt else 1)
    ab = ctypes.create_string_buffer(akey)
    p.auth_key, p.auth_key_len = ctypes.addressof(ab), len(akey)
    s = atx.Session.__new__(atx.Session)
    s.ctx, s.alg, s._L, s._p, s.encrypt = c, "aes-128-cbc+hmac-sha256", c._L, p, encrypt
    s._h = c._L.atx_session_new(c._h, ctypes.byref(p))
    if not s._h:
        raise atx._refusal("chain session")
    c._sessions.append(s)
    return s


def test_chain_cipher_then_mac(dev, rng):
    import hmac
    with atx.Context(engines=dev.spec) as c:
        key, akey = rand(rng, 16), rand(rng, 32)
        try:
            enc = chain_session(c, key, akey, True)
        except atx.AtxError as e:
            pytest.skip("device refuses chaining: %s" % e)
        assert enc.engine == "virtio0"
        dec = chain_session(c, key, akey, False)
        for n in (16, 4096):
            iv, data = rand(rng, 16), rand(rng, n)
            ct = V.cipher("aes-128-cbc", key, iv, data)
            tag = hmac.new(akey, ct, "sha256").digest()
            assert enc.aead_encrypt(data, iv) == ct + tag
            assert dec.aead_decrypt(ct + tag, iv) == data
            with pytest.raises(atx.AtxError) as e:
                dec.aead_decrypt(ct + bytes(32), iv)
            assert e.value.status == -errno.EBADMSG
            assert e.value.untouched


# ---- chains across engines, callbacks, faults ----------------------------

CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)


class Chain:
    """Raw C calls for dependency chains with callbacks recording statuses."""

    def __init__(self, c):
        self.c, self.L = c, c._L
        self.L.atx_run.restype = ctypes.c_int
        self.L.atx_run.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self.status = {}
        self._keep = []

        def cb(tx, st, arg):
            self.status[arg] = st
        self.cb = CB(cb)

    def submit(self, tag, depend=None):
        return atx._Submit(depend_tx=depend, cb=ctypes.cast(self.cb, ctypes.c_void_p),
                           cb_arg=tag)

    def run(self):
        assert self.L.atx_run(self.c._h, 0) >= 0


def encrypt_crc_copy(c, s, key, iv, data, tags):
    ch = Chain(c)
    n = len(data)
    src = ctypes.create_string_buffer(data, n)
    mid = ctypes.create_string_buffer(n)
    out = ctypes.create_string_buffer(n)
    crc = ctypes.c_uint32(0)
    ivb = ctypes.create_string_buffer(iv, len(iv))
    t1 = c._L.atx_cipher(c._h, s._h, mid, src, n, ivb, ctypes.byref(ch.submit(tags[0])))
    assert t1
    t2 = c._L.atx_crc32c(c._h, ctypes.byref(crc), mid, n, 0, ctypes.byref(ch.submit(tags[1], t1)))
    assert t2
    t3 = c._L.atx_memcpy(c._h, out, mid, n, ctypes.byref(ch.submit(tags[2], t2)))
    assert t3
    c._L.atx_tx_ack(t3)
    ch.run()
    return ch, mid.raw, crc.value, out.raw


def test_mixed_chain_device_soft_copy(dev, rng):
    with atx.Context(engines=dev.spec) as c:
        key = V.cipher_key(rng, "aes-256-cbc")
        s = vsess(c, "aes-256-cbc", key=key)
        iv, data = rand(rng, 16), rand(rng, 8192)
        ch, mid, crc, out = encrypt_crc_copy(c, s, key, iv, data, (1, 2, 3))
        assert ch.status == {1: 0, 2: 0, 3: 0}, ch.status
        want = V.cipher("aes-256-cbc", key, iv, data)
        assert mid == want and out == want
        assert crc == V.crc32c(want)


@pytest.mark.parametrize("status,err", [(1, -errno.EIO), (2, -errno.EBADMSG),
                                        (3, -errno.EOPNOTSUPP), (4, -errno.EINVAL)])
def test_forced_status_cancels_dependents(rng, status, err):
    d = Daemon("--status", str(status))
    try:
        with atx.Context(engines=d.spec) as c:
            key = V.cipher_key(rng, "aes-128-cbc")
            s = vsess(c, "aes-128-cbc", key=key)
            ch, _, _, _ = encrypt_crc_copy(c, s, key, bytes(16), bytes(4096), (1, 2, 3))
            assert ch.status == {1: err, 2: -errno.ECANCELED, 3: -errno.ECANCELED}, ch.status
    finally:
        d.stop()


def test_fail_rate(rng):
    d = Daemon("--fail-rate", "0.3")
    try:
        with atx.Context(engines=d.spec) as c:
            key = V.cipher_key(rng, "aes-128-ctr")
            s = vsess(c, "aes-128-ctr", key=key)
            ok = bad = 0
            for i in range(60):
                iv, data = rand(rng, 16), rand(rng, 512)
                try:
                    got = s.cipher(data, iv)
                except atx.AtxError as e:
                    assert e.status == -errno.EIO, e
                    bad += 1
                    continue
                assert got == V.cipher("aes-128-ctr", key, iv, data)
                ok += 1
            assert ok > 10 and bad > 3, (ok, bad)
    finally:
        d.stop()


def test_fail_rate_failover(rng):
    d = Daemon("--fail-rate", "0.5")
    try:
        with atx.Context(engines=d.spec, flags=atx.CTX_F_FAILOVER) as c:
            key = V.cipher_key(rng, "aes-256-ctr")
            s = vsess(c, "aes-256-ctr", key=key)
            for i in range(40):
                iv, data = rand(rng, 16), rand(rng, 1024)
                assert s.cipher(data, iv) == V.cipher("aes-256-ctr", key, iv, data)
    finally:
        d.stop()


def test_backend_exits(rng):
    """The backend dies mid-stream: in-flight work gets -EIO, later work
    -ENODEV, dependents -ECANCELED, new sessions avoid the device."""
    d = Daemon("--exit-after", "20", "--delay-us", "200")
    try:
        with atx.Context(engines=d.spec) as c:
            key = V.cipher_key(rng, "aes-128-cbc")
            s = vsess(c, "aes-128-cbc", key=key)
            ch = Chain(c)
            n, bufs, txs = 4096, [], []
            for i in range(64):
                src = ctypes.create_string_buffer(n)
                dst = ctypes.create_string_buffer(n)
                bufs += [src, dst]
                t = c._L.atx_cipher(c._h, s._h, dst, src, n, bytes(16),
                                    ctypes.byref(ch.submit(100 + i)))
                assert t
                txs.append(t)
            dep = c._L.atx_memcpy(c._h, bufs[-2], bufs[-1], n,
                                  ctypes.byref(ch.submit(1000, txs[-1])))
            assert dep
            ch.run()
            sts = [ch.status[100 + i] for i in range(64)]
            assert sts[:20] == [0] * 20, sts
            assert all(x in (0, -errno.EIO, -errno.ENODEV) for x in sts), sts
            assert any(x != 0 for x in sts), sts
            print("statuses after the backend died:", sts)
            if sts[-1] != 0:
                assert ch.status[1000] == -errno.ECANCELED
            vch = [x for x in c.channels() if x["engine"] == "virtio0"]
            assert vch and all(x["stats"]["inflight"] == 0 for x in vch), vch
            best, prio = c.probe("aes-128-cbc")
            assert best != "virtio0" and prio["virtio0"] == -errno.ENODEV, (best, prio)
            with pytest.raises(atx.AtxError) as e:
                c.session("aes-128-cbc", key=key, engine="virtio0")
            assert e.value.status in (-errno.ENODEV, -errno.EOPNOTSUPP)
            # without forcing, work lands on software
            s2 = c.session("aes-128-cbc", key=key)
            assert s2.engine != "virtio0"
    finally:
        d.stop()


# ---- backends that misbehave during bring-up -----------------------------

def _fake_backend(behaviour):
    """A unix socket 'backend' that accepts and then either never answers
    ("silent") or hangs up after reading the first message ("hangup")."""
    import threading
    d = tempfile.mkdtemp(prefix="atx-vc-fake-")
    path = os.path.join(d, "fake.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    conns = []

    def run():
        try:
            c, _ = srv.accept()
        except OSError:
            return
        conns.append(c)
        if behaviour == "hangup":
            c.recv(12)
            c.close()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return path, srv, conns


@pytest.mark.parametrize("behaviour", ["silent", "hangup"])
def test_bringup_is_bounded(behaviour):
    path, srv, conns = _fake_backend(behaviour)
    t0 = time.monotonic()
    try:
        with pytest.raises(atx.AtxError) as e:
            atx.Context(engines="virtio:" + path)
        took = time.monotonic() - t0
        assert e.value.status in (-errno.EIO, -errno.ETIMEDOUT, -errno.ENODEV), e.value
        assert took < 15, "bring-up against a %s backend took %.1f s" % (behaviour, took)
    finally:
        srv.close()
        for c in conns:
            c.close()
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


@pytest.mark.parametrize("failover", [False, True])
def test_stuck_backend_times_out(rng, failover):
    """A backend that holds a request (3 s per request here) past the
    engine's timeout=1: the request completes with -ETIMEDOUT (or, with
    failover, is re-run in software), the device is retired, and new
    sessions go elsewhere."""
    d = Daemon("--delay-us", "3000000")
    d.suffix = "?timeout=1"
    try:
        with atx.Context(engines=d.spec, flags=atx.CTX_F_FAILOVER if failover else 0) as c:
            key = V.cipher_key(rng, "aes-128-cbc")
            s = vsess(c, "aes-128-cbc", key=key)
            iv, data = rand(rng, 16), rand(rng, 64)
            t0 = time.monotonic()
            if failover:
                assert s.cipher(data, iv) == V.cipher("aes-128-cbc", key, iv, data)
            else:
                with pytest.raises(atx.AtxError) as e:
                    s.cipher(data, iv)
                assert e.value.status == -errno.ETIMEDOUT, e.value
            took = time.monotonic() - t0
            assert 0.9 < took < 2.9, "timed out after %.2f s" % took
            _, prio = c.probe("aes-128-cbc")
            assert prio["virtio0"] == -errno.ENODEV, prio
    finally:
        d.stop()


def test_two_queues_share_the_load(dev, rng):
    """64 requests in flight spread over both data queues and all complete right."""
    with atx.Context(engines=dev.spec) as c:
        key = V.cipher_key(rng, "aes-128-ctr")
        s = vsess(c, "aes-128-ctr", key=key)
        L = c._L
        n, jobs = 2048, []
        for i in range(64):
            src = ctypes.create_string_buffer(rand(rng, n), n)
            dst = ctypes.create_string_buffer(n)
            iv = rand(rng, 16)
            t = L.atx_cipher(c._h, s._h, dst, src, n, iv, None)
            assert t
            jobs.append((t, src, dst, iv))
        for t, src, dst, iv in jobs:
            assert L.atx_wait(t) == 0
            L.atx_tx_ack(t)
            assert dst.raw == V.cipher("aes-128-ctr", key, iv, src.raw)
        ops = {ch["name"]: ch["stats"]["ops"] for ch in c.channels() if ch["engine"] == "virtio0"}
        assert sum(ops.values()) == 64 and all(v > 0 for v in ops.values()), ops


def test_backend_exits_with_work_held_back(rng):
    """An 8-entry ring under 40 requests when the backend dies: what it
    finished is 0, what it held is -EIO, and what the core still held
    back behind the full ring completes with -ENODEV."""
    d = Daemon("--exit-after", "5", "--delay-us", "2000")
    d.suffix = "?qsize=8"
    try:
        with atx.Context(engines=d.spec) as c:
            key = V.cipher_key(rng, "aes-128-cbc")
            s = vsess(c, "aes-128-cbc", key=key)
            ch = Chain(c)
            n, bufs = 1024, []
            for i in range(40):
                src, dst = ctypes.create_string_buffer(n), ctypes.create_string_buffer(n)
                bufs += [src, dst]
                assert c._L.atx_cipher(c._h, s._h, dst, src, n, bytes(16),
                                       ctypes.byref(ch.submit(100 + i)))
            ch.run()
            sts = [ch.status[100 + i] for i in range(40)]
            assert sts[:5] == [0] * 5, sts
            assert set(sts[5:]) <= {0, -errno.EIO, -errno.ENODEV}, sts
            assert -errno.EIO in sts and -errno.ENODEV in sts, sts
            # order: device-held failures come before the held-back ones
            first_nodev = sts.index(-errno.ENODEV)
            assert -errno.EIO not in sts[first_nodev:], sts
    finally:
        d.stop()
