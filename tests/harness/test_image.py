# SPDX-License-Identifier: MIT
"""atx image, end to end: round trips, and the image checked independently.

The data region is decrypted sector by sector with python3-cryptography's
AES-XTS and the plain64 tweak (what dm-crypt's aes-xts-plain64 does), the
crc32c and HMAC-SHA256 areas are recomputed here (pure-Python CRC-32C,
hmac + HKDF from cryptography), and the header is parsed from the layout
in docs/IMAGE.md.  Failure paths: flipped bits, truncation, wrong keys,
unreadable input, unwritable output directory, RLIMIT_FSIZE mid-write.
"""
import hashlib
import hmac
import os
import random
import resource
import signal
import struct
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import vectors as V

BUILD = os.environ.get("ATX_BUILD", "build/release")
# $ATX_PROGRAM overrides, e.g. a sanitizer build of the program (conftest.py).
ATX = os.path.abspath(os.environ.get("ATX_PROGRAM") or os.path.join(BUILD, "atx"))

HDR_FMT = "<8sHHI16sHHIQQQIIQQ32s32s"


def run(*args, preexec_fn=None):
    return subprocess.run([ATX, "image", *map(str, args)], capture_output=True, text=True,
                          timeout=60, preexec_fn=preexec_fn)


# ---- independent reference implementations ----

# One reference crc32c for the whole harness (vectors.py, table-driven from the polynomial).
crc32c = V.crc32c


def test_crc32c_reference():
    assert crc32c(b"123456789") == 0xE3069283


