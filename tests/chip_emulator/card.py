"""The emulated card: files, access control, PACE, BAC and secure messaging, fault switches.

Behaviour modelled on what chip.md reports for real CCCDs: SELECT MF → 6D00; EF.CardAccess
readable in the clear; every other file 6982 until PACE or BAC; DG3 always 6982; a wrong BAC
key → 6300 at MUTUAL AUTHENTICATE; a wrong CAN → 6300 at the last GENERAL AUTHENTICATE; a bad
command MAC → plain 6988 and the session is dropped; a plain command ends secure messaging.
READ BINARY returns at most what one response can carry and ``6282`` at the end of the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec as cec
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from checkin.chip import crypto, ec, pace, tlv
from checkin.chip.apdu import Command, Response
from checkin.chip.bac import BacKey, check_digit, derive_keys
from checkin.chip.files import EMRTD_AID

CARD_ACCESS_HEX = (
    "3134300d060804007f0007020202020101300f060a04007f000702020302020201013012060a04007f00070202"
    "04020202010202010d"
)  # the bytes Vietnamese apps hard-code (chip.md §2.3)
PACE_OID = "0.4.0.127.0.7.2.2.4.2.2"
UTF8_OID = "1.0.10646.1.0.8"


@dataclass(frozen=True)
class Person:
    """An invented card holder (chip.md §2.4's synthetic TD1 person, with DG13 fields added)."""

    citizen_id: str = "001185012345"
    full_name: str = "Nguyễn Thị Mai Anh"
    date_of_birth: str = "15/03/1985"
    gender: str = "Nữ"
    nationality: str = "Việt Nam"
    ethnicity: str = "Kinh"
    religion: str = "Không"
    place_of_origin: str = "Xã Tân Phong, Vũ Thư, Thái Bình"
    residence: str = "Số 12 ngõ 34 Hàng Bông, Phường Hàng Gai, Hoàn Kiếm, Hà Nội"
    identifying_features: str = "Nốt ruồi C:1cm trên trước mép phải"
    issue_date: str = "01/06/2023"
    expiry_date: str = "15/03/2045"
    father_name: str = "Nguyễn Văn Hùng"
    mother_name: str = "Trần Thị Lan"
    spouse_name: str | None = "Lê Minh Tuấn"
    old_id_number: str | None = "012345678"
    field16: str = "TESTONLY00000016"
    mrz_name: str = "NGUYEN<<THI<MAI<ANH"
    sex: str = "F"
    mrz_expiry: str | None = None  # YYMMDD in the MRZ; None: from expiry_date (a dd/mm/yyyy)

    @property
    def can(self) -> str:
        return self.citizen_id[-6:]

    def _yymmdd(self, text: str) -> str:
        day, month, year = text.split("/")
        return year[2:] + month + day

    @property
    def doe(self) -> str:
        """The MRZ date of expiry. A no-expiry card ("Không thời hạn" in DG13) needs
        ``mrz_expiry``: what such an MRZ holds is unconfirmed (chip.md §2.6)."""
        return self.mrz_expiry or self._yymmdd(self.expiry_date)

    @property
    def bac_key(self) -> BacKey:
        return BacKey(self.citizen_id[-9:], self._yymmdd(self.date_of_birth), self.doe)

    @property
    def mrz_lines(self) -> tuple[str, str, str]:
        number = self.citizen_id[-9:]
        opt1 = (self.citizen_id + "<<").ljust(14, "<")
        opt1 = opt1[:14] + check_digit(self.citizen_id)
        line1 = ("IDVNM" + number + check_digit(number) + opt1).ljust(30, "<")[:30]
        dob, doe = self._yymmdd(self.date_of_birth), self.doe
        head = dob + check_digit(dob) + self.sex + doe + check_digit(doe) + "VNM"
        optional2 = "<" * 11
        composite = check_digit(line1[5:30] + head[0:7] + head[8:15] + optional2)
        line2 = head + optional2 + composite
        line3 = self.mrz_name.ljust(30, "<")[:30]
        return line1, line2, line3


# -- test PKI ------------------------------------------------------------------------------------


@dataclass
class TestPki:
    """A test-only CSCA and Document Signer. ``csca_pem`` goes into a csca_dir for the tests."""

    __test__ = False  # not a pytest test class

    csca_key: object
    csca_cert: x509.Certificate
    ds_key: object
    ds_cert: x509.Certificate

    @property
    def csca_pem(self) -> bytes:
        return self.csca_cert.public_bytes(serialization.Encoding.PEM)


def _name(cn: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "checkin TEST ONLY - not an authority"),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])  # fmt: skip


