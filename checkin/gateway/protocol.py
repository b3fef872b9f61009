"""The BHXH gateway's wire format (formats.md §6): the only place its field names appear.

Requests carry ``maThe, hoTen, ngaySinh, hoTenCb, cccdCb``; replies are mapped here to
:class:`CardAnswer`, in English, with ISO dates.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

from checkin.model import Gender, Officer

TOKEN_PATH = "/api/token/take"
CARD_CHECK_PATH = "/api/egw/KQNhanLichSuKCB2024"
# Not part of the BHXH API (a gateway that does not know it ignores it); see check_card.
IDEMPOTENCY_HEADER = "Idempotency-Key"

_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class CardQuery:
    """What the desk asks about: a number (15-char code, 10-digit BHXH number or 12-digit
    citizen ID), and the name and birth date the gateway checks it against."""

    number: str
    full_name: str
    date_of_birth: str  # ISO "YYYY-MM-DD" or "YYYY"


@dataclass(frozen=True)
class NewCard:
    card_number: str | None
    valid_from: str | None
    valid_to: str | None
    registered_facility: str | None
    registered_facility_name: str | None


@dataclass(frozen=True)
class CardAnswer:
    """One gateway reply, whatever its result code. ``raw`` keeps the reply as received (the
    law asks to store it against the visit)."""

    result_code: str
    note: str | None
    received_at: str  # ISO timestamp, UTC
    card_number: str | None = None
    social_insurance_number: str | None = None
    full_name: str | None = None
    date_of_birth: str | None = None
    gender: str | None = None
    address: str | None = None
    registered_facility: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    area_code: str | None = None
    five_year_date: str | None = None
    issuing_office: str | None = None
    old_card_number: str | None = None
    new_card: NewCard | None = None
    raw: dict | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> CardAnswer:
        values = dict(data)
        if values.get("new_card"):
            values["new_card"] = NewCard(**values["new_card"])
        return cls(**values)


def password_hash(password: str) -> str:
    """The gateway wants the MD5 hex of the password; uppercase per the transcriptions."""
    return hashlib.md5(password.encode("utf-8")).hexdigest().upper()


def to_gateway_date(value: str) -> str:
    """ISO ``YYYY-MM-DD`` → ``dd/MM/yyyy``; a year-only ``YYYY`` stays as it is."""
    match = _ISO.match(value)
    if match:
        year, month, day = match.groups()
        return f"{day}/{month}/{year}"
    if re.fullmatch(r"\d{4}", value):
        return value
    raise ValueError(f"birth date must be YYYY-MM-DD or YYYY, got {value!r}")


def from_gateway_date(value: object) -> str | None:
    """``dd/MM/yyyy`` → ISO; ``yyyy`` stays; anything else (empty, garbage) → None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    match = _DMY.match(value)
    if match:
        day, month, year = (int(x) for x in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return None
    if re.fullmatch(r"\d{4}", value):
        return value
    return None


def card_check_body(query: CardQuery, officer: Officer) -> dict[str, str]:
    return {
        "maThe": query.number,
        "hoTen": query.full_name,
        "ngaySinh": to_gateway_date(query.date_of_birth),
        "hoTenCb": officer.name,
        "cccdCb": officer.citizen_id,
    }


def parse_card_reply(body: dict, received_at: datetime | None = None) -> CardAnswer:
    """Map a ``KQNhanLichSuKCB2024`` reply to a :class:`CardAnswer`."""
    stamp = (received_at or datetime.now(UTC)).isoformat(timespec="seconds")
    new_card = None
    if _text(body.get("maTheMoi")):
        new_card = NewCard(
            card_number=_text(body.get("maTheMoi")),
            valid_from=from_gateway_date(body.get("gtTheTuMoi")),
            valid_to=from_gateway_date(body.get("gtTheDenMoi")),
            registered_facility=_text(body.get("maDKBDMoi")),
            registered_facility_name=_text(body.get("tenDKBDMoi")),
        )
    return CardAnswer(
        result_code=str(body.get("maKetQua", "")).strip(),
        note=_text(body.get("ghiChu")),
        received_at=stamp,
        card_number=_text(body.get("maThe")),
        social_insurance_number=_text(body.get("maSoBHXH")),
        full_name=_text(body.get("hoTen")),
        date_of_birth=from_gateway_date(body.get("ngaySinh")),
        gender=_gender(body.get("gioiTinh")),
        address=_text(body.get("diaChi")),
        registered_facility=_text(body.get("maDKBD")),
        valid_from=from_gateway_date(body.get("gtTheTu")),
        valid_to=from_gateway_date(body.get("gtTheDen")),
        area_code=_text(body.get("maKV")),
        five_year_date=from_gateway_date(body.get("ngayDu5Nam")),
        issuing_office=_text(body.get("cqBHXH")),
        old_card_number=_text(body.get("maTheCu")),
        new_card=new_card,
        raw=body,
    )


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _gender(value: object) -> str | None:
    text = (_text(value) or "").casefold()
    if text in ("nam", "1"):
        return Gender.MALE.value
    if text in ("nữ", "nu", "2"):
        return Gender.FEMALE.value
    return None
