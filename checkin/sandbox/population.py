"""The sandbox gateway's registry: accounts, desk officers and (synthetic) insured people.

The file format is ``fixtures/population.json``. Dates are ISO ``YYYY-MM-DD``; validity dates
may also be relative to today (``+365d``, ``-30d``) and are resolved when asked, so the fixture
never goes stale. Loading validates everything and raises :class:`PopulationError` naming the
person, the field and the problem.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "population.json"

CARD_RE = re.compile(r"^[A-Z]{2}\d{13}$")
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR_RE = re.compile(r"^\d{4}$")
_RELATIVE_RE = re.compile(r"^([+-])(\d{1,5})d$")
_FACILITY_RE = re.compile(r"^[0-9A-Z]{5}$")

QR_KINDS = ("old", "new", "cccd")
GENDERS = ("male", "female")
AREA_CODES = (None, "K1", "K2", "K3")
MANAGERS = (None, "defence", "police")
STATUSES = (None, "revoked", "reduced")
QR_OVERRIDABLE = (
    "card_number",
    "social_insurance_number",
    "citizen_id",
    "full_name",
    "date_of_birth",
    "gender",
    "address",
    "registered_facility",
    "valid_from",
    "valid_to",
)


class PopulationError(ValueError):
    """The population file is missing, unreadable or wrong; the message says where."""


def resolve_date(value: str | None, today: date) -> date | None:
    """``YYYY-MM-DD`` or ``+Nd``/``-Nd`` (relative to ``today``) to a date; None stays None."""
    if value is None:
        return None
    relative = _RELATIVE_RE.match(value)
    if relative:
        days = int(relative.group(2))
        return today + timedelta(days=days if relative.group(1) == "+" else -days)
    return date.fromisoformat(value)


def birth_year(date_of_birth: str) -> int:
    return int(date_of_birth[:4])


@dataclass(frozen=True)
class Account:
    username: str
    password: str

    @property
    def password_md5(self) -> str:
        """Uppercase MD5 hex, as the gateway expects it (compare case-insensitively)."""
        return hashlib.md5(self.password.encode("utf-8")).hexdigest().upper()


@dataclass(frozen=True)
class RegisteredOfficer:
    """A desk officer registered with the gateway for the facility (CV 1923/BHXH-CNTT)."""

    name: str
    citizen_id: str


@dataclass(frozen=True)
class NewCard:
    card_number: str
    valid_from: str
    valid_to: str | None
    registered_facility: str
    registered_facility_name: str


@dataclass(frozen=True)
class Person:
    """One insured person as the registry knows them, plus what their QR shows."""

    key: str
    expected_code: str
    registered: bool
    qr: str
    full_name: str
    date_of_birth: str
    gender: str
    address: str | None
    citizen_id: str | None
    old_id_number: str | None
    social_insurance_number: str
    card_number: str
    registered_facility: str
    registered_facility_name: str
    valid_from: str
    valid_to: str | None
    issue_date: str | None
    five_year_date: str | None
    area_code: str | None
    issuing_office: str
    managed_by: str | None = None
    status: str | None = None
    new_card: NewCard | None = None
    qr_overrides: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def valid_from_on(self, today: date) -> date:
        return resolve_date(self.valid_from, today)  # type: ignore[return-value]

    def valid_to_on(self, today: date) -> date | None:
        return resolve_date(self.valid_to, today)

    def qr_view(self, today: date) -> dict[str, Any]:
        """What this person's QR shows, in the ``parse`` JSON keys, dates resolved to ISO.

        ``qr_overrides`` are applied; ``card_number`` is null on a new-template QR, and a CCCD
        QR carries only the citizen-ID fields.
        """
        view = {
            "kind": "cccd" if self.qr == "cccd" else "bhyt",
            "template": None if self.qr == "cccd" else self.qr,
            "card_number": self.card_number,
            "social_insurance_number": self.social_insurance_number,
            "citizen_id": self.citizen_id,
            "old_id_number": self.old_id_number,
            "full_name": self.full_name,
            "date_of_birth": self.date_of_birth,
            "gender": self.gender,
            "address": self.address,
            "registered_facility": self.registered_facility,
            "valid_from": _iso(resolve_date(self.valid_from, today)),
            "valid_to": _iso(resolve_date(self.valid_to, today)),
            "issue_date": _iso(resolve_date(self.issue_date, today)),
            "five_year_date": _iso(resolve_date(self.five_year_date, today)),
            "area_code": self.area_code,
        }
        view.update(_resolved_overrides(self.qr_overrides, today))
        return _trim_for_kind(view, self.qr)

    def qr_lookup_number(self, today: date) -> str:
        """The number a desk sends for this person's QR: card code, BHXH number or citizen ID."""
        view = self.qr_view(today)
        field_name = {"old": "card_number", "new": "social_insurance_number", "cccd": "citizen_id"}
        return view[field_name[self.qr]]