def hkdf(key, salt, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def parse_header(img):
    with open(img, "rb") as f:
        raw = f.read(256)
    fields = struct.unpack_from(HDR_FMT, raw)
    (magic, version, hdr_len, flags, cipher, key_bytes, _res, sector_size, data_offset,
     plain_size, data_sectors, integrity, tag_size, integ_offset, integ_size, salt,
     kcv) = fields
    assert magic == b"ATXIMAGE"
    assert struct.unpack_from("<I", raw, 252)[0] == crc32c(raw[:252])
    return dict(version=version, hdr_len=hdr_len, flags=flags,
                cipher=cipher.rstrip(b"\0").decode(), key_bytes=key_bytes,
                sector_size=sector_size, data_offset=data_offset, plain_size=plain_size,
                data_sectors=data_sectors, integrity=integrity, tag_size=tag_size,
                integ_offset=integ_offset, integ_size=integ_size, salt=salt, kcv=kcv)


def check_image(img, key, plain):
    """Decrypt and check every sector of @img with nothing but Python."""
    h = parse_header(img)
    ss = h["sector_size"]
    assert h["cipher"] == "aes-xts-plain64"
    assert h["key_bytes"] == len(key)
    assert h["data_offset"] % (1 << 20) == 0
    assert h["plain_size"] == len(plain)
    assert h["data_sectors"] == (len(plain) + ss - 1) // ss
    assert h["integ_offset"] == h["data_offset"] + h["data_sectors"] * ss
    kc = hkdf(key, h["salt"], b"atx-image v1 key-check")
    assert h["kcv"] == hmac.new(kc, b"atx-image key check value", hashlib.sha256).digest()
    data = open(img, "rb").read()
    assert len(data) == h["integ_offset"] + h["integ_size"]
    ikey = hkdf(key, h["salt"], b"atx-image v1 integrity hmac-sha256")
    large = h["flags"] & 1
    out = bytearray()
    for i in range(h["data_sectors"]):
        ct = data[h["data_offset"] + i * ss:h["data_offset"] + (i + 1) * ss]
        ivsec = i if large else i * (ss // 512)
        tweak = struct.pack("<Q", ivsec) + bytes(8)
        d = Cipher(algorithms.AES(key), modes.XTS(tweak)).decryptor()
        out += d.update(ct) + d.finalize()
        tag = data[h["integ_offset"] + i * h["tag_size"]:
                   h["integ_offset"] + (i + 1) * h["tag_size"]]
        if h["integrity"] == 1:
            assert tag == struct.pack("<I", crc32c(ct)), f"crc of sector {i}"
        elif h["integrity"] == 2:
            mac = hmac.new(ikey, struct.pack("<Q", i) + ct, hashlib.sha256).digest()
            assert tag == mac, f"hmac of sector {i}"
        else:
            assert tag == b""
    assert bytes(out[:len(plain)]) == plain
    assert out[len(plain):] == bytes(len(out) - len(plain)), "padding must be zeros"
    return h


# ---- fixtures ----

@pytest.fixture
def work(tmp_path):
    key = os.urandom(64)
    kf = tmp_path / "key"
    kf.write_bytes(key)
    os.chmod(kf, 0o600)
    return tmp_path, key, kf


def make_plain(path, size, seed=1):
    data = random.Random(seed).randbytes(size)
    path.write_bytes(data)
    return data


def leftovers(d, stem):
    return [p for p in os.listdir(d) if p.startswith(stem)]


# ---- round trips ----

@pytest.mark.parametrize("integ", ["none", "crc32c", "hmac-sha256"])
@pytest.mark.parametrize("ss,large", [(512, False), (4096, False), (4096, True), (512, True)])
def test_round_trip(work, integ, ss, large):
    d, key, kf = work
    size = 700 * 1024 + 123     # not a multiple of the sector: padding + truncation
    plain = make_plain(d / "p", size)
    args = ["encrypt", "-i", d / "p", "-o", d / "e", "--key-file", kf, "--sector-size", ss,
            "--integrity", integ, "--chunk-size", 65536, "--queue-depth", 3]
    if large:
        args.append("--iv-large-sectors")
    r = run(*args)
    assert r.returncode == 0, r.stderr
    assert "encrypt" in r.stdout and integ in r.stdout
    h = check_image(d / "e", key, plain)
    assert h["sector_size"] == ss and bool(h["flags"] & 1) == large
    r = run("verify", "-i", d / "e", "--key-file", kf)
    assert r.returncode == 0, r.stderr
    r = run("decrypt", "-i", d / "e", "-o", d / "d", "--key-file", kf)
    assert r.returncode == 0, r.stderr
    assert (d / "d").read_bytes() == plain
    assert leftovers(d, "e.tmp") == [] and leftovers(d, "d.tmp") == []


@pytest.mark.parametrize("lanes", [0, 2])
def test_round_trip_aes128_lanes(work, lanes):
    d, _, _ = work
    key = os.urandom(32)
    kf = d / "k32"
    kf.write_bytes(key)
    plain = make_plain(d / "p", 3 * 1024 * 1024 + 4096, seed=lanes)
    r = run("encrypt", "-i", d / "p", "-o", d / "e", "--key-file", kf, "--lanes", lanes,
            "--sector-size", 4096, "--quiet")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    check_image(d / "e", key, plain)
    r = run("decrypt", "-i", d / "e", "-o", d / "d", "--key-file", kf, "--lanes", lanes)
    assert r.returncode == 0, r.stderr
    assert (d / "d").read_bytes() == plain


def test_info_never_prints_key(work):
    d, key, kf = work
    make_plain(d / "p", 100000)
    assert run("encrypt", "-i", d / "p", "-o", d / "e", "--key-file", kf,
               "--sector-size", 4096, "--iv-large-sectors").returncode == 0
    r = run("info", d / "e")
    assert r.returncode == 0, r.stderr
    assert "aes-xts-plain64" in r.stdout and "--iv-large-sectors" in r.stdout
    assert "--offset 2048" in r.stdout and "--sector-size 4096" in r.stdout
    assert key.hex() not in r.stdout.lower()


# ---- integrity failures ----

@pytest.mark.parametrize("integ", ["crc32c", "hmac-sha256"])
def test_bit_flip_named(work, integ):
    d, key, kf = work
    ss = 512
    plain = make_plain(d / "p", 2 * 1024 * 1024)
    assert run("encrypt", "-i", d / "p", "-o", d / "e", "--key-file", kf,
               "--integrity", integ, "--sector-size", ss).returncode == 0
    h = parse_header(d / "e")
    sec = random.Random(7).randrange(h["data_sectors"])
    with open(d / "e", "r+b") as f:
        off = h["data_offset"] + sec * ss + 100
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x10]))
    r = run("verify", "-i", d / "e", "--key-file", kf)
    assert r.returncode == 1, r.stderr
    bad = [ln for ln in r.stderr.splitlines() if "integrity mismatch" in ln]
    assert bad == [f"sector {sec}: integrity mismatch"], r.stderr
    r = run("decrypt", "-i", d / "e", "-o", d / "d", "--key-file", kf)
    assert r.returncode == 1
    assert f"sector {sec}: integrity mismatch" in r.stderr
    assert not (d / "d").exists() and leftovers(d, "d.tmp") == []
    r = run("decrypt", "-i", d / "e", "-o", d / "d", "--key-file", kf, "--force")
    assert r.returncode == 1
    out = (d / "d").read_bytes()
    assert len(out) == len(plain)
    assert out[:sec * ss] == plain[:sec * ss] and out[(sec + 1) * ss:] == plain[(sec + 1) * ss:]


