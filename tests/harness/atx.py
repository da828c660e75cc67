# SPDX-License-Identifier: MIT
"""atx from Python: a ctypes binding of libatx.so (no compiled extension).

The library is found through, in order: the ATX_LIB environment variable
(a path to the .so), ATX_BUILD (a build directory such as build/release,
relative to the repository root or absolute), else build/release.

Every call here is synchronous: it submits one descriptor, drives the
context's loop until it completed (atx_wait) and releases it.  Errors are
raised as AtxError, whose ``status`` is the library's negative errno
(``-errno.EBADMSG`` for a bad MAC or tag) and ``errno`` the positive one.

Example::

    import atx
    with atx.Context() as ctx:
        enc = ctx.session("aes-256-xts", key=key, encrypt=True)
        ct = enc.cipher(data, iv=tweak)
        h = ctx.session("sha256").digest(b"abc")
        tag_ok = ctx.session("hmac-sha256", key=k, encrypt=False)
        tag_ok.verify(msg, tag)              # raises AtxError(EBADMSG) on mismatch
        ct_tag = ctx.session("aes-128-gcm", key=k16).aead_encrypt(pt, nonce, aad)
        crc = ctx.crc32c(b"123456789")       # 0xE3069283
"""

import ctypes
import ctypes.util
import errno as _errno
import os

__all__ = [
    "AtxError", "LibraryMissing", "Context", "Session", "lib", "lib_path",
    "alg_names", "alg_parse", "strerror",
]

# ---- enums of include/atx.h (kept in the header's order) ----
SVC_CIPHER, SVC_HASH, SVC_MAC, SVC_AEAD, SVC_CHAIN = range(5)
ENCRYPT, DECRYPT = 0, 1
(CIPHER_NONE, CIPHER_AES_ECB, CIPHER_AES_CBC, CIPHER_AES_CTR, CIPHER_AES_XTS,
 CIPHER_CHACHA20, CIPHER_3DES_CBC) = range(7)
(HASH_NONE, HASH_SHA1, HASH_SHA224, HASH_SHA256, HASH_SHA384, HASH_SHA512,
 HASH_SHA3_256) = range(7)
(MAC_NONE, MAC_HMAC_SHA1, MAC_HMAC_SHA224, MAC_HMAC_SHA256, MAC_HMAC_SHA384,
 MAC_HMAC_SHA512, MAC_AES_CMAC) = range(7)
AEAD_NONE, AEAD_AES_GCM, AEAD_AES_CCM, AEAD_CHACHA20_POLY1305 = range(4)

CTX_F_NO_INLINE, CTX_F_FAILOVER, CTX_F_NO_SOFT = 1, 2, 4
F_ACK = 1
MAX_DIGEST_LEN = 64

CAP_NAMES = ["memcpy", "memset", "crc32c", "xor", "pq", "cipher", "hash", "mac",
             "aead", "chain", "fileio", "raid6_recov", "crc32c_blocks", "seq"]

_HASH_LEN = {HASH_SHA1: 20, HASH_SHA224: 28, HASH_SHA256: 32, HASH_SHA384: 48,
             HASH_SHA512: 64, HASH_SHA3_256: 32}
_MAC_LEN = {MAC_HMAC_SHA1: 20, MAC_HMAC_SHA224: 28, MAC_HMAC_SHA256: 32,
            MAC_HMAC_SHA384: 48, MAC_HMAC_SHA512: 64, MAC_AES_CMAC: 16}

# The byte every output buffer is filled with before an operation, so a
# failure can tell whether the library wrote anything.
CANARY = 0xA5


class AtxError(OSError):
    """A refusal or failed completion.  ``status`` is the negative errno."""

    def __init__(self, status, what, untouched=None):
        self.status = status
        #: for failed operations: True when the destination kept its canary
        #: (nothing was written), False when it did not, None when unknown.
        self.untouched = untouched
        super().__init__(-status, "%s: %s" % (what, strerror(status)))


class LibraryMissing(RuntimeError):
    """libatx.so could not be found or loaded."""


# ---- C structures ----
class _CtxOpts(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("flags", ctypes.c_uint),
                ("pool_size", ctypes.c_uint), ("ring_entries", ctypes.c_uint),
                ("soft_lanes", ctypes.c_uint), ("engines", ctypes.c_char_p),
                ("arena_size", ctypes.c_size_t)]