@dataclass(frozen=True)
class Population:
    facility_code: str
    facility_name: str
    accounts: tuple[Account, ...]
    officers: tuple[RegisteredOfficer, ...]
    people: tuple[Person, ...]
    source: str = "<memory>"

    def person(self, key: str) -> Person:
        for person in self.people:
            if person.key == key:
                return person
        raise KeyError(key)

    @property
    def registered_people(self) -> tuple[Person, ...]:
        return tuple(p for p in self.people if p.registered)

    def account(self, username: str) -> Account | None:
        return next((a for a in self.accounts if a.username == username), None)


def load_population(path: Path | str | None = None) -> Population:
    """Read and validate a population file (default: ``fixtures/population.json``)."""
    source = Path(path) if path is not None else DEFAULT_PATH
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PopulationError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PopulationError(f"{source}: not valid UTF-8 JSON: {exc}") from exc
    return parse_population(data, source=str(source))


def parse_population(data: Any, source: str = "<memory>") -> Population:
    """Validate an already-decoded population document."""
    _require(isinstance(data, dict), source, "top level must be a JSON object")
    facility = data.get("facility")
    _require(isinstance(facility, dict), source, "facility: must be an object")
    code, name = facility.get("code"), facility.get("name")
    _require(_is_facility(code), source, "facility.code: must be 5 digits/capitals")
    _require(_is_text(name), source, "facility.name: must be a non-empty string")
    accounts = _parse_list(data, "accounts", source, _parse_account)
    officers = _parse_list(data, "officers", source, _parse_officer)
    people = _parse_list(data, "people", source, _parse_person)
    _check_unique_keys(people, source)
    return Population(code, name, accounts, officers, people, source)


# --- validation helpers -------------------------------------------------------------------


def _parse_list(data: dict, name: str, source: str, parse: Callable) -> tuple:
    items = data.get(name)
    _require(isinstance(items, list) and items, source, f"{name}: must be a non-empty list")
    return tuple(parse(item, f"{source}: {name}[{i}]") for i, item in enumerate(items))


def _parse_account(item: Any, where: str) -> Account:
    _require(isinstance(item, dict), where, "must be an object")
    _require(_is_text(item.get("username")), where, "username: must be a non-empty string")
    _require(_is_text(item.get("password")), where, "password: must be a non-empty string")
    return Account(item["username"], item["password"])


def _parse_officer(item: Any, where: str) -> RegisteredOfficer:
    _require(isinstance(item, dict), where, "must be an object")
    _require(_is_text(item.get("name")), where, "name: must be a non-empty string")
    _require(_is_digits(item.get("citizen_id"), 12), where, "citizen_id: must be 12 digits")
    return RegisteredOfficer(item["name"], item["citizen_id"])


_PERSON_FIELDS = frozenset(Person.__dataclass_fields__)