def test_every_bad_sector_reported(work):
    d, _, kf = work
    make_plain(d / "p", 1024 * 1024)
    assert run("encrypt", "-i", d / "p", "-o", d / "e", "--key-file", kf,
               "--sector-size", 4096).returncode == 0
    h = parse_header(d / "e")
    secs = sorted(random.Random(3).sample(range(h["data_sectors"]), 5))
    with open(d / "e", "r+b") as f:
        for s in secs:
            f.seek(h["data_offset"] + s * 4096 + 7)
            f.write(b"\xff\x00\xff")
    r = run("verify", "-i", d / "e", "--key-file", kf)
    assert r.returncode == 1
    got = sorted(int(ln.split()[1].rstrip(":")) for ln in r.stderr.splitlines()
                 if "integrity mismatch" in ln)
    assert got == secs


def test_swapped_sectors_hmac(work):
    d, _, kf = work
    make_plain(d / "p", 64 * 1024)
    assert run("encrypt", "-i", d / "p", "-o", d / "e", "--key-file", kf,
               "--integrity", "hmac-sha256", "--sector-size", 4096).returncode == 0
    h = parse_header(d / "e")
    raw = bytearray((d / "e").read_bytes())
    a, b = h["data_offset"] + 4096 * 2, h["data_offset"] + 4096 * 5
    ta, tb = h["integ_offset"] + 32 * 2, h["integ_offset"] + 32 * 5
    raw[a:a + 4096], raw[b:b + 4096] = raw[b:b + 4096], raw[a:a + 4096]
    raw[ta:ta + 32], raw[tb:tb + 32] = raw[tb:tb + 32], raw[ta:ta + 32]
    (d / "e").write_bytes(raw)
    r = run("verify", "-i", d / "e", "--key-file", kf)
    assert r.returncode == 1
    assert "sector 2: integrity mismatch" in r.stderr and "sector 5:" in r.stderr


# ---- refusals ----

def test_truncated_image(work):
    d, _, kf = work
    make_plain(d / "p", 300000)
    assert run("encrypt", "-i", d / "p", "-o", d / "e", "--key-file", kf).returncode == 0
    size = os.path.getsize(d / "e")
    os.truncate(d / "e", size - 1000)
    for args in (["verify", "-i", d / "e", "--key-file", kf],
                 ["decrypt", "-i", d / "e", "-o", d / "d", "--key-file", kf],
                 ["info", d / "e"]):
        r = run(*args)
        assert r.returncode == 2, r.stderr
        assert "truncated image" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    assert not (d / "d").exists() and leftovers(d, "d.tmp") == []


def test_wrong_key(work):
    d, _, kf = work
    make_plain(d / "p", 300000)
    assert run("encrypt", "-i", d / "p", "-o", d / "e", "--key-file", kf).returncode == 0
    other = d / "other"
    other.write_bytes(os.urandom(64))
    short = d / "short"
    short.write_bytes(os.urandom(32))
    for kfile in (other, short):
        r = run("decrypt", "-i", d / "e", "-o", d / "d", "--key-file", kfile)
        assert r.returncode == 1
        assert "wrong key" in r.stderr
        assert not (d / "d").exists() and leftovers(d, "d.tmp") == []
        r = run("verify", "-i", d / "e", "--key-file", kfile)
        assert r.returncode == 1 and "wrong key" in r.stderr


def test_key_on_command_line_refused(work):
    d, key, _ = work
    make_plain(d / "p", 1000)
    r = run("encrypt", "-i", d / "p", "-o", d / "e", "--key", key.hex())
    assert r.returncode == 2 and "--key-file" in r.stderr
    assert key.hex() not in r.stderr
    assert not (d / "e").exists()


def test_bad_key_file_length(work):
    d, _, _ = work
    make_plain(d / "p", 1000)
    (d / "k").write_bytes(b"x" * 48)
    r = run("encrypt", "-i", d / "p", "-o", d / "e", "--key-file", d / "k")
    assert r.returncode == 2 and "32" in r.stderr and "64" in r.stderr


def test_not_an_image(work):
    d, _, kf = work
    make_plain(d / "p", 100000)
    r = run("decrypt", "-i", d / "p", "-o", d / "d", "--key-file", kf)
    assert r.returncode == 2 and "not an atx image" in r.stderr
    assert not (d / "d").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes anything")
