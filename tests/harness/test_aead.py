# SPDX-License-Identifier: MIT
"""AEAD through the library, against cryptography's AESGCM / AESCCM /
ChaCha20Poly1305; tampering must give -EBADMSG and leave the destination alone."""
import errno

import pytest
from hypothesis import given, strategies as st

import atx
import vectors as V
from support import engine_pairs

NAMES = sorted(V.AEADS)
PAIRS = engine_pairs(NAMES)


def rand(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def nonce_len(name):
    # CCM with a 12-byte nonce has a 3-byte length field: up to 16 MiB.
    return 12


@pytest.mark.parametrize("name,engine", PAIRS)
def test_aead_roundtrip(ctx, rng, name, engine):
    key = rand(rng, V.AEADS[name])
    enc = ctx.session(name, key=key, engine=engine)
    dec = ctx.session(name, key=key, encrypt=False, engine=engine)
    for n in V.LENGTHS:
        for aad_len in (0, 1, 20):
            iv, aad, data = rand(rng, nonce_len(name)), rand(rng, aad_len), rand(rng, n)
            want = V.aead_encrypt(name, key, iv, data, aad)
            got = enc.aead_encrypt(data, iv, aad)
            assert got == want, "%s len %d aad %d" % (name, n, aad_len)
            assert dec.aead_decrypt(got, iv, aad) == data
    iv, aad, data = rand(rng, nonce_len(name)), rand(rng, 7), rand(rng, 5000)
    want = V.aead_encrypt(name, key, iv, data, aad)
    assert enc.aead_encrypt(data, iv, aad, offset=1) == want, "unaligned"
    assert dec.aead_decrypt(want, iv, aad, offset=3) == data, "unaligned"


@pytest.mark.parametrize("name,ivl", [("aes-128-gcm", 16), ("aes-256-gcm", 8),
                                      ("aes-128-ccm", 7), ("aes-256-ccm", 11)])
def test_aead_other_nonce_lengths(ctx, rng, name, ivl):
    key, iv, data, aad = rand(rng, V.AEADS[name]), rand(rng, ivl), rand(rng, 100), b"hdr"
    want = V.aead_encrypt(name, key, iv, data, aad)
    assert ctx.session(name, key=key).aead_encrypt(data, iv, aad) == want


@pytest.mark.parametrize("name,tag", [("aes-128-ccm", 8), ("aes-256-ccm", 4),
                                      ("aes-128-gcm", 12)])
def test_aead_short_tags(ctx, rng, name, tag):
    key, iv, data = rand(rng, V.AEADS[name]), rand(rng, nonce_len(name)), rand(rng, 333)
    want = V.aead_encrypt(name, key, iv, data, b"a", tag_len=tag)
    got = ctx.session(name, key=key, digest_len=tag).aead_encrypt(data, iv, b"a")
    assert got == want
    dec = ctx.session(name, key=key, digest_len=tag, encrypt=False)
    assert dec.aead_decrypt(got, iv, b"a") == data


@pytest.mark.parametrize("name,engine", PAIRS)
def test_aead_tamper(ctx, rng, name, engine):
    key, iv, aad, data = (rand(rng, V.AEADS[name]), rand(rng, nonce_len(name)),
                          rand(rng, 16), rand(rng, 100))
    blob = V.aead_encrypt(name, key, iv, data, aad)
    dec = ctx.session(name, key=key, encrypt=False, engine=engine)
    cases = {
        "tag": (blob[:-1] + bytes([blob[-1] ^ 1]), iv, aad),
        "ciphertext": (bytes([blob[0] ^ 1]) + blob[1:], iv, aad),
        "aad": (blob, iv, aad[:-1] + bytes([aad[-1] ^ 1])),
        "no aad": (blob, iv, b""),
        "nonce": (blob, bytes([iv[0] ^ 1]) + iv[1:], aad),
        "truncated": (blob[:50] + blob[-16:], iv, aad),
    }
    for what, (b, v, a) in cases.items():
        with pytest.raises(atx.AtxError) as e:
            dec.aead_decrypt(b, v, a)
        assert e.value.status == -errno.EBADMSG, "%s %s: %s" % (name, what, e.value)
        assert e.value.untouched, "%s %s: plaintext released on a bad tag" % (name, what)
    with pytest.raises(atx.AtxError) as e:
        dec.aead_decrypt(blob[:15], iv, aad)
    assert e.value.status == -errno.EINVAL


@pytest.mark.parametrize("engine", sorted({e for n, e in PAIRS if "ccm" in n}))
def test_ccm_empty(ctx, rng, engine):
    """Neither payload nor AAD: SP 800-38C still defines the tag (over B0)."""
    key, iv = rand(rng, 16), rand(rng, 12)
    want = V.aead_encrypt("aes-128-ccm", key, iv, b"", b"")
    assert ctx.session("aes-128-ccm", key=key, engine=engine).aead_encrypt(b"", iv) == want
    dec = ctx.session("aes-128-ccm", key=key, encrypt=False, engine=engine)
    assert dec.aead_decrypt(want, iv) == b""


def test_ccm_length_field_limit(ctx, rng):
    """A 13-byte CCM nonce leaves 2 bytes of length: 65535 at most."""
    key, iv, data = rand(rng, 16), rand(rng, 13), rand(rng, 65535)
    s = ctx.session("aes-128-ccm", key=key)
    assert s.aead_encrypt(data, iv) == V.aead_encrypt("aes-128-ccm", key, iv, data, b"")
    with pytest.raises(atx.AtxError) as e:
        s.aead_encrypt(rand(rng, 65536), iv)
    assert e.value.status == -errno.EINVAL


@pytest.mark.parametrize("name", NAMES)
def test_aead_bad_parameters(ctx, rng, name):
    kl = V.AEADS[name]
    with pytest.raises(atx.AtxError) as e:
        ctx.session(name, key=rand(rng, kl + 1))
    assert e.value.status == -errno.EINVAL
    s = ctx.session(name, key=rand(rng, kl))
    bad_iv = {"aes-128-gcm": 0, "aes-256-gcm": 0, "aes-128-ccm": 14, "aes-256-ccm": 6,
              "chacha20-poly1305": 8}[name]
    with pytest.raises(atx.AtxError) as e:
        s.aead_encrypt(b"x" * 32, rand(rng, bad_iv))
    assert e.value.status == -errno.EINVAL, e.value
    assert e.value.untouched


@given(data=st.binary(max_size=3000), aad=st.binary(max_size=64),
       key=st.binary(min_size=32, max_size=32), iv=st.binary(min_size=12, max_size=12))
def test_aead_property(data, aad, key, iv):
    with atx.Context() as c:
        for name in ("aes-256-gcm", "chacha20-poly1305"):
            blob = c.session(name, key=key).aead_encrypt(data, iv, aad)
            assert blob == V.aead_encrypt(name, key, iv, data, aad)
            assert c.session(name, key=key, encrypt=False).aead_decrypt(blob, iv, aad) == data