def _parse_person(item: Any, where: str) -> Person:
    _require(isinstance(item, dict), where, "must be an object")
    key = item.get("key")
    _require(_is_text(key), where, "key: must be a non-empty string")
    where = f"{where} (key {key!r})"
    unknown = sorted(k for k in item if k not in _PERSON_FIELDS and not k.startswith("_"))
    _require(not unknown, where, f"unknown field(s): {', '.join(unknown)}")
    for check in _PERSON_CHECKS:
        check(item, where)
    values = {k: item.get(k) for k in _PERSON_FIELDS}
    values["new_card"] = _parse_new_card(item.get("new_card"), where)
    values["qr_overrides"] = MappingProxyType(dict(item.get("qr_overrides") or {}))
    return Person(**values)


def _check_identity(item: dict, where: str) -> None:
    _field(item, where, "expected_code", lambda v: _is_digits(v, 3), "must be 3 digits")
    _field(item, where, "registered", lambda v: isinstance(v, bool), "must be true or false")
    _field(item, where, "qr", lambda v: v in QR_KINDS, f"must be one of {QR_KINDS}")
    _field(item, where, "full_name", _is_text, "must be a non-empty string")
    _field(item, where, "date_of_birth", _is_birth_date, "must be YYYY-MM-DD or YYYY")
    _field(item, where, "gender", lambda v: v in GENDERS, "must be 'male' or 'female'")
    _field(item, where, "address", _is_optional_text, "must be a string or null")
    _field(item, where, "old_id_number", _is_old_id, "must be null, 9 or 12 digits")
    _field(item, where, "citizen_id", _is_optional_citizen_id, "must be 12 digits or null")
    if item.get("qr") == "cccd":
        _require(item.get("citizen_id") is not None, where, "citizen_id: a CCCD QR needs one")


def _check_citizen_id_digit(item: dict, where: str) -> None:
    citizen_id = item.get("citizen_id")
    if citizen_id is None:
        return
    year = birth_year(item["date_of_birth"])
    century = (year - 1900) // 100
    expected = 2 * century + (1 if item["gender"] == "female" else 0)
    _require(
        0 <= century <= 4 and citizen_id[3] == str(expected),
        where,
        f"citizen_id: 4th digit must be {expected} for a {item['gender']} born {year}",
    )
    _require(
        citizen_id[4:6] == f"{year % 100:02d}",
        where,
        "citizen_id: digits 5-6 must be the birth year's last two digits",
    )


def _check_card(item: dict, where: str) -> None:
    _field(item, where, "social_insurance_number", lambda v: _is_digits(v, 10), "must be 10 digits")
    _field(item, where, "card_number", _is_card, "must be 2 capitals + 13 digits")
    _require(
        item["card_number"][5:] == item["social_insurance_number"],
        where,
        "card_number: last 10 digits must equal social_insurance_number",
    )
    _field(item, where, "registered_facility", _is_facility, "must be 5 digits/capitals")
    _field(item, where, "registered_facility_name", _is_text, "must be a non-empty string")
    _field(item, where, "issuing_office", _is_text, "must be a non-empty string")


def _check_validity(item: dict, where: str) -> None:
    _field(item, where, "valid_from", _is_date_or_relative, "must be YYYY-MM-DD or +Nd/-Nd")
    for name in ("valid_to", "issue_date", "five_year_date"):
        _field(item, where, name, _is_optional_date, "must be null, YYYY-MM-DD or +Nd/-Nd")
    _field(item, where, "area_code", lambda v: v in AREA_CODES, "must be null, K1, K2 or K3")
    _field(item, where, "managed_by", lambda v: v in MANAGERS, "must be null, defence or police")
    _field(item, where, "status", lambda v: v in STATUSES, "must be null, revoked or reduced")


