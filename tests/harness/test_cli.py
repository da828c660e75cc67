# SPDX-License-Identifier: MIT
"""The `atx` transform commands end to end (subprocess), against
python3-cryptography / hashlib: outputs, exit codes (0 ok, 1 verification
failed, 2 error), one-line messages, and no output file after a failure."""
import json
import os
import random
import subprocess

import pytest
from hypothesis import given, strategies as st

import atx
import vectors as V
from support import rand

RNG = random.Random(1234)


def run(atx_bin, *args, data=b"", check=None):
    r = subprocess.run([atx_bin, *map(str, args)], input=data, capture_output=True,
                       timeout=60)
    if check is not None:
        assert r.returncode == check, "atx %s -> %d: %s" % (
            " ".join(map(str, args)), r.returncode, r.stderr.decode(errors="replace"))
    return r


def one_line_error(r, *words):
    err = r.stderr.decode()
    assert r.returncode == 2, (r.returncode, err)
    assert err.startswith("atx: ") and err.count("\n") == 1 and err.endswith("\n"), repr(err)
    for w in words:
        assert w in err, (w, err)
    return err


def engines():
    with atx.Context() as c:
        return c.engines()


# ---- the program ----

def test_version_and_help(atx_bin):
    r = run(atx_bin, "--version", check=0)
    assert r.stdout.decode().startswith("atx ")
    r = run(atx_bin, "--help", check=0)
    for c in ("cipher", "digest", "mac", "aead", "crc32c", "info", "image", "bench"):
        assert c in r.stdout.decode()
    for c in ("cipher", "digest", "mac", "aead", "crc32c", "info"):
        r = run(atx_bin, "help", c, check=0)
        assert r.stdout.decode().startswith("usage: atx " + c), c
        assert run(atx_bin, c, "--help", check=0).stdout == r.stdout


def test_usage_errors(atx_bin):
    r = run(atx_bin)
    assert r.returncode == 2
    r = run(atx_bin, "frobnicate")
    assert r.returncode == 2 and r.stderr.decode().count("\n") == 1
    one_line_error(run(atx_bin, "cipher", "--bogus"), "cipher", "--bogus")
    one_line_error(run(atx_bin, "cipher", "-a", "aes-128-cbc", "-e"), "key")
    one_line_error(run(atx_bin, "cipher", "-a", "aes-128-cbc", "-K", "00" * 16), "-e")
    one_line_error(run(atx_bin, "cipher", "-a", "rot13", "-e", "-K", "00"), "unknown algorithm")
    one_line_error(run(atx_bin, "cipher", "-a", "sha256", "-e", "-K", "00"), "digest")
    one_line_error(run(atx_bin, "digest"), "-a")
    one_line_error(run(atx_bin, "digest", "-a", "sha256", "extra"), "extra")
    one_line_error(run(atx_bin, "digest", "-a", "sha256", "-i", "/nonexistent/x"),
                   "/nonexistent/x")


def test_bad_key_and_iv(atx_bin):
    key = "ab" * 32
    err = one_line_error(run(atx_bin, "cipher", "-a", "aes-256-xts", "-e", "-K", key,
                             "--iv", "00" * 16), "key must be 64 bytes for aes-256-xts")
    assert key not in err, "key printed"
    one_line_error(run(atx_bin, "cipher", "-a", "aes-128-cbc", "-e", "-K", "zz" * 16,
                       "--iv", "00" * 16), "hex")
    one_line_error(run(atx_bin, "cipher", "-a", "aes-128-cbc", "-e", "-K", "00" * 16,
                       "--iv", "00" * 15), "IV must be 16 bytes")
    one_line_error(run(atx_bin, "cipher", "-a", "aes-128-cbc", "-e", "-K", "00" * 16),
                   "--iv")
    one_line_error(run(atx_bin, "cipher", "-a", "aes-128-ecb", "-e", "-K", "00" * 16,
                       "--iv", "00" * 16), "no IV")
    one_line_error(run(atx_bin, "cipher", "-a", "aes-128-xts", "-e", "-K", "00" * 32,
                       "--iv", "00" * 16, data=bytes(32)),
                   "aes-128-xts: the two halves of the key must differ")
    one_line_error(run(atx_bin, "aead", "-a", "chacha20-poly1305", "-e", "-K", "00" * 32,
                       "--iv", "00" * 8, data=b"x"), "chacha20-poly1305")
    one_line_error(run(atx_bin, "mac", "-a", "aes-128-cmac", "-K", "00" * 17), "16 bytes")


# ---- cipher ----

CLI_LENGTHS = [0, 16, 4096, 99984, 200000]


