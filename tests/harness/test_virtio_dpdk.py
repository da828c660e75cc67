# SPDX-License-Identifier: MIT
"""The virtio-crypto driver against DPDK 22.11's vhost-crypto example, the
third-party vhost-user peer of shared/INTEROP.md: sessions by
CREATE/CLOSE_CRYPTO_SESSION messages, one indirect head per request,
completions at used.ring[head], no config space.

Skipped when DPDK's development files are not installed (configure
--install-deps).  DPDK retries a failed request forever, so
only valid requests are sent and every test runs under a watchdog.
"""
import ctypes
import errno
import faulthandler
import os
import shutil
import subprocess
import tempfile
import time

import pytest

import atx
import vectors as V

EXAMPLE = "/usr/share/dpdk/examples/vhost_crypto"


def _have_dpdk():
    return (os.path.isdir(EXAMPLE) and shutil.which("pkg-config") and
            subprocess.run(["pkg-config", "--exists", "libdpdk"]).returncode == 0)


pytestmark = pytest.mark.skipif(not _have_dpdk(), reason="DPDK (libdpdk-dev, dpdk-dev) not installed")


@pytest.fixture(autouse=True)
def watchdog():
    faulthandler.dump_traceback_later(60, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="module")
def vhost_crypto():
    """Build the example (0.7 s) in a scratch folder: its source is not ours to commit."""
    d = tempfile.mkdtemp(prefix="atx-dpdk-")
    src = os.path.join(d, "vhost_crypto")
    shutil.copytree(EXAMPLE, src)
    r = subprocess.run(["make", "-s", "-C", src], capture_output=True, text=True)
    if r.returncode:
        pytest.fail("building DPDK's vhost_crypto failed:\n" + r.stdout + r.stderr)
    yield os.path.join(src, "build", "vhost-crypto")
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def dpdk(vhost_crypto):
    d = tempfile.mkdtemp(prefix="atx-dpdk-run-")
    sock = os.path.join(d, "vc.sock")
    log = open(os.path.join(d, "log"), "w+")
    p = subprocess.Popen([vhost_crypto, "-l", "0,1", "--no-huge", "-m", "512", "--no-pci",
                          "--vdev", "crypto_openssl0", "--file-prefix", "atx%d" % os.getpid(),
                          "--", "--config", "(1,0,0)", "--socket-file", "1," + sock],
                         stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while not os.path.exists(sock) and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.05)
    if not os.path.exists(sock):
        p.kill()
        log.seek(0)
        pytest.fail("vhost-crypto did not come up:\n" + log.read())
    yield "virtio:" + sock
    p.kill()
    p.wait(5)
    shutil.rmtree(d, ignore_errors=True)


def rand(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def test_rfc3602_case1(dpdk):
    key = bytes.fromhex("06a9214036b8a15b512e03d534120006")
    iv = bytes.fromhex("3dafba429d9eb430b422da802c9fac41")
    with atx.Context(engines=dpdk) as c:
        s = c.session("aes-128-cbc", key=key, engine="virtio0")
        assert s.engine == "virtio0"
        assert s.cipher(b"Single block msg", iv).hex() == "e353779c1079aeb82708942dbe77181a"


@pytest.mark.parametrize("name", ["aes-128-cbc", "aes-256-cbc", "des-ede3-cbc"])
def test_cbc_differential(dpdk, rng, name):
    with atx.Context(engines=dpdk) as c:
        key = V.cipher_key(rng, name)
        enc = c.session(name, key=key, engine="virtio0")
        dec = c.session(name, key=key, encrypt=False, engine="virtio0")
        ivl = V.CIPHERS[name][1]
        for n in (16, 64, 1024, 2048):
            iv, data = rand(rng, ivl), rand(rng, n)
            want = V.cipher(name, key, iv, data)
            assert enc.cipher(data, iv, segments=2, offset=3) == want, (name, n)
            assert dec.cipher(want, iv) == data


def test_unsupported_goes_to_software(dpdk):
    with atx.Context(engines=dpdk) as c:
        for name, kl in (("aes-128-ctr", None), ("aes-256-ctr", None), ("sha256", None),
                         ("hmac-sha256", 32), ("aes-128-gcm", None)):
            best, prio = c.probe(name, key_len=kl)
            assert prio["virtio0"] == -errno.EOPNOTSUPP, (name, prio)


def test_queue_depth_ring_order(dpdk, rng):
    """128 requests in flight on a 256-entry ring: DPDK writes each
    completion at used.ring[head], so heads must follow ring order."""
    with atx.Context(engines=dpdk) as c:
        key = V.cipher_key(rng, "aes-128-cbc")
        s = c.session("aes-128-cbc", key=key, engine="virtio0")
        L = c._L
        L.atx_run.restype, L.atx_run.argtypes = ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]
        n, bufs, ivs, txs = 2048, [], [], []
        for i in range(128):
            src = ctypes.create_string_buffer(rand(rng, n), n)
            dst = ctypes.create_string_buffer(n)
            iv = rand(rng, 16)
            bufs.append((src, dst))
            ivs.append(iv)
            t = L.atx_cipher(c._h, s._h, dst, src, n, iv, None)
            assert t
            txs.append(t)
        for t in txs:
            assert L.atx_wait(t) == 0
            L.atx_tx_ack(t)
        for (src, dst), iv in zip(bufs, ivs):
            assert dst.raw == V.cipher("aes-128-cbc", key, iv, src.raw)