class _Submit(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint), ("depend_tx", ctypes.c_void_p),
                ("deps", ctypes.c_void_p), ("ndeps", ctypes.c_uint),
                ("cb", ctypes.c_void_p), ("cb_arg", ctypes.c_void_p),
                ("chan", ctypes.c_void_p)]


class _Params(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("service", ctypes.c_int),
                ("dir", ctypes.c_int), ("cipher", ctypes.c_int), ("hash", ctypes.c_int),
                ("mac", ctypes.c_int), ("aead", ctypes.c_int),
                ("chain_order", ctypes.c_int), ("key", ctypes.c_void_p),
                ("key_len", ctypes.c_size_t), ("auth_key", ctypes.c_void_p),
                ("auth_key_len", ctypes.c_size_t), ("digest_len", ctypes.c_size_t),
                ("flags", ctypes.c_uint), ("engine", ctypes.c_char_p),
                ("data_unit_len", ctypes.c_size_t), ("data_unit_iv_step", ctypes.c_uint64)]


class _Iovec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class _CryptoOp(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("src", ctypes.c_void_p),
                ("src_cnt", ctypes.c_uint), ("dst", ctypes.c_void_p),
                ("dst_cnt", ctypes.c_uint), ("iv", ctypes.c_void_p),
                ("iv_len", ctypes.c_size_t), ("aad", ctypes.c_void_p),
                ("aad_len", ctypes.c_size_t), ("digest", ctypes.c_void_p)]


class _Step(ctypes.Structure):
    _fields_ = [("op", ctypes.c_int), ("seed", ctypes.c_uint32), ("dst", ctypes.c_void_p),
                ("src", ctypes.c_void_p), ("len", ctypes.c_size_t), ("sess", ctypes.c_void_p),
                ("iv", ctypes.c_void_p), ("iv_len", ctypes.c_size_t), ("aad", ctypes.c_void_p),
                ("aad_len", ctypes.c_size_t), ("out", ctypes.c_void_p)]


# enum atx_step_op
STEP_MEMCPY, STEP_MEMSET, STEP_CRC32C, STEP_COPY_CRC32C, STEP_CIPHER, STEP_DIGEST, \
    STEP_AEAD = range(1, 8)
CHAIN_MAX = 8


class _Caps(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("mask", ctypes.c_uint32),
                ("engine", ctypes.c_char_p)]


class _ChanInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("engine", ctypes.c_char_p),
                ("caps", ctypes.c_uint32), ("priority", ctypes.c_int),
                ("private_", ctypes.c_bool)]


class _ChanStats(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in
                ("ops", "bytes", "errors", "busy", "bounced", "inflight")]


_lib = None


def _root():
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def lib_path():
    """The path of the libatx.so this module loads."""
    if os.environ.get("ATX_LIB"):
        return os.environ["ATX_LIB"]
    build = os.environ.get("ATX_BUILD", "build/release")
    if not os.path.isabs(build):
        build = os.path.join(_root(), build)
    return os.path.join(build, "libatx.so.0")


