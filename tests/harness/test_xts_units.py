# SPDX-License-Identifier: MIT
"""XTS sessions with data units and atx_crc32c_blocks, differential against
python3-cryptography (one XTS call per data unit, tweak computed here) and
the harness's reference crc32c."""
import ctypes
import errno

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import atx
import vectors as V


def rand(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def ref_units(key, iv, data, unit, step, encrypt=True):
    """cryptography's AES-XTS per data unit; tweak = iv + i * step (128-bit LE)."""
    base = int.from_bytes(iv, "little")
    out = bytearray()
    for i in range(0, len(data), unit):
        tweak = ((base + (i // unit) * step) % (1 << 128)).to_bytes(16, "little")
        c = Cipher(algorithms.AES(key), modes.XTS(tweak))
        op = c.encryptor() if encrypt else c.decryptor()
        out += op.update(data[i:i + unit]) + op.finalize()
    return bytes(out)


def xts_key(rng, n):
    while True:
        k = rand(rng, n)
        if k[:n // 2] != k[n // 2:]:
            return k


# (unit, step, units): dm-crypt plain64 with 512-byte IV units over 4 KiB
# sectors, --iv-large-sectors, 512-byte sectors, a unit with stealing.
CASES = [(4096, 8, 16), (4096, 1, 9), (512, 1, 33), (4096 + 16, 8, 3), (1000, 5, 7)]


@pytest.mark.parametrize("lanes", [0, 2])
@pytest.mark.parametrize("klen", [32, 64])
@pytest.mark.parametrize("unit,step,count", CASES)
def test_units_vs_cryptography(rng, lanes, klen, unit, step, count):
    key = xts_key(rng, klen)
    data = rand(rng, unit * count)
    # a first tweak whose low half carries into the high half within the request
    for iv in (rand(rng, 8) + bytes(8), (2**64 - 2 * step).to_bytes(8, "little") + rand(rng, 8)):
        want = ref_units(key, iv, data, unit, step)
        with atx.Context(soft_lanes=lanes) as ctx:
            enc = ctx.session("aes-%d-xts" % (klen * 4), key=key, data_unit_len=unit,
                              data_unit_iv_step=step)
            dec = ctx.session("aes-%d-xts" % (klen * 4), key=key, encrypt=False,
                              data_unit_len=unit, data_unit_iv_step=step)
            assert enc.engine == "soft"
            got = enc.cipher(data, iv)
            assert got == want, "unit %d step %d key %d lanes %d" % (unit, step, klen, lanes)
            assert enc.cipher(data, iv, offset=3, segments=5) == want, "5 iovecs"
            assert enc.cipher_simple(data, iv, offset=1) == want, "atx_cipher"
            assert dec.cipher(got, iv, in_place=True) == data
            assert ref_units(key, iv, got, unit, step, encrypt=False) == data


def test_partial_units_refused(ctx, rng):
    key = xts_key(rng, 64)
    s = ctx.session("aes-256-xts", key=key, data_unit_len=4096, data_unit_iv_step=8)
    for n in (16, 4095, 4097, 4096 * 2 + 512):
        with pytest.raises(atx.AtxError) as e:
            s.cipher(rand(rng, n), bytes(16))
        assert e.value.status == -errno.EINVAL, (n, e.value)
        assert e.value.untouched, "len %d: destination written on refusal" % n


def test_bad_unit_params(ctx, rng):
    key = xts_key(rng, 64)
    for kw in ({"data_unit_len": 8}, {"data_unit_iv_step": 8},
               {"data_unit_len": (16 << 20) + 16}):
        with pytest.raises(atx.AtxError) as e:
            ctx.session("aes-256-xts", key=key, **kw)
        assert e.value.status == -errno.EINVAL, kw
    with pytest.raises(atx.AtxError) as e:
        ctx.session("aes-256-cbc", key=rand(rng, 32), data_unit_len=4096)
    assert e.value.status == -errno.EINVAL


def test_old_params_layout(rng):
    """A caller built before data units passes the shorter size: still one data unit per request."""
    key = xts_key(rng, 64)
    data, iv = rand(rng, 8192), rand(rng, 16)
    with atx.Context() as ctx:
        L = atx.lib()
        p, _ = atx._params("aes-256-xts", key=key)
        p.size = atx._Params.data_unit_len.offset
        p.data_unit_len = 7                 # past the old size: must be ignored
        h = L.atx_session_new(ctx._h, ctypes.byref(p))
        assert h, "old-size params refused"
        src, dst, ivb = atx._Buf(len(data), 0, data), atx._Buf(len(data)), atx._Buf(16, 0, iv)
        ctx._run(L.atx_cipher(ctx._h, h, dst.addr, src.addr, len(data), ivb.addr, None), "xts")
        L.atx_session_free(h)
        assert dst.bytes() == V.cipher("aes-256-xts", key, iv, data)


@pytest.mark.parametrize("lanes", [0, 1])
def test_crc32c_blocks(rng, lanes):
    with atx.Context(soft_lanes=lanes) as ctx:
        assert ctx.crc32c_blocks(b"123456789" * 3, 9) == [0xE3069283] * 3
        for block, n, off in ((4096, 32, 0), (512, 16, 3), (1000, 5, 1), (4096, 1, 0)):
            data = rand(rng, block * n)
            got = ctx.crc32c_blocks(data, block, offset=off)
            want = [V.crc32c(data[i:i + block]) for i in range(0, len(data), block)]
            assert got == want, (block, n)
        for data, block in ((b"x" * 100, 64), (b"", 16), (b"x" * 64, 0)):
            with pytest.raises(atx.AtxError) as e:
                ctx.crc32c_blocks(data, block)
            assert e.value.status == -errno.EINVAL
