# SPDX-License-Identifier: MIT
"""Black-box tests of atx-vcryptod, the project's vhost-user virtio-crypto device.

The test plays the vhost-user frontend itself, in pure Python: a unix socket,
a memfd shared with SCM_RIGHTS (socket.send_fds), split rings laid out in that
memory, eventfds for kick and call.  It sends valid requests (checked against
python3-cryptography, an independent implementation) and hostile ones
(addresses outside the memory table, lengths that wrap 2^64, descriptor loops,
indirect tables outside memory, unknown sessions and opcodes), and checks that
the device answers each with a status or a zero-length completion and keeps
serving afterwards.

Run:  ATX_BUILD=build/release /usr/bin/python3 -m pytest -q tests/harness/test_vcryptod_hostile.py
"""
import hashlib
import hmac
import mmap
import os
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("ATX_BUILD", "build/release")
DAEMON = os.path.join(BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD), "atx-vcryptod")

# ---- protocol constants (engines/virtio_crypto/*.h) ----
GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE = 1, 2, 3, 4, 5
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL = 12, 13
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE = 15, 16, 17, 18
GET_CONFIG, CREATE_CRYPTO_SESSION, CLOSE_CRYPTO_SESSION = 24, 26, 27
F_VERSION = 0x1
F_REPLY = 0x4
F_NEED_REPLY = 0x8
PROTO_MQ, PROTO_REPLY_ACK, PROTO_CRYPTO_SESSION, PROTO_CONFIG = 0, 3, 7, 9

VIRTIO_F_VERSION_1 = 32
VIRTIO_RING_F_INDIRECT_DESC = 28
VIRTIO_RING_F_EVENT_IDX = 29
VHOST_USER_F_PROTOCOL_FEATURES = 30

DESC_F_NEXT, DESC_F_WRITE, DESC_F_INDIRECT = 1, 2, 4

OK, ERR, BADMSG, NOTSUPP, INVSESS = 0, 1, 2, 3, 4


def opcode(service, op):
    return (service << 8) | op


SERVICE_CIPHER, SERVICE_HASH, SERVICE_MAC, SERVICE_AEAD = 0, 1, 2, 3
CIPHER_ENCRYPT = opcode(SERVICE_CIPHER, 0)
CIPHER_DECRYPT = opcode(SERVICE_CIPHER, 1)
HASH = opcode(SERVICE_HASH, 0)
MAC = opcode(SERVICE_MAC, 0)
AEAD_ENCRYPT = opcode(SERVICE_AEAD, 0)
AEAD_DECRYPT = opcode(SERVICE_AEAD, 1)
CIPHER_CREATE_SESSION = opcode(SERVICE_CIPHER, 2)
CIPHER_DESTROY_SESSION = opcode(SERVICE_CIPHER, 3)
HASH_CREATE_SESSION = opcode(SERVICE_HASH, 2)
MAC_CREATE_SESSION = opcode(SERVICE_MAC, 2)
AEAD_CREATE_SESSION = opcode(SERVICE_AEAD, 2)

CIPHER_AES_CBC = 3
HASH_SHA_256 = 4
MAC_HMAC_SHA_256 = 4
AEAD_GCM = 1
OP_ENCRYPT, OP_DECRYPT = 1, 2
SYM_OP_CIPHER = 1

TIMEOUT = 5.0

# Guest-physical and frontend-virtual bases differ on purpose: descriptors
# use guest-physical addresses, SET_VRING_ADDR frontend-virtual ones.
GPA_BASE = 0x1_0000_0000
UVA_BASE = 0x7F00_0000_0000
MEM_SIZE = 4 << 20
QSIZE = 16


# ---- the device process ----