def lib():
    """Load (once) and return the ctypes handle of libatx; raises LibraryMissing."""
    global _lib
    if _lib is not None:
        return _lib
    path = lib_path()
    if not os.path.exists(path):
        raise LibraryMissing("libatx not found at %s (build it with `make`, or set "
                             "ATX_BUILD=build/<variant> or ATX_LIB=/path/libatx.so.0)" % path)
    try:
        L = ctypes.CDLL(path, use_errno=True)
    except OSError as e:
        raise LibraryMissing("cannot load %s: %s" % (path, e)) from e
    P, VP, SZ, U, I = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                       ctypes.c_uint, ctypes.c_int)

    def fn(name, res, *args):
        f = getattr(L, name)
        f.restype = res
        f.argtypes = list(args)

    fn("atx_ctx_new", P, ctypes.POINTER(_CtxOpts))
    fn("atx_ctx_free", None, P)
    fn("atx_session_new", P, P, ctypes.POINTER(_Params))
    fn("atx_session_free", None, P)
    fn("atx_session_engine", ctypes.c_char_p, P)
    fn("atx_crypto", P, P, P, ctypes.POINTER(_CryptoOp), ctypes.POINTER(_Submit))
    fn("atx_cipher", P, P, P, VP, VP, SZ, VP, ctypes.POINTER(_Submit))
    fn("atx_digest", P, P, P, VP, VP, SZ, ctypes.POINTER(_Submit))
    fn("atx_aead", P, P, P, VP, VP, SZ, VP, SZ, VP, SZ, VP, ctypes.POINTER(_Submit))
    fn("atx_memcpy", P, P, VP, VP, SZ, ctypes.POINTER(_Submit))
    fn("atx_crc32c", P, P, ctypes.POINTER(ctypes.c_uint32), VP, SZ, ctypes.c_uint32,
       ctypes.POINTER(_Submit))
    fn("atx_crc32c_blocks", P, P, ctypes.POINTER(ctypes.c_uint32), VP, SZ, SZ, ctypes.c_uint32,
       ctypes.POINTER(_Submit))
    fn("atx_chain", P, P, ctypes.POINTER(_Step), U, ctypes.POINTER(_Submit))
    fn("atx_prep_new", P, P, ctypes.POINTER(_Step), U)
    fn("atx_prep_run", P, P, P, ctypes.POINTER(_Submit))
    fn("atx_prep_iv", P, P, U)
    fn("atx_prep_free", None, P)
    fn("atx_wait", I, P)
    fn("atx_tx_ack", I, P)
    fn("atx_engine_count", U, P)
    fn("atx_engine_name", ctypes.c_char_p, P, U)
    fn("atx_chan_count", U, P)
    fn("atx_chan_get", P, P, U)
    fn("atx_chan_info", None, P, ctypes.POINTER(_ChanInfo))
    fn("atx_chan_stats", None, P, ctypes.POINTER(_ChanStats))
    fn("atx_chan_request", P, P, ctypes.POINTER(_Caps), P, P)
    fn("atx_chan_release", None, P)
    fn("atx_probe", I, P, ctypes.POINTER(_Params), ctypes.POINTER(ctypes.c_int), U)
    fn("atx_alg_parse", I, ctypes.c_char_p, ctypes.POINTER(_Params),
       ctypes.POINTER(ctypes.c_size_t))
    fn("atx_alg_name", ctypes.c_char_p, U)
    fn("atx_strerror", ctypes.c_char_p, I)
    _lib = L
    return L


def strerror(status):
    """The library's message for a status (0 or a negative errno)."""
    try:
        s = lib().atx_strerror(status)
    except LibraryMissing:
        s = None
    return s.decode() if s else os.strerror(-status)


def alg_names():
    """Every algorithm name the library knows, in its order."""
    out, i = [], 0
    while True:
        n = lib().atx_alg_name(i)
        if not n:
            return out
        out.append(n.decode())
        i += 1


def alg_parse(name):
    """Parse an OpenSSL-style name; returns (params dict, implied key length or 0).

    Raises AtxError(-ENOENT) for an unknown name."""
    p = _Params(size=ctypes.sizeof(_Params))
    kl = ctypes.c_size_t(0)
    r = lib().atx_alg_parse(name.encode(), ctypes.byref(p), ctypes.byref(kl))
    if r < 0:
        raise AtxError(r, "alg_parse(%r)" % name)
    d = {f: getattr(p, f) for f in ("service", "cipher", "hash", "mac", "aead", "chain_order")}
    return d, kl.value


def _refusal(what, dst=None):
    e = ctypes.get_errno()
    return AtxError(-e if e else -_errno.EINVAL, what,
                    dst.untouched() if dst is not None else None)


class _Buf:
    """A ctypes buffer with the payload at a chosen byte offset (for
    unaligned tests), pre-filled with the canary."""

    def __init__(self, size, offset=0, data=None):
        self.size, self.offset = size, offset
        total = size + offset + 1
        self.raw = ctypes.create_string_buffer(bytes([CANARY]) * total, total)
        if data is not None:
            ctypes.memmove(ctypes.addressof(self.raw) + offset, data, size)

    @property
    def addr(self):
        return ctypes.addressof(self.raw) + self.offset

    def bytes(self, n=None):
        return self.raw.raw[self.offset:self.offset + (self.size if n is None else n)]

    def untouched(self):
        return self.raw.raw == bytes([CANARY]) * len(self.raw.raw)


