"""The BHYT health-insurance card QR (formats.md §3): old 15-field and new 17-field templates.

Functions here raise ``ValueError`` with a one-line reason naming the field; the package
entry points turn that into ``PayloadError`` / ``ParseFailure``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from checkin.formats.dates import EMPTY, parse_birth_date, parse_optional_date
from checkin.formats.hexutf8 import (
    METHODS,
    VNI,
    HexTextError,
    clean_text,
    decode_hex_field,
    ime_hint,
    quote,
    reverse_ime,
    tone_may_have_moved,
    unmark_keys,
)
from checkin.model import Gender, Identity, PayloadKind

CARD_CODE = re.compile(r"[A-Z]{2}[0-9]{13}")
CARD_CODE_WITH_FACILITY = re.compile(r"[A-Z]{2}[0-9]{18}")  # QĐ 1351: 5-digit facility appended
SOCIAL_NUMBER = re.compile(r"[0-9]{10}")
OLD_FIELDS, NEW_FIELDS = 15, 17
TERMINATOR = "$"
GENDERS = {"1": Gender.MALE, "2": Gender.FEMALE}
AREA_CODES = {"4": None, "5": "K1", "6": "K2", "7": "K3"}
_FACILITY = re.compile(r"([0-9]{2})\s*[-–—]?\s*([0-9A-Za-z]{3})")

T = TypeVar("T")


@dataclass(frozen=True)
class BhytQr:
    """A parsed BHYT QR: the identity plus the fields the contract has no key for."""

    identity: Identity
    management_code: str | None  # element 9 (mã quản lý), kept as printed, not checked
    check_string: str  # element 13 (chuỗi kiểm tra): unknown algorithm, never validated (§3.5)
    benefit_digit: str | None = None  # element 14 of the new template; meaning unconfirmed


def looks_like_bhyt_number(text: str) -> bool:
    code = text.strip().upper()
    return any(p.fullmatch(code) for p in (CARD_CODE, CARD_CODE_WITH_FACILITY, SOCIAL_NUMBER))


def card_number_fields(raw: str) -> tuple[str | None, str, list[str]]:
    """``(card_number, social_insurance_number, warnings)`` from a card code or 10-digit number.

    A 20-character code (facility appended) is cut to 15; a code garbled by a keyboard IME
    (VNI turns ``CA5`` into ``CẠ``) is repaired. Both with a warning.
    """
    code = raw.strip().upper()
    warnings: list[str] = []
    if not looks_like_bhyt_number(code):
        code = _unmangle(code, looks_like_bhyt_number, "card number", warnings).upper()
    if CARD_CODE_WITH_FACILITY.fullmatch(code):
        warnings.append(
            f"card code had 20 characters (facility {code[15:]} appended); used the first 15"
        )
        code = code[:15]
    if CARD_CODE.fullmatch(code):
        return code, code[-10:], warnings
    if SOCIAL_NUMBER.fullmatch(code):
        return None, code, warnings
    raise ValueError(
        "is not a 15-character card code (like DN4010123456789) or a 10-digit number"
        f" ({len(code)} characters)"
    )


def parse_bhyt(parts: list[str]) -> BhytQr:
    """The fields of a BHYT QR already split on ``|``."""
    count = len(parts)
    if count not in (OLD_FIELDS, NEW_FIELDS):
        raise ValueError(f"BHYT QR has {count} fields, expected {OLD_FIELDS} or {NEW_FIELDS}")
    if parts[-1].strip() != TERMINATOR:
        raise ValueError(f"BHYT QR does not end with '|$' (last field is {quote(parts[-1])})")
    template = "old" if count == OLD_FIELDS else "new"
    notes: list[str] = []
    ime = ime_hint("|".join(parts))  # one scan is typed through one input method
    card, social, found = _field("card number", card_number_fields, parts[0])
    notes += found + _template_notes(template, card)
    name = _name(parts[1], notes, ime)
    birth, note = _field("birth date", parse_birth_date, parts[2])
    gender = _field("gender", _gender, parts[3])
    if note:
        notes.append(note)
    if gender is None:
        notes.append("no gender in the QR")
    address = _hex_field("address", parts[4], notes, ime)
    guardian = _guardian(parts[10], notes, ime)
    office = _hex_field("issuing office", parts[15], notes, ime) if count == NEW_FIELDS else None
    facility = _field("registered facility", lambda raw: parse_facility(raw, notes), parts[5])
    identity = Identity(
        kind=PayloadKind.BHYT,
        full_name=name,
        template=template,
        card_number=card,
        social_insurance_number=social,
        date_of_birth=birth,
        gender=gender,
        address=address,
        registered_facility=facility,
        valid_from=_field("valid-from date", parse_optional_date, parts[6]),
        valid_to=_field("valid-to date", parse_optional_date, parts[7]),
        issue_date=_field("issue date", parse_optional_date, parts[8]),
        guardian_name=guardian,
        area_code=_field("living-area code", _area_code, parts[11]),
        five_year_date=_field("five-year date", parse_optional_date, parts[12]),
        issuing_office=office,
        warnings=tuple(notes),
    )
    return BhytQr(
        identity=identity,
        management_code=_optional(parts[9]),
        check_string=clean_text(parts[13]),
        benefit_digit=_optional(parts[14]) if count == NEW_FIELDS else None,
    )


def parse_facility(raw: str, notes: list[str] | None = None) -> str | None:
    """``01 - 001`` (hyphen or en dash, spaces optional) to the 5-character code ``01001``."""
    text = raw.strip()
    if text in EMPTY:
        return None
    if not _FACILITY.fullmatch(text):
        text = _unmangle(text, _FACILITY.fullmatch, "registered facility", notes)
    found = _FACILITY.fullmatch(text)
    if not found:
        raise ValueError(f"{quote(raw)} is not like '01 - 001'")
    return (found[1] + found[2]).upper()


def _unmangle(text: str, fits: Callable[[str], object], label: str, notes: list[str] | None) -> str:
    """``text`` with keyboard-IME letters turned back into keys (VNI makes ``CA5`` ``CẠ``),
    if that makes it fit; else ``text`` unchanged."""
    for method in METHODS:
        keys = unmark_keys(text, method)
        if keys and keys != text and fits(keys):
            if notes is not None:
                doubt = "; may be wrong, check it" if tone_may_have_moved(text) else ""
                notes.append(f"{label} repaired from keyboard IME corruption ({method}){doubt}")
            return keys
    return text


def _field(label: str, parse: Callable[[str], T], raw: str) -> T:
    try:
        return parse(raw)
    except ValueError as exc:
        raise ValueError(f"BHYT {label}: {exc}") from None


def _template_notes(template: str, card: str | None) -> list[str]:
    if template == "old" and card is None:
        return ["old-template BHYT QR carries a 10-digit number instead of a card code"]
    if template == "new" and card is not None:
        return ["new-template BHYT QR carries a 15-character card code"]
    return []


def _hex_field(label: str, raw: str, notes: list[str], ime: str | None) -> str | None:
    if raw.strip() in EMPTY:
        return None
    try:
        decoded = decode_hex_field(raw, ime)
    except HexTextError as exc:
        raise ValueError(f"BHYT {label} {exc}") from None
    if decoded.repair == VNI:
        notes.append(f"{label} repaired from keyboard IME corruption (VNI); may be wrong, check it")
    elif decoded.repair:
        notes.append(f"{label} repaired from keyboard IME corruption ({decoded.repair})")
    return clean_text(decoded.text) or None


def _name(raw: str, notes: list[str], ime: str | None) -> str:
    name = _hex_field("name", raw, notes, ime)
    if not name:
        raise ValueError("BHYT QR has an empty name")
    if not any(ch.isalpha() for ch in name):
        raise ValueError("BHYT name has no letters")
    return name


def _guardian(raw: str, notes: list[str], ime: str | None) -> str | None:
    """Parent/guardian name: hex in one source, plain in another (§3.2), so try hex first.

    Text that could only be (damaged) hex is refused rather than shown as a name.
    """
    try:
        return _hex_field("guardian name", raw, notes, ime)
    except ValueError:
        if any(reverse_ime(raw.strip(), method) is not None for method in METHODS):
            raise
        return clean_text(raw) or None


def _gender(raw: str) -> Gender | None:
    code = raw.strip()
    if code in EMPTY:
        return None
    if code not in GENDERS:
        raise ValueError(f"unknown gender code {quote(code)} (expected 1 or 2)")
    return GENDERS[code]


def _area_code(raw: str) -> str | None:
    code = raw.strip()
    if code in EMPTY:
        return None
    if code not in AREA_CODES:
        raise ValueError(f"unknown code {quote(code)} (expected 4, 5, 6 or 7)")
    return AREA_CODES[code]


def _optional(raw: str) -> str | None:
    text = clean_text(raw)
    return None if text in EMPTY else text