def make_pki(*, algorithm: str = "ecdsa", label: str = "checkin test") -> TestPki:
    """A fresh CSCA (self-signed, CA) and DS certificate; ``algorithm`` "ecdsa" or "rsa"."""

    def key():
        if algorithm == "rsa":
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cec.generate_private_key(cec.SECP256R1())

    now = dt.datetime.now(dt.UTC)
    csca_key, ds_key = key(), key()
    csca_name, ds_name = _name(f"{label} CSCA"), _name(f"{label} DS")
    csca_cert = (
        x509.CertificateBuilder()
        .subject_name(csca_name)
        .issuer_name(csca_name)
        .public_key(csca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .sign(csca_key, hashes.SHA256())
    )
    ds_cert = (
        x509.CertificateBuilder()
        .subject_name(ds_name)
        .issuer_name(csca_name)
        .public_key(ds_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), True
        )
        .sign(csca_key, hashes.SHA256())
    )
    return TestPki(csca_key, csca_cert, ds_key, ds_cert)


def build_sod(groups: dict[int, bytes], pki: TestPki) -> bytes:
    """EF.SOD: CMS SignedData over an LDSSecurityObject of SHA-256 hashes, signed by the DS."""
    sha256 = tlv.der_seq(tlv.der_oid("2.16.840.1.101.3.4.2.1"))
    lso = tlv.der_seq(
        tlv.der_int(0),
        sha256,
        tlv.der_seq(*(
            tlv.der_seq(tlv.der_int(n), tlv.encode(0x04, hashlib.sha256(data).digest()))
            for n, data in sorted(groups.items())
        )),
    )  # fmt: skip
    attrs = [
        tlv.der_seq(
            tlv.der_oid("1.2.840.113549.1.9.3"), tlv.der_set(tlv.der_oid("2.23.136.1.1.1"))
        ),
        tlv.der_seq(
            tlv.der_oid("1.2.840.113549.1.9.4"),
            tlv.der_set(tlv.encode(0x04, hashlib.sha256(lso).digest())),
        ),
    ]
    signed_attrs = tlv.der_set(*attrs)
    key = pki.ds_key
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signed_attrs, padding.PKCS1v15(), hashes.SHA256())
        sig_alg = tlv.der_seq(tlv.der_oid("1.2.840.113549.1.1.11"), b"\x05\x00")
    else:
        signature = key.sign(signed_attrs, cec.ECDSA(hashes.SHA256()))
        sig_alg = tlv.der_seq(tlv.der_oid("1.2.840.10045.4.3.2"))
    cert_der = pki.ds_cert.public_bytes(serialization.Encoding.DER)
    signer = tlv.der_seq(
        tlv.der_int(1),
        tlv.der_seq(pki.ds_cert.issuer.public_bytes(), tlv.der_int(pki.ds_cert.serial_number)),
        sha256,
        tlv.encode(0xA0, tlv.parse(signed_attrs).value),
        sig_alg,
        tlv.encode(0x04, signature),
    )
    signed_data = tlv.der_seq(
        tlv.der_int(3),
        tlv.der_set(sha256),
        tlv.der_seq(tlv.der_oid("2.23.136.1.1.1"), tlv.encode(0xA0, tlv.encode(0x04, lso))),
        tlv.encode(0xA0, cert_der),
        tlv.der_set(signer),
    )
    content_info = tlv.der_seq(tlv.der_oid("1.2.840.113549.1.7.2"), tlv.encode(0xA0, signed_data))
    return tlv.encode(0x77, content_info)


# -- files ---------------------------------------------------------------------------------------


_PHOTO_CACHE: dict[int, bytes] = {}


