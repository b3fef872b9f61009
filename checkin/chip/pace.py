"""PACE (ICAO 9303-11 §4.4) with ECDH generic mapping, as the CCCD offers it.

Sequence: read EF.CardAccess (plain) → pick a PACEInfo → MSE:SET AT → GENERAL AUTHENTICATE ×4
(encrypted nonce; mapping keys; ephemeral keys on G' = s·G + H; authentication tokens) →
secure messaging with the session keys (AES: 16-byte SSC starting at zero).

Supported: id-PACE-ECDH-GM with AES-128/192/256 or 3DES, on the standardized curves in
:data:`checkin.chip.ec.STANDARD_CURVES` (brainpoolP256r1 = 13, the CCCD's, and secp256r1 = 12).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from checkin.chip import crypto, ec, tlv
from checkin.chip.apdu import SW_OK, Command, sw_text
from checkin.chip.channel import Channel
from checkin.chip.errors import (
    AccessNotSupported,
    ChipError,
    SecureMessagingError,
    TlvError,
    UnknownCard,
    WrongAccessKey,
)
from checkin.chip.sm import SecureMessaging

PACE_PREFIX = "0.4.0.127.0.7.2.2.4"
PASSWORD_MRZ = 0x01
PASSWORD_CAN = 0x02

# protocol OID → (cipher, key bits); only ECDH generic mapping (…4.2.x)
PACE_ECDH_GM = {
    "0.4.0.127.0.7.2.2.4.2.1": (crypto.DES3, 112),
    "0.4.0.127.0.7.2.2.4.2.2": (crypto.AES, 128),
    "0.4.0.127.0.7.2.2.4.2.3": (crypto.AES, 192),
    "0.4.0.127.0.7.2.2.4.2.4": (crypto.AES, 256),
}

OID_NAMES = {
    "0.4.0.127.0.7.2.2.2": "TerminalAuthenticationInfo",
    "0.4.0.127.0.7.2.2.3.2.1": "id-CA-ECDH-3DES-CBC-CBC",
    "0.4.0.127.0.7.2.2.3.2.2": "id-CA-ECDH-AES-CBC-CMAC-128",
    "0.4.0.127.0.7.2.2.3.2.3": "id-CA-ECDH-AES-CBC-CMAC-192",
    "0.4.0.127.0.7.2.2.3.2.4": "id-CA-ECDH-AES-CBC-CMAC-256",
    "0.4.0.127.0.7.2.2.1.2": "id-PK-ECDH",
    "0.4.0.127.0.7.2.2.1.1": "id-PK-DH",
    "0.4.0.127.0.7.2.2.4.2.1": "id-PACE-ECDH-GM-3DES-CBC-CBC",
    "0.4.0.127.0.7.2.2.4.2.2": "id-PACE-ECDH-GM-AES-CBC-CMAC-128",
    "0.4.0.127.0.7.2.2.4.2.3": "id-PACE-ECDH-GM-AES-CBC-CMAC-192",
    "0.4.0.127.0.7.2.2.4.2.4": "id-PACE-ECDH-GM-AES-CBC-CMAC-256",
    "0.4.0.127.0.7.2.2.4.6.2": "id-PACE-ECDH-CAM-AES-CBC-CMAC-128",
    "0.4.0.127.0.7.2.2.4.4.2": "id-PACE-ECDH-IM-AES-CBC-CMAC-128",
}


@dataclass(frozen=True)
class SecurityInfo:
    """One SecurityInfo of EF.CardAccess or DG14: OID, required data, optional data."""

    oid: str
    required: tlv.Tlv | None
    optional: tlv.Tlv | None

    @property
    def name(self) -> str:
        return OID_NAMES.get(self.oid, self.oid)

    @property
    def version(self) -> int | None:
        if self.required is not None and self.required.tag == 0x02:
            return tlv.decode_int(self.required.value)
        return None

    @property
    def parameter_id(self) -> int | None:
        if self.optional is not None and self.optional.tag == 0x02:
            return tlv.decode_int(self.optional.value)
        return None

    @property
    def is_pace(self) -> bool:
        return self.oid.startswith(PACE_PREFIX + ".")


def parse_security_infos(data: bytes) -> list[SecurityInfo]:
    """``SET OF SecurityInfo`` (EF.CardAccess, or the content of DG14's tag 6E)."""
    outer = tlv.parse(data, expect=0x31, trailing=True)
    infos = []
    for item in outer.children():
        if item.tag != 0x30:
            raise TlvError(f"SecurityInfo must be a SEQUENCE, found tag {item.tag:X}")
        parts = item.children()
        if not parts or parts[0].tag != 0x06:
            raise TlvError("SecurityInfo does not start with an OBJECT IDENTIFIER")
        required = parts[1] if len(parts) > 1 else None
        optional = parts[2] if len(parts) > 2 else None
        infos.append(SecurityInfo(tlv.decode_oid(parts[0].value), required, optional))
    return infos


def choose_pace_info(infos: list[SecurityInfo]) -> SecurityInfo:
    """The first PACEInfo this code supports (ECDH-GM on a known curve)."""
    offered = [i for i in infos if i.is_pace]
    for info in offered:
        if info.oid in PACE_ECDH_GM and (info.parameter_id in ec.STANDARD_CURVES):
            return info
    if offered:
        names = ", ".join(f"{i.name} (parameters {i.parameter_id})" for i in offered)
        raise UnknownCard(f"the card offers PACE variants this reader does not support: {names}")
    raise UnknownCard("the card does not offer PACE (no PACEInfo in EF.CardAccess)")


def password_key(secret: bytes, cipher: str, key_bits: int) -> bytes:
    """Kπ = KDF(f(π), 3). f(CAN) = the CAN digits; f(MRZ) = SHA-1(MRZ_information)."""
    return crypto.kdf(secret, crypto.KDF_PACE, cipher, key_bits)


def public_key_object(oid: str, curve: ec.Curve, point: ec.Point) -> bytes:
    """The public-key data object the authentication tokens are computed over."""
    return tlv.encode(0x7F49, [tlv.der_oid(oid), tlv.encode(0x86, curve.encode(point))])


def decrypt_nonce(cipher: str, k_pi: bytes, z: bytes) -> bytes:
    if cipher == crypto.DES3:
        return crypto.tdes_decrypt(k_pi, z)
    return crypto.aes_decrypt(k_pi, z)


def encrypt_nonce(cipher: str, k_pi: bytes, s: bytes) -> bytes:
    if cipher == crypto.DES3:
        return crypto.tdes_encrypt(k_pi, s)
    return crypto.aes_encrypt(k_pi, s)


def map_generator(curve: ec.Curve, s: bytes, h: ec.Point) -> tuple[int, int]:
    """Generic mapping: G' = s·G + H."""
    mapped = curve.add(curve.mul(int.from_bytes(s, "big"), curve.g), h)
    if mapped is None:
        raise ChipError("PACE mapping gave the point at infinity; read the card again")
    return mapped


def session_keys(cipher: str, key_bits: int, shared_x: bytes) -> tuple[bytes, bytes]:
    return (
        crypto.kdf(shared_x, crypto.KDF_ENC, cipher, key_bits),
        crypto.kdf(shared_x, crypto.KDF_MAC, cipher, key_bits),
    )


def _dynamic_data(response_data: bytes, tag: int, step: int) -> bytes:
    try:
        outer = tlv.parse(response_data, expect=0x7C)
        return outer.require(tag, f"PACE step {step}").value
    except TlvError as exc:
        raise ChipError(f"PACE step {step}: the card's answer is malformed ({exc})") from None


def _refused(password: int, sw: int) -> WrongAccessKey:
    if password == PASSWORD_MRZ:
        return WrongAccessKey(
            "the card refused the MRZ key (PACE authentication failed): the document number,"
            f" birth date or expiry date is wrong ({sw_text(sw)})"
        )
    return WrongAccessKey(
        "the card refused the CAN (PACE authentication failed): check the last 6 digits"
        f" of the 12-digit ID ({sw_text(sw)})"
    )


def _general_authenticate(
    channel: Channel, data: bytes, *, last: bool, step: int, password: int = PASSWORD_CAN
) -> bytes:
    command = Command(0x00 if last else 0x10, 0x86, 0x00, 0x00, tlv.encode(0x7C, data), ne=256)
    response = channel.send_plain(command)
    if response.sw != SW_OK:
        if last and (response.sw in (0x6300, 0x6982) or response.sw >> 4 == 0x63C):
            raise _refused(password, response.sw)
        if response.sw == 0x6983:
            raise WrongAccessKey("the card has blocked this access password (6983)")
        raise ChipError(f"PACE step {step} failed: the card answered {sw_text(response.sw)}")
    return response.data


def perform_pace(
    channel: Channel,
    info: SecurityInfo,
    secret: bytes,
    random: Callable[[int], bytes],
    *,
    password: int = PASSWORD_CAN,
) -> SecureMessaging:
    """Run PACE on ``channel`` and install the resulting secure-messaging session.

    ``password``: :data:`PASSWORD_CAN` (``secret`` = the CAN digits) or :data:`PASSWORD_MRZ`
    (``secret`` = SHA-1 of the MRZ information, :attr:`BacKey.pace_secret`). A card that
    refuses MSE:SET AT (no PACE, or not with this password) raises AccessNotSupported; a
    refused password raises WrongAccessKey.
    """
    cipher, key_bits = PACE_ECDH_GM[info.oid]
    curve = ec.STANDARD_CURVES[info.parameter_id]
    oid_bytes = tlv.encode_oid(info.oid)
    mse = tlv.encode(0x80, oid_bytes) + tlv.encode(0x83, bytes([password]))
    if info.parameter_id is not None:
        mse += tlv.encode(0x84, bytes([info.parameter_id]))
    response = channel.send_plain(Command(0x00, 0x22, 0xC1, 0xA4, mse))
    if response.sw != SW_OK:
        if password == PASSWORD_MRZ:
            raise AccessNotSupported(
                f"this card does not offer PACE with the MRZ (MSE:SET AT refused,"
                f" {sw_text(response.sw)}): read it with --can or --qr"
            )
        raise AccessNotSupported(
            f"this card does not offer PACE (MSE:SET AT refused, {sw_text(response.sw)}): read"
            " it with --mrz or --qr (BAC)"
        )

    # 1. encrypted nonce
    z = _dynamic_data(_general_authenticate(channel, b"", last=False, step=1), 0x80, 1)
    k_pi = password_key(secret, cipher, key_bits)
    if not z or len(z) % (8 if cipher == crypto.DES3 else 16):
        raise ChipError("PACE step 1: the card's nonce has a wrong length")
    s = decrypt_nonce(cipher, k_pi, z)

    # 2. mapping: H = SK_map · PK_map_IC, G' = s·G + H
    sk_map = ec.random_scalar(curve, random)
    pk_map = curve.mul(sk_map, curve.g)
    reply = _general_authenticate(
        channel, tlv.encode(0x81, curve.encode(pk_map)), last=False, step=2
    )
    pk_map_ic = curve.decode(_dynamic_data(reply, 0x82, 2))
    if pk_map_ic == pk_map:
        raise ChipError("PACE step 2: the card echoed the terminal's mapping key")
    h = curve.mul(sk_map, pk_map_ic)
    if h is None:
        raise ChipError("PACE step 2: the shared mapping point is the point at infinity")
    g_mapped = map_generator(curve, s, h)

    # 3. ephemeral key agreement on G'
    sk_eph = ec.random_scalar(curve, random)
    pk_eph = curve.mul(sk_eph, g_mapped)
    reply = _general_authenticate(
        channel, tlv.encode(0x83, curve.encode(pk_eph)), last=False, step=3
    )
    pk_eph_ic = curve.decode(_dynamic_data(reply, 0x84, 3))
    if pk_eph_ic == pk_eph:
        raise ChipError("PACE step 3: the card echoed the terminal's ephemeral key")
    shared = curve.mul(sk_eph, pk_eph_ic)
    if shared is None:
        raise ChipError("PACE step 3: the shared secret is the point at infinity")
    ks_enc, ks_mac = session_keys(cipher, key_bits, shared[0].to_bytes(curve.size, "big"))

    # 4. mutual authentication tokens
    token = crypto.token_mac(cipher, ks_mac, public_key_object(info.oid, curve, pk_eph_ic))
    reply = _general_authenticate(
        channel, tlv.encode(0x85, token), last=True, step=4, password=password
    )
    token_ic = _dynamic_data(reply, 0x86, 4)
    expected = crypto.token_mac(cipher, ks_mac, public_key_object(info.oid, curve, pk_eph))
    if not crypto.equal(token_ic, expected):
        raise SecureMessagingError(
            "PACE: the card's authentication token is wrong; the card may not be genuine"
        )
    block = 8 if cipher == crypto.DES3 else 16
    session = SecureMessaging(cipher, ks_enc, ks_mac, bytes(block))
    channel.sm = session
    return session
