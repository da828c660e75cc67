# SPDX-License-Identifier: MIT
"""CHAIN sessions (virtio-crypto ALGORITHM_CHAINING): encrypt-then-MAC with
the MAC over AAD || ciphertext, and verify-then-decrypt."""
import errno

import pytest

import atx
import vectors as V
from support import engine_pairs, rand

CHAINS = ["aes-128-cbc+hmac-sha256", "aes-256-ctr+hmac-sha512", "aes-256-cbc+hmac-sha1",
          "aes-128-ctr+aes-128-cmac"]


def pairs():
    out = []
    with atx.Context() as c:
        for name in CHAINS:
            cipher, mac = name.split("+")
            _, prio = c.probe(name, key=bytes(range(1, 1 + V.CIPHERS[cipher][0])),
                              auth_key=bytes(range(1, 1 + V.CMACS.get(mac, 32))))
            out += [(name, e) for e, p in sorted(prio.items()) if p >= 0]
    return out


@pytest.mark.parametrize("name,engine", pairs())
def test_chain(ctx, rng, name, engine):
    cipher, mac = name.split("+")
    key, akey = V.cipher_key(rng, cipher), rand(rng, V.CMACS.get(mac, 32))
    enc = ctx.session(name, key=key, auth_key=akey, engine=engine)
    dec = ctx.session(name, key=key, auth_key=akey, engine=engine, encrypt=False)
    for n in (16, 4096):
        iv, aad, data = rand(rng, 16), rand(rng, 8), rand(rng, n)
        ct = V.cipher(cipher, key, iv, data)
        want = ct + V.mac(mac, akey, aad + ct)
        got = enc.aead_encrypt(data, iv, aad)
        assert got == want, (name, engine, n)
        assert dec.aead_decrypt(got, iv, aad) == data
        with pytest.raises(atx.AtxError) as e:
            dec.aead_decrypt(bytes([got[0] ^ 1]) + got[1:], iv, aad)
        assert e.value.status == -errno.EBADMSG and e.value.untouched, (name, engine)


def test_chain_is_parsed():
    d, _ = atx.alg_parse("aes-256-cbc+hmac-sha256")
    assert d["service"] == atx.SVC_CHAIN
    with pytest.raises(atx.AtxError) as e:
        atx.alg_parse("sha256+hmac-sha256")
    assert e.value.status == -errno.ENOENT
