"""Date shapes found in BHYT and CCCD QR payloads, to and from the contract's ISO strings.

The QRs print ``dd/MM/yyyy`` (BHYT, also unpadded ``d/M/yyyy``) or ``ddMMyyyy`` (CCCD). A birth
date may be known only by year (``yyyy``) or by month (``MM/yyyy``, ``MMyyyy``); the contract has
no month precision, so a month-only date becomes ``"YYYY"`` and the caller gets a warning.
Functions raise ``ValueError`` with a short reason; the layout parsers add the field name.
"""

from __future__ import annotations

import re
from datetime import date

from checkin.formats.hexutf8 import quote

MIN_YEAR, MAX_YEAR = 1850, 2199
EMPTY = ("", "-")

_DAY_MONTH_YEAR = (
    re.compile(r"(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})/(?P<y>[0-9]{4})"),
    re.compile(r"(?P<d>[0-9]{2})(?P<m>[0-9]{2})(?P<y>[0-9]{4})"),
)
_MONTH_YEAR = (
    re.compile(r"(?P<m>[0-9]{1,2})/(?P<y>[0-9]{4})"),
    re.compile(r"(?P<m>[0-9]{2})(?P<y>[0-9]{4})"),
)
_YEAR = re.compile(r"(?P<y>[0-9]{4})")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _year(text: str, raw: str) -> int:
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year out of range in date {quote(raw)}")
    return year


def _full_date(found: re.Match[str], raw: str) -> str:
    year = _year(found["y"], raw)
    try:
        return date(year, int(found["m"]), int(found["d"])).isoformat()
    except ValueError:
        raise ValueError(f"impossible date {quote(raw)}") from None


def _month_date(found: re.Match[str], raw: str) -> str:
    if not 1 <= int(found["m"]) <= 12:
        raise ValueError(f"impossible date {quote(raw)}")
    return str(_year(found["y"], raw))


def parse_date(raw: str) -> str:
    """A full date (``dd/MM/yyyy``, ``d/M/yyyy`` or ``ddMMyyyy``) as ISO ``YYYY-MM-DD``."""
    text = raw.strip()
    for pattern in _DAY_MONTH_YEAR:
        if found := pattern.fullmatch(text):
            return _full_date(found, raw)
    raise ValueError(f"unrecognised date {quote(raw)} (expected dd/MM/yyyy)")


def parse_optional_date(raw: str) -> str | None:
    """Like :func:`parse_date`, but ``-`` or nothing means no date."""
    return None if raw.strip() in EMPTY else parse_date(raw)


def parse_birth_date(raw: str) -> tuple[str | None, str | None]:
    """A birth date as ``(value, warning)``: ISO day, ``"YYYY"``, or None for ``-``/empty.

    Month-only dates keep only the year, with a warning, because the contract knows no months.
    """
    text = raw.strip()
    if text in EMPTY:
        return None, "no birth date in the QR"
    for pattern in _DAY_MONTH_YEAR:
        if found := pattern.fullmatch(text):
            return _full_date(found, raw), None
    if found := _YEAR.fullmatch(text):
        return str(_year(found["y"], raw)), None
    for pattern in _MONTH_YEAR:
        if found := pattern.fullmatch(text):
            year = _month_date(found, raw)
            return year, f"birth date {quote(text)} has only month and year; kept the year"
    raise ValueError(f"unrecognised date {quote(raw)} (expected dd/MM/yyyy or yyyy)")


def _split_iso(value: str) -> tuple[str, str, str]:
    if not _ISO_DAY.fullmatch(value):
        raise ValueError(f"not an ISO date: {value!r}")
    date.fromisoformat(value)
    year, month, day = value.split("-")
    return year, month, day


def format_date(value: str | None, *, compact: bool = False) -> str:
    """ISO ``YYYY-MM-DD`` or ``YYYY`` to ``dd/MM/yyyy`` (``ddMMyyyy`` if compact); None to ``-``
    (to ``""`` if compact, as the CCCD QR leaves empty fields empty)."""
    if value is None:
        return "" if compact else "-"
    if re.fullmatch(r"[0-9]{4}", value):
        return value
    year, month, day = _split_iso(value)
    return f"{day}{month}{year}" if compact else f"{day}/{month}/{year}"
