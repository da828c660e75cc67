# SPDX-License-Identifier: MIT
"""atx_chain: linked steps in one call, checked against python3-cryptography
and a CRC-32C written here (vectors.py).  On the software engine the chain
runs as one descriptor; with a session on another engine (mb) it is split
over engines; the results and the status rules must be the same."""
import errno

import pytest
from hypothesis import given, settings, strategies as st

import atx
import vectors as V
from support import engine_pairs, rand


@pytest.mark.parametrize("lanes", [0, 2])
def test_storage_chain(rng, lanes):
    with atx.Context(soft_lanes=lanes) as c:
        key = V.cipher_key(rng, "aes-256-xts")
        xts = c.session("aes-256-xts", key=key)
        for n in (16, 4096, 65536):
            data, iv, seed = rand(rng, n), rand(rng, 16), rng.getrandbits(32)
            out, res = c.chain(data, [("cipher", xts, iv), ("crc32c", seed), ("copy",)])
            ct = V.cipher("aes-256-xts", key, iv, data)
            assert out == ct
            assert res == [None, V.crc32c(ct, seed), None]


@pytest.mark.parametrize("name,engine", engine_pairs(["aes-128-cbc"]))
def test_cbc_hmac_crc_on_each_engine(rng, name, engine):
    with atx.Context() as c:
        key, mkey = V.cipher_key(rng, name), rand(rng, 32)
        cbc = c.session(name, key=key, engine=engine)
        hm = c.session("hmac-sha256", key=mkey, engine=engine)
        data, iv = rand(rng, 4096), rand(rng, 16)
        out, res = c.chain(data, [("cipher", cbc, iv), ("digest", hm), ("copy_crc32c", 7)])
        ct = V.cipher(name, key, iv, data)
        assert out == ct
        assert res == [None, V.mac("hmac-sha256", mkey, ct), V.crc32c(ct, 7)]
        # The work is counted step by step on the channels that ran it.
        assert sum(ch["stats"]["ops"] for ch in c.channels()) == 3


def test_aead_then_checksum(rng):
    with atx.Context() as c:
        key = rand(rng, 32)
        gcm = c.session("aes-256-gcm", key=key)
        data, iv, aad = rand(rng, 1000), rand(rng, 12), rand(rng, 20)
        out, res = c.chain(data, [("aead", gcm, iv, aad), ("crc32c", 0)])
        want = V.aead_encrypt("aes-256-gcm", key, iv, data, aad)
        assert out + res[0] == want
        assert res[1] == V.crc32c(want[:-16])


def test_first_failing_step_status(rng):
    with atx.Context() as c:
        key = rand(rng, 32)
        ver = c.session("hmac-sha256", key=key, encrypt=False)
        data = rand(rng, 512)
        good = V.mac("hmac-sha256", key, data)
        out, _ = c.chain(data, [("verify", ver, good), ("copy",)])
        assert out == data
        bad = bytes([good[0] ^ 1]) + good[1:]
        with pytest.raises(atx.AtxError) as e:
            c.chain(data, [("copy",), ("verify", ver, bad), ("crc32c", 0), ("copy",)])
        # The verify's own status, not -ECANCELED from the steps after it.
        assert e.value.status == -errno.EBADMSG


def test_refusals(rng):
    with atx.Context() as c:
        sha = c.session("sha256")
        with pytest.raises(atx.AtxError) as e:
            c.chain(b"x" * 32, [("copy",)] * (atx.CHAIN_MAX + 1))
        assert e.value.status == -errno.EINVAL
        with pytest.raises(atx.AtxError) as e:
            c.chain(b"x" * 32, [("copy",), ("cipher", sha, b"")])   # a hash session
        assert e.value.status == -errno.EINVAL
        with pytest.raises(atx.AtxError) as e:
            c.chain(b"x" * 32, [])
        assert e.value.status == -errno.EINVAL
        assert c.channels()[0]["stats"]["ops"] == 0      # nothing ran


STEP = st.sampled_from(["copy", "fill", "crc32c", "copy_crc32c", "ctr", "sha256"])


@pytest.mark.parametrize("prep", [False, True])
@settings(max_examples=60, deadline=None)
@given(kinds=st.lists(STEP, min_size=1, max_size=atx.CHAIN_MAX),
       n=st.integers(min_value=0, max_value=3000), seed=st.integers(0, 2**32 - 1))