@pytest.mark.parametrize("name", sorted(V.CIPHERS))
def test_cipher(atx_bin, tmp_path, name):
    key = V.cipher_key(RNG, name)
    iv = rand(RNG, V.CIPHERS[name][1])
    ivarg = ["--iv", iv.hex()] if iv else []
    for n in CLI_LENGTHS:
        data = rand(RNG, n)
        args = ["cipher", "-a", name, "-K", key.hex(), *ivarg]
        if not V.legal_len(name, n):
            one_line_error(run(atx_bin, *args, "-e", data=data), name)
            continue
        want = V.cipher(name, key, iv, data)
        r = run(atx_bin, *args, "-e", data=data, check=0)
        assert r.stdout == want, "%s encrypt %d bytes" % (name, n)
        r = run(atx_bin, *args, "-d", data=want, check=0)
        assert r.stdout == data, "%s decrypt %d bytes" % (name, n)
    # files, key file
    data = rand(RNG, 70000 - 70000 % 16)
    (tmp_path / "in").write_bytes(data)
    (tmp_path / "key").write_bytes(key)
    run(atx_bin, "cipher", "-a", name, "-e", "--key-file", tmp_path / "key", *ivarg,
        "-i", tmp_path / "in", "-o", tmp_path / "out", check=0)
    assert (tmp_path / "out").read_bytes() == V.cipher(name, key, iv, data)
    assert sorted(os.listdir(tmp_path)) == ["in", "key", "out"], "temporary file left"


@pytest.mark.parametrize("engine", ["auto", "soft", "mb"])
def test_cipher_engines(atx_bin, engine):
    if engine not in engines() + ["auto"]:
        pytest.fail("engine %s is not attached by default" % engine)
    key, iv, data = rand(RNG, 32), rand(RNG, 16), rand(RNG, 300000 - 300000 % 16)
    for name in ("aes-256-cbc", "aes-256-ctr"):
        r = run(atx_bin, "cipher", "-a", name, "-e", "-K", key.hex(), "--iv", iv.hex(),
                "--engine", engine, data=data, check=0)
        assert r.stdout == V.cipher(name, key, iv, data), (name, engine)
    one_line_error(run(atx_bin, "cipher", "-a", "aes-256-cbc", "-e", "-K", key.hex(),
                       "--iv", iv.hex(), "--engine", "nosuch"), "nosuch")


def test_cipher_counter_carry_across_chunks(atx_bin):
    """CTR and ChaCha20 counters advance across the command's chunks and carry."""
    data = rand(RNG, 300001)
    key = rand(RNG, 32)
    for name, iv in (("aes-256-ctr", bytes(8) + b"\xff" * 7 + b"\xf0"),
                     ("chacha20", b"\xf0\xff\xff\xff" + rand(RNG, 12))):
        r = run(atx_bin, "cipher", "-a", name, "-e", "-K", key.hex(), "--iv", iv.hex(),
                data=data, check=0)
        assert r.stdout == V.cipher(name, key, iv, data), name


@given(n=st.integers(0, 140000), seed=st.integers(0, 2**32 - 1),
       name=st.sampled_from(["aes-128-ctr", "chacha20", "aes-256-cbc", "aes-128-ecb"]))
def test_cipher_stream_property(atx_bin, n, seed, name):
    """Streaming across the command's chunk boundaries equals one-shot."""
    rng = random.Random(seed)
    n -= n % V.CIPHERS[name][2]
    key, iv, data = rand(rng, V.CIPHERS[name][0]), rand(rng, V.CIPHERS[name][1]), rand(rng, n)
    ivarg = ["--iv", iv.hex()] if iv else []
    r = run(atx_bin, "cipher", "-a", name, "-e", "-K", key.hex(), *ivarg, data=data, check=0)
    assert r.stdout == V.cipher(name, key, iv, data)
    r = run(atx_bin, "cipher", "-a", name, "-d", "-K", key.hex(), *ivarg, data=r.stdout, check=0)
    assert r.stdout == data


def test_cipher_in_place_file(atx_bin, tmp_path):
    """-o may name the input: the output replaces it only when complete."""
    f = tmp_path / "data"
    data = rand(RNG, 100000)
    f.write_bytes(data)
    run(atx_bin, "cipher", "-a", "aes-256-ctr", "-e", "-K", "11" * 32, "--iv", "00" * 16,
        "-i", f, "-o", f, check=0)
    assert f.read_bytes() == V.cipher("aes-256-ctr", b"\x11" * 32, bytes(16), data)


