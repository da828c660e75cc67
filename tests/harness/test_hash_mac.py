# SPDX-License-Identifier: MIT
"""Hashes and MACs through the library, against hashlib / hmac / cryptography CMAC."""
import errno

import pytest
from hypothesis import given, strategies as st

import atx
import vectors as V
from support import engine_pairs

MAC_PAIRS = engine_pairs(sorted(V.HMACS) + sorted(V.CMACS))


def rand(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


@pytest.mark.parametrize("name", sorted(V.HASHES))
def test_hash(ctx, rng, name):
    s = ctx.session(name)
    for n in V.LENGTHS:
        data = rand(rng, n)
        assert s.digest(data) == V.digest(name, data), "%s len %d" % (name, n)
    data = rand(rng, 4097)
    assert s.digest(data, offset=1) == V.digest(name, data), "%s unaligned" % name


@pytest.mark.parametrize("name", sorted(V.HASHES))
def test_hash_verify(ctx, rng, name):
    data = rand(rng, 1000)
    good = V.digest(name, data)
    v = ctx.session(name, encrypt=False)
    v.verify(data, good)
    bad = bytes([good[0] ^ 1]) + good[1:]
    with pytest.raises(atx.AtxError) as e:
        v.verify(data, bad)
    assert e.value.status == -errno.EBADMSG


def _mac_key(rng, name, n=None):
    return rand(rng, V.CMACS.get(name, n or 37))


@pytest.mark.parametrize("name,engine", MAC_PAIRS)
def test_mac(ctx, rng, name, engine):
    key = _mac_key(rng, name)
    s = ctx.session(name, key=key, engine=engine)
    for n in V.LENGTHS:
        data = rand(rng, n)
        assert s.mac(data) == V.mac(name, key, data), "%s len %d" % (name, n)
    data = rand(rng, 300)
    assert s.mac(data, offset=1) == V.mac(name, key, data), "%s unaligned" % name


@pytest.mark.parametrize("name,engine", [p for p in MAC_PAIRS if p[0] in V.HMACS])
@pytest.mark.parametrize("klen", [1, 16, 64, 65, 131, 256])
def test_hmac_key_lengths(ctx, rng, name, engine, klen):
    """Keys longer than the hash block are hashed first (RFC 2104); 131 is RFC 4231 case 6."""
    key, data = rand(rng, klen), rand(rng, 100)
    try:
        s = ctx.session(name, key=key, engine=engine)
    except atx.AtxError as e:
        # An engine may decline a key length it cannot hold; software must not.
        assert engine != "soft" and e.status == -errno.EOPNOTSUPP, e
        return
    assert s.mac(data) == V.mac(name, key, data)


@pytest.mark.parametrize("name", sorted(V.HMACS))
def test_hmac_key_too_long(ctx, rng, name):
    with pytest.raises(atx.AtxError) as e:
        ctx.session(name, key=rand(rng, 257))
    assert e.value.status == -errno.EINVAL


@pytest.mark.parametrize("name,engine", MAC_PAIRS)
def test_mac_verify_and_truncation(ctx, rng, name, engine):
    key, data = _mac_key(rng, name), rand(rng, 777)
    full = V.mac(name, key, data)
    # truncated output
    assert ctx.session(name, key=key, digest_len=12, engine=engine).mac(data) == full[:12]
    v = ctx.session(name, key=key, encrypt=False, engine=engine)
    v.verify(data, full)
    for bad_tag, bad_data in ((bytes([full[0] ^ 0x80]) + full[1:], data),
                              (full[:-1] + bytes([full[-1] ^ 1]), data),
                              (full, data[:-1]),
                              (full, bytes([data[0] ^ 1]) + data[1:])):
        with pytest.raises(atx.AtxError) as e:
            v.verify(bad_data, bad_tag)
        assert e.value.status == -errno.EBADMSG, name
    vt = ctx.session(name, key=key, encrypt=False, digest_len=12, engine=engine)
    vt.verify(data, full[:12])
    with pytest.raises(atx.AtxError) as e:
        vt.verify(data, bytes(12))
    assert e.value.status == -errno.EBADMSG


@pytest.mark.parametrize("name", sorted(V.CMACS))
def test_cmac_wrong_key_length(ctx, rng, name):
    with pytest.raises(atx.AtxError) as e:
        ctx.session(name, key=rand(rng, V.CMACS[name] + 1))
    assert e.value.status == -errno.EINVAL


def test_digest_len_too_long(ctx):
    with pytest.raises(atx.AtxError) as e:
        ctx.session("sha256", digest_len=33)
    assert e.value.status == -errno.EINVAL


@given(data=st.binary(max_size=5000), key=st.binary(min_size=1, max_size=100))
def test_hmac_property(data, key):
    with atx.Context() as c:
        assert c.session("hmac-sha256", key=key).mac(data) == V.mac("hmac-sha256", key, data)
        assert c.session("sha3-256").digest(data) == V.digest("sha3-256", data)