def _check_overrides(item: dict, where: str) -> None:
    overrides = item.get("qr_overrides") or {}
    _require(isinstance(overrides, dict), where, "qr_overrides: must be an object")
    for name, value in overrides.items():
        _require(name in QR_OVERRIDABLE, where, f"qr_overrides.{name}: cannot be overridden")
        _require(_is_text(value), where, f"qr_overrides.{name}: must be a non-empty string")
    if "date_of_birth" in overrides:
        ok = _is_birth_date(overrides["date_of_birth"])
        _require(ok, where, "qr_overrides.date_of_birth: must be YYYY-MM-DD or YYYY")


_PERSON_CHECKS = (
    _check_identity,
    _check_citizen_id_digit,
    _check_card,
    _check_validity,
    _check_overrides,
)


def _parse_new_card(value: Any, where: str) -> NewCard | None:
    if value is None:
        return None
    where = f"{where}: new_card"
    _require(isinstance(value, dict), where, "must be an object or null")
    _field(value, where, "card_number", _is_card, "must be 2 capitals + 13 digits")
    _field(value, where, "valid_from", _is_date_or_relative, "must be YYYY-MM-DD or +Nd/-Nd")
    _field(value, where, "valid_to", _is_optional_date, "must be null, YYYY-MM-DD or +Nd/-Nd")
    _field(value, where, "registered_facility", _is_facility, "must be 5 digits/capitals")
    _field(value, where, "registered_facility_name", _is_text, "must be a non-empty string")
    return NewCard(
        value["card_number"],
        value["valid_from"],
        value.get("valid_to"),
        value["registered_facility"],
        value["registered_facility_name"],
    )


def _check_unique_keys(people: tuple[Person, ...], source: str) -> None:
    seen: set[str] = set()
    for person in people:
        _require(person.key not in seen, source, f"people: duplicate key {person.key!r}")
        seen.add(person.key)


def _field(item: dict, where: str, name: str, ok: Callable[[Any], bool], problem: str) -> None:
    value = item.get(name)
    _require(ok(value), where, f"{name}: {problem} (got {value!r})")


def _require(condition: bool, where: str, problem: str) -> None:
    if not condition:
        raise PopulationError(f"{where}: {problem}")


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_optional_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _is_digits(value: Any, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and value.isascii() and value.isdigit()


def _is_optional_citizen_id(value: Any) -> bool:
    return value is None or _is_digits(value, 12)


def _is_old_id(value: Any) -> bool:
    return value is None or _is_digits(value, 9) or _is_digits(value, 12)


def _is_card(value: Any) -> bool:
    return isinstance(value, str) and bool(CARD_RE.match(value))


def _is_facility(value: Any) -> bool:
    return isinstance(value, str) and bool(_FACILITY_RE.match(value))


def _is_iso_date(value: Any) -> bool:
    if not (isinstance(value, str) and _ISO_RE.match(value)):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_birth_date(value: Any) -> bool:
    return _is_iso_date(value) or (isinstance(value, str) and bool(_YEAR_RE.match(value)))


def _is_date_or_relative(value: Any) -> bool:
    return _is_iso_date(value) or (isinstance(value, str) and bool(_RELATIVE_RE.match(value)))


def _is_optional_date(value: Any) -> bool:
    return value is None or _is_date_or_relative(value)


# --- QR view helpers ------------------------------------------------------------------------


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _resolved_overrides(overrides: Mapping[str, str], today: date) -> dict[str, str | None]:
    out: dict[str, str | None] = dict(overrides)
    for name in ("valid_from", "valid_to"):
        if name in out:
            out[name] = _iso(resolve_date(out[name], today))
    return out


_CCCD_KEYS = ("citizen_id", "old_id_number", "full_name", "date_of_birth", "gender", "address")


def _trim_for_kind(view: dict[str, Any], qr: str) -> dict[str, Any]:
    if qr == "new":
        view["card_number"] = None
        view["citizen_id"] = None
        view["old_id_number"] = None
    elif qr == "old":
        view["citizen_id"] = None
        view["old_id_number"] = None
    else:
        view = {
            k: (v if k in _CCCD_KEYS or k in ("kind", "template") else None)
            for k, v in view.items()
        }
    return view
