"""What reception scans or types, turned into an :class:`~checkin.model.Identity`.

Inputs (formats.md §2), told apart after stripping scanner noise and splitting on ``|``:

- BHYT QR, old template: 15 fields ending in ``$``; new template (VssID): 17 fields;
- CCCD / VNeID QR: 7 fields (also 6, and 11 or more of which the first 7 are read);
- a number alone, as staff type it: a 15-character card code (or 20 with the facility
  appended), a 10-digit insurance number, or a 12-digit citizen ID. This is the only input
  that gives an Identity with ``full_name == ""``: the desk must type the name and birth date.

:func:`parse_payload` never raises; :func:`parse_or_raise` raises :class:`PayloadError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checkin.formats import bhyt, cccd
from checkin.formats.bhyt import BhytQr
from checkin.formats.encode import bhyt_payload, cccd_payload
from checkin.formats.hexutf8 import decode_hex_text
from checkin.model import Identity, PayloadKind

__all__ = [
    "BhytQr",
    "ParseFailure",
    "PayloadError",
    "bhyt_payload",
    "cccd_payload",
    "decode_hex_text",
    "parse_bhyt_qr",
    "parse_or_raise",
    "parse_payload",
    "strip_payload",
]

NUMBER_ONLY = "number only: the name and birth date must be entered by hand"
_NOISE = "\x00\ufeff"
_TYPING_SEPARATORS = re.compile(r"[\s.\-]")


class PayloadError(ValueError):
    """The text is not a patient QR or number we can read; ``str(exc)`` says why in one line."""


@dataclass(frozen=True)
class ParseFailure:
    reason: str  # one English line for the desk or IT, e.g. "BHYT QR has 14 fields, ..."


def parse_payload(text: str) -> Identity | ParseFailure:
    """Classify and parse one scanned or typed text. Never raises."""
    try:
        return parse_or_raise(text)
    except PayloadError as exc:
        return ParseFailure(_one_line(str(exc)))
    except Exception as exc:  # a parser bug must not stop the desk; tests assert it never happens
        return ParseFailure(f"unexpected parser error ({type(exc).__name__}); please report it")


def parse_or_raise(text: str) -> Identity:
    """Like :func:`parse_payload`, raising :class:`PayloadError` instead of returning a failure."""
    parts = _split(text)
    head = parts[0].strip()
    try:
        if len(parts) == 1:
            return _number_only(parts[0])
        if parts[-1].strip() == bhyt.TERMINATOR or bhyt.looks_like_bhyt_number(head):
            return bhyt.parse_bhyt(parts).identity
        if cccd.CITIZEN_ID.fullmatch(head):
            return cccd.parse_cccd(parts)
    except PayloadError:
        raise
    except ValueError as exc:
        raise PayloadError(_one_line(str(exc))) from None
    raise PayloadError(
        f"unrecognised payload ({len(parts)} fields): field 0 is not a BHYT card code,"
        " a 10-digit insurance number or a 12-digit citizen ID"
    )


def parse_bhyt_qr(text: str) -> BhytQr:
    """A BHYT QR with the fields the contract has no key for (management code, check string).

    Raises :class:`PayloadError` for anything that is not a BHYT QR.
    """
    parts = _split(text)
    if len(parts) == 1 or parts[-1].strip() != bhyt.TERMINATOR:
        raise PayloadError("not a BHYT QR (no '|$' at the end)")
    try:
        return bhyt.parse_bhyt(parts)
    except ValueError as exc:
        raise PayloadError(_one_line(str(exc))) from None


def strip_payload(text: str) -> str:
    """Without the whitespace, CR/LF, NUL and byte-order marks scanners add around it."""
    previous = None
    while previous != text:
        previous = text
        text = text.strip().strip(_NOISE)
    return text


def _one_line(reason: str) -> str:
    return " ".join(reason.split()) or "unreadable payload"


def _split(text: str) -> list[str]:
    if not isinstance(text, str):
        raise PayloadError(f"payload is {type(text).__name__}, not text")
    cleaned = strip_payload(text)
    if not cleaned:
        raise PayloadError("empty payload")
    return cleaned.split("|")


def _number_only(text: str) -> Identity:
    compact = _TYPING_SEPARATORS.sub("", text).upper()
    if cccd.CITIZEN_ID.fullmatch(compact):
        return Identity(
            kind=PayloadKind.CCCD, full_name="", citizen_id=compact, warnings=(NUMBER_ONLY,)
        )
    try:
        card, social, notes = bhyt.card_number_fields(compact)
    except ValueError:
        raise PayloadError(
            "not a QR or number we know: expected a BHYT or CCCD QR, a 15-character card code,"
            " a 10-digit insurance number or a 12-digit citizen ID"
        ) from None
    return Identity(
        kind=PayloadKind.BHYT,
        full_name="",
        card_number=card,
        social_insurance_number=social,
        warnings=(*notes, NUMBER_ONLY),
    )