def test_unreadable_input_nonroot(work):
    d, _, kf = work
    make_plain(d / "p", 1000)
    os.chmod(d / "p", 0)
    r = run("encrypt", "-i", d / "p", "-o", d / "e", "--key-file", kf)
    assert r.returncode == 2 and "Permission denied" in r.stderr


def test_unreadable_input(work):
    d, _, kf = work
    # Works as root too: a directory cannot be read as an image.
    r = run("encrypt", "-i", d / "missing", "-o", d / "e", "--key-file", kf)
    assert r.returncode == 2 and "No such file" in r.stderr
    r = run("encrypt", "-i", d, "-o", d / "e", "--key-file", kf)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (d / "e").exists() and leftovers(d, "e.tmp") == []


def test_unwritable_output_dir(work):
    d, _, kf = work
    make_plain(d / "p", 1000)
    r = run("encrypt", "-i", d / "p", "-o", d / "nodir" / "e", "--key-file", kf)
    assert r.returncode == 2 and "nodir" in r.stderr
    if os.path.isdir("/sys/kernel"):
        # sysfs refuses new files even to root.
        r = run("encrypt", "-i", d / "p", "-o", "/sys/atx-image-test", "--key-file", kf)
        assert r.returncode == 2 and "Permission denied" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    if os.geteuid() != 0:
        ro = d / "ro"
        ro.mkdir()
        os.chmod(ro, 0o500)
        r = run("encrypt", "-i", d / "p", "-o", ro / "e", "--key-file", kf)
        assert r.returncode == 2 and "Permission denied" in r.stderr
        assert os.listdir(ro) == []


def _fsize_limit(n):
    def f():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
    return f


@pytest.mark.parametrize("mode", ["encrypt", "decrypt"])
def test_file_size_limit_mid_write(work, mode):
    d, _, kf = work
    make_plain(d / "p", 4 * 1024 * 1024)
    if mode == "encrypt":
        args = ["encrypt", "-i", d / "p", "-o", d / "o", "--key-file", kf]
        limit = 3 * 1024 * 1024
    else:
        assert run("encrypt", "-i", d / "p", "-o", d / "e", "--key-file", kf).returncode == 0
        args = ["decrypt", "-i", d / "e", "-o", d / "o", "--key-file", kf]
        limit = 2 * 1024 * 1024
    r = run(*args, preexec_fn=_fsize_limit(limit))
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "File too large" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (d / "o").exists() and leftovers(d, "o.tmp") == []


