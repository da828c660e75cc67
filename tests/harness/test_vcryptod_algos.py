# SPDX-License-Identifier: MIT
"""atx-vcryptod's algorithms, batches and queues, against python-cryptography/hashlib.

Uses the pure-Python vhost-user frontend of test_vcryptod_hostile.py.
Run:  ATX_BUILD=build/release /usr/bin/python3 -m pytest -q tests/harness/test_vcryptod_algos.py
"""
import hashlib
import hmac
import os
import struct
import time

import pytest
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, ChaCha20Poly1305

from test_vcryptod_hostile import (
    AEAD_CREATE_SESSION, AEAD_DECRYPT, AEAD_ENCRYPT, BADMSG, CIPHER_CREATE_SESSION, CIPHER_DECRYPT,
    CIPHER_ENCRYPT, DESC_F_INDIRECT, DESC_F_NEXT, DESC_F_WRITE, HASH, HASH_CREATE_SESSION, MAC,
    MAC_CREATE_SESSION, OK, OP_DECRYPT, OP_ENCRYPT, QSIZE, SYM_OP_CIPHER, Frontend, cipher_header,
    start_daemon, stop_daemon)

CIPHER_AES_ECB, CIPHER_AES_CBC, CIPHER_AES_CTR, CIPHER_3DES_CBC, CIPHER_AES_XTS = 2, 3, 4, 8, 13
HASH_SHA1, HASH_SHA_512, HASH_SHA3_256 = 2, 6, 8
MAC_HMAC_SHA1, MAC_HMAC_SHA_256, MAC_CMAC_AES = 2, 4, 26
AEAD_CCM, AEAD_CHACHA = 2, 3
SYM_OP_CHAIN = 2
HASH_THEN_CIPHER, CIPHER_THEN_HASH = 1, 2
HASH_MODE_PLAIN, HASH_MODE_AUTH = 1, 2


@pytest.fixture(scope="module")
def daemon2():
    proc, sock = start_daemon("--queues", "2")
    yield proc, sock
    rc, err = stop_daemon(proc)
    assert rc == 0, "atx-vcryptod exit status %s:\n%s" % (rc, err)


@pytest.fixture
def fe(daemon2):
    f = Frontend(daemon2[1], nqueues=2)
    f.setup()
    yield f
    f.close()
    time.sleep(0.05)


def ref_cipher(mode, key, iv, data, encrypt=True):
    if mode == CIPHER_3DES_CBC:
        try:   # moved to "decrepit" in newer python-cryptography
            from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
        except ImportError:
            TripleDES = algorithms.TripleDES
        c = Cipher(TripleDES(key), modes.CBC(iv))
    else:
        m = {CIPHER_AES_ECB: lambda: modes.ECB(), CIPHER_AES_CBC: lambda: modes.CBC(iv),
             CIPHER_AES_CTR: lambda: modes.CTR(iv), CIPHER_AES_XTS: lambda: modes.XTS(iv)}[mode]()
        c = Cipher(algorithms.AES(key), m)
    ctx = c.encryptor() if encrypt else c.decryptor()
    return ctx.update(data) + ctx.finalize()


def cipher_session(fe, algo, key, op=OP_ENCRYPT):
    flf = struct.pack("<IIII", algo, len(key), op, 0).ljust(48, b"\0") + struct.pack("<II", SYM_OP_CIPHER, 0)
    st, sid = fe.ctrl_create(CIPHER_CREATE_SESSION, algo, flf, key)
    assert st == OK, "cipher session %d: status %d" % (algo, st)
    return sid


