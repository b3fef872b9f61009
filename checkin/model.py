"""Domain values shared by every layer: who the patient is, and what the desk decided.

Dates are kept as ISO strings (``YYYY-MM-DD``), or ``YYYY`` for a birth date known only by
year, exactly as the command-line contract prints them. Vietnamese field names stay at the
protocol edges (``checkin.formats`` and ``checkin.gateway``); nothing here speaks them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum


class PayloadKind(StrEnum):
    BHYT = "bhyt"
    CCCD = "cccd"


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


class Status(StrEnum):
    """The desk's verdict; the banner colour follows it."""

    ELIGIBLE = "eligible"  # green
    WARNING = "warning"  # amber: admit, but the desk must do something
    NOT_ELIGIBLE = "not_eligible"  # red: not covered, self-pay path
    UNVERIFIED = "unverified"  # grey: admitted without a gateway answer; re-check later


class Source(StrEnum):
    ONLINE = "online"
    CACHE = "cache"
    NONE = "none"


# Keys of ``parse`` output in docs/cli-contract.md, in that order.
IDENTITY_KEYS = (
    "kind",
    "template",
    "card_number",
    "social_insurance_number",
    "citizen_id",
    "old_id_number",
    "full_name",
    "date_of_birth",
    "gender",
    "address",
    "registered_facility",
    "valid_from",
    "valid_to",
    "issue_date",
    "five_year_date",
    "area_code",
)


@dataclass(frozen=True)
class Identity:
    """A patient as one scan (or one card read) tells us.

    ``card_number`` is the 15-character BHYT code when known, ``social_insurance_number`` the
    10-digit number (always derivable from a 15-character code), ``citizen_id`` the 12-digit
    CCCD number. Extra fields beyond the contract (``issuing_office``, ``guardian_name``,
    ``warnings``) are printed too: the contract allows additions.
    """

    kind: PayloadKind
    full_name: str
    template: str | None = None  # "old" | "new" for BHYT
    card_number: str | None = None
    social_insurance_number: str | None = None
    citizen_id: str | None = None
    old_id_number: str | None = None
    date_of_birth: str | None = None
    gender: Gender | None = None
    address: str | None = None
    registered_facility: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    issue_date: str | None = None
    five_year_date: str | None = None
    area_code: str | None = None
    issuing_office: str | None = None
    guardian_name: str | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def lookup_number(self) -> str:
        """The number the gateway is asked about: full card code, else BHXH number, else ID."""
        number = self.card_number or self.social_insurance_number or self.citizen_id
        if not number:
            raise ValueError("identity carries no card number or citizen ID")
        return number

    def to_json(self) -> dict:
        data = asdict(self)
        out = {key: _plain(data[key]) for key in IDENTITY_KEYS}
        out["issuing_office"] = self.issuing_office
        out["guardian_name"] = self.guardian_name
        out["warnings"] = list(self.warnings)
        return out

    @classmethod
    def from_json(cls, data: dict) -> Identity:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["kind"] = PayloadKind(values["kind"])
        if values.get("gender"):
            values["gender"] = Gender(values["gender"])
        values["warnings"] = tuple(values.get("warnings") or ())
        return cls(**values)


@dataclass(frozen=True)
class Officer:
    """The desk officer doing the lookup; the gateway requires both fields (CV 1923/BHXH-CNTT)."""

    name: str
    citizen_id: str


def _plain(value: object) -> object:
    return value.value if isinstance(value, StrEnum) else value


def mask_number(number: str | None) -> str:
    """Show only the last four characters of an ID or card number, for logs and screens."""
    if not number:
        return ""
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]
