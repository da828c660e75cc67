# SPDX-License-Identifier: MIT
"""Ciphers through the library, differential against python3-cryptography."""
import errno

import pytest
from hypothesis import given, strategies as st

import atx
import vectors as V
from support import engine_pairs

NAMES = sorted(V.CIPHERS)
PAIRS = engine_pairs(NAMES)


def rand(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


@pytest.mark.parametrize("name,engine", PAIRS)
def test_cipher_lengths(ctx, rng, name, engine):
    key = V.cipher_key(rng, name)
    ivl = V.CIPHERS[name][1]
    enc = ctx.session(name, key=key, encrypt=True, engine=engine)
    dec = ctx.session(name, key=key, encrypt=False, engine=engine)
    for n in V.LENGTHS:
        iv, data = rand(rng, ivl), rand(rng, n)
        if not V.legal_len(name, n):
            with pytest.raises(atx.AtxError) as e:
                enc.cipher(data, iv)
            assert e.value.status == -errno.EINVAL, (name, n, e.value)
            assert e.value.untouched, "%s len %d: destination written on failure" % (name, n)
            continue
        want = V.cipher(name, key, iv, data)
        got = enc.cipher(data, iv)
        assert got == want, "%s encrypt len %d differs from cryptography" % (name, n)
        assert dec.cipher(got, iv) == data, "%s decrypt len %d" % (name, n)


@pytest.mark.parametrize("name,engine", PAIRS)
def test_cipher_unaligned_sg_inplace(ctx, rng, name, engine):
    key = V.cipher_key(rng, name)
    ivl, block, _, = V.CIPHERS[name][1], V.CIPHERS[name][2], None
    n = 4096 + (0 if block > 1 else 5)
    iv, data = rand(rng, ivl), rand(rng, n)
    want = V.cipher(name, key, iv, data)
    enc = ctx.session(name, key=key, engine=engine)
    assert enc.cipher(data, iv, offset=1) == want, "offset 1"
    assert enc.cipher(data, iv, offset=3, segments=4) == want, "4 iovecs"
    assert enc.cipher(data, iv, in_place=True) == want, "in place"
    assert enc.cipher_simple(data, iv or None, offset=1) == want, "atx_cipher"


@pytest.mark.parametrize("name", NAMES)
def test_cipher_wrong_key_length(ctx, rng, name):
    kl = V.CIPHERS[name][0]
    for bad in (kl - 1, kl + 1):
        with pytest.raises(atx.AtxError) as e:
            ctx.session(name, key=rand(rng, bad))
        assert e.value.status == -errno.EINVAL, (name, bad, e.value)


@pytest.mark.parametrize("name", [n for n in NAMES if V.CIPHERS[n][1]])
def test_cipher_wrong_iv_length(ctx, rng, name):
    s = ctx.session(name, key=V.cipher_key(rng, name))
    ivl, block = V.CIPHERS[name][1], V.CIPHERS[name][2]
    data = rand(rng, 16 * block)
    for bad in (ivl - 1, ivl + 1, 0):
        with pytest.raises(atx.AtxError) as e:
            s.cipher(data, rand(rng, bad))
        assert e.value.status == -errno.EINVAL, (name, bad, e.value)
        assert e.value.untouched


def test_xts_equal_halves_refused(ctx):
    with pytest.raises(atx.AtxError) as e:
        ctx.session("aes-128-xts", key=bytes(16) * 2)
    assert e.value.status == -errno.EINVAL


@pytest.mark.parametrize("name", ["aes-256-cbc", "aes-128-ctr", "aes-256-xts", "chacha20",
                                  "des-ede3-cbc"])
@given(data=st.binary(max_size=3000), seed=st.integers(0, 2**32 - 1))
def test_cipher_property(name, data, seed):
    import random
    rng = random.Random(seed)
    block, minimum = V.CIPHERS[name][2], V.CIPHERS[name][3]
    data = data[:len(data) - len(data) % block]
    if len(data) < minimum:
        data = data + bytes(minimum - len(data))
    key, iv = V.cipher_key(rng, name), rand(rng, V.CIPHERS[name][1])
    with atx.Context() as c:
        ct = c.session(name, key=key).cipher(data, iv)
        assert ct == V.cipher(name, key, iv, data)
        assert c.session(name, key=key, encrypt=False).cipher(ct, iv) == data


def test_ctr_counter_carry(ctx, rng):
    """The 128-bit counter carries across words (OpenSSL semantics)."""
    key = rand(rng, 16)
    iv = bytes(8) + b"\xff" * 8
    data = rand(rng, 64)
    assert ctx.session("aes-128-ctr", key=key).cipher(data, iv) == \
        V.cipher("aes-128-ctr", key, iv, data)