class Context:
    """An atx context (atx_ctx_new/atx_ctx_free).  Single-threaded.

    engines: extra engines to attach ("mb", "virtio:/path.sock", "auto").
    flags: CTX_F_* bits; soft_lanes: software worker threads (0 = inline).
    Use as a context manager, or call close()."""

    def __init__(self, engines=None, flags=0, soft_lanes=0, pool_size=0):
        self._L = lib()
        o = _CtxOpts(size=ctypes.sizeof(_CtxOpts), flags=flags, soft_lanes=soft_lanes,
                     pool_size=pool_size, engines=engines.encode() if engines else None)
        self._h = self._L.atx_ctx_new(ctypes.byref(o))
        if not self._h:
            raise _refusal("atx_ctx_new")
        self._sessions = []
        self._preps = []

    def close(self):
        """Free every session and the context (drains outstanding work)."""
        if self._h:
            for p in self._preps:
                p.close()
            for s in self._sessions:
                s.close()
            self._L.atx_ctx_free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # ---- introspection ----
    def engines(self):
        """Names of the attached engines, index = engine number."""
        return [self._L.atx_engine_name(self._h, i).decode()
                for i in range(self._L.atx_engine_count(self._h))]

    def channels(self):
        """One dict per channel: name, engine, caps (names), priority, private, stats."""
        out = []
        for i in range(self._L.atx_chan_count(self._h)):
            ch = self._L.atx_chan_get(self._h, i)
            ci, st = _ChanInfo(), _ChanStats()
            self._L.atx_chan_info(ch, ctypes.byref(ci))
            self._L.atx_chan_stats(ch, ctypes.byref(st))
            out.append({
                "name": (ci.name or b"").decode(), "engine": (ci.engine or b"").decode(),
                "caps": [n for b, n in enumerate(CAP_NAMES) if ci.caps & (1 << b)],
                "priority": ci.priority, "private": bool(ci.private_),
                "stats": {f: getattr(st, f) for f, _ in _ChanStats._fields_},
            })
        return out

    def probe(self, alg, key_len=None, **kw):
        """atx_probe: (engine name that would serve it or None, {engine: prio or -errno})."""
        p, kl = _params(alg, key_len=key_len, **kw)
        n = self._L.atx_engine_count(self._h)
        prio = (ctypes.c_int * max(n, 1))()
        best = self._L.atx_probe(self._h, ctypes.byref(p), prio, n)
        names = self.engines()
        return (names[best] if best >= 0 else None), dict(zip(names, list(prio)[:n]))

    # ---- operations ----
    def session(self, alg=None, **kw):
        """A Session (see Session) of this context."""
        s = Session(self, alg, **kw)
        self._sessions.append(s)
        return s

    def _run(self, tx, what, dst=None):
        if not tx:
            raise _refusal(what, dst)
        st = self._L.atx_wait(tx)
        self._L.atx_tx_ack(tx)
        if st:
            raise AtxError(st, what, dst.untouched() if dst is not None else None)

    def memcpy(self, data, offset=0):
        """Copy data through the library; returns the copy."""
        src = _Buf(len(data), offset, data)
        dst = _Buf(len(data), offset)
        self._run(self._L.atx_memcpy(self._h, dst.addr, src.addr, len(data), None),
                  "memcpy", dst)
        return dst.bytes()

    def crc32c(self, data, seed=0, offset=0):
        """CRC-32C of data; seed is the CRC of preceding data."""
        src = _Buf(len(data), offset, data)
        out = ctypes.c_uint32(0)
        self._run(self._L.atx_crc32c(self._h, ctypes.byref(out), src.addr, len(data),
                                     seed, None), "crc32c")
        return out.value

    def crc32c_blocks(self, data, block, seed=0, offset=0):
        """CRC-32C of every block bytes of data (atx_crc32c_blocks): a list."""
        src = _Buf(len(data), offset, data)
        n = len(data) // block if block else 0
        out = (ctypes.c_uint32 * max(n, 1))()
        self._run(self._L.atx_crc32c_blocks(self._h, out, src.addr, len(data), block,
                                            seed, None), "crc32c_blocks")
        return list(out)[:n]

    def chain(self, data, steps):
        """Run steps on data as one atx_chain() call.  Each step is a tuple:
        ("copy",), ("fill", byte), ("crc32c", seed), ("copy_crc32c", seed),
        ("cipher", session, iv), ("digest", session), ("verify", session,
        expected), ("aead", session, iv, aad).  copy, fill, copy_crc32c,
        cipher and aead write a new buffer that the next step reads;
        crc32c and digest pass their input on.  Returns (the last buffer,
        [each step's output: crc int, digest/tag bytes, or None]).  A failed
        chain raises AtxError with the first failing step's status."""
        ch = _Chain(len(data), steps, data)
        self._run(self._L.atx_chain(self._h, ch.arr, len(steps), None), "chain")
        return ch.results()

    def prep(self, size, steps):
        """A Prep: steps as for chain() over buffers of size bytes, prepared
        once (atx_prep_new); run it with Prep.run."""
        p = Prep(self, size, steps)
        self._preps.append(p)
        return p


