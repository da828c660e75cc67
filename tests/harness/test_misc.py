# SPDX-License-Identifier: MIT
"""Names, introspection, crc32c and memcpy through the binding."""
import errno

import pytest
from hypothesis import given, strategies as st

import atx
import vectors as V


def test_every_name_is_tested():
    """Every algorithm the library names has a differential test here."""
    known = set(V.CIPHERS) | set(V.HASHES) | set(V.HMACS) | set(V.CMACS) | set(V.AEADS)
    names = atx.alg_names()
    assert names, "atx_alg_name(0) is NULL"
    assert set(names) - known == set(), "untested algorithms"
    assert known - set(names) == set(), "algorithms the library does not name"


@pytest.mark.parametrize("bad", ["", "aes", "aes-512-cbc", "sha256x", "rot13", "hmac-md5"])
def test_unknown_algorithm(ctx, bad):
    with pytest.raises(atx.AtxError) as e:
        atx.alg_parse(bad)
    assert e.value.status == -errno.ENOENT
    with pytest.raises(atx.AtxError) as e:
        ctx.session(bad)
    assert e.value.status == -errno.ENOENT


def test_parse_is_case_insensitive():
    assert atx.alg_parse("AES-256-XTS") == atx.alg_parse("aes-256-xts")
    d, kl = atx.alg_parse("aes-256-xts")
    assert d["service"] == atx.SVC_CIPHER and d["cipher"] == atx.CIPHER_AES_XTS and kl == 64


def test_introspection(ctx):
    engines = ctx.engines()
    assert "soft" in engines
    chans = ctx.channels()
    assert any(c["engine"] == "soft" and "cipher" in c["caps"] for c in chans)
    for name in atx.alg_names():
        d, kl = atx.alg_parse(name)
        kw = {} if d["service"] == atx.SVC_HASH else {"key": bytes(range(1, 1 + (kl or 32)))}
        best, prio = ctx.probe(name, **kw)
        assert best is not None, name
        assert prio["soft"] == 100, (name, prio)
        assert prio[best] == max(p for p in prio.values()), (name, prio)


def test_session_engine_forced(ctx):
    s = ctx.session("aes-128-cbc", key=bytes(16), engine="soft")
    assert s.engine == "soft"


def test_crc32c(ctx):
    assert ctx.crc32c(b"123456789") == 0xE3069283
    assert ctx.crc32c(b"") == 0
    import random
    rng = random.Random(5)
    for n in (1, 15, 4096, 65537):
        data = bytes(rng.getrandbits(8) for _ in range(n))
        assert ctx.crc32c(data, offset=1) == V.crc32c(data), n
        a, b = data[:n // 3], data[n // 3:]
        assert ctx.crc32c(b, seed=ctx.crc32c(a)) == V.crc32c(data)


@given(data=st.binary(max_size=2000), seed=st.integers(0, 2**32 - 1))
def test_crc32c_property(data, seed):
    with atx.Context() as c:
        assert c.crc32c(data, seed) == V.crc32c(data, seed)


@pytest.mark.parametrize("n", [0, 1, 17, 65537])
def test_memcpy(ctx, n):
    data = bytes(i * 7 & 0xFF for i in range(n))
    assert ctx.memcpy(data, offset=1) == data
