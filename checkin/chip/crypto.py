"""Symmetric primitives of ICAO 9303-11: KDF, padding, 3DES and retail MAC, AES and CMAC.

2-key 3DES comes from ``cryptography``'s decrepit module with 24-byte keys (K1‖K2‖K1), single
DES as K‖K‖K, so nothing emits deprecation warnings.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from checkin.chip.errors import SecureMessagingError

KDF_ENC = 1
KDF_MAC = 2
KDF_PACE = 3

DES3 = "3DES"
AES = "AES"


def pad(data: bytes, block: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: ``80`` then zeros to a multiple of ``block``."""
    data = bytes(data) + b"\x80"
    return data + b"\x00" * (-len(data) % block)


def unpad(data: bytes) -> bytes:
    stripped = bytes(data).rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        raise SecureMessagingError(
            "the card's encrypted answer has broken padding: read the card again"
        )
    return stripped[:-1]


def adjust_parity(key: bytes) -> bytes:
    """Set each byte's lowest bit so the byte has odd parity (DES key convention)."""
    out = bytearray()
    for byte in key:
        ones = bin(byte & 0xFE).count("1")
        out.append((byte & 0xFE) | (0 if ones % 2 else 1))
    return bytes(out)


def kdf(secret: bytes, counter: int, cipher: str = DES3, key_bits: int = 128) -> bytes:
    """ICAO 9303-11 §9.7.1: hash(secret ‖ counter32) cut to the key size.

    3DES: SHA-1, 16 bytes, parity adjusted. AES-128: SHA-1, 16 bytes. AES-192/256: SHA-256.
    """
    data = bytes(secret) + counter.to_bytes(4, "big")
    if cipher == DES3:
        return adjust_parity(hashlib.sha1(data).digest()[:16])
    if cipher != AES:
        raise ValueError(f"unknown cipher {cipher}")
    if key_bits == 128:
        return hashlib.sha1(data).digest()[:16]
    if key_bits in (192, 256):
        return hashlib.sha256(data).digest()[: key_bits // 8]
    raise ValueError(f"unsupported AES key size {key_bits}")


def _tdes(key16: bytes) -> TripleDES:
    if len(key16) == 24:
        return TripleDES(key16)
    if len(key16) != 16:
        raise ValueError("3DES key must be 16 bytes")
    return TripleDES(key16 + key16[:8])


def _des(key8: bytes) -> TripleDES:
    return TripleDES(key8 * 3)


def tdes_encrypt(key16: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    enc = Cipher(_tdes(key16), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def tdes_decrypt(key16: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    dec = Cipher(_tdes(key16), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def retail_mac(key16: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 with DES (the 'retail MAC'); ``data`` already padded."""
    if len(data) % 8 or not data:
        raise ValueError("retail MAC input must be a non-empty multiple of 8 bytes")
    k1, k2 = key16[:8], key16[8:16]
    head, last = data[:-8], data[-8:]
    chain = bytes(8)
    if head:
        enc = Cipher(_des(k1), modes.CBC(bytes(8))).encryptor()
        chain = (enc.update(head) + enc.finalize())[-8:]
    block = bytes(a ^ b for a, b in zip(chain, last, strict=True))
    enc = Cipher(TripleDES(k1 + k2 + k1), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def aes_encrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def aes_decrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def aes_ecb_block(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC (NIST SP 800-38B), the full 16 bytes."""
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def mac8(cipher: str, key: bytes, data: bytes) -> bytes:
    """The 8-byte MAC of secure messaging and PACE tokens; pads ``data`` first."""
    if cipher == DES3:
        return retail_mac(key, pad(data, 8))
    return aes_cmac(key, pad(data, 16))[:8]


def token_mac(cipher: str, key: bytes, data: bytes) -> bytes:
    """PACE authentication token: retail MAC over padded data (3DES) or CMAC, 8 bytes (AES)."""
    if cipher == DES3:
        return retail_mac(key, pad(data, 8))
    return aes_cmac(key, data)[:8]


def equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
