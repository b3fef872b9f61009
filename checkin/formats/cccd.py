"""The CCCD / VNeID citizen-ID QR (formats.md §4): plain UTF-8, 7 fields (also 6 and 11).

Functions here raise ``ValueError`` with a one-line reason; the package entry points turn that
into ``PayloadError`` / ``ParseFailure``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import TypeVar

from checkin.formats.dates import parse_birth_date, parse_optional_date
from checkin.formats.hexutf8 import clean_text, quote
from checkin.model import Gender, Identity, PayloadKind

CITIZEN_ID = re.compile(r"[0-9]{12}")
DIGITS = re.compile(r"[0-9]+")
FIELDS, SHORT_FIELDS, LONG_FIELDS = 7, 6, 11
GENDERS = {"nam": Gender.MALE, "nữ": Gender.FEMALE, "nu": Gender.FEMALE}

T = TypeVar("T")


def parse_cccd(parts: list[str]) -> Identity:
    """The fields of a CCCD QR already split on ``|``.

    Layouts: ``id|old id|name|dob|gender|address|issued`` (7 fields; extra trailing fields, as on
    11-field scans, are ignored) or ``id|name|dob|gender|address|issued`` (6 fields, no old ID).
    """
    count = len(parts)
    if count < SHORT_FIELDS:
        raise ValueError(f"CCCD QR has {count} fields, expected {FIELDS} (or 6 or 11)")
    if count == SHORT_FIELDS:
        citizen, name, birth, gender, address, issued = parts
        old = ""
    else:
        citizen, old, name, birth, gender, address, issued = parts[:FIELDS]
    notes = _extra_field_notes(parts)
    date_of_birth, note = _field("birth date", parse_birth_date, birth)
    sex = _field("gender", _gender, gender)
    if note:
        notes.append(note)
    if sex is None:
        notes.append("no gender in the QR")
    return Identity(
        kind=PayloadKind.CCCD,
        full_name=_name(name),
        citizen_id=_citizen_id(citizen),
        old_id_number=_old_id(old),
        date_of_birth=date_of_birth,
        gender=sex,
        address=clean_text(address) or None,
        issue_date=_field("issue date", parse_optional_date, issued),
        warnings=tuple(notes),
    )


def _field(label: str, parse: Callable[[str], T], raw: str) -> T:
    try:
        return parse(raw)
    except ValueError as exc:
        raise ValueError(f"CCCD {label}: {exc}") from None


def _extra_field_notes(parts: list[str]) -> list[str]:
    count = len(parts)
    if count in (SHORT_FIELDS, FIELDS, LONG_FIELDS) or not any(p.strip() for p in parts[FIELDS:]):
        return []
    return [f"CCCD QR has {count} fields; read the first {FIELDS}"]


def _citizen_id(raw: str) -> str:
    number = raw.strip()
    if not CITIZEN_ID.fullmatch(number):
        raise ValueError(f"CCCD citizen ID must be 12 digits (got {len(number)} characters)")
    return number


def _old_id(raw: str) -> str | None:
    number = raw.strip()
    if number and not DIGITS.fullmatch(number):
        raise ValueError("CCCD old ID number (CMND) must be digits")
    return number or None


def _name(raw: str) -> str:
    name = clean_text(raw)
    if not name:
        raise ValueError("CCCD QR has an empty name")
    if not any(ch.isalpha() for ch in name):
        raise ValueError("CCCD name has no letters")
    return name


def _gender(raw: str) -> Gender | None:
    text = unicodedata.normalize("NFC", raw).strip()
    if not text:
        return None
    if text.casefold() not in GENDERS:
        raise ValueError(f"unknown gender {quote(text)} (expected Nam or Nữ)")
    return GENDERS[text.casefold()]