def test_cipher_failure_leaves_no_file(atx_bin, tmp_path):
    out = tmp_path / "out"
    data = rand(RNG, 100001)     # not a multiple of the block, noticed at the end
    one_line_error(run(atx_bin, "cipher", "-a", "aes-128-cbc", "-e", "-K", "00" * 16,
                       "--iv", "00" * 16, "-o", out, data=data), "multiple")
    assert os.listdir(tmp_path) == [], "output after a failure"
    out.write_bytes(b"old")
    one_line_error(run(atx_bin, "cipher", "-a", "aes-128-cbc", "-e", "-K", "00" * 16,
                       "--iv", "00" * 16, "-o", out, data=data), "multiple")
    assert out.read_bytes() == b"old", "existing output replaced by a failed run"


# ---- digest, mac ----

@pytest.mark.parametrize("name", sorted(V.HASHES))
def test_digest(atx_bin, tmp_path, name):
    for n in (0, 1, 100000):
        data = rand(RNG, n)
        r = run(atx_bin, "digest", "-a", name, data=data, check=0)
        assert r.stdout.decode() == V.digest(name, data).hex() + "\n", (name, n)
    data = rand(RNG, 5000)
    (tmp_path / "in").write_bytes(data)
    run(atx_bin, "digest", "-a", name, "--binary", "-i", tmp_path / "in",
        "-o", tmp_path / "md", check=0)
    assert (tmp_path / "md").read_bytes() == V.digest(name, data)


@pytest.mark.parametrize("name", sorted(V.HMACS) + sorted(V.CMACS))
def test_mac(atx_bin, tmp_path, name):
    key = rand(RNG, V.CMACS.get(name, 24))
    for n in (0, 17, 100000):
        data = rand(RNG, n)
        want = V.mac(name, key, data)
        r = run(atx_bin, "mac", "-a", name, "-K", key.hex(), data=data, check=0)
        assert r.stdout.decode() == want.hex() + "\n", (name, n)
        r = run(atx_bin, "mac", "-a", name, "-K", key.hex(), "--verify", want.hex(),
                data=data, check=0)
        assert r.stdout == b"" and r.stderr == b""
        r = run(atx_bin, "mac", "-a", name, "-K", key.hex(), "--verify", want[:10].hex(),
                data=data, check=0)
        bad = bytes([want[0] ^ 1]) + want[1:]
        r = run(atx_bin, "mac", "-a", name, "-K", key.hex(), "--verify", bad.hex(),
                data=data, check=1)
        assert r.stdout == b"" and r.stderr.decode().count("\n") == 1
        assert key.hex() not in r.stderr.decode()
    (tmp_path / "key").write_bytes(key)
    r = run(atx_bin, "mac", "-a", name, "--key-file", tmp_path / "key", data=b"abc", check=0)
    assert r.stdout.decode() == V.mac(name, key, b"abc").hex() + "\n"
    one_line_error(run(atx_bin, "mac", "-a", name, "-K", key.hex(),
                       "--verify", "00" * 65, data=b"abc"), "--verify")


# ---- aead ----

@pytest.mark.parametrize("name", sorted(V.AEADS))
def test_aead(atx_bin, tmp_path, name):
    key, iv, aad = rand(RNG, V.AEADS[name]), rand(RNG, 12), rand(RNG, 20)
    base = ["aead", "-a", name, "-K", key.hex(), "--iv", iv.hex(), "--aad", aad.hex()]
    for n in (1, 4096, 100000):
        data = rand(RNG, n)
        want = V.aead_encrypt(name, key, iv, data, aad)
        r = run(atx_bin, *base, "-e", data=data, check=0)
        assert r.stdout == want, (name, n)
        r = run(atx_bin, *base, "-d", data=want, check=0)
        assert r.stdout == data, (name, n)
    # tampering: exit 1, nothing on stdout, no output file
    data = rand(RNG, 1000)
    blob = V.aead_encrypt(name, key, iv, data, aad)
    for what, b, a in (("tag", blob[:-1] + bytes([blob[-1] ^ 1]), aad),
                       ("ciphertext", bytes([blob[0] ^ 4]) + blob[1:], aad),
                       ("aad", blob, aad[:-1]),
                       ("truncated", blob[:500] + blob[-16:], aad)):
        out = tmp_path / "pt"
        r = run(atx_bin, "aead", "-a", name, "-K", key.hex(), "--iv", iv.hex(),
                "--aad", a.hex(), "-d", "-o", out, data=b)
        assert r.returncode == 1, (what, r.returncode, r.stderr)
        assert r.stdout == b"", what
        assert r.stderr.decode().count("\n") == 1 and key.hex() not in r.stderr.decode()
        assert not out.exists() and os.listdir(tmp_path) == [], what
        r = run(atx_bin, "aead", "-a", name, "-K", key.hex(), "--iv", iv.hex(),
                "--aad", a.hex(), "-d", data=b)
        assert r.returncode == 1 and r.stdout == b"", what
    one_line_error(run(atx_bin, *base, "-d", data=blob[:15]), "shorter than the 16-byte tag")
    one_line_error(run(atx_bin, "aead", "-a", name, "-K", key.hex(), "-e", data=b"x"), "--iv")