def start_daemon(*args, sock=None):
    if not os.access(DAEMON, os.X_OK):
        pytest.fail("atx-vcryptod is not built at %s (run `make build/release/atx-vcryptod`)" % DAEMON)
    tmpdir = None
    if sock is None:
        tmpdir = tempfile.mkdtemp(prefix="vcryptod-")
        sock = os.path.join(tmpdir, "vc.sock")
    proc = subprocess.Popen([DAEMON, "--socket", sock] + list(args),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proc.atx_tmpdir = tmpdir    # stop_daemon removes it
    deadline = time.monotonic() + TIMEOUT
    while not os.path.exists(sock):
        if proc.poll() is not None:
            pytest.fail("atx-vcryptod exited early (%s): %s" % (proc.returncode, proc.stderr.read().decode()))
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("atx-vcryptod did not create %s within %ss" % (sock, TIMEOUT))
        time.sleep(0.01)
    return proc, sock


def stop_daemon(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("atx-vcryptod ignored SIGTERM for %ss" % TIMEOUT)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if getattr(proc, "atx_tmpdir", None):
        shutil.rmtree(proc.atx_tmpdir, ignore_errors=True)
    return proc.returncode, err


# ---- a minimal vhost-user frontend ----

class Frontend:
    def __init__(self, path, nqueues=1, event_idx=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(path)
        self.nqueues = nqueues
        self.event_idx = event_idx
        self.memfd = os.memfd_create("vcryptod-test", 0)
        os.ftruncate(self.memfd, MEM_SIZE)
        self.mem = mmap.mmap(self.memfd, MEM_SIZE)
        self.rings = {}
        self.next_data = 0x100000   # bump allocator for buffers, after the rings

    def close(self):
        self.sock.close()
        for r in self.rings.values():
            os.close(r["kick"])
            os.close(r["call"])
        self.mem.close()
        os.close(self.memfd)

    # -- messages --
    def send(self, req, payload=b"", fds=(), need_reply=False):
        flags = F_VERSION | (F_NEED_REPLY if need_reply else 0)
        data = struct.pack("<III", req, flags, len(payload)) + payload
        if fds:
            socket.send_fds(self.sock, [data], list(fds))
        else:
            self.sock.sendall(data)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("device closed the connection")
            buf += chunk
        return buf

    def reply(self, req):
        r, flags, size = struct.unpack("<III", self.recv_exact(12))
        assert r == req, "reply to request %d, expected %d" % (r, req)
        assert flags & F_REPLY, "reply flag missing (flags 0x%x)" % flags
        return self.recv_exact(size)

    def call(self, req, payload=b"", fds=()):
        """A message with REPLY_ACK: the ack must be 0."""
        self.send(req, payload, fds, need_reply=True)
        ack, = struct.unpack("<Q", self.reply(req))
        assert ack == 0, "request %d acked with %d" % (req, ack)

    def get_u64(self, req):
        self.send(req)
        return struct.unpack("<Q", self.reply(req))[0]

    # -- setup --
    def negotiate(self):
        feats = self.get_u64(GET_FEATURES)
        for bit in (VIRTIO_F_VERSION_1, VIRTIO_RING_F_INDIRECT_DESC, VHOST_USER_F_PROTOCOL_FEATURES):
            assert feats & (1 << bit), "feature bit %d not offered (0x%x)" % (bit, feats)
        want = (1 << VIRTIO_F_VERSION_1) | (1 << VIRTIO_RING_F_INDIRECT_DESC) | \
               (1 << VHOST_USER_F_PROTOCOL_FEATURES)
        if self.event_idx:
            want |= 1 << VIRTIO_RING_F_EVENT_IDX
        self.send(SET_FEATURES, struct.pack("<Q", want))
        pf = self.get_u64(GET_PROTOCOL_FEATURES)
        for bit in (PROTO_REPLY_ACK, PROTO_CRYPTO_SESSION, PROTO_CONFIG, PROTO_MQ):
            assert pf & (1 << bit), "protocol feature %d not offered (0x%x)" % (bit, pf)
        self.send(SET_PROTOCOL_FEATURES, struct.pack("<Q", pf))
        self.call(SET_OWNER)
        self.call(SET_MEM_TABLE, struct.pack("<II", 1, 0) +
                  struct.pack("<QQQQ", GPA_BASE, MEM_SIZE, UVA_BASE, 0), [self.memfd])

    def config(self):
        self.send(GET_CONFIG, struct.pack("<III", 0, 56, 0) + bytes(56))
        data = self.reply(GET_CONFIG)
        off, size, flags = struct.unpack_from("<III", data)
        assert size == 56
        f = struct.unpack_from("<12IQ", data, 12)
        keys = ("status max_dataqueues crypto_services cipher_algo_l cipher_algo_h hash_algo "
                "mac_algo_l mac_algo_h aead_algo max_cipher_key_len max_auth_key_len "
                "akcipher_algo max_size").split()
        return dict(zip(keys, f))

    def setup_ring(self, index):
        base = index * 0x4000
        desc, avail = base, base + 16 * QSIZE
        used = (avail + 4 + 2 * QSIZE + 2 + 3) & ~3
        self.mem[base:base + 0x4000] = bytes(0x4000)
        kick = os.eventfd(0, os.EFD_CLOEXEC)
        callfd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        self.call(SET_VRING_NUM, struct.pack("<II", index, QSIZE))
        self.call(SET_VRING_ADDR, struct.pack("<IIQQQQ", index, 0, UVA_BASE + desc,
                                              UVA_BASE + used, UVA_BASE + avail, 0))
        self.call(SET_VRING_BASE, struct.pack("<II", index, 0))
        self.call(SET_VRING_CALL, struct.pack("<Q", index), [callfd])
        self.call(SET_VRING_KICK, struct.pack("<Q", index), [kick])
        self.call(SET_VRING_ENABLE, struct.pack("<II", index, 1))
        self.rings[index] = dict(desc=desc, avail=avail, used=used, kick=kick, call=callfd,
                                 avail_idx=0, used_seen=0)

    def setup(self):
        self.negotiate()
        for q in range(self.nqueues + 1):
            self.setup_ring(q)

    # -- guest memory --
    def alloc(self, data_or_len):
        """Place bytes (or zeroes) in shared memory; returns (gpa, offset)."""
        n = data_or_len if isinstance(data_or_len, int) else len(data_or_len)
        off = self.next_data
        self.next_data = (self.next_data + n + 63) & ~63
        if self.next_data > MEM_SIZE:
            self.next_data = 0x100000
            return self.alloc(data_or_len)
        if not isinstance(data_or_len, int):
            self.mem[off:off + n] = data_or_len
        else:
            self.mem[off:off + n] = bytes(n)
        return GPA_BASE + off, off

    def read(self, off, n):
        return bytes(self.mem[off:off + n])

    # -- rings --
    def submit(self, index, descs, head=0, timeout=TIMEOUT):
        """descs: list of (addr, len, flags, next) written at slots 0..; returns (id, len)."""
        r = self.rings[index]
        for i, (addr, ln, flags, nxt) in enumerate(descs):
            struct.pack_into("<QIHH", self.mem, r["desc"] + 16 * i, addr, ln, flags, nxt)
        slot = r["avail_idx"] % QSIZE
        struct.pack_into("<H", self.mem, r["avail"] + 4 + 2 * slot, head)
        r["avail_idx"] = (r["avail_idx"] + 1) & 0xFFFF
        struct.pack_into("<H", self.mem, r["avail"] + 2, r["avail_idx"])
        os.eventfd_write(r["kick"], 1)
        deadline = time.monotonic() + timeout
        while True:
            used_idx, = struct.unpack_from("<H", self.mem, r["used"] + 2)
            if used_idx != r["used_seen"]:
                break
            if time.monotonic() > deadline:
                raise TimeoutError("queue %d: no completion within %ss" % (index, timeout))
            select.select([r["call"]], [], [], 0.01)
        elem = r["used"] + 4 + 8 * (r["used_seen"] % QSIZE)
        uid, ulen = struct.unpack_from("<II", self.mem, elem)
        r["used_seen"] = (r["used_seen"] + 1) & 0xFFFF
        return uid, ulen

    # -- virtio-crypto requests --
    def data_request(self, header, readable, dst_len, index=0, split=True):
        """A standard chain: header | readable vlf | dst | status. Returns (status, dst, used_len)."""
        h_gpa, _ = self.alloc(header)
        descs = [(h_gpa, len(header), DESC_F_NEXT, 1)]
        if readable:
            r_gpa, _ = self.alloc(readable)
            descs.append((r_gpa, len(readable), DESC_F_NEXT, len(descs) + 1))
        d_gpa, d_off = self.alloc(max(dst_len, 1))
        if dst_len:
            descs.append((d_gpa, dst_len, DESC_F_WRITE | DESC_F_NEXT, len(descs) + 1))
        s_gpa, s_off = self.alloc(b"\xee")
        descs.append((s_gpa, 1, DESC_F_WRITE, 0))
        uid, ulen = self.submit(index, descs)
        assert uid == 0, "completion for head %d, expected 0" % uid
        return self.read(s_off, 1)[0], self.read(d_off, dst_len), ulen

    def ctrl_create(self, ctrl_opcode, algo, flf, vlf=b""):
        q = self.nqueues
        req = struct.pack("<IIII", ctrl_opcode, algo, 0, 0) + flf.ljust(56, b"\0")
        r_gpa, _ = self.alloc(req + vlf)
        i_gpa, i_off = self.alloc(16)
        self.mem[i_off:i_off + 16] = b"\xff" * 16
        uid, ulen = self.submit(q, [(r_gpa, len(req) + len(vlf), DESC_F_NEXT, 1),
                                    (i_gpa, 16, DESC_F_WRITE, 0)])
        sid, status, _ = struct.unpack("<QII", self.read(i_off, 16))
        return status, sid

    def ctrl_destroy(self, sid, ctrl_opcode=CIPHER_DESTROY_SESSION):
        q = self.nqueues
        req = struct.pack("<IIII", ctrl_opcode, 0, 0, 0) + struct.pack("<Q", sid).ljust(56, b"\0")
        r_gpa, _ = self.alloc(req)
        s_gpa, s_off = self.alloc(b"\xff")
        self.submit(q, [(r_gpa, len(req), DESC_F_NEXT, 1), (s_gpa, 1, DESC_F_WRITE, 0)])
        return self.read(s_off, 1)[0]


def dpdk_session(fe, op_code, op_type, cipher_algo, key, direction, hash_algo=0, digest_len=0,
                 auth_key=b"", hash_mode=0, chaining_dir=0, aad_len=0):
    """CREATE_CRYPTO_SESSION with DPDK's 632-byte VhostUserCryptoSessionParam."""
    p = struct.pack("<qIIIIIIIBBBBQQ", 0, op_code, cipher_algo, len(key), hash_algo, digest_len,
                    len(auth_key), aad_len, op_type, direction, hash_mode, chaining_dir, 0, 0)
    p += key.ljust(64, b"\0") + auth_key.ljust(512, b"\0")
    assert len(p) == 632
    fe.send(CREATE_CRYPTO_SESSION, p)
    r = fe.reply(CREATE_CRYPTO_SESSION)
    assert len(r) == 632
    assert r[56:56 + 64] == bytes(64), "device echoed key material back"
    return struct.unpack_from("<q", r)[0]


def cipher_header(op, sid, iv_len, src_len, dst_len, algo=CIPHER_AES_CBC):
    para = struct.pack("<IIII", iv_len, src_len, dst_len, 0).ljust(40, b"\0")
    return struct.pack("<IIQII", op, algo, sid, 0, 0) + para + struct.pack("<II", SYM_OP_CIPHER, 0)


def aes_cbc(key, iv, data, encrypt=True):
    c = Cipher(algorithms.AES(key), modes.CBC(iv))
    ctx = c.encryptor() if encrypt else c.decryptor()
    return ctx.update(data) + ctx.finalize()


KEY = bytes(range(16))
IV = bytes(range(100, 116))
PLAIN = b"atx-vcryptod AES-CBC test block!" * 2


# ---- fixtures ----

@pytest.fixture(scope="module")
def daemon():
    proc, sock = start_daemon("--queues", "1", "--verbose")
    yield proc, sock
    rc, err = stop_daemon(proc)
    assert rc == 0, "atx-vcryptod exit status %s; stderr:\n%s" % (rc, err)
    assert not os.path.exists(sock), "socket left behind after SIGTERM"
    # keys must never reach the log
    assert KEY.hex() not in err and "000102030405060708090a0b0c0d0e0f" not in err


@pytest.fixture
def fe(daemon):
    f = Frontend(daemon[1])
    f.setup()
    yield f
    f.close()
    # the device resets on disconnect; give it a moment before the next test connects
    time.sleep(0.05)


def valid_cbc(fe, sid):
    hdr = cipher_header(CIPHER_ENCRYPT, sid, 16, len(PLAIN), len(PLAIN))
    st, dst, ulen = fe.data_request(hdr, IV + PLAIN, len(PLAIN))
    assert st == OK, "valid AES-CBC request: status %d" % st
    assert dst == aes_cbc(KEY, IV, PLAIN), "ciphertext differs from python-cryptography"
    assert ulen == len(PLAIN) + 1
    return dst


# ---- tests ----

def test_config_and_queue_num(fe):
    cfg = fe.config()
    assert cfg["max_dataqueues"] == 1
    assert cfg["status"] & 1, "VIRTIO_CRYPTO_S_HW_READY not set"
    assert cfg["crypto_services"] & 0xF == 0xF, "cipher/hash/mac/aead not all advertised"
    assert cfg["cipher_algo_l"] & (1 << CIPHER_AES_CBC)
    assert fe.get_u64(GET_QUEUE_NUM) == 2


def test_aes_cbc_dpdk_session(fe):
    sid = dpdk_session(fe, CIPHER_CREATE_SESSION, SYM_OP_CIPHER, CIPHER_AES_CBC, KEY, OP_ENCRYPT)
    assert sid >= 1, "session create failed with %d" % sid
    ct = valid_cbc(fe, sid)
    # decrypt it back
    hdr = cipher_header(CIPHER_DECRYPT, sid, 16, len(ct), len(ct))
    st, dst, _ = fe.data_request(hdr, IV + ct, len(ct))
    assert st == OK and dst == PLAIN
    # RFC 3602 case 1, the INTEROP.md reference value
    k = bytes.fromhex("06a9214036b8a15b512e03d534120006")
    iv = bytes.fromhex("3dafba429d9eb430b422da802c9fac41")
    sid2 = dpdk_session(fe, CIPHER_CREATE_SESSION, SYM_OP_CIPHER, CIPHER_AES_CBC, k, OP_ENCRYPT)
    st, dst, _ = fe.data_request(cipher_header(CIPHER_ENCRYPT, sid2, 16, 16, 16),
                                 iv + b"Single block msg", 16)
    assert st == OK and dst.hex() == "e353779c1079aeb82708942dbe77181a"
    fe.send(CLOSE_CRYPTO_SESSION, struct.pack("<Q", sid2), need_reply=True)
    assert struct.unpack("<Q", fe.reply(CLOSE_CRYPTO_SESSION))[0] == 0
    st, _, _ = fe.data_request(cipher_header(CIPHER_ENCRYPT, sid2, 16, 16, 16), iv + b"x" * 16, 16)
    assert st == INVSESS, "closed session still served (status %d)" % st


def test_controlq_sessions(fe):
    flf = struct.pack("<IIII", CIPHER_AES_CBC, 16, OP_ENCRYPT, 0).ljust(48, b"\0") + \
        struct.pack("<II", SYM_OP_CIPHER, 0)
    st, sid = fe.ctrl_create(CIPHER_CREATE_SESSION, CIPHER_AES_CBC, flf, KEY)
    assert st == OK and sid >= 1, "control-queue create: status %d id %d" % (st, sid)
    valid_cbc(fe, sid)
    assert fe.ctrl_destroy(sid) == OK
    assert fe.ctrl_destroy(sid) == INVSESS, "destroying twice must say INVSESS"
    # unsupported algorithm on the control queue
    flf = struct.pack("<IIII", 14, 16, OP_ENCRYPT, 0).ljust(48, b"\0") + struct.pack("<II", SYM_OP_CIPHER, 0)
    st, _ = fe.ctrl_create(CIPHER_CREATE_SESSION, 14, flf, KEY)
    assert st == NOTSUPP, "ZUC session: status %d, expected NOTSUPP" % st


def test_hash_mac_aead(fe):
    data = os.urandom(1000)
    # SHA-256
    st, sid = fe.ctrl_create(HASH_CREATE_SESSION, HASH_SHA_256, struct.pack("<II", HASH_SHA_256, 32))
    assert st == OK
    hdr = struct.pack("<IIQII", HASH, HASH_SHA_256, sid, 0, 0) + struct.pack("<II", len(data), 32).ljust(48, b"\0")
    st, out, _ = fe.data_request(hdr, data, 32)
    assert st == OK and out == hashlib.sha256(data).digest()
    # HMAC-SHA256, truncated to 16
    akey = os.urandom(40)
    st, sid = fe.ctrl_create(MAC_CREATE_SESSION, MAC_HMAC_SHA_256,
                             struct.pack("<IIII", MAC_HMAC_SHA_256, 16, len(akey), 0), akey)
    assert st == OK
    hdr = struct.pack("<IIQII", MAC, MAC_HMAC_SHA_256, sid, 0, 0) + struct.pack("<II", len(data), 16).ljust(48, b"\0")
    st, out, _ = fe.data_request(hdr, data, 16)
    assert st == OK and out == hmac.new(akey, data, hashlib.sha256).digest()[:16]
    # AES-GCM: ciphertext || tag out; tampered tag -> BADMSG
    gkey, nonce, aad = os.urandom(16), os.urandom(12), b"header"
    st, sid = fe.ctrl_create(AEAD_CREATE_SESSION, AEAD_GCM,
                             struct.pack("<IIIIII", AEAD_GCM, 16, 16, len(aad), OP_ENCRYPT, 0), gkey)
    assert st == OK
    want = AESGCM(gkey).encrypt(nonce, data, aad)
    hdr = struct.pack("<IIQII", AEAD_ENCRYPT, AEAD_GCM, sid, 0, 0) + \
        struct.pack("<IIII", 12, len(aad), len(data), len(data) + 16).ljust(48, b"\0")
    st, out, _ = fe.data_request(hdr, nonce + aad + data, len(data) + 16)
    assert st == OK and out == want
    hdr = struct.pack("<IIQII", AEAD_DECRYPT, AEAD_GCM, sid, 0, 0) + \
        struct.pack("<IIII", 12, len(aad), len(want), len(data)).ljust(48, b"\0")
    st, out, _ = fe.data_request(hdr, nonce + aad + want, len(data))
    assert st == OK and out == data
    bad = want[:-1] + bytes([want[-1] ^ 1])
    st, out, _ = fe.data_request(hdr, nonce + aad + bad, len(data))
    assert st == BADMSG, "forged GCM tag: status %d, expected BADMSG" % st
    assert out == bytes(len(data)), "unauthenticated plaintext was written"


def test_hostile_requests_then_keeps_serving(fe):
    sid = dpdk_session(fe, CIPHER_CREATE_SESSION, SYM_OP_CIPHER, CIPHER_AES_CBC, KEY, OP_ENCRYPT)
    assert sid >= 1
    valid_cbc(fe, sid)
    hdr = cipher_header(CIPHER_ENCRYPT, sid, 16, len(PLAIN), len(PLAIN))
    h_gpa, _ = fe.alloc(hdr)
    src_gpa, _ = fe.alloc(IV + PLAIN)
    dst_gpa, dst_off = fe.alloc(len(PLAIN))
    st_gpa, st_off = fe.alloc(b"\xee")

    def chain(src_addr, src_len=len(IV + PLAIN)):
        return [(h_gpa, len(hdr), DESC_F_NEXT, 1),
                (src_addr, src_len, DESC_F_NEXT, 2),
                (dst_gpa, len(PLAIN), DESC_F_WRITE | DESC_F_NEXT, 3),
                (st_gpa, 1, DESC_F_WRITE, 0)]

    def status():
        return fe.read(st_off, 1)[0]

    # 1. source buffer outside the memory table -> BADMSG
    fe.mem[st_off] = 0xEE
    uid, ulen = fe.submit(0, chain(GPA_BASE + MEM_SIZE + 0x1000))
    assert uid == 0 and status() == BADMSG, "outside memory: status %d" % status()
    # just below the table, and straddling its end
    fe.mem[st_off] = 0xEE
    fe.submit(0, chain(GPA_BASE - 16))
    assert status() == BADMSG
    fe.mem[st_off] = 0xEE
    fe.submit(0, chain(GPA_BASE + MEM_SIZE - 8, 48))
    assert status() == BADMSG, "descriptor straddling the region end was accepted"

    # 2. addr + len wraps 2^64 (a naive end check would land inside memory)
    fe.mem[st_off] = 0xEE
    fe.submit(0, chain(0xFFFF_FFFF_FFFF_FF00, 0x1000))
    assert status() == BADMSG, "wrapping descriptor: status %d" % status()
    fe.mem[st_off] = 0xEE
    fe.submit(0, chain(GPA_BASE + 64, 0xFFFF_FFFF))
    assert status() == BADMSG

    # 3. a descriptor loop via NEXT -> done with len 0, status untouched
    fe.mem[st_off] = 0xEE
    uid, ulen = fe.submit(0, [(h_gpa, len(hdr), DESC_F_NEXT, 1),
                              (src_gpa, 48, DESC_F_NEXT, 0)])
    assert uid == 0 and ulen == 0, "looping chain completed with len %d" % ulen
    assert status() == 0xEE
    # a self-loop on a writable descriptor
    uid, ulen = fe.submit(0, [(st_gpa, 1, DESC_F_WRITE | DESC_F_NEXT, 0)])
    assert ulen == 0

    # 4. next index beyond the queue
    uid, ulen = fe.submit(0, [(h_gpa, len(hdr), DESC_F_NEXT, 999)])
    assert ulen == 0

    # 5. indirect table outside memory, misaligned, and nested
    uid, ulen = fe.submit(0, [(GPA_BASE + MEM_SIZE + 4096, 64, DESC_F_INDIRECT, 0)])
    assert uid == 0 and ulen == 0, "indirect table outside memory: len %d" % ulen
    uid, ulen = fe.submit(0, [(GPA_BASE + 0x200000, 20, DESC_F_INDIRECT, 0)])
    assert ulen == 0
    tbl_gpa, tbl_off = fe.alloc(32)
    struct.pack_into("<QIHH", fe.mem, tbl_off, tbl_gpa, 32, DESC_F_INDIRECT, 0)
    uid, ulen = fe.submit(0, [(tbl_gpa, 32, DESC_F_INDIRECT, 0)])
    assert ulen == 0, "nested indirect accepted"
    # a loop inside an indirect table
    loop_gpa, loop_off = fe.alloc(32)
    struct.pack_into("<QIHH", fe.mem, loop_off, h_gpa, len(hdr), DESC_F_NEXT, 1)
    struct.pack_into("<QIHH", fe.mem, loop_off + 16, src_gpa, 48, DESC_F_NEXT, 0)
    uid, ulen = fe.submit(0, [(loop_gpa, 32, DESC_F_INDIRECT, 0)])
    assert ulen == 0

    # 6. unknown session, bad opcode, short header, no status byte
    fe.mem[st_off] = 0xEE
    bad = cipher_header(CIPHER_ENCRYPT, 0xDEADBEEF, 16, len(PLAIN), len(PLAIN))
    st, _, _ = fe.data_request(bad, IV + PLAIN, len(PLAIN))
    assert st == INVSESS, "unknown session: status %d" % st
    bad = struct.pack("<I", 0x7777) + hdr[4:]
    st, _, _ = fe.data_request(bad, IV + PLAIN, len(PLAIN))
    assert st == NOTSUPP, "bad opcode: status %d" % st
    st, _, _ = fe.data_request(hdr[:40], b"", len(PLAIN))
    assert st == BADMSG, "short header: status %d" % st
    uid, ulen = fe.submit(0, [(h_gpa, len(hdr), 0, 0)])
    assert ulen == 0, "request without writable part completed with len %d" % ulen
    # lengths in the header larger than the buffers
    big = cipher_header(CIPHER_ENCRYPT, sid, 16, 1 << 30, 1 << 30)
    st, _, _ = fe.data_request(big, IV + PLAIN, len(PLAIN))
    assert st == BADMSG
    # readable descriptor after a writable one
    fe.mem[st_off] = 0xEE
    fe.submit(0, [(h_gpa, len(hdr), DESC_F_NEXT, 1), (dst_gpa, len(PLAIN), DESC_F_WRITE | DESC_F_NEXT, 2),
                  (src_gpa, 48, DESC_F_NEXT, 3), (st_gpa, 1, DESC_F_WRITE, 0)])
    assert status() == BADMSG

    # 7. a valid request through an indirect table works ...
    tbl_gpa, tbl_off = fe.alloc(64)
    for i, d in enumerate(chain(src_gpa)):
        struct.pack_into("<QIHH", fe.mem, tbl_off + 16 * i, *d)
    fe.mem[st_off] = 0xEE
    fe.mem[dst_off:dst_off + len(PLAIN)] = bytes(len(PLAIN))
    uid, ulen = fe.submit(0, [(tbl_gpa, 64, DESC_F_INDIRECT, 0)])
    assert status() == OK and fe.read(dst_off, len(PLAIN)) == aes_cbc(KEY, IV, PLAIN)

    # ... and so does a plain one: the queue kept going
    valid_cbc(fe, sid)


def test_avail_index_overrun_is_ignored(fe):
    """A driver index more than a ring ahead is garbage: nothing is replayed,
    and once the index is sane again the queue serves."""
    sid = dpdk_session(fe, CIPHER_CREATE_SESSION, SYM_OP_CIPHER, CIPHER_AES_CBC, KEY, OP_ENCRYPT)
    r = fe.rings[0]
    struct.pack_into("<H", fe.mem, r["avail"] + 2, (r["avail_idx"] + 1000) & 0xFFFF)
    os.eventfd_write(r["kick"], 1)
    time.sleep(0.2)
    used_idx, = struct.unpack_from("<H", fe.mem, r["used"] + 2)
    assert used_idx == r["used_seen"], "device completed %d phantom requests" % (used_idx - r["used_seen"])
    struct.pack_into("<H", fe.mem, r["avail"] + 2, r["avail_idx"])
    valid_cbc(fe, sid)


def test_split_buffers_and_event_idx(daemon):
    """Header, IV and data split at odd boundaries; EVENT_IDX negotiated."""
    f = Frontend(daemon[1], event_idx=True)
    try:
        f.setup()
        sid = dpdk_session(f, CIPHER_CREATE_SESSION, SYM_OP_CIPHER, CIPHER_AES_CBC, KEY, OP_ENCRYPT)
        r = f.rings[0]
        # ask for an interrupt on every completion
        for _ in range(3):
            struct.pack_into("<H", f.mem, r["avail"] + 4 + 2 * QSIZE, r["used_seen"])
            hdr = cipher_header(CIPHER_ENCRYPT, sid, 16, len(PLAIN), len(PLAIN))
            blob = hdr + IV + PLAIN
            parts = [blob[:7], blob[7:75], blob[75:100], blob[100:]]
            descs = []
            for p in parts:
                g, _ = f.alloc(p)
                descs.append((g, len(p), DESC_F_NEXT, len(descs) + 1))
            d1, o1 = f.alloc(5)
            d2, o2 = f.alloc(len(PLAIN) - 5 + 1)
            descs.append((d1, 5, DESC_F_WRITE | DESC_F_NEXT, len(descs) + 1))
            descs.append((d2, len(PLAIN) - 5 + 1, DESC_F_WRITE, 0))
            f.submit(0, descs)
            out = f.read(o1, 5) + f.read(o2, len(PLAIN) - 5 + 1)
            assert out[-1] == OK and out[:-1] == aes_cbc(KEY, IV, PLAIN)
            # the call eventfd fired
            assert select.select([r["call"]], [], [], TIMEOUT)[0], "no interrupt with EVENT_IDX"
            os.eventfd_read(r["call"])
    finally:
        f.close()
        time.sleep(0.05)


def test_second_frontend_refused(daemon):
    f = Frontend(daemon[1])
    try:
        f.setup()
        sid = dpdk_session(f, CIPHER_CREATE_SESSION, SYM_OP_CIPHER, CIPHER_AES_CBC, KEY, OP_ENCRYPT)
        intruder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        intruder.settimeout(TIMEOUT)
        intruder.connect(daemon[1])
        try:
            intruder.sendall(struct.pack("<III", GET_FEATURES, F_VERSION, 0))
            assert intruder.recv(12) == b"", "second frontend was answered"
        except (ConnectionResetError, BrokenPipeError):
            pass   # closed by the device before or while we wrote
        finally:
            intruder.close()
        valid_cbc(f, sid)   # the first one is unaffected
    finally:
        f.close()
        time.sleep(0.05)


def test_reconnect_gets_fresh_device(daemon):
    f = Frontend(daemon[1])
    f.setup()
    sid = dpdk_session(f, CIPHER_CREATE_SESSION, SYM_OP_CIPHER, CIPHER_AES_CBC, KEY, OP_ENCRYPT)
    f.close()
    time.sleep(0.1)
    g = Frontend(daemon[1])
    try:
        g.setup()
        st, _, _ = g.data_request(cipher_header(CIPHER_ENCRYPT, sid, 16, 32, 32), IV + PLAIN[:32], 32)
        assert st == INVSESS, "a session survived the frontend's disconnect"
    finally:
        g.close()
        time.sleep(0.05)


def test_sigterm_exits_zero_and_unlinks():
    proc, sock = start_daemon()
    f = Frontend(sock)
    f.setup()
    rc, err = stop_daemon(proc)
    f.close()
    assert rc == 0, "exit status %s after SIGTERM: %s" % (rc, err)
    assert not os.path.exists(sock)


def test_sigterm_while_a_message_is_half_sent():
    """A frontend stalled inside a message must not keep SIGTERM from working."""
    proc, sock = start_daemon()
    f = Frontend(sock)
    try:
        f.setup()   # queue threads running: the signal must still reach the main thread
        f.sock.sendall(struct.pack("<III", SET_VRING_NUM, F_VERSION, 8) + b"\0\0")
        time.sleep(0.2)
        rc, err = stop_daemon(proc)
        assert rc == 0, "exit status %s: %s" % (rc, err)
        assert not os.path.exists(sock)
    finally:
        f.close()


def test_exit_after_closes_connection():
    proc, sock = start_daemon("--exit-after", "2")
    f = Frontend(sock)
    try:
        f.setup()
        sid = dpdk_session(f, CIPHER_CREATE_SESSION, SYM_OP_CIPHER, CIPHER_AES_CBC, KEY, OP_ENCRYPT)
        valid_cbc(f, sid)
        valid_cbc(f, sid)   # the second request is still completed
        try:
            proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail("atx-vcryptod still running after --exit-after 2")
        assert proc.returncode != 0, "a crash-like exit must not look clean"
        f.sock.settimeout(TIMEOUT)
        try:
            assert f.sock.recv(1) == b""
        except ConnectionResetError:
            pass
    finally:
        f.close()
        stop_daemon(proc)
        if os.path.exists(sock):
            os.unlink(sock)   # like a crash: the daemon left it


def test_fault_injection_status_and_fail_rate():
    proc, sock = start_daemon("--status", str(ERR))
    f = Frontend(sock)
    try:
        f.setup()
        sid = dpdk_session(f, CIPHER_CREATE_SESSION, SYM_OP_CIPHER, CIPHER_AES_CBC, KEY, OP_ENCRYPT)
        st, _, _ = f.data_request(cipher_header(CIPHER_ENCRYPT, sid, 16, 32, 32), IV + PLAIN[:32], 32)
        assert st == ERR
    finally:
        f.close()
        assert stop_daemon(proc)[0] == 0
    proc, sock = start_daemon("--fail-rate", "1")
    f = Frontend(sock)
    try:
        f.setup()
        sid = dpdk_session(f, CIPHER_CREATE_SESSION, SYM_OP_CIPHER, CIPHER_AES_CBC, KEY, OP_ENCRYPT)
        for _ in range(3):
            st, _, _ = f.data_request(cipher_header(CIPHER_ENCRYPT, sid, 16, 32, 32), IV + PLAIN[:32], 32)
            assert st == ERR
    finally:
        f.close()
        assert stop_daemon(proc)[0] == 0


def test_hostile_vhost_user_messages(daemon):
    """Malformed messages are refused without killing the device."""
    f = Frontend(daemon[1])
    try:
        f.negotiate()
        # vring index out of range, size not a power of two
        f.send(SET_VRING_NUM, struct.pack("<II", 77, 16), need_reply=True)
        assert struct.unpack("<Q", f.reply(SET_VRING_NUM))[0] != 0
        f.send(SET_VRING_NUM, struct.pack("<II", 0, 15), need_reply=True)
        assert struct.unpack("<Q", f.reply(SET_VRING_NUM))[0] != 0
        # memory table whose region wraps the address space
        f.send(SET_MEM_TABLE, struct.pack("<II", 1, 0) +
               struct.pack("<QQQQ", 0xFFFF_FFFF_FFFF_F000, MEM_SIZE, UVA_BASE, 0), [f.memfd], need_reply=True)
        assert struct.unpack("<Q", f.reply(SET_MEM_TABLE))[0] != 0
        # a region larger than its memfd (touching it would SIGBUS the device)
        f.send(SET_MEM_TABLE, struct.pack("<II", 1, 0) +
               struct.pack("<QQQQ", GPA_BASE, MEM_SIZE * 4, UVA_BASE, 0), [f.memfd], need_reply=True)
        assert struct.unpack("<Q", f.reply(SET_MEM_TABLE))[0] != 0, "region past the end of its file accepted"
        f.send(SET_MEM_TABLE, struct.pack("<II", 1, 0) +
               struct.pack("<QQQQ", GPA_BASE, MEM_SIZE, UVA_BASE, 4096), [f.memfd], need_reply=True)
        assert struct.unpack("<Q", f.reply(SET_MEM_TABLE))[0] != 0, "offset + size past the file accepted"
        # more regions than fds
        f.send(SET_MEM_TABLE, struct.pack("<II", 2, 0) + bytes(64), [f.memfd], need_reply=True)
        assert struct.unpack("<Q", f.reply(SET_MEM_TABLE))[0] != 0
        # GET_CONFIG window beyond 256 bytes
        f.send(GET_CONFIG, struct.pack("<III", 250, 56, 0), need_reply=True)
        assert struct.unpack("<Q", f.reply(GET_CONFIG))[0] != 0
        # ring addresses outside memory: refused at start, then a good setup works
        f.call(SET_MEM_TABLE, struct.pack("<II", 1, 0) +
               struct.pack("<QQQQ", GPA_BASE, MEM_SIZE, UVA_BASE, 0), [f.memfd])
        for q in range(2):
            f.setup_ring(q)
        sid = dpdk_session(f, CIPHER_CREATE_SESSION, SYM_OP_CIPHER, CIPHER_AES_CBC, KEY, OP_ENCRYPT)
        valid_cbc(f, sid)
        # an unknown session kind over vhost-user: a negative status, no crash
        assert dpdk_session(f, 0x9999, 1, CIPHER_AES_CBC, KEY, OP_ENCRYPT) < 0
        # an oversized payload ends the connection, not the daemon
        f.sock.sendall(struct.pack("<III", GET_FEATURES, F_VERSION, 100000))
        try:
            assert f.sock.recv(1) == b""
        except ConnectionResetError:
            pass
    finally:
        f.close()
        time.sleep(0.05)
    assert daemon[0].poll() is None, "atx-vcryptod died on hostile vhost-user messages"


def test_random_chains_never_wedge_the_queue(fe):
    """Random descriptor chains and random request headers: every one must
    complete (with any status, or len 0), and the queue must then serve a
    valid request.  The seed is in the failure message."""
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    sid = dpdk_session(fe, CIPHER_CREATE_SESSION, SYM_OP_CIPHER, CIPHER_AES_CBC, KEY, OP_ENCRYPT)
    pool_gpa, pool_off = fe.alloc(64 * 1024)
    fe.mem[pool_off:pool_off + 64 * 1024] = os.urandom(64 * 1024)

    def rand_addr():
        return rng.choice([pool_gpa + rng.randrange(0, 64 * 1024), GPA_BASE + MEM_SIZE - rng.randrange(0, 64),
                           0, rng.getrandbits(64), GPA_BASE - rng.randrange(1, 64), pool_gpa])

    def rand_desc(n):
        flags = rng.choice([0, DESC_F_NEXT, DESC_F_WRITE, DESC_F_WRITE | DESC_F_NEXT, DESC_F_INDIRECT,
                            DESC_F_INDIRECT | DESC_F_NEXT, rng.getrandbits(16)])
        ln = rng.choice([0, 1, 16, 72, 100, 4096, rng.getrandbits(32)])
        return (rand_addr(), ln, flags, rng.randrange(0, n + 2))

    for i in range(300):
        # sometimes a well-formed header with random fields, so parsing is exercised too
        if rng.random() < 0.5:
            op = rng.choice([CIPHER_ENCRYPT, CIPHER_DECRYPT, HASH, MAC, AEAD_ENCRYPT, AEAD_DECRYPT, 0xFFFF])
            hdr = struct.pack("<IIQII", op, rng.getrandbits(32), rng.choice([sid, 0, rng.getrandbits(64)]), 0, 0)
            hdr += bytes(rng.getrandbits(8) if rng.random() < 0.3 else 0 for _ in range(48))
            struct.pack_into("<72s", fe.mem, pool_off, hdr)
        n = rng.randrange(1, 7)
        descs = [rand_desc(n) for _ in range(n)]
        if rng.random() < 0.3:
            # a random indirect table inside the pool
            t_off = pool_off + rng.randrange(0, 60 * 1024) // 16 * 16
            for k in range(8):
                struct.pack_into("<QIHH", fe.mem, t_off + 16 * k, *rand_desc(8))
            descs[0] = (pool_gpa + (t_off - pool_off), rng.choice([16, 64, 128, 24]), DESC_F_INDIRECT, 0)
        try:
            fe.submit(0, descs)
        except TimeoutError:
            pytest.fail("seed %d: iteration %d wedged the queue with %r" % (seed, i, descs))
    valid_cbc(fe, sid)