class _Chain:
    """The struct atx_step array of a chain() step list, and its buffers."""

    def __init__(self, n, steps, data=None):
        if not isinstance(steps, (list, tuple)):
            raise TypeError("steps: a list of tuples")
        self.input = _Buf(n, 0, data)
        self.keep = [self.input]
        cur = self.input
        self.arr = (_Step * max(len(steps), 1))()
        self.outs = []
        for i, st in enumerate(steps):
            kind, args = st[0], st[1:]
            s = self.arr[i]
            s.src, s.len = cur.addr, n
            out = nxt = None
            if kind in ("copy", "fill", "copy_crc32c", "cipher", "aead"):
                nxt = _Buf(n)
                self.keep.append(nxt)
                s.dst = nxt.addr
            if kind == "copy":
                s.op = STEP_MEMCPY
            elif kind == "fill":
                s.op, s.seed, s.src = STEP_MEMSET, args[0], None
            elif kind in ("crc32c", "copy_crc32c"):
                s.op = STEP_CRC32C if kind == "crc32c" else STEP_COPY_CRC32C
                s.seed = args[0] if args else 0
                out = ctypes.c_uint32(0)
                s.out = ctypes.addressof(out)
            elif kind == "cipher":
                ivb = _Buf(len(args[1]), 0, args[1]) if args[1] else None
                self.keep.append(ivb)
                s.op, s.sess, s.iv = STEP_CIPHER, args[0]._h, ivb.addr if ivb else None
            elif kind in ("digest", "verify"):
                out = _Buf(MAX_DIGEST_LEN, 0, args[1] if kind == "verify" else None)
                s.op, s.sess, s.out = STEP_DIGEST, args[0]._h, out.addr
            elif kind == "aead":
                ivb = _Buf(len(args[1]), 0, args[1])
                aad = args[2] if len(args) > 2 else b""
                aadb = _Buf(len(aad), 0, aad)
                self.keep += [ivb, aadb]
                out = _Buf(args[0].out_len)
                s.op, s.sess, s.iv, s.iv_len = STEP_AEAD, args[0]._h, ivb.addr, len(args[1])
                s.aad, s.aad_len, s.out = aadb.addr if aad else None, len(aad), out.addr
            else:
                raise ValueError("unknown chain step %r" % (kind,))
            self.outs.append((kind, args, out))
            if nxt is not None:
                cur = nxt
        self.last = cur

    def results(self):
        res = []
        for kind, args, out in self.outs:
            if out is None:
                res.append(None)
            elif isinstance(out, ctypes.c_uint32):
                res.append(out.value)
            elif kind == "digest":
                res.append(out.bytes(args[0].out_len))
            elif kind == "verify":
                res.append(None)
            else:
                res.append(out.bytes())
        return self.last.bytes(), res