def test_aead_tag_len(atx_bin):
    key, iv, data = rand(RNG, 16), rand(RNG, 12), rand(RNG, 999)
    want = V.aead_encrypt("aes-128-ccm", key, iv, data, b"", tag_len=8)
    base = ["aead", "-a", "aes-128-ccm", "-K", key.hex(), "--iv", iv.hex(), "--tag-len", 8]
    assert run(atx_bin, *base, "-e", data=data, check=0).stdout == want
    assert run(atx_bin, *base, "-d", data=want, check=0).stdout == data
    one_line_error(run(atx_bin, *base[:-1], "17", "-e", data=data), "--tag-len")


# ---- crc32c ----

def test_crc32c(atx_bin, tmp_path):
    assert run(atx_bin, "crc32c", data=b"123456789", check=0).stdout == b"e3069283\n"
    assert run(atx_bin, "crc32c", data=b"", check=0).stdout == b"00000000\n"
    data = rand(RNG, 2500000)     # several of the command's chunks
    (tmp_path / "in").write_bytes(data)
    r = run(atx_bin, "crc32c", "-i", tmp_path / "in", check=0)
    assert r.stdout.decode() == "%08x\n" % V.crc32c(data[:2500000])
    a, b = data[:1000], data[1000:3000]
    seed = run(atx_bin, "crc32c", data=a, check=0).stdout.decode().strip()
    r = run(atx_bin, "crc32c", "--seed", seed, data=b, check=0)
    assert r.stdout.decode() == "%08x\n" % V.crc32c(a + b)
    one_line_error(run(atx_bin, "crc32c", "--seed", "xyz"), "--seed")
    r = run(atx_bin, "crc32c", "--engine", "soft", data=b"123456789", check=0)
    assert r.stdout == b"e3069283\n"


# ---- info ----

def test_info(atx_bin):
    r = run(atx_bin, "info", check=0)
    text = r.stdout.decode()
    for name in atx.alg_names():
        assert name in text
    j = json.loads(run(atx_bin, "info", "--json", check=0).stdout)
    assert "soft" in j["engines"]
    assert {a["name"] for a in j["algorithms"]} == set(atx.alg_names())
    for a in j["algorithms"]:
        assert a["engine"] in j["engines"], a
        assert a["priority"]["soft"] == 100, a
        assert a["priority"][a["engine"]] == max(p for p in a["priority"].values() if p), a
    assert any("cipher" in c["caps"] for c in j["channels"])
    assert "crc32c" in j["capabilities"]


# ---- CIPHER+MAC chains through `atx aead` ----

@pytest.mark.parametrize("name", ["aes-256-cbc+hmac-sha256", "aes-128-ctr+aes-128-cmac"])
def test_aead_chain(atx_bin, tmp_path, name):
    cipher, mac = name.split("+")
    key, akey = V.cipher_key(RNG, cipher), rand(RNG, V.CMACS.get(mac, 20))
    iv, aad, data = rand(RNG, 16), rand(RNG, 9), rand(RNG, 48000)
    ct = V.cipher(cipher, key, iv, data)
    want = ct + V.mac(mac, akey, aad + ct)
    (tmp_path / "ak").write_bytes(akey)
    base = ["aead", "-a", name, "-K", key.hex(), "--iv", iv.hex(), "--aad", aad.hex()]
    r = run(atx_bin, *base, "--auth-key", akey.hex(), "-e", data=data, check=0)
    assert r.stdout == want
    r = run(atx_bin, *base, "--auth-key-file", tmp_path / "ak", "-d", data=want, check=0)
    assert r.stdout == data
    r = run(atx_bin, *base, "--auth-key", akey.hex(), "-d", data=want[:-1] + b"\0")
    assert r.returncode == 1 and r.stdout == b""
    r = run(atx_bin, *base, "--auth-key", akey.hex(), "--tag-len", 12, "-e", data=data, check=0)
    assert r.stdout == want[:len(ct) + 12]
    one_line_error(run(atx_bin, *base, "-e", data=data), "key")
    one_line_error(run(atx_bin, "aead", "-a", "aes-128-gcm", "-K", "00" * 16, "--iv", "00" * 12,
                       "--auth-key", "00", "-e"), "--auth-key")