@pytest.mark.parametrize("algo,keylen,ivlen,size", [
    (CIPHER_AES_ECB, 16, 0, 64), (CIPHER_AES_ECB, 32, 0, 4096),
    (CIPHER_AES_CBC, 24, 16, 4096), (CIPHER_AES_CTR, 16, 16, 1000),
    (CIPHER_AES_XTS, 64, 16, 4096), (CIPHER_AES_XTS, 32, 16, 17),
    (CIPHER_3DES_CBC, 24, 8, 128),
])
def test_ciphers(fe, algo, keylen, ivlen, size):
    key = os.urandom(keylen)
    if algo == CIPHER_AES_XTS:
        key = os.urandom(keylen // 2) + os.urandom(keylen // 2)
    iv, data = os.urandom(ivlen), os.urandom(size)
    sid = cipher_session(fe, algo, key)
    st, out, _ = fe.data_request(cipher_header(CIPHER_ENCRYPT, sid, ivlen, size, size, algo), iv + data, size)
    assert st == OK, "status %d" % st
    assert out == ref_cipher(algo, key, iv, data), "encrypt differs from python-cryptography"
    st, back, _ = fe.data_request(cipher_header(CIPHER_DECRYPT, sid, ivlen, size, size, algo), iv + out, size)
    assert st == OK and back == data


def test_cipher_bad_lengths(fe):
    sid = cipher_session(fe, CIPHER_AES_CBC, os.urandom(16))
    st, _, _ = fe.data_request(cipher_header(CIPHER_ENCRYPT, sid, 16, 30, 30), os.urandom(46), 30)
    assert st == BADMSG, "CBC of a partial block: status %d" % st
    st, _, _ = fe.data_request(cipher_header(CIPHER_ENCRYPT, sid, 8, 32, 32), os.urandom(40), 32)
    assert st == BADMSG, "CBC with an 8-byte IV: status %d" % st
    flf = struct.pack("<IIII", CIPHER_AES_CBC, 17, OP_ENCRYPT, 0).ljust(48, b"\0") + struct.pack("<II", 1, 0)
    st, _ = fe.ctrl_create(CIPHER_CREATE_SESSION, CIPHER_AES_CBC, flf, os.urandom(17))
    assert st == BADMSG, "17-byte AES key accepted (status %d)" % st


@pytest.mark.parametrize("algo,fn", [(HASH_SHA1, hashlib.sha1), (HASH_SHA_512, hashlib.sha512),
                                     (HASH_SHA3_256, hashlib.sha3_256)])
def test_hashes(fe, algo, fn):
    data = os.urandom(3000)
    n = fn().digest_size
    st, sid = fe.ctrl_create(HASH_CREATE_SESSION, algo, struct.pack("<II", algo, n))
    assert st == OK
    hdr = struct.pack("<IIQII", HASH, algo, sid, 0, 0) + struct.pack("<II", len(data), n).ljust(48, b"\0")
    st, out, _ = fe.data_request(hdr, data, n)
    assert st == OK and out == fn(data).digest()


def test_macs(fe):
    data = os.urandom(777)
    for algo, key, ref in [
            (MAC_HMAC_SHA1, os.urandom(20), lambda k, d: hmac.new(k, d, hashlib.sha1).digest()),
            (MAC_HMAC_SHA_256, os.urandom(100), lambda k, d: hmac.new(k, d, hashlib.sha256).digest()),
            (MAC_CMAC_AES, os.urandom(16), None)]:
        if ref is None:
            c = cmac.CMAC(algorithms.AES(key))
            c.update(data)
            want = c.finalize()
        else:
            want = ref(key, data)
        st, sid = fe.ctrl_create(MAC_CREATE_SESSION, algo, struct.pack("<IIII", algo, len(want), len(key), 0), key)
        assert st == OK, "mac %d session: %d" % (algo, st)
        hdr = struct.pack("<IIQII", MAC, algo, sid, 0, 0) + struct.pack("<II", len(data), len(want)).ljust(48, b"\0")
        st, out, _ = fe.data_request(hdr, data, len(want))
        assert st == OK and out == want, "mac %d differs" % algo


@pytest.mark.parametrize("algo,keylen,ivlen,tag", [(AEAD_CCM, 16, 13, 16), (AEAD_CCM, 32, 7, 8),
                                                   (AEAD_CHACHA, 32, 12, 16)])
def test_aeads(fe, algo, keylen, ivlen, tag):
    key, iv, aad, data = os.urandom(keylen), os.urandom(ivlen), os.urandom(20), os.urandom(500)
    ref = AESCCM(key, tag_length=tag) if algo == AEAD_CCM else ChaCha20Poly1305(key)
    want = ref.encrypt(iv, data, aad)
    st, sid = fe.ctrl_create(AEAD_CREATE_SESSION, algo,
                             struct.pack("<IIIIII", algo, keylen, tag, len(aad), OP_ENCRYPT, 0), key)
    assert st == OK
    hdr = struct.pack("<IIQII", AEAD_ENCRYPT, algo, sid, 0, 0) + \
        struct.pack("<IIII", ivlen, len(aad), len(data), len(data) + tag).ljust(48, b"\0")
    st, out, _ = fe.data_request(hdr, iv + aad + data, len(data) + tag)
    assert st == OK and out == want
    hdr = struct.pack("<IIQII", AEAD_DECRYPT, algo, sid, 0, 0) + \
        struct.pack("<IIII", ivlen, len(aad), len(want), len(data)).ljust(48, b"\0")
    st, out, _ = fe.data_request(hdr, iv + aad + want, len(data))
    assert st == OK and out == data
    forged = bytes([want[0] ^ 0x80]) + want[1:]
    st, _, _ = fe.data_request(hdr, iv + aad + forged, len(data))
    assert st == BADMSG, "forged ciphertext: status %d" % st


def chain_session(fe, order, key, akey, direction):
    cipher = struct.pack("<IIII", CIPHER_AES_CBC, len(key), direction, 0)
    mac = struct.pack("<IIII", MAC_HMAC_SHA_256, 32, len(akey), 0)
    para = struct.pack("<II", order, HASH_MODE_AUTH) + cipher + mac + struct.pack("<II", 0, 0)
    flf = para.ljust(48, b"\0") + struct.pack("<II", SYM_OP_CHAIN, 0)
    st, sid = fe.ctrl_create(CIPHER_CREATE_SESSION, CIPHER_AES_CBC, flf, key + akey)
    assert st == OK, "chain session: status %d" % st
    return sid


def chain_request(fe, op, sid, iv, src, coff, clen, hoff, hlen, aad=b""):
    para = struct.pack("<10I", len(iv), len(src), len(src), coff, clen, hoff, hlen, len(aad), 32, 0)
    hdr = struct.pack("<IIQII", op, CIPHER_AES_CBC, sid, 0, 0) + para + struct.pack("<II", SYM_OP_CHAIN, 0)
    st, out, _ = fe.data_request(hdr, iv + aad + src, len(src) + 32)
    return st, out[:len(src)], out[len(src):]


def test_chaining_both_orders(fe):
    key, akey, iv = os.urandom(16), os.urandom(32), os.urandom(16)
    head, body = os.urandom(16), os.urandom(256)       # authenticated header + encrypted body
    plain = head + body
    # encrypt-then-MAC: the HMAC covers header and ciphertext
    sid = chain_session(fe, CIPHER_THEN_HASH, key, akey, OP_ENCRYPT)
    st, out, tag = chain_request(fe, CIPHER_ENCRYPT, sid, iv, plain, 16, 256, 0, 272)
    ct = ref_cipher(CIPHER_AES_CBC, key, iv, body)
    assert st == OK
    assert out == head + ct, "chained cipher output differs"
    assert tag == hmac.new(akey, head + ct, hashlib.sha256).digest(), "chained HMAC differs"
    # verify-then-decrypt: the HMAC covers the (cipher) input
    sid = chain_session(fe, HASH_THEN_CIPHER, key, akey, OP_DECRYPT)
    st, out, tag2 = chain_request(fe, CIPHER_DECRYPT, sid, iv, head + ct, 16, 256, 0, 272)
    assert st == OK and out == plain and tag2 == tag
    # ranges outside src_data are refused
    st, _, _ = chain_request(fe, CIPHER_DECRYPT, sid, iv, head + ct, 16, 257, 0, 272)
    assert st == BADMSG


def test_batch_in_ring_order_via_indirect(fe):
    """Eight requests made available at once with one kick: all complete,
    in ring order, each from its own indirect table."""
    key = os.urandom(16)
    sid = cipher_session(fe, CIPHER_AES_CTR, key)
    r = fe.rings[0]
    reqs = []
    for i in range(8):
        iv, data = os.urandom(16), os.urandom(64 + i)
        h_gpa, _ = fe.alloc(cipher_header(CIPHER_ENCRYPT, sid, 16, len(data), len(data), CIPHER_AES_CTR))
        s_gpa, _ = fe.alloc(iv + data)
        d_gpa, d_off = fe.alloc(len(data) + 1)
        tbl = struct.pack("<QIHH", h_gpa, 72, DESC_F_NEXT, 1) + \
            struct.pack("<QIHH", s_gpa, 16 + len(data), DESC_F_NEXT, 2) + \
            struct.pack("<QIHH", d_gpa, len(data) + 1, DESC_F_WRITE, 0)
        t_gpa, _ = fe.alloc(tbl)
        head = 7 - i       # heads in reverse, so ring order != head order
        struct.pack_into("<QIHH", fe.mem, r["desc"] + 16 * head, t_gpa, len(tbl), DESC_F_INDIRECT, 0)
        slot = (r["avail_idx"] + i) % QSIZE
        struct.pack_into("<H", fe.mem, r["avail"] + 4 + 2 * slot, head)
        reqs.append((head, iv, data, d_off))
    r["avail_idx"] = (r["avail_idx"] + 8) & 0xFFFF
    struct.pack_into("<H", fe.mem, r["avail"] + 2, r["avail_idx"])
    os.eventfd_write(r["kick"], 1)
    deadline = time.monotonic() + 5
    while (struct.unpack_from("<H", fe.mem, r["used"] + 2)[0] - r["used_seen"]) & 0xFFFF < 8:
        assert time.monotonic() < deadline, "batch of 8 did not complete"
        time.sleep(0.001)
    for i, (head, iv, data, d_off) in enumerate(reqs):
        uid, ulen = struct.unpack_from("<II", fe.mem, r["used"] + 4 + 8 * ((r["used_seen"] + i) % QSIZE))
        assert uid == head, "used ring slot %d holds head %d, expected %d (ring order)" % (i, uid, head)
        assert ulen == len(data) + 1
        out = fe.read(d_off, len(data) + 1)
        assert out[-1] == OK and out[:-1] == ref_cipher(CIPHER_AES_CTR, key, iv, data)
    r["used_seen"] = (r["used_seen"] + 8) & 0xFFFF


def test_two_data_queues(fe):
    cfg = fe.config()
    assert cfg["max_dataqueues"] == 2
    key, iv, data = os.urandom(16), os.urandom(16), os.urandom(512)
    sid = cipher_session(fe, CIPHER_AES_CBC, key)
    want = ref_cipher(CIPHER_AES_CBC, key, iv, data)
    for q in (0, 1, 0, 1):
        st, out, _ = fe.data_request(cipher_header(CIPHER_ENCRYPT, sid, 16, 512, 512), iv + data, 512, index=q)
        assert st == OK and out == want, "queue %d" % q