class Prep:
    """A prepared chain (atx_prep_new) over fixed buffers: each run() writes
    new input into the same buffer and, when iv is given, passes it to
    atx_prep_run (every step with an IV takes its length of it).  The
    step IVs of the step list are the first run's when run() gets none."""

    def __init__(self, ctx, size, steps):
        self._c, self.size = ctx, size
        self._ch = _Chain(size, steps)
        self._h = ctx._L.atx_prep_new(ctx._h, self._ch.arr, len(steps))
        if not self._h:
            raise _refusal("prep")

    def iv(self, step, value):
        """Write step's own IV between runs (atx_prep_iv)."""
        p = self._c._L.atx_prep_iv(self._h, step)
        if not p:
            raise _refusal("prep_iv")
        ctypes.memmove(p, value, len(value))

    def run(self, data, iv=None):
        if len(data) != self.size:
            raise ValueError("data: %d bytes, the prep's buffers are %d" % (len(data), self.size))
        ctypes.memmove(self._ch.input.addr, data, self.size)
        ivb = ctypes.create_string_buffer(bytes(iv), len(iv)) if iv is not None else None
        self._c._run(self._c._L.atx_prep_run(self._h, ivb, None), "prep_run")
        return self._ch.results()

    def close(self):
        if self._h:
            self._c._L.atx_prep_free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _params(alg=None, key=b"", encrypt=True, digest_len=0, engine=None, key_len=None,
            auth_key=b"", **kw):
    p = _Params(size=ctypes.sizeof(_Params))
    kl = 0
    if alg is not None:
        d, kl = alg_parse(alg)
        for f, v in d.items():
            setattr(p, f, v)
    for f, v in kw.items():
        if not hasattr(p, f) or f in ("size", "key", "auth_key", "engine"):
            raise TypeError("unknown session parameter %r" % f)
        setattr(p, f, v)
    p.dir = ENCRYPT if encrypt else DECRYPT
    if alg is not None and p.service == SVC_CHAIN:
        p.chain_order = 0 if encrypt else 1
    p.digest_len = digest_len
    if key_len is None:
        key_len = len(key) if key else kl
    keybuf = ctypes.create_string_buffer(bytes(key) or b"\0" * max(key_len, 1))
    p._keybuf = keybuf                      # keep alive with the struct
    p.key = ctypes.addressof(keybuf) if key_len else None
    p.key_len = key_len
    authbuf = ctypes.create_string_buffer(bytes(auth_key) or b"\0")
    p._authbuf = authbuf
    p.auth_key = ctypes.addressof(authbuf) if auth_key else None
    p.auth_key_len = len(auth_key)
    p.engine = engine.encode() if engine else None
    return p, kl