def test_sigint_removes_temp(work):
    d, _, kf = work
    make_plain(d / "p", 16 * 1024 * 1024)
    # A fifo as the key file holds the tool before any output exists, so
    # instead interrupt a run slowed down by a tiny queue depth and chunk.
    p = subprocess.Popen([ATX, "image", "encrypt", "-i", str(d / "p"), "-o", str(d / "o"),
                          "--key-file", str(kf), "--integrity", "hmac-sha256",
                          "--queue-depth", "1", "--chunk-size", "4096"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    import time
    for _ in range(200):
        if leftovers(d, "o.tmp"):
            break
        time.sleep(0.005)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=30)
    if p.returncode == 0:
        pytest.skip("finished before the signal arrived")
    assert p.returncode == -signal.SIGINT
    assert not (d / "o").exists() and leftovers(d, "o.tmp") == []


def test_input_untouched(work):
    d, _, kf = work
    plain = make_plain(d / "p", 200000)
    st = os.stat(d / "p")
    assert run("encrypt", "-i", d / "p", "-o", d / "e", "--key-file", kf).returncode == 0
    assert (d / "p").read_bytes() == plain and os.stat(d / "p").st_mtime_ns == st.st_mtime_ns
    r = run("encrypt", "-i", d / "p", "-o", d / "p", "--key-file", kf)
    assert r.returncode == 2 and (d / "p").read_bytes() == plain


def test_output_device_refused(work):
    d, _, kf = work
    make_plain(d / "p", 1000)
    r = run("encrypt", "-i", d / "p", "-o", "/dev/null", "--key-file", kf)
    assert r.returncode == 2 and "not a regular file" in r.stderr


@pytest.mark.parametrize("size", [1, 511, 512, 4095, 4096, 4097, 256 * 1024, 256 * 1024 + 1])
@pytest.mark.parametrize("ss", [512, 4096])
def test_edge_sizes(work, size, ss):
    d, key, kf = work
    plain = make_plain(d / "p", size, seed=size)
    r = run("encrypt", "-i", d / "p", "-o", d / "e", "--key-file", kf, "--sector-size", ss,
            "--integrity", "hmac-sha256")
    assert r.returncode == 0, r.stderr
    check_image(d / "e", key, plain)
    r = run("decrypt", "-i", d / "e", "-o", d / "d", "--key-file", kf)
    assert r.returncode == 0, r.stderr
    assert (d / "d").read_bytes() == plain


def test_empty_input_refused(work):
    d, _, kf = work
    (d / "p").write_bytes(b"")
    r = run("encrypt", "-i", d / "p", "-o", d / "e", "--key-file", kf)
    assert r.returncode == 2 and "empty" in r.stderr
    assert not (d / "e").exists() and leftovers(d, "e.tmp") == []


def test_big_chunks_small_queue(work):
    d, key, kf = work
    plain = make_plain(d / "p", 5 * 1024 * 1024 + 77)
    r = run("encrypt", "-i", d / "p", "-o", d / "e", "--key-file", kf, "--sector-size", 512,
            "--chunk-size", 4 * 1024 * 1024, "--queue-depth", 1)
    assert r.returncode == 0, r.stderr
    check_image(d / "e", key, plain)


def test_image_bench_smoke(tmp_path):
    """atx image bench runs every row on a small file, prints the table and cleans up."""
    r = run("bench", "--size", 8, "--rounds", 1, "--dir", tmp_path, "--lanes", "0,1")
    assert r.returncode == 0, r.stderr
    for row in ("compute (XTS + crc32c", "hand io_uring read->compute->write",
                "atx image, lanes 0", "atx image, lanes 1", "io ceiling / compute"):
        assert row in r.stdout, (row, r.stdout)
    assert os.listdir(tmp_path) == [], "bench left files behind"


def test_run_demo_script(tmp_path):
    """`make run` (tools/run-demo.sh) on a small image, in a private directory."""
    script = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "run-demo.sh")
    env = dict(os.environ, ATX_DEMO_MB="4", ATX_DEMO_DIR=str(tmp_path),
               ATX_DEMO_INTEGRITY="hmac-sha256")
    r = subprocess.run(["sh", script, os.path.dirname(ATX)], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "every step passed" in r.stdout
    assert "sector 1000: integrity mismatch" in r.stderr
    assert os.listdir(tmp_path) == [], "the demo must clean up after itself"


# ---- the same image from every engine ----

def _vcryptod():
    import atx
    return os.path.join(os.path.dirname(atx.lib_path()), "atx-vcryptod")


@pytest.fixture
def vcryptod(tmp_path):
    """A live atx-vcryptod on a private socket, stopped afterwards."""
    import subprocess
    import time
    exe = _vcryptod()
    if not os.access(exe, os.X_OK):
        pytest.fail("atx-vcryptod is not built at %s (run make)" % exe)
    sock = str(tmp_path / "vc.sock")
    p = subprocess.Popen([exe, "--socket", sock], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):
            assert p.poll() is None, p.stderr.read()
            assert time.monotonic() < deadline, "atx-vcryptod did not come up"
            time.sleep(0.02)
        yield sock
    finally:
        p.terminate()
        p.wait(timeout=10)


@pytest.mark.parametrize("integ", ["crc32c", "hmac-sha256"])
def test_same_image_on_every_engine(work, vcryptod, integ):
    """soft, mb (HMAC) and the virtio engine (XTS and HMAC on atx-vcryptod) write the same bytes."""
    d, key, kf = work
    plain = make_plain(d / "p", 1024 * 1024 + 4096, seed=7)
    outs = {}
    for eng in ("soft", "auto", "virtio:" + vcryptod):
        o = d / ("e-" + str(len(outs)))
        r = run("encrypt", "-i", d / "p", "-o", o, "--key-file", kf, "--integrity", integ,
                "--engine", eng)
        assert r.returncode == 0, (eng, r.stderr)
        if eng.startswith("virtio"):
            assert "virtio0" in r.stdout, r.stdout     # the summary names the engine used
        h = check_image(o, key, plain)
        raw = o.read_bytes()
        outs[eng] = raw[h["data_offset"]:h["integ_offset"]]     # the XTS data region
        r = run("decrypt", "-i", o, "-o", d / "d", "--key-file", kf, "--engine", eng)
        assert r.returncode == 0, (eng, r.stderr)
        assert (d / "d").read_bytes() == plain
        (d / "d").unlink()
    # The header's salt is random (and so are HMAC tags keyed from it); the
    # XTS data region depends on the key alone and must be identical.
    assert len(set(outs.values())) == 1
