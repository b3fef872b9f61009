"""Parsers for the LDS files a CCCD carries: COM, DG1, DG2, DG13, DG14, SOD.

Every parser takes the file's bytes and returns a frozen dataclass, or raises
:class:`~checkin.chip.errors.TlvError` with a one-line reason. DG13 is the Vietnamese personal
data file of chip.md §3.2 (UTF-8 strings, numbered fields, both layouts of field 13).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from checkin.chip import tlv
from checkin.chip.errors import TlvError
from checkin.chip.pace import SecurityInfo, parse_security_infos
from checkin.model import Gender

STRING_TAGS = {0x0C: "utf8", 0x13: "printable", 0x16: "ia5", 0x1A: "visible", 0x14: "t61"}

# -- COM -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Com:
    lds_version: str | None
    unicode_version: str | None
    tags: tuple[int, ...]

    @property
    def data_groups(self) -> tuple[int, ...]:
        reverse = {0x61: 1, 0x75: 2, 0x63: 3, 0x76: 4, 0x65: 5, 0x66: 6, 0x67: 7, 0x68: 8,
                   0x69: 9, 0x6A: 10, 0x6B: 11, 0x6C: 12, 0x6D: 13, 0x6E: 14, 0x6F: 15,
                   0x70: 16}  # fmt: skip
        return tuple(reverse[t] for t in self.tags if t in reverse)


def parse_com(data: bytes) -> Com:
    item = tlv.parse(data, expect=0x60, trailing=True)
    version = item.find(0x5F01)
    unicode = item.find(0x5F36)
    tags = item.find(0x5C)
    return Com(
        _ascii(version.value) if version else None,
        _ascii(unicode.value) if unicode else None,
        tuple(tags.value) if tags else (),
    )


def _ascii(value: bytes) -> str:
    return value.decode("ascii", errors="replace")


# -- DG1: the MRZ --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mrz:
    lines: tuple[str, ...]
    document_code: str
    issuing_state: str
    document_number: str
    optional_1: str
    date_of_birth: str  # YYMMDD as printed
    sex: str
    date_of_expiry: str
    nationality: str
    optional_2: str
    surname: str
    given_names: str
    checks_ok: bool

    @property
    def citizen_id(self) -> str | None:
        """On a CCCD the 12-digit ID opens the first optional field (chip.md §2.4)."""
        match = re.match(r"\d{12}", self.optional_1)
        return match.group(0) if match else None

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.surname, self.given_names) if part)


def parse_dg1(data: bytes) -> Mrz:
    item = tlv.parse(data, expect=0x61, trailing=True)
    mrz = item.require(0x5F1F, "MRZ").value
    try:
        text = mrz.decode("ascii")
    except UnicodeDecodeError:
        raise TlvError("DG1 MRZ is not ASCII") from None
    return parse_mrz(text)


def parse_mrz(text: str) -> Mrz:
    from checkin.chip.bac import check_digit

    text = text.replace("\n", "").replace("\r", "")
    if len(text) != 90:
        raise TlvError(f"DG1 holds a {len(text)}-character MRZ; only TD1 (90) is read here")
    if not re.fullmatch(r"[0-9A-Z<]{90}", text):
        raise TlvError("DG1 MRZ has characters outside 0-9, A-Z and '<'")
    l1, l2, l3 = text[:30], text[30:60], text[60:]
    number = l1[5:14]
    checks = [
        check_digit(number) == l1[14] or (l1[14] == "<"),
        check_digit(l2[0:6]) == l2[6],
        check_digit(l2[8:14]) == l2[14],
        check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]) == l2[29],
    ]
    names = l3.rstrip("<").split("<<", 1)
    surname = names[0].replace("<", " ").strip()
    given = names[1].replace("<", " ").strip() if len(names) > 1 else ""
    return Mrz(
        lines=(l1, l2, l3),
        document_code=l1[0:2].rstrip("<"),
        issuing_state=l1[2:5].rstrip("<"),
        document_number=number.rstrip("<"),
        optional_1=l1[15:30].rstrip("<"),
        date_of_birth=l2[0:6],
        sex=l2[7],
        date_of_expiry=l2[8:14],
        nationality=l2[15:18].rstrip("<"),
        optional_2=l2[18:29].rstrip("<"),
        surname=surname,
        given_names=given,
        checks_ok=all(checks),
    )


def mrz_date(yymmdd: str, *, birth: bool, today: date | None = None) -> str | None:
    """ISO date for an MRZ date; birth dates in the future belong to the previous century."""
    if not re.fullmatch(r"\d{6}", yymmdd):
        return None
    today = today or date.today()
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    year = 2000 + yy
    if birth and year > today.year:
        year -= 100
    if not birth and year > today.year + 60:
        year -= 100
    try:
        return date(year, mm, dd).isoformat()
    except ValueError:
        return None


# -- DG13: Vietnamese personal data ----------------------------------------------------------------

DG13_FIELDS = {
    1: "citizen_id",
    2: "full_name",
    3: "date_of_birth",
    4: "gender",
    5: "nationality",
    6: "ethnicity",
    7: "religion",
    8: "place_of_origin",
    9: "residence",
    10: "identifying_features",
    11: "issue_date",
    12: "expiry_date",
    13: "parents",
    14: "spouse_name",
    15: "old_id_number",
    16: "field16",
}
GENDERS = {"nam": Gender.MALE, "nữ": Gender.FEMALE, "nu": Gender.FEMALE, "male": Gender.MALE,
           "female": Gender.FEMALE, "m": Gender.MALE, "f": Gender.FEMALE}  # fmt: skip


@dataclass(frozen=True)
class Dg13:
    citizen_id: str | None = None
    full_name: str | None = None
    date_of_birth: str | None = None  # ISO, or "YYYY"
    gender: Gender | None = None
    nationality: str | None = None
    ethnicity: str | None = None
    religion: str | None = None
    place_of_origin: str | None = None
    residence: str | None = None
    identifying_features: str | None = None
    issue_date: str | None = None
    expiry_date: str | None = None  # ISO; None when absent or not a date (see expiry_text)
    expiry_text: str | None = None  # field 12 as printed, e.g. "Không thời hạn"
    father_name: str | None = None
    mother_name: str | None = None
    spouse_name: str | None = None
    old_id_number: str | None = None
    field16: str | None = None
    raw: dict[int, tuple[str, ...]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def _text(item: tlv.Tlv) -> str:
    try:
        text = item.value.decode("utf-8")
    except UnicodeDecodeError:
        text = item.value.decode("utf-8", errors="replace")
    return unicodedata.normalize("NFC", text).strip()


def _strings(item: tlv.Tlv, depth: int = 0) -> list[str]:
    """Every string value inside ``item``, in order, depth first."""
    if depth > tlv.MAX_DEPTH:
        raise TlvError("DG13 nests deeper than 32 levels")
    if item.tag in STRING_TAGS:
        return [_text(item)]
    if item.constructed:
        out: list[str] = []
        for child in item.children():
            out += _strings(child, depth + 1)
        return out
    return []


def _field_entries(item: tlv.Tlv, depth: int = 0) -> list[tuple[int, list[str]]]:
    """The numbered fields: SEQUENCEs that start with an INTEGER and hold no OID."""
    if depth > tlv.MAX_DEPTH:
        raise TlvError("DG13 nests deeper than 32 levels")
    if not item.constructed:
        return []
    children = item.children()
    is_field = (
        item.tag == 0x30
        and children
        and children[0].tag == 0x02
        and not any(c.tag == 0x06 for c in children)
    )
    if is_field:
        number = tlv.decode_int(children[0].value)
        values: list[str] = []
        for child in children[1:]:
            values += _strings(child, depth + 1)
        return [(number, values)]
    out: list[tuple[int, list[str]]] = []
    for child in children:
        out += _field_entries(child, depth + 1)
    return out


def _dmy(text: str) -> str | None:
    text = text.strip()
    for pattern in (r"(\d{1,2})/(\d{1,2})/(\d{4})", r"(\d{2})(\d{2})(\d{4})",
                    r"(\d{1,2})-(\d{1,2})-(\d{4})"):  # fmt: skip
        match = re.fullmatch(pattern, text)
        if match:
            day, month, year = (int(x) for x in match.groups())
            try:
                return date(year, month, day).isoformat()
            except ValueError:
                return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return None
    if re.fullmatch(r"\d{4}", text):
        return text
    return None


def parse_dg13(data: bytes) -> Dg13:
    item = tlv.parse(data, expect=0x6D, trailing=True)
    entries = _field_entries(item)
    if not entries:
        raise TlvError("DG13 holds no numbered fields")
    raw: dict[int, tuple[str, ...]] = {}
    for number, values in entries:
        raw.setdefault(number, tuple(values))
    warnings: list[str] = []

    def one(number: int) -> str | None:
        values = [v for v in raw.get(number, ()) if v]
        return values[0] if values else None

    def day(number: int, label: str) -> str | None:
        text = one(number)
        if text is None:
            return None
        value = _dmy(text)
        if value is None:
            warnings.append(f"DG13 {label} {text!r} is not a date")
        return value

    gender_text = one(4)
    gender = GENDERS.get(gender_text.casefold()) if gender_text else None
    if gender_text and gender is None:
        warnings.append(f"DG13 gender {gender_text!r} not recognised")
    parents = [v for v in raw.get(13, ()) if v]
    expiry_text = one(12)
    expiry = _dmy(expiry_text) if expiry_text else None
    citizen = one(1)
    if citizen and not re.fullmatch(r"\d{12}", citizen):
        warnings.append("DG13 citizen ID is not 12 digits")
    return Dg13(
        citizen_id=citizen,
        full_name=one(2),
        date_of_birth=day(3, "birth date"),
        gender=gender,
        nationality=one(5),
        ethnicity=one(6),
        religion=one(7),
        place_of_origin=one(8),
        residence=one(9),
        identifying_features=one(10),
        issue_date=day(11, "issue date"),
        expiry_date=expiry if expiry and len(expiry) == 10 else None,
        expiry_text=expiry_text,
        father_name=parents[0] if parents else None,
        mother_name=parents[1] if len(parents) > 1 else None,
        spouse_name=one(14),
        old_id_number=one(15),
        field16=one(16),
        raw=raw,
        warnings=tuple(warnings),
    )


# -- DG2: the face image -------------------------------------------------------------------------

IMAGE_MAGIC = (
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jp2"),
    (b"\xff\x4f\xff\x51", "j2k"),
    (b"\xff\xd8\xff", "jpeg"),
)


@dataclass(frozen=True)
class FaceImage:
    format: str  # "jpeg" | "jp2" | "j2k"
    data: bytes
    width: int | None = None
    height: int | None = None

    @property
    def mime_type(self) -> str:
        return {"jpeg": "image/jpeg", "jp2": "image/jp2", "j2k": "image/j2k"}[self.format]


def _image_format(data: bytes) -> str | None:
    for magic, name in IMAGE_MAGIC:
        if data.startswith(magic):
            return name
    return None


def parse_dg2(data: bytes) -> FaceImage:
    """The first face image in DG2 (CBEFF 7F61/7F60, ISO/IEC 19794-5 record in 5F2E/7F2E)."""
    item = tlv.parse(data, expect=0x75, trailing=True)
    block = next((t for t in tlv.walk(item) if t.tag in (0x5F2E, 0x7F2E)), None)
    if block is None:
        raise TlvError("DG2 holds no biometric data block (5F2E)")
    return parse_face_record(block.value)


def parse_face_record(record: bytes) -> FaceImage:
    """ISO/IEC 19794-5 facial record: header, facial information, feature points, image."""
    if record[:4] == b"FAC\x00" and len(record) >= 14 + 20:
        pos = 14  # format id, version, record length (4), number of faces (2)
        block_length = int.from_bytes(record[pos : pos + 4], "big")
        points = int.from_bytes(record[pos + 4 : pos + 6], "big")
        image_info = pos + 20 + 8 * points
        start = image_info + 12
        end = min(len(record), pos + block_length) if block_length else len(record)
        if start < end:
            width = int.from_bytes(record[image_info + 2 : image_info + 4], "big")
            height = int.from_bytes(record[image_info + 4 : image_info + 6], "big")
            image = record[start:end]
            kind = _image_format(image)
            if kind:
                return FaceImage(kind, image, width or None, height or None)
    for magic, name in IMAGE_MAGIC:  # not a clean 19794-5 header: find the image itself
        at = record.find(magic)
        if at >= 0:
            return FaceImage(name, record[at:])
    raise TlvError("DG2 holds no JPEG or JPEG 2000 image")


# -- DG14 ----------------------------------------------------------------------------------------


def parse_dg14(data: bytes) -> list[SecurityInfo]:
    item = tlv.parse(data, expect=0x6E, trailing=True)
    return parse_security_infos(item.value)


# -- SOD -----------------------------------------------------------------------------------------

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"


@dataclass(frozen=True)
class SignerInfo:
    sid_issuer: bytes | None  # DER of the issuer Name, when the signer is named by issuer+serial
    sid_serial: int | None
    sid_key_id: bytes | None
    digest_algorithm: str
    signed_attrs: bytes | None  # DER, re-tagged as SET (31) for verification
    content_type_attr: str | None
    message_digest_attr: bytes | None
    signature_algorithm: str
    signature_params: tlv.Tlv | None
    signature: bytes


@dataclass(frozen=True)
class Sod:
    hash_algorithm: str  # OID
    hashes: dict[int, bytes]
    econtent: bytes  # DER of the LDSSecurityObject
    econtent_type: str
    certificates: tuple[bytes, ...]  # DER
    signer: SignerInfo
    lds_version: str | None = None


def _algorithm(item: tlv.Tlv) -> tuple[str, tlv.Tlv | None]:
    parts = item.children()
    if not parts or parts[0].tag != 0x06:
        raise TlvError("AlgorithmIdentifier lacks its OID")
    params = parts[1] if len(parts) > 1 and parts[1].tag != 0x05 else None
    return tlv.decode_oid(parts[0].value), params


def parse_sod(data: bytes) -> Sod:
    outer = tlv.parse(data, expect=0x77, trailing=True)
    content_info = outer.require(0x30, "ContentInfo")
    parts = content_info.children()
    if len(parts) < 2 or parts[0].tag != 0x06 or tlv.decode_oid(parts[0].value) != OID_SIGNED_DATA:
        raise TlvError("EF.SOD is not a CMS SignedData")
    signed = parts[1].require(0x30, "SignedData").children()
    if len(signed) < 4:
        raise TlvError("EF.SOD SignedData is incomplete")
    encap = signed[2].children()
    econtent_type = tlv.decode_oid(encap[0].value)
    if len(encap) < 2 or encap[1].tag != 0xA0:
        raise TlvError("EF.SOD carries no encapsulated content")
    econtent = encap[1].require(0x04, "eContent").value
    certificates: tuple[bytes, ...] = ()
    rest = signed[3:]
    for item in rest:
        if item.tag == 0xA0:
            certificates = tuple(c.encoded for c in item.children() if c.tag == 0x30)
    signer_set = next((i for i in rest if i.tag == 0x31), None)
    if signer_set is None or not signer_set.children():
        raise TlvError("EF.SOD has no SignerInfo")
    signer = _parse_signer(signer_set.children()[0])
    lso = tlv.parse(econtent, expect=0x30).children()
    if len(lso) < 3:
        raise TlvError("LDSSecurityObject is incomplete")
    hash_oid, _ = _algorithm(lso[1])
    hashes: dict[int, bytes] = {}
    for entry in lso[2].children():
        number, digest = entry.children()[:2]
        hashes[tlv.decode_int(number.value)] = digest.value
    lds_version = None
    if len(lso) > 3 and lso[3].tag == 0x30:
        version_parts = lso[3].children()
        if version_parts:
            lds_version = version_parts[0].value.decode("ascii", errors="replace")
    return Sod(hash_oid, hashes, econtent, econtent_type, certificates, signer, lds_version)


def _parse_signer(item: tlv.Tlv) -> SignerInfo:
    parts = item.children()
    if len(parts) < 5:
        raise TlvError("SignerInfo is incomplete")
    sid = parts[1]
    issuer = serial = key_id = None
    if sid.tag == 0x30:
        issuer_item, serial_item = sid.children()[:2]
        issuer, serial = issuer_item.encoded, tlv.decode_int(serial_item.value)
    elif sid.tag == 0x80:
        key_id = sid.value
    digest_oid, _ = _algorithm(parts[2])
    pos = 3
    signed_attrs = content_type = message_digest = None
    if parts[pos].tag == 0xA0:
        signed_attrs = tlv.encode(0x31, parts[pos].value)
        for attribute in parts[pos].children():
            attr_parts = attribute.children()
            oid = tlv.decode_oid(attr_parts[0].value)
            values = attr_parts[1].children() if len(attr_parts) > 1 else []
            if not values:
                continue
            if oid == OID_CONTENT_TYPE:
                content_type = tlv.decode_oid(values[0].value)
            elif oid == OID_MESSAGE_DIGEST:
                message_digest = values[0].value
        pos += 1
    signature_oid, signature_params = _algorithm(parts[pos])
    signature = parts[pos + 1].value
    return SignerInfo(issuer, serial, key_id, digest_oid, signed_attrs, content_type,
                      message_digest, signature_oid, signature_params, signature)  # fmt: skip


def _guarded(name: str, parse):
    def wrapper(data: bytes):
        try:
            return parse(data)
        except TlvError:
            raise
        except (ValueError, IndexError, KeyError, AttributeError, TypeError) as exc:
            raise TlvError(f"{name} is malformed ({type(exc).__name__}: {exc})") from None

    wrapper.__name__ = parse.__name__
    wrapper.__doc__ = parse.__doc__
    return wrapper


parse_com = _guarded("EF.COM", parse_com)
parse_dg1 = _guarded("DG1", parse_dg1)
parse_dg2 = _guarded("DG2", parse_dg2)
parse_dg13 = _guarded("DG13", parse_dg13)
parse_dg14 = _guarded("DG14", parse_dg14)
parse_sod = _guarded("EF.SOD", parse_sod)