class Session:
    """Crypto parameters applied to many buffers (atx_session_new).

    alg: an OpenSSL-style name ("aes-256-xts", "sha256", "hmac-sha256",
    "aes-128-gcm", "chacha20-poly1305", "aes-256-cbc+hmac-sha256" for a
    CHAIN: encrypt-then-MAC) parsed by atx_alg_parse; or None and
    give service=, cipher=/hash=/mac=/aead= as the SVC_/CIPHER_/... ints.
    key: bytes (CHAIN: the cipher key); auth_key: CHAIN's MAC key; encrypt: direction (False = decrypt, and for hash/MAC
    sessions: verify); digest_len: truncated digest/MAC/tag length, 0 = full
    (AEAD: 16); engine: force an engine by name.
    Raises AtxError: -EINVAL (bad lengths), -EOPNOTSUPP, -ENOENT (name)."""

    def __init__(self, ctx, alg=None, **kw):
        self.ctx, self.alg = ctx, alg
        self._L = ctx._L
        self._p, _ = _params(alg, **kw)
        self.encrypt = self._p.dir == ENCRYPT
        self._h = self._L.atx_session_new(ctx._h, ctypes.byref(self._p))
        # The library copied the keys: do not keep a second copy around.
        ctypes.memset(self._p._keybuf, 0, len(self._p._keybuf))
        ctypes.memset(self._p._authbuf, 0, len(self._p._authbuf))
        if not self._h:
            raise _refusal("atx_session_new(%s)" % alg)

    def close(self):
        if self._h:
            self._L.atx_session_free(self._h)
            self._h = None

    @property
    def engine(self):
        """Name of the engine that serves this session."""
        return self._L.atx_session_engine(self._h).decode()

    @property
    def out_len(self):
        """Bytes of digest/MAC/tag this session writes or compares."""
        p = self._p
        if p.digest_len:
            return p.digest_len
        if p.service == SVC_HASH:
            return _HASH_LEN.get(p.hash, 0)
        if p.service in (SVC_MAC, SVC_CHAIN):
            return _MAC_LEN.get(p.mac, 0)
        return 16

    def cipher(self, data, iv=b"", offset=0, segments=1, in_place=False):
        """Encrypt/decrypt data (the session's direction) with atx_crypto.

        iv is passed with its length, so a wrong length is the library's
        -EINVAL.  segments splits source and destination into that many
        iovecs; offset misaligns the buffers; in_place uses dst == src."""
        n = len(data)
        src = _Buf(n, offset, data)
        dst = src if in_place else _Buf(n, offset)
        ivb = _Buf(len(iv), 0, iv)
        cuts = [n * k // segments for k in range(segments + 1)] if segments > 0 else [0, n]
        segs = list(zip(cuts, cuts[1:]))
        siov = (_Iovec * len(segs))(*[_Iovec(src.addr + a, b - a) for a, b in segs])
        diov = (_Iovec * len(segs))(*[_Iovec(dst.addr + a, b - a) for a, b in segs])
        op = _CryptoOp(size=ctypes.sizeof(_CryptoOp), src=ctypes.addressof(siov),
                       src_cnt=len(segs), dst=None if in_place else ctypes.addressof(diov),
                       dst_cnt=0 if in_place else len(segs),
                       iv=ivb.addr if iv else None, iv_len=len(iv))
        self.ctx._run(self._L.atx_crypto(self.ctx._h, self._h, ctypes.byref(op), None),
                      "%s cipher" % self.alg, None if in_place else dst)
        return dst.bytes()

    def cipher_simple(self, data, iv=None, offset=0):
        """Same through atx_cipher (the IV length is the algorithm's)."""
        n = len(data)
        src, dst = _Buf(n, offset, data), _Buf(n, offset)
        ivb = _Buf(len(iv), 0, iv) if iv else None
        self.ctx._run(self._L.atx_cipher(self.ctx._h, self._h, dst.addr, src.addr, n,
                                         ivb.addr if ivb else None, None),
                      "%s cipher" % self.alg, dst)
        return dst.bytes()

    def digest(self, data, offset=0):
        """Hash or MAC of data (encrypt-direction session); returns bytes."""
        src = _Buf(len(data), offset, data)
        out = _Buf(MAX_DIGEST_LEN)
        self.ctx._run(self._L.atx_digest(self.ctx._h, self._h, out.addr, src.addr, len(data),
                                         None), "%s digest" % self.alg, out)
        return out.bytes(self.out_len)

    mac = digest

    def verify(self, data, expected, offset=0):
        """Check a digest/MAC (decrypt-direction session, digest_len =
        len(expected) or 0 for full).  Returns None; raises AtxError(-EBADMSG)."""
        src = _Buf(len(data), offset, data)
        exp = _Buf(len(expected), 0, expected)
        self.ctx._run(self._L.atx_digest(self.ctx._h, self._h, exp.addr, src.addr, len(data),
                                         None), "%s verify" % self.alg)

    def aead_encrypt(self, data, iv, aad=b"", offset=0):
        """AEAD (or CHAIN) encryption; returns ciphertext + tag."""
        n = len(data)
        src, dst = _Buf(n, offset, data), _Buf(n, offset)
        tag = _Buf(self.out_len)
        ivb, aadb = _Buf(len(iv), 0, iv), _Buf(len(aad), 0, aad)
        self.ctx._run(self._L.atx_aead(self.ctx._h, self._h, dst.addr, src.addr, n,
                                       ivb.addr, len(iv), aadb.addr if aad else None,
                                       len(aad), tag.addr, None),
                      "%s encrypt" % self.alg, dst)
        return dst.bytes() + tag.bytes()

    def aead_decrypt(self, data, iv, aad=b"", offset=0):
        """AEAD (or CHAIN) decryption of ciphertext + tag; returns the
        plaintext.  A bad tag raises AtxError(-EBADMSG) with
        .untouched telling whether the destination was left alone; input
        shorter than the tag raises AtxError(-EINVAL)."""
        t = self.out_len
        if len(data) < t:
            raise AtxError(-_errno.EINVAL, "%s decrypt: input shorter than the tag" % self.alg)
        n = len(data) - t
        src, dst = _Buf(n, offset, data[:n]), _Buf(n, offset)
        tag = _Buf(t, 0, data[n:])
        ivb, aadb = _Buf(len(iv), 0, iv), _Buf(len(aad), 0, aad)
        self.ctx._run(self._L.atx_aead(self.ctx._h, self._h, dst.addr, src.addr, n,
                                       ivb.addr, len(iv), aadb.addr if aad else None,
                                       len(aad), tag.addr, None),
                      "%s decrypt" % self.alg, dst)
        return dst.bytes()
