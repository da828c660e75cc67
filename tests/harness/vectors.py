# SPDX-License-Identifier: MIT
"""Independent references for the differential tests: python3-cryptography,
hashlib and hmac, and a table-driven CRC-32C (Python has none built in)."""
import hashlib
import hmac as _hmac

from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import cmac as _cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers import aead as _aead

# name -> (key length, IV length, block: payload must be a multiple of it,
#          minimum payload length)
CIPHERS = {
    "aes-128-ecb": (16, 0, 16, 0),
    "aes-256-ecb": (32, 0, 16, 0),
    "aes-128-cbc": (16, 16, 16, 0),
    "aes-256-cbc": (32, 16, 16, 0),
    "aes-128-ctr": (16, 16, 1, 0),
    "aes-256-ctr": (32, 16, 1, 0),
    "aes-128-xts": (32, 16, 1, 16),
    "aes-256-xts": (64, 16, 1, 16),
    "chacha20": (32, 16, 1, 0),
    "des-ede3-cbc": (24, 8, 8, 0),
}

HASHES = {"sha1": "sha1", "sha224": "sha224", "sha256": "sha256", "sha384": "sha384",
          "sha512": "sha512", "sha3-256": "sha3_256"}

HMACS = {"hmac-sha1": "sha1", "hmac-sha224": "sha224", "hmac-sha256": "sha256",
         "hmac-sha384": "sha384", "hmac-sha512": "sha512"}

CMACS = {"aes-128-cmac": 16, "aes-256-cmac": 32}

# name -> key length
AEADS = {"aes-128-gcm": 16, "aes-256-gcm": 32, "aes-128-ccm": 16, "aes-256-ccm": 32,
         "chacha20-poly1305": 32}

LENGTHS = [0, 1, 15, 16, 17, 4095, 4096, 65537]


def legal_len(name, n):
    _, _, block, minimum = CIPHERS[name]
    return n % block == 0 and n >= minimum


def cipher_key(rng, name):
    kl = CIPHERS[name][0]
    key = bytes(rng.getrandbits(8) for _ in range(kl))
    if "xts" in name and key[:kl // 2] == key[kl // 2:]:
        key = bytes([key[0] ^ 1]) + key[1:]
    return key


def cipher(name, key, iv, data, encrypt=True):
    if name.startswith("aes-"):
        alg = algorithms.AES(key)
        m = name.rsplit("-", 1)[1]
        mode = {"ecb": lambda: modes.ECB(), "cbc": lambda: modes.CBC(iv),
                "ctr": lambda: modes.CTR(iv), "xts": lambda: modes.XTS(iv)}[m]()
    elif name == "chacha20":
        alg, mode = algorithms.ChaCha20(key, iv), None
    elif name == "des-ede3-cbc":
        alg, mode = algorithms.TripleDES(key), modes.CBC(iv)
    else:
        raise KeyError(name)
    c = Cipher(alg, mode, backend=default_backend())
    ctx = c.encryptor() if encrypt else c.decryptor()
    return ctx.update(data) + ctx.finalize()


def digest(name, data):
    return hashlib.new(HASHES[name], data).digest()


def mac(name, key, data):
    if name in HMACS:
        return _hmac.new(key, data, HMACS[name]).digest()
    c = _cmac.CMAC(algorithms.AES(key), backend=default_backend())
    c.update(data)
    return c.finalize()


def aead_encrypt(name, key, iv, data, aad, tag_len=16):
    """ciphertext + tag."""
    if "gcm" in name:
        if tag_len == 16:
            return _aead.AESGCM(key).encrypt(iv, data, aad or None)
        e = Cipher(algorithms.AES(key), modes.GCM(iv), backend=default_backend()).encryptor()
        e.authenticate_additional_data(aad)
        ct = e.update(data) + e.finalize()
        return ct + e.tag[:tag_len]
    if "ccm" in name:
        return _aead.AESCCM(key, tag_length=tag_len).encrypt(iv, data, aad or None)
    return _aead.ChaCha20Poly1305(key).encrypt(iv, data, aad or None)


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_CRC_T = _crc32c_table()


def crc32c(data, seed=0):
    """CRC-32C (Castagnoli); seed = the CRC of preceding data."""
    c = seed ^ 0xFFFFFFFF
    t = _CRC_T
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
