"""The sandbox gateway's card-check decision (formats.md §6.6): a pure function.

:func:`decide` takes the population (people and registered officers), the request fields and
today's date, and returns the result code and, when one was found, the person and the card the
answer is about. No I/O, no clock.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from checkin.sandbox.population import NewCard, Person, Population, resolve_date

# formats.md §5.3, plus YE and the legacy TL that Inventec still accepts.
_GROUPS_TEXT = """
    DN HX CH NN TK HC XK HT TB NO CT XB TN CS QN CA CY XN MS CC CK CB KC HD TE BT HN DT DK XD
    TS TC TQ TV TA TY HG LS PV CN HS SV GB GD YE TL
"""
OBJECT_GROUPS = frozenset(_GROUPS_TEXT.split())
MAX_FIELD_LENGTH = 100

_FULL_DATE_RE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_MONTH_DATE_RE = re.compile(r"^(\d{2})/(\d{4})$")
_YEAR_DATE_RE = re.compile(r"^(\d{4})$")
_DIGITS_RE = re.compile(r"^\d+$")

# Codes whose reply carries the card's data (and the lookup history).
CARD_DATA_CODES = frozenset({"000", "001", "002", "003", "004", "010", "110", "120"})

MESSAGES = {
    "000": "Thẻ còn giá trị sử dụng.",
    "001": "Thẻ do BHXH Bộ Quốc phòng quản lý, đề nghị kiểm tra thẻ và giấy tờ tùy thân.",
    "002": "Thẻ do BHXH Bộ Công an quản lý, đề nghị kiểm tra thẻ và giấy tờ tùy thân.",
    "003": "Thẻ cũ hết giá trị sử dụng, đã được cấp thẻ mới.",
    "004": "Thẻ cũ còn giá trị sử dụng, đã được cấp thẻ mới.",
    "010": "Thẻ hết giá trị sử dụng.",
    "050": "Không có thông tin thẻ.",
    "051": "Mã thẻ không đúng.",
    "052": "Mã tỉnh cấp thẻ (ký tự thứ 4, 5 của mã thẻ) không đúng.",
    "053": "Mã quyền lợi thẻ (ký tự thứ 3 của mã thẻ) không đúng.",
    "054": "Số CCCD của cán bộ tra cứu chưa được đăng ký trong danh sách người dùng của cơ sở.",
    "055": "Họ tên cán bộ tra cứu không khớp với số CCCD đã đăng ký.",
    "060": "Họ tên không đúng.",
    "061": "Họ tên không đúng (đúng ký tự đầu).",
    "070": "Ngày sinh không đúng.",
    "110": "Thẻ đã thu hồi.",
    "120": "Thẻ đã báo giảm.",
    "205": "Lỗi sai định dạng tham số.",
}


@dataclass(frozen=True)
class CardRequest:
    """The body of one ``KQNhanLichSuKCB2024`` call, as received (protocol names in comments)."""

    number: str  # maThe
    full_name: str  # hoTen
    date_of_birth: str  # ngaySinh: dd/MM/yyyy, MM/yyyy or yyyy
    officer_name: str  # hoTenCb
    officer_id: str  # cccdCb


@dataclass(frozen=True)
class CardView:
    """The card an answer is about: the person's registry card, or their new card."""

    card_number: str
    valid_from: date
    valid_to: date | None
    registered_facility: str
    registered_facility_name: str


@dataclass(frozen=True)
class Decision:
    code: str
    person: Person | None = None
    card: CardView | None = None
    new_card: CardView | None = None  # filled for 003/004

    @property
    def message(self) -> str:
        return MESSAGES[self.code]

    @property
    def has_card_data(self) -> bool:
        return self.code in CARD_DATA_CODES and self.person is not None


def decide(population: Population, request: CardRequest, today: date) -> Decision:
    """The gateway's answer to ``request`` on ``today``, checks in formats.md §6.6 order."""
    if not _fields_ok(request):
        return Decision("205")
    officer_code = _officer_code(population, request)
    if officer_code:
        return Decision(officer_code)
    shape_code = card_shape_code(request.number)
    if shape_code:
        return Decision(shape_code)
    person, via_new_card = find_person(population, request.number)
    if person is None:
        return Decision(_not_found_code(population, request.number))
    identity_code = _identity_code(person, request)
    if identity_code:
        return Decision(identity_code, person)
    return _card_decision(person, via_new_card, today)


# --- the checks, in order ------------------------------------------------------------------


def _fields_ok(request: CardRequest) -> bool:
    values = (
        request.number,
        request.full_name,
        request.date_of_birth,
        request.officer_name,
        request.officer_id,
    )
    return all(_is_clean(v) for v in values) and parse_birth_date(request.date_of_birth) is not None


def _is_clean(value: object) -> bool:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_FIELD_LENGTH:
        return False
    return not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value)


