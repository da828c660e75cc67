# SPDX-License-Identifier: MIT
"""Every virtio-crypto service (cipher, hash, MAC, AEAD) through a device:
atx-vcryptod on a vhost-user socket, driven by the library (binding) and
by `atx --engine virtio:SOCK`, differential against cryptography/hashlib."""
import os
import random
import subprocess
import time

import pytest

import atx
import vectors as V
from support import rand

RNG = random.Random(99)


class Daemon:
    """One atx-vcryptod on a fresh socket.  Each test that connects more
    than once starts a new daemon per connection, so only
    test_sequential_frontends depends on the daemon accepting a new
    frontend right after the previous one left."""

    def __init__(self, path):
        daemon = os.path.join(os.path.dirname(atx.lib_path()), "atx-vcryptod")
        if not os.access(daemon, os.X_OK):
            pytest.fail("atx-vcryptod is missing at %s (run `make`)" % daemon)
        self.sock = str(path)
        self.p = subprocess.Popen([daemon, "--socket", self.sock, "--queues", "2"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(100):
            if os.path.exists(self.sock) or self.p.poll() is not None:
                break
            time.sleep(0.05)
        if not os.path.exists(self.sock):
            self.stop()
            pytest.fail("atx-vcryptod did not listen: %s" % self.p.stderr.read().decode())

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


@pytest.fixture
def daemons(tmp_path):
    started = []

    def start():
        d = Daemon(tmp_path / ("vc%d.sock" % len(started)))
        started.append(d)
        return d.sock
    yield start
    for d in started:
        d.stop()


@pytest.fixture
def vsock(daemons):
    return daemons()


@pytest.fixture
def vctx(vsock):
    with atx.Context(engines="virtio:" + vsock) as c:
        yield c, c.engines()[-1]


def test_sequential_frontends(daemons):
    """A frontend that connects right after another one left is accepted."""
    sock = daemons()
    for i in range(3):
        with atx.Context(engines="virtio:" + sock) as c:
            s = c.session("sha256", engine=c.engines()[-1])
            assert s.digest(b"abc") == V.digest("sha256", b"abc"), i


def device_serves(c, eng, name, kw):
    _, prio = c.probe(name, **kw)
    return prio.get(eng, -1) >= 0


def test_device_attached(vctx):
    c, eng = vctx
    assert eng.startswith("virtio"), c.engines()
    assert any(ch["engine"] == eng for ch in c.channels())


def test_every_service(vctx):
    """Each algorithm the device accepts gives the reference's answer on it."""
    c, eng = vctx
    served = []
    for name in sorted(V.CIPHERS):
        key = V.cipher_key(RNG, name)
        if not device_serves(c, eng, name, {"key": key}):
            continue
        served.append(name)
        enc = c.session(name, key=key, engine=eng)
        dec = c.session(name, key=key, engine=eng, encrypt=False)
        for n in (16, 4096, 4112):
            iv, data = rand(RNG, V.CIPHERS[name][1]), rand(RNG, n)
            ct = enc.cipher(data, iv)
            assert ct == V.cipher(name, key, iv, data), (name, n)
            assert dec.cipher(ct, iv) == data, (name, n)
    for name in sorted(V.HASHES):
        if not device_serves(c, eng, name, {}):
            continue
        served.append(name)
        for n in (0, 1, 4097):
            data = rand(RNG, n)
            assert c.session(name, engine=eng).digest(data) == V.digest(name, data), name
    for name in sorted(V.HMACS) + sorted(V.CMACS):
        key = rand(RNG, V.CMACS.get(name, 32))
        if not device_serves(c, eng, name, {"key": key}):
            continue
        served.append(name)
        data = rand(RNG, 3000)
        tag = V.mac(name, key, data)
        assert c.session(name, key=key, engine=eng).mac(data) == tag, name
        v = c.session(name, key=key, engine=eng, encrypt=False)
        v.verify(data, tag)
        with pytest.raises(atx.AtxError) as e:
            v.verify(data, bytes([tag[0] ^ 1]) + tag[1:])
        assert e.value.status == -__import__("errno").EBADMSG, name
    for name in sorted(V.AEADS):
        key = rand(RNG, V.AEADS[name])
        if not device_serves(c, eng, name, {"key": key}):
            continue
        served.append(name)
        iv, aad, data = rand(RNG, 12), rand(RNG, 13), rand(RNG, 2000)
        blob = V.aead_encrypt(name, key, iv, data, aad)
        assert c.session(name, key=key, engine=eng).aead_encrypt(data, iv, aad) == blob, name
        dec = c.session(name, key=key, engine=eng, encrypt=False)
        assert dec.aead_decrypt(blob, iv, aad) == data, name
        with pytest.raises(atx.AtxError) as e:
            dec.aead_decrypt(blob[:-1] + bytes([blob[-1] ^ 1]), iv, aad)
        assert e.value.status == -__import__("errno").EBADMSG and e.value.untouched, name
    services = {atx.alg_parse(n)[0]["service"] for n in served}
    assert services >= {atx.SVC_CIPHER, atx.SVC_HASH, atx.SVC_MAC, atx.SVC_AEAD}, served


def test_cli_on_device(atx_bin, daemons, tmp_path):
    key, iv, data = rand(RNG, 32), rand(RNG, 16), rand(RNG, 200000 - 200000 % 16)

    def run(*args, data=b""):
        # a daemon per run: see Daemon
        return subprocess.run([atx_bin, *map(str, args), "--engine", "virtio:" + daemons()],
                              input=data, capture_output=True, timeout=60)

    r = run("cipher", "-a", "aes-256-cbc", "-e", "-K", key.hex(), "--iv", iv.hex(),
            data=data)
    assert r.returncode == 0, r.stderr
    assert r.stdout == V.cipher("aes-256-cbc", key, iv, data)
    small = data[:3000]
    r = run("digest", "-a", "sha256", data=small)
    assert r.returncode == 0 and r.stdout.decode() == V.digest("sha256", small).hex() + "\n"
    r = run("mac", "-a", "hmac-sha256", "-K", key.hex(), data=small)
    assert r.returncode == 0 and r.stdout.decode() == V.mac("hmac-sha256", key, small).hex() + "\n"
    blob = V.aead_encrypt("aes-256-gcm", key, iv[:12], small, b"")
    r = run("aead", "-a", "aes-256-gcm", "-e", "-K", key.hex(), "--iv", iv[:12].hex(),
            data=small)
    assert r.returncode == 0 and r.stdout == blob, r.stderr
    r = run("aead", "-a", "aes-256-gcm", "-d", "-K", key.hex(), "--iv", iv[:12].hex(),
            "-o", tmp_path / "pt", data=blob[:-1] + b"\0")
    assert r.returncode == 1 and not (tmp_path / "pt").exists()
    r = run("info")
    assert r.returncode == 0 and b"virtio0" in r.stdout