def synthetic_face_jpeg(quality: int = 75) -> bytes:
    """A drawn, obviously synthetic face (about 10 kB at quality 75)."""
    if quality not in _PHOTO_CACHE:
        import cv2
        import numpy as np

        img = np.full((320, 240, 3), (200, 215, 230), np.uint8)
        cv2.ellipse(img, (120, 150), (70, 95), 0, 0, 360, (150, 180, 215), -1)
        cv2.ellipse(img, (120, 70), (80, 45), 0, 180, 360, (40, 40, 50), -1)
        for x in (95, 145):
            cv2.circle(img, (x, 135), 8, (60, 50, 40), -1)
        cv2.ellipse(img, (120, 200), (25, 10), 0, 0, 180, (90, 90, 160), 3)
        cv2.rectangle(img, (30, 250), (210, 320), (90, 60, 40), -1)
        noise = np.random.default_rng(5).integers(0, 24, img.shape, dtype=np.uint8)
        ok, buf = cv2.imencode(".jpg", cv2.add(img, noise), [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        _PHOTO_CACHE[quality] = buf.tobytes()
    return _PHOTO_CACHE[quality]


def build_dg2(image: bytes, width: int = 240, height: int = 320, image_type: int = 0) -> bytes:
    info = bytes([1, image_type]) + width.to_bytes(2, "big") + height.to_bytes(2, "big")
    info += bytes([1, 2]) + bytes(4)  # colour space, source type, device type, quality
    facial = bytes(2) + bytes([2, 1, 1]) + bytes(3) + bytes(2) + bytes(3) + bytes(3)
    block = 20 + len(info) + len(image)
    record = b"FAC\x00" + b"010\x00" + (14 + block).to_bytes(4, "big") + (1).to_bytes(2, "big")
    record += block.to_bytes(4, "big") + facial + info + image
    header = tlv.encode(0xA1, [tlv.encode(0x80, b"\x01\x01"), tlv.encode(0x87, b"\x01\x01"),
                               tlv.encode(0x88, b"\x00\x08")])  # fmt: skip
    inner = tlv.encode(0x7F60, [header, tlv.encode(0x5F2E, record)])
    return tlv.encode(0x75, tlv.encode(0x7F61, [tlv.encode(0x02, b"\x01"), inner]))


def build_dg13(person: Person, *, parents_layout: str = "siblings") -> bytes:
    def field_(number: int, *values: bytes) -> bytes:
        return tlv.der_seq(tlv.der_int(number), *values)

    def utf8(text: str) -> bytes:
        return tlv.encode(0x0C, text.encode("utf-8"))

    def printable(text: str) -> bytes:
        return tlv.encode(0x13, text.encode("ascii"))

    if parents_layout == "nested":
        parents = field_(13, tlv.der_seq(utf8(person.father_name), utf8(person.mother_name)))
    else:
        parents = field_(
            13, tlv.der_seq(utf8(person.father_name)), tlv.der_seq(utf8(person.mother_name))
        )
    spouse = field_(14, tlv.der_seq(utf8(person.spouse_name))) if person.spouse_name else field_(14)
    fields = [
        field_(1, printable(person.citizen_id)),
        field_(2, utf8(person.full_name)),
        field_(3, printable(person.date_of_birth)),
        field_(4, utf8(person.gender)),
        field_(5, utf8(person.nationality)),
        field_(6, utf8(person.ethnicity)),
        field_(7, utf8(person.religion)),
        field_(8, utf8(person.place_of_origin)),
        field_(9, utf8(person.residence)),
        field_(10, utf8(person.identifying_features)),
        field_(11, printable(person.issue_date)),
        field_(12, utf8(person.expiry_date)),
        parents,
        spouse,
        field_(15, printable(person.old_id_number or "")),
        field_(16, printable(person.field16)),
    ]
    body = tlv.der_seq(tlv.der_int(1), tlv.der_oid(UTF8_OID), tlv.der_set(*fields, sort=False))
    return tlv.encode(0x6D, body)


def build_dg14() -> bytes:
    key = cec.generate_private_key(cec.BrainpoolP256R1()).public_key()
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    infos = tlv.der_set(
        tlv.der_seq(tlv.der_oid("0.4.0.127.0.7.2.2.3.2.2"), tlv.der_int(1)),
        tlv.der_seq(tlv.der_oid("0.4.0.127.0.7.2.2.1.2"), spki),
        tlv.der_seq(tlv.der_oid(PACE_OID), tlv.der_int(2), tlv.der_int(13)),
    )
    return tlv.encode(0x6E, infos)


def build_files(
    person: Person | None = None,
    pki: TestPki | None = None,
    *,
    photo: bytes | None = None,
    parents_layout: str = "siblings",
) -> dict[str, bytes]:
    """Every file of the emulated card, by EF name."""
    person = person or Person()
    pki = pki or make_pki()
    mrz = "".join(person.mrz_lines).encode("ascii")
    groups = {
        1: tlv.encode(0x61, tlv.encode(0x5F1F, mrz)),
        2: build_dg2(photo if photo is not None else synthetic_face_jpeg()),
        3: tlv.encode(0x63, tlv.encode(0x02, b"\x00")),
        13: build_dg13(person, parents_layout=parents_layout),
        14: build_dg14(),
    }
    com = tlv.encode(0x60, [tlv.encode(0x5F01, b"0107"), tlv.encode(0x5F36, b"040000"),
                            tlv.encode(0x5C, bytes([0x61, 0x75, 0x63, 0x6D, 0x6E]))])  # fmt: skip
    out = {f"DG{n}": data for n, data in groups.items()}
    out["EF.COM"] = com
    out["EF.SOD"] = build_sod({n: groups[n] for n in (1, 2, 13, 14)}, pki)
    out["EF.CardAccess"] = bytes.fromhex(CARD_ACCESS_HEX)
    return out


# EF name → (FID, SFI, in the application (True) or the MF (False))
LAYOUT = {
    "EF.CardAccess": (0x011C, 0x1C, False),
    "EF.COM": (0x011E, 0x1E, True),
    "EF.SOD": (0x011D, 0x1D, True),
    **{f"DG{n}": (0x0100 + n, n, True) for n in range(1, 17)},
}
ALWAYS_DENIED = {"DG3", "DG4"}  # EAC-protected


# -- the card --------------------------------------------------------------------------------


@dataclass
class Faults:
    """Switches for failure tests. Set them on ``card.faults`` at any time."""

    corrupt_response_mac: bool = False  # flip a bit in every response MAC
    unprotected_errors: bool = False  # vicc-style: errors under SM come back plain
    truncate: dict[str, int] = field(default_factory=dict)  # EF name → bytes cut off the end
    replace: dict[str, bytes] = field(default_factory=dict)  # EF name → content served instead


class _CardSession:
    """The card's side of secure messaging."""

    def __init__(self, cipher: str, ks_enc: bytes, ks_mac: bytes, ssc: bytes) -> None:
        self.cipher, self.ks_enc, self.ks_mac = cipher, ks_enc, ks_mac
        self.block = len(ssc)
        self.ssc = int.from_bytes(ssc, "big")

    def step(self) -> bytes:
        self.ssc += 1
        return self.ssc.to_bytes(self.block, "big")

    def iv(self) -> bytes:
        if self.cipher == crypto.DES3:
            return bytes(8)
        return crypto.aes_ecb_block(self.ks_enc, self.ssc.to_bytes(16, "big"))

    def encrypt(self, data: bytes) -> bytes:
        padded = crypto.pad(data, self.block)
        if self.cipher == crypto.DES3:
            return crypto.tdes_encrypt(self.ks_enc, padded, self.iv())
        return crypto.aes_encrypt(self.ks_enc, padded, self.iv())

    def decrypt(self, data: bytes) -> bytes:
        if self.cipher == crypto.DES3:
            return crypto.unpad(crypto.tdes_decrypt(self.ks_enc, data, self.iv()))
        return crypto.unpad(crypto.aes_decrypt(self.ks_enc, data, self.iv()))

    def mac(self, data: bytes) -> bytes:
        return crypto.mac8(self.cipher, self.ks_mac, data)

    def wrapped_length(self, plain: int) -> int:
        if plain == 0:
            return 14
        body = 1 + (plain // self.block + 1) * self.block
        return 1 + len(tlv.encode_length(body)) + body + 14

    def max_plain(self, limit: int) -> int:
        n = max(0, limit - 16)
        while n > 0 and self.wrapped_length(n) > limit:
            n -= 1
        return n


class Card:
    """An emulated CCCD. ``transmit(apdu) -> response`` makes it a Transport in-process too."""

    def __init__(
        self,
        person: Person | None = None,
        *,
        pki: TestPki | None = None,
        files: dict[str, bytes] | None = None,
        pace_enabled: bool = True,
        bac_enabled: bool = True,
        extended: bool = True,
        max_response: int = 65533,  # vpcd frames carry at most 65535 bytes incl. SW
        random: Callable[[int], bytes] = os.urandom,
        parents_layout: str = "siblings",
    ) -> None:
        self.person = person or Person()
        self.pki = pki or make_pki()
        self.files = files or build_files(self.person, self.pki, parents_layout=parents_layout)
        self.pace_enabled = pace_enabled
        self.bac_enabled = bac_enabled
        self.extended = extended
        self.max_response = max_response if extended else 256
        self.random = random
        self.faults = Faults()
        self.can = self.person.can
        self.bac_key = self.person.bac_key
        self.commands = 0
        self.log: list[tuple[bytes, bytes]] = []
        self.power_on()

    # Transport attributes, for in-process use
    @property
    def max_response_length(self) -> int:
        return self.max_response

    @property
    def atr(self) -> bytes:
        historical = bytes([0x80, 0x73, 0x00, 0x00, 0x40 if self.extended else 0x00])
        body = bytes([0x3B, 0x80 | len(historical), 0x80, 0x01]) + historical
        check = 0
        for byte in body[1:]:
            check ^= byte
        return body + bytes([check])

    # -- power ---------------------------------------------------------------------------

    def power_on(self) -> None:
        self.df = "MF"
        self.current: str | None = None
        self.session: _CardSession | None = None
        self.rnd_ic: bytes | None = None
        self.pace: dict = {}

    reset = power_on

    def power_off(self) -> None:
        self.power_on()

    # -- dispatch ------------------------------------------------------------------------

    def transmit(self, raw: bytes) -> bytes:
        self.commands += 1
        response = self._transmit(bytes(raw))
        self.log.append((bytes(raw), response))
        return response

    def _transmit(self, raw: bytes) -> bytes:
        try:
            command = Command.decode(raw)
        except ValueError:
            return b"\x67\x00"
        if command.cla & 0x0C:
            return self._secure(command, extended_outer=len(raw) > 5 and raw[4] == 0)
        if self.session is not None:  # a plain command ends secure messaging
            self.session = None
        limit = self.max_response if (len(raw) > 5 and raw[4] == 0 and command.ne) else 256
        return self._process(command, secure=False, limit=limit).to_bytes()

    def _secure(self, command: Command, *, extended_outer: bool) -> bytes:
        session = self.session
        if session is None:
            return b"\x69\x87"
        try:
            items = tlv.parse_all(command.data)
        except tlv.TlvError:
            self.session = None
            return b"\x69\x88"
        tags = {item.tag: item for item in items}
        if 0x8E not in tags:
            self.session = None
            return b"\x69\x87"
        ssc = session.step()
        header = bytes((command.cla, command.ins, command.p1, command.p2))
        covered = b"".join(i.encoded for i in items if i.tag in (0x85, 0x87, 0x97))
        if not crypto.equal(session.mac(ssc + crypto.pad(header, session.block) + covered),
                            tags[0x8E].value):  # fmt: skip
            self.session = None
            return b"\x69\x88"
        data = b""
        try:
            if 0x87 in tags:
                data = session.decrypt(tags[0x87].value[1:])
            elif 0x85 in tags:
                data = session.decrypt(tags[0x85].value)
        except Exception:
            self.session = None
            return b"\x69\x88"
        ne = None
        if 0x97 in tags:
            le = tags[0x97].value
            ne = int.from_bytes(le, "big") or (256 if len(le) <= 1 else 65536)
        inner = Command(command.cla & 0xF3, command.ins, command.p1, command.p2, data, ne)
        limit = self.max_response if extended_outer else 256
        response = self._process(inner, secure=True, limit=session.max_plain(limit))
        if self.session is not session:  # the command ended or replaced the session
            return response.to_bytes()
        if response.sw not in (0x9000, 0x6282) and self.faults.unprotected_errors:
            self.session = None
            return response.to_bytes()
        ssc = session.step()
        objects = b""
        if response.data:
            objects += tlv.encode(0x87, b"\x01" + session.encrypt(response.data))
        objects += tlv.encode(0x99, response.sw.to_bytes(2, "big"))
        mac = bytearray(session.mac(ssc + objects))
        if self.faults.corrupt_response_mac:
            mac[0] ^= 0x01
        objects += tlv.encode(0x8E, bytes(mac))
        return objects + response.sw.to_bytes(2, "big")

    def _process(self, command: Command, *, secure: bool, limit: int) -> Response:
        handler = {
            0xA4: self._select,
            0xB0: self._read_binary,
            0xB1: self._read_binary,
            0x84: self._get_challenge,
            0x82: self._mutual_authenticate,
            0x22: self._mse,
            0x86: self._general_authenticate,
        }.get(command.ins)
        if handler is None:
            return Response(b"", 0x6D00)
        return handler(command, secure, limit)

    # -- files ---------------------------------------------------------------------------

    def _in_current_df(self, name: str) -> bool:
        return name in self.files and LAYOUT[name][2] == (self.df == "APP")

    def _select(self, command: Command, secure: bool, limit: int) -> Response:
        if command.p1 == 0x04:
            if command.data == EMRTD_AID:
                self.df, self.current = "APP", None
                return Response(b"", 0x9000)
            return Response(b"", 0x6A82)
        if command.p1 == 0x02 and len(command.data) == 2:
            fid = int.from_bytes(command.data, "big")
            name = next((n for n, (f, _, _) in LAYOUT.items() if f == fid), None)
            if name is None or not self._in_current_df(name):
                return Response(b"", 0x6A82)
            self.current = name
            return Response(b"", 0x9000)
        if command.p1 == 0x00:
            return Response(b"", 0x6D00)  # as reported for Vietnamese cards
        return Response(b"", 0x6A86)

    def _content(self, name: str) -> bytes:
        data = self.faults.replace.get(name, self.files[name])
        cut = self.faults.truncate.get(name, 0)
        return data[: len(data) - cut] if cut else data

    def _read_binary(self, command: Command, secure: bool, limit: int) -> Response:
        odd = command.ins == 0xB1
        if not odd and command.p1 & 0x80:
            sfi = command.p1 & 0x1F
            name = next((n for n, (_, s, _) in LAYOUT.items() if s == sfi), None)
            if name is None or not self._in_current_df(name):
                return Response(b"", 0x6A82)
            self.current, offset = name, command.p2
        elif odd:
            try:
                offset = int.from_bytes(tlv.parse(command.data, expect=0x54).value, "big")
            except tlv.TlvError:
                return Response(b"", 0x6A80)
        else:
            offset = ((command.p1 & 0x7F) << 8) | command.p2
        if self.current is None:
            return Response(b"", 0x6986)
        name = self.current
        if name in ALWAYS_DENIED or (name != "EF.CardAccess" and not (secure and self.session)):
            return Response(b"", 0x6982)
        content = self._content(name)
        if offset > len(content):
            return Response(b"", 0x6B00)
        wanted = command.ne or 256
        room = limit - (4 if odd else 0)
        chunk = content[offset : offset + min(wanted, room)]
        sw = 0x6282 if len(chunk) < wanted and offset + len(chunk) >= len(content) else 0x9000
        if odd:
            chunk = tlv.encode(0x53, chunk)
        return Response(chunk, sw)

    # -- BAC -----------------------------------------------------------------------------

    def _get_challenge(self, command: Command, secure: bool, limit: int) -> Response:
        if not self.bac_enabled or self.df != "APP":
            return Response(b"", 0x6985)
        if command.ne != 8:
            return Response(b"", 0x6700)
        self.rnd_ic = self.random(8)
        return Response(self.rnd_ic, 0x9000)

    def _mutual_authenticate(self, command: Command, secure: bool, limit: int) -> Response:
        rnd_ic, self.rnd_ic = self.rnd_ic, None
        if not self.bac_enabled or rnd_ic is None:
            return Response(b"", 0x6985)
        if len(command.data) != 40:
            return Response(b"", 0x6700)
        k_enc, k_mac = derive_keys(self.bac_key.seed)
        encrypted, mac = command.data[:32], command.data[32:]
        if not crypto.equal(crypto.retail_mac(k_mac, crypto.pad(encrypted, 8)), mac):
            return Response(b"", 0x6300)
        plain = crypto.tdes_decrypt(k_enc, encrypted)
        rnd_ifd, echoed, k_ifd = plain[:8], plain[8:16], plain[16:]
        if echoed != rnd_ic:
            return Response(b"", 0x6300)
        k_ic = self.random(16)
        reply = crypto.tdes_encrypt(k_enc, rnd_ic + rnd_ifd + k_ic)
        reply += crypto.retail_mac(k_mac, crypto.pad(reply, 8))
        seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
        ks_enc, ks_mac = derive_keys(seed)
        self.session = _CardSession(crypto.DES3, ks_enc, ks_mac, rnd_ic[4:] + rnd_ifd[4:])
        return Response(reply, 0x9000)

    # -- PACE ----------------------------------------------------------------------------

    def _mse(self, command: Command, secure: bool, limit: int) -> Response:
        if (command.p1, command.p2) != (0xC1, 0xA4) or not self.pace_enabled:
            return Response(b"", 0x6A86 if self.pace_enabled else 0x6D00)
        try:
            items = {i.tag: i.value for i in tlv.parse_all(command.data)}
        except tlv.TlvError:
            return Response(b"", 0x6A80)
        if items.get(0x80) != tlv.encode_oid(PACE_OID) or items.get(0x83) not in (b"\x01", b"\x02"):
            return Response(b"", 0x6A80)
        if items.get(0x84, b"\x0d") != b"\x0d":
            return Response(b"", 0x6A80)
        self.pace = {"step": 1, "ref": items[0x83][0]}
        return Response(b"", 0x9000)

    def _general_authenticate(self, command: Command, secure: bool, limit: int) -> Response:
        state = self.pace
        step = state.get("step")
        if not step:
            return Response(b"", 0x6985)
        try:
            outer = tlv.parse(command.data, expect=0x7C)
            children = {i.tag: i.value for i in outer.children()}
        except tlv.TlvError:
            self.pace = {}
            return Response(b"", 0x6A80)
        chained = bool(command.cla & 0x10)
        if chained != (step < 4):
            self.pace = {}
            return Response(b"", 0x6985)
        curve = ec.BRAINPOOL_P256R1
        try:
            if step == 1:
                secret = self.can.encode("ascii") if state["ref"] == 2 else self.bac_key.pace_secret
                k_pi = pace.password_key(secret, crypto.AES, 128)
                state["s"] = self.random(16)
                reply = tlv.encode(0x80, pace.encrypt_nonce(crypto.AES, k_pi, state["s"]))
            elif step == 2:
                pk_ifd = curve.decode(children[0x81])
                sk = ec.random_scalar(curve, self.random)
                h = curve.mul(sk, pk_ifd)
                state["g"] = pace.map_generator(curve, state["s"], h)
                reply = tlv.encode(0x82, curve.encode(curve.mul(sk, curve.g)))
            elif step == 3:
                pk_ifd = curve.decode(children[0x83])
                sk = ec.random_scalar(curve, self.random)
                state["pk_ic"] = curve.mul(sk, state["g"])
                state["pk_ifd"] = pk_ifd
                shared = curve.mul(sk, pk_ifd)
                state["keys"] = pace.session_keys(
                    crypto.AES, 128, shared[0].to_bytes(curve.size, "big")
                )
                reply = tlv.encode(0x84, curve.encode(state["pk_ic"]))
            else:
                ks_enc, ks_mac = state["keys"]
                expected = crypto.token_mac(
                    crypto.AES, ks_mac, pace.public_key_object(PACE_OID, curve, state["pk_ic"])
                )
                self.pace = {}
                if not crypto.equal(expected, children.get(0x85, b"")):
                    return Response(b"", 0x6300)
                token = crypto.token_mac(
                    crypto.AES, ks_mac, pace.public_key_object(PACE_OID, curve, state["pk_ifd"])
                )
                self.session = _CardSession(crypto.AES, ks_enc, ks_mac, bytes(16))
                return Response(tlv.encode(0x7C, tlv.encode(0x86, token)), 0x9000)
        except (KeyError, ValueError, Exception):
            self.pace = {}
            return Response(b"", 0x6A80)
        state["step"] = step + 1
        return Response(tlv.encode(0x7C, reply), 0x9000)