def parse_birth_date(text: str) -> tuple[int | None, int | None, int] | None:
    """``dd/MM/yyyy``, ``MM/yyyy`` or ``yyyy`` to (day, month, year); None when malformed."""
    text = text.strip()
    for pattern in (_FULL_DATE_RE, _MONTH_DATE_RE, _YEAR_DATE_RE):
        match = pattern.match(text)
        if match:
            return _checked_parts(match.groups())
    return None


def _checked_parts(groups: tuple[str, ...]) -> tuple[int | None, int | None, int] | None:
    numbers = [int(g) for g in groups]
    year = numbers[-1]
    month = numbers[-2] if len(numbers) >= 2 else None
    day = numbers[-3] if len(numbers) == 3 else None
    try:
        date(year, month or 1, day or 1)
    except ValueError:
        return None
    return (day, month, year)


def _officer_code(population: Population, request: CardRequest) -> str | None:
    officer_id = request.officer_id.strip()
    officer = next((o for o in population.officers if o.citizen_id == officer_id), None)
    if officer is None:
        return "054"
    if normalize_name(officer.name) != normalize_name(request.officer_name):
        return "055"
    return None


def card_shape_code(number: str) -> str | None:
    """051/052/053 when the number cannot be a card code, BHXH number or citizen ID."""
    number = number.strip()
    if _DIGITS_RE.match(number) and number.isascii() and len(number) in (10, 12):
        return None
    if len(number) != 15:
        return "051"
    group, benefit, province, serial = number[:2], number[2], number[3:5], number[5:]
    if group not in OBJECT_GROUPS:
        return "051"
    if benefit not in "12345":
        return "053"
    if not (province.isascii() and province.isdigit()) or province == "00":
        return "052"
    if not (serial.isascii() and serial.isdigit()):
        return "051"
    return None


def find_person(population: Population, number: str) -> tuple[Person | None, bool]:
    """The registered person ``number`` designates, and whether it named their new card."""
    number = number.strip()
    for person in population.registered_people:
        if number in (person.card_number, person.social_insurance_number, person.citizen_id):
            return person, False
        if person.new_card and person.new_card.card_number == number:
            return person, True
    return None, False


def _not_found_code(population: Population, number: str) -> str:
    """A well-formed 15-char code whose BHXH number exists under another code is a wrong code."""
    number = number.strip()
    if len(number) == 15:
        serial = number[5:]
        if any(p.social_insurance_number == serial for p in population.registered_people):
            return "051"
    return "050"


def _identity_code(person: Person, request: CardRequest) -> str | None:
    asked, known = normalize_name(request.full_name), normalize_name(person.full_name)
    if asked != known:
        return "061" if asked[:1] == known[:1] else "060"
    if not birth_date_matches(person.date_of_birth, request.date_of_birth):
        return "070"
    return None


def _card_decision(person: Person, via_new_card: bool, today: date) -> Decision:
    card = new_card_view(person.new_card, today) if via_new_card else registry_card(person, today)
    if person.status == "revoked":
        return Decision("110", person, card)
    if person.status == "reduced":
        return Decision("120", person, card)
    if person.managed_by == "defence":
        return Decision("001", person, card)
    if person.managed_by == "police":
        return Decision("002", person, card)
    if person.new_card and not via_new_card:
        new = new_card_view(person.new_card, today)
        code = "003" if _expired(card, today) else "004"
        return Decision(code, person, card, new)
    if _expired(card, today):
        return Decision("010", person, card)
    return Decision("000", person, card)


# --- small helpers ---------------------------------------------------------------------------


def normalize_name(name: str) -> str:
    """NFC, case-folded, whitespace collapsed: how the gateway compares names."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def birth_date_matches(registry_value: str, asked: str) -> bool:
    """The asked ``ngaySinh`` must equal the registry's, at the registry's precision."""
    parts = parse_birth_date(asked)
    if parts is None:
        return False
    if len(registry_value) == 4:
        return parts == (None, None, int(registry_value))
    known = date.fromisoformat(registry_value)
    return parts == (known.day, known.month, known.year)


def registry_card(person: Person, today: date) -> CardView:
    return CardView(
        person.card_number,
        person.valid_from_on(today),
        person.valid_to_on(today),
        person.registered_facility,
        person.registered_facility_name,
    )


def new_card_view(new_card: NewCard | None, today: date) -> CardView:
    if new_card is None:
        raise ValueError("person has no new card")
    return CardView(
        new_card.card_number,
        resolve_date(new_card.valid_from, today),  # type: ignore[arg-type]
        resolve_date(new_card.valid_to, today),
        new_card.registered_facility,
        new_card.registered_facility_name,
    )


def _expired(card: CardView, today: date) -> bool:
    return card.valid_to is not None and card.valid_to < today