def test_random_chains(prep, kinds, n, seed):
    """prep: the same chain prepared (atx_prep_new) and run twice, on the
    same input and then on another, with the IVs the steps were given."""
    import random
    rng = random.Random(seed)
    with atx.Context() as c:
        key = rand(rng, 32)
        ctr = c.session("aes-256-ctr", key=key)
        sha = c.session("sha256")
        data = rand(rng, n)
        steps, want, cur = [], [], data
        for k in kinds:
            if k == "copy":
                steps.append(("copy",))
                want.append(None)
            elif k == "fill":
                b = rng.getrandbits(8)
                steps.append(("fill", b))
                want.append(None)
                cur = bytes([b]) * n
            elif k in ("crc32c", "copy_crc32c"):
                s = rng.getrandbits(32)
                steps.append((k, s))
                want.append(V.crc32c(cur, s))
            elif k == "ctr":
                iv = rand(rng, 16)
                steps.append(("cipher", ctr, iv))
                want.append(None)
                cur = V.cipher("aes-256-ctr", key, iv, cur)
            else:
                steps.append(("digest", sha))
                want.append(V.digest("sha256", cur))
        if not prep:
            out, res = c.chain(data, steps)
            assert out == cur
            assert res == want
            return
        p = c.prep(n, steps)
        assert p.run(data) == (cur, want)
        other = rand(rng, n)
        out, res = p.run(other)
        c2 = atx.Context()
        try:
            assert (out, res) == c2.chain(other, [
                (s[0], c2.session("aes-256-ctr", key=key)) + s[2:] if s[0] == "cipher" else
                (s[0], c2.session("sha256")) if s[0] == "digest" else s for s in steps])
        finally:
            c2.close()


@pytest.mark.parametrize("lanes", [0, 2])
def test_prep_runs(rng, lanes):
    """One prepared storage chain run again and again on new data, each run
    with its own IV, checked against python3-cryptography every time."""
    with atx.Context(soft_lanes=lanes) as c:
        key = V.cipher_key(rng, "aes-256-xts")
        xts = c.session("aes-256-xts", key=key)
        seed = rng.getrandbits(32)
        p = c.prep(4096, [("cipher", xts, bytes(16)), ("crc32c", seed), ("copy",)])
        for _ in range(8):
            data, iv = rand(rng, 4096), rand(rng, 16)
            out, res = p.run(data, iv)
            ct = V.cipher("aes-256-xts", key, iv, data)
            assert out == ct
            assert res == [None, V.crc32c(ct, seed), None]
        # The work is counted step by step on the channels that ran it.
        assert sum(ch["stats"]["ops"] for ch in c.channels()) == 8 * 3


@pytest.mark.parametrize("name,engine", engine_pairs(["aes-128-cbc"]))
def test_prep_step_ivs(rng, name, engine):
    """A CBC and a GCM step: one IV for both (GCM takes its first 12 bytes),
    then each its own (atx_prep_iv), on each engine that serves them."""
    with atx.Context() as c:
        key, gkey = V.cipher_key(rng, name), rand(rng, 16)
        cbc = c.session(name, key=key, engine=engine)
        gcm = c.session("aes-128-gcm", key=gkey, engine=engine)
        p = c.prep(1024, [("cipher", cbc, bytes(16)), ("aead", gcm, bytes(12)), ("crc32c", 5)])
        data, iv = rand(rng, 1024), rand(rng, 16)
        out, res = p.run(data, iv)
        ct = V.cipher(name, key, iv, data)
        sealed = V.aead_encrypt("aes-128-gcm", gkey, iv[:12], ct, b"")
        assert out + res[1] == sealed
        assert res[2] == V.crc32c(sealed[:-16], 5)
        iv2 = rand(rng, 12)
        p.iv(1, iv2)
        out, res = p.run(data)
        sealed = V.aead_encrypt("aes-128-gcm", gkey, iv2, ct, b"")
        assert out + res[1] == sealed
        with pytest.raises(atx.AtxError) as e:
            p.iv(2, b"x")                    # the crc32c step has no IV
        assert e.value.status == -errno.EINVAL


def test_prep_refusals(rng):
    with atx.Context() as c:
        sha = c.session("sha256")
        for steps in ([("copy",)] * (atx.CHAIN_MAX + 1), [("copy",), ("cipher", sha, b"")], []):
            with pytest.raises(atx.AtxError) as e:
                c.prep(32, steps)
            assert e.value.status == -errno.EINVAL
        assert c.channels()[0]["stats"]["ops"] == 0      # nothing ran
