"""Identity → QR payload text, exactly as formats.md §3 and §4 lay it out.

The inverse of the parsers, for the fixture generator and round-trip tests. Raises
``ValueError`` when the identity cannot be written in the asked layout.
"""

from __future__ import annotations

from checkin.formats.dates import format_date
from checkin.formats.hexutf8 import encode_hex_text
from checkin.model import Gender, Identity

DUMMY_CHECK = "0123456789abcdef-0000"
NEW_TEMPLATE_DIGIT = "4"  # element 14 in both real new-template samples
_GENDER_CODES = {Gender.MALE: "1", Gender.FEMALE: "2"}
_GENDER_WORDS = {Gender.MALE: "Nam", Gender.FEMALE: "Nữ"}
_AREA_DIGITS = {None: "4", "K1": "5", "K2": "6", "K3": "7"}


def bhyt_payload(
    identity: Identity,
    *,
    template: str,
    check: str = DUMMY_CHECK,
    management_code: str | None = None,
) -> str:
    """The BHYT QR text (``template`` "old": 15 fields, "new": 17 fields), ending in ``|$``.

    Without ``management_code``, element 9 is made the way the samples look: the province of
    the registered facility, ``01``, and the 10-digit number.
    """
    if template not in ("old", "new"):
        raise ValueError(f"unknown BHYT template {template!r} (expected 'old' or 'new')")
    number = identity.card_number if template == "old" else identity.social_insurance_number
    if not number:
        needed = "a card number" if template == "old" else "a social insurance number"
        raise ValueError(f"a {template}-template BHYT QR needs {needed}")
    if identity.area_code not in _AREA_DIGITS:
        raise ValueError(f"unknown living-area code {identity.area_code!r}")
    if not identity.full_name:
        raise ValueError("a BHYT QR needs a name")
    fields = [
        number,
        encode_hex_text(identity.full_name),
        format_date(identity.date_of_birth),
        _GENDER_CODES[identity.gender] if identity.gender else "-",
        _hex_or_dash(identity.address),
        _facility(identity.registered_facility),
        format_date(identity.valid_from),
        format_date(identity.valid_to),
        format_date(identity.issue_date),
        management_code or _management_code(identity),
        _hex_or_dash(identity.guardian_name),
        _AREA_DIGITS[identity.area_code],
        " " + format_date(identity.five_year_date) if identity.five_year_date else "-",
        check,
    ]
    if template == "new":
        fields += [NEW_TEMPLATE_DIGIT, _hex_or_dash(identity.issuing_office)]
    return _join([*fields, "$"])


def cccd_payload(identity: Identity, *, variant: int = 7) -> str:
    """The CCCD QR text: 7 fields, or the 6-field form (no old ID, ``dd/MM/yyyy`` dates), or
    the 11-field form (7 fields and 4 empty ones)."""
    if variant not in (6, 7, 11):
        raise ValueError(f"unknown CCCD QR variant {variant} (expected 6, 7 or 11)")
    if not identity.citizen_id:
        raise ValueError("a CCCD QR needs the identity's citizen ID")
    if not identity.full_name:
        raise ValueError("a CCCD QR needs a name")
    compact = variant != 6
    fields = [
        identity.citizen_id,
        identity.old_id_number or "",
        identity.full_name,
        _cccd_date(identity.date_of_birth, compact),
        _GENDER_WORDS[identity.gender] if identity.gender else "",
        identity.address or "",
        _cccd_date(identity.issue_date, compact),
    ]
    if variant == 6:
        del fields[1]
    if variant == 11:
        fields += [""] * 4
    return _join(fields)


def _cccd_date(value: str | None, compact: bool) -> str:
    """``ddMMyyyy`` (``dd/MM/yyyy`` in the 6-field form); an unknown date stays empty."""
    return format_date(value, compact=compact) if value else ""


def _hex_or_dash(text: str | None) -> str:
    return encode_hex_text(text) if text else "-"


def _facility(code: str | None) -> str:
    if not code:
        return "-"
    if len(code) != 5:
        raise ValueError(f"registered facility {code!r} is not 5 characters")
    return f"{code[:2]} - {code[2:]}"


def _management_code(identity: Identity) -> str:
    province = (identity.registered_facility or "00")[:2]
    number = identity.social_insurance_number or (identity.card_number or "")[-10:]
    return f"{province}01{number}"


def _join(fields: list[str]) -> str:
    if any("|" in field for field in fields):
        raise ValueError("a QR field cannot contain '|'")
    return "|".join(fields)
