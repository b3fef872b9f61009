"""Pure tests of the sandbox registry (population.py) and its lookup decision (rules.py)."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from checkin.sandbox.population import (
    DEFAULT_PATH,
    PopulationError,
    load_population,
    parse_population,
    resolve_date,
)
from checkin.sandbox.rules import CardRequest, birth_date_matches, card_shape_code, decide

TODAY = date(2026, 6, 15)
OFFICER = ("Nguyễn Văn Tiếp", "001090000001")
POPULATION = load_population()


def dmy(iso: str) -> str:
    """ISO birth date (or year) to the gateway's ``dd/MM/yyyy`` (or ``yyyy``)."""
    return iso if len(iso) == 4 else "/".join(reversed(iso.split("-")))


def ask(number: str, name: str, dob: str, officer: tuple[str, str] = OFFICER, population=None):
    request = CardRequest(number, name, dob, *officer)
    return decide(population or POPULATION, request, TODAY)


def raw_population() -> dict:
    return json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))


# --- the fixture itself ------------------------------------------------------------------------


@pytest.mark.parametrize("person", POPULATION.people, ids=lambda p: p.key)
def test_each_person_qr_gives_expected_code(person):
    view = person.qr_view(TODAY)
    decision = ask(person.qr_lookup_number(TODAY), view["full_name"], dmy(view["date_of_birth"]))
    assert decision.code == person.expected_code


def test_fixture_covers_every_required_code_and_qr_kind():
    codes = {p.expected_code for p in POPULATION.people}
    required = {f"{c:03d}" for c in (0, 1, 2, 3, 4, 10, 50, 51, 60, 61, 70, 110, 120)}
    assert required <= codes
    eligible_qrs = {p.qr for p in POPULATION.people if p.expected_code == "000"}
    assert eligible_qrs == {"old", "new", "cccd"}
    assert len(POPULATION.people) >= 14
    assert POPULATION.accounts[0].username == "01001_BV"
    assert POPULATION.accounts[0].password == "sandbox-only"
    assert "synthetic" in raw_population()["_comment"]


def test_fixture_has_a_young_child_and_a_year_only_retiree():
    child = POPULATION.person("child-te1")
    assert child.card_number.startswith("TE1")
    assert (TODAY - date.fromisoformat(child.date_of_birth)).days < 6 * 365
    retiree = POPULATION.person("retiree-ht3")
    assert retiree.card_number.startswith("HT3")
    assert len(retiree.date_of_birth) == 4


# --- lookup numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["card_number", "social_insurance_number", "citizen_id"])
def test_lookup_by_card_code_bhxh_number_or_citizen_id(field):
    person = POPULATION.person("eligible-old")
    decision = ask(getattr(person, field), person.full_name, "12/05/1985")
    assert decision.code == "000"
    assert decision.card.card_number == "DN4010123456789"


def test_lookup_by_new_card_code_answers_about_the_new_card():
    person = POPULATION.person("new-card-004")
    decision = ask(person.new_card.card_number, person.full_name, "30/12/1995")
    assert decision.code == "000"
    assert decision.card.card_number == person.new_card.card_number


def test_unregistered_person_is_not_found_by_any_number():
    person = POPULATION.person("unregistered-050")
    for number in (person.card_number, person.social_insurance_number, person.citizen_id):
        assert ask(number, person.full_name, "09/09/1999").code == "050"


def test_known_bhxh_number_under_another_group_is_a_wrong_code():
    assert ask("HN4010123456789", "Trần Thị Mai", "12/05/1985").code == "051"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("012345678", "051"),  # 9 digits
        ("01234567890", "051"),  # 11 digits
        ("DN40101234567890", "051"),  # 16 chars
        ("ZZ4010123456789", "051"),  # unknown group
        ("dn4010123456789", "051"),  # lower case is not a group
        ("DN40101234567X9", "051"),  # serial not digits
        ("DN6010123456789", "053"),
        ("DN0010123456789", "053"),
        ("DN4000123456789", "052"),
        ("DN4A10123456789", "052"),
        ("YE4010000000001", None),  # YE and TL are accepted groups
        ("TL4010000000001", None),
        ("0123456789", None),
        ("001185012345", None),
    ],
)
def test_card_shape(number, code):
    assert card_shape_code(number) == code


# --- request and officer checks --------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "name", "dob"),
    [
        ("", "Trần Thị Mai", "12/05/1985"),
        ("DN4010123456789", "  ", "12/05/1985"),
        ("DN4010123456789", "Trần Thị Mai", ""),
        ("DN4010123456789", "Trần Thị Mai", "1985-05-12"),
        ("DN4010123456789", "Trần Thị Mai", "12051985"),
        ("DN4010123456789", "Trần Thị Mai", "1/5/1985"),
        ("DN4010123456789", "Trần Thị Mai", "31/02/1985"),
        ("DN4010123456789", "Trần Thị Mai", "13/1985"),
        ("DN4010123456789", "Trần\x00Thị Mai", "12/05/1985"),
        ("DN4010123456789", "x" * 101, "12/05/1985"),
    ],
)
def test_malformed_fields_give_205(number, name, dob):
    assert ask(number, name, dob).code == "205"


def test_empty_officer_fields_give_205():
    assert ask("DN4010123456789", "Trần Thị Mai", "12/05/1985", ("", "")).code == "205"


def test_unregistered_officer_gives_054_and_wrong_officer_name_055():
    assert ask("DN4010123456789", "Trần Thị Mai", "12/05/1985", ("X", "001090999999")).code == "054"
    wrong_name = ("Nguyễn Văn Tiến", "001090000001")
    assert ask("DN4010123456789", "Trần Thị Mai", "12/05/1985", wrong_name).code == "055"


def test_officer_checks_come_before_the_card_checks():
    assert ask("ZZ", "Trần Thị Mai", "12/05/1985", ("X", "001090999999")).code == "054"


def test_names_compare_case_space_and_normalisation_insensitively():
    import unicodedata

    officer = ("  NGUYỄN   văn TIẾP ", "001090000001")
    decomposed = unicodedata.normalize("NFD", "TRẦN THỊ  MAI")
    assert ask("DN4010123456789", decomposed, "12/05/1985", officer).code == "000"


def test_name_without_diacritics_is_wrong_first_letter_kept():
    assert ask("DN4010123456789", "Tran Thi Mai", "12/05/1985").code == "061"
    assert ask("DN4010123456789", "Lê Thị Mai", "12/05/1985").code == "060"


def test_birth_date_precision():
    assert birth_date_matches("1948", "1948")
    assert not birth_date_matches("1948", "01/01/1948")
    assert not birth_date_matches("1948", "1949")
    assert birth_date_matches("1985-05-12", "12/05/1985")
    assert not birth_date_matches("1985-05-12", "05/1985")
    assert not birth_date_matches("1985-05-12", "1985")


# --- card states against a fixed-date population ------------------------------------------------


def fixed_population(**changes) -> object:
    data = raw_population()
    person = copy.deepcopy(next(p for p in data["people"] if p["key"] == "eligible-old"))
    person.update(key="fixed", valid_from="2026-01-01", valid_to="2026-06-30", **changes)
    data["people"] = [person]
    return parse_population(data)


@pytest.mark.parametrize(("today", "code"), [(date(2026, 6, 30), "000"), (date(2026, 7, 1), "010")])
def test_expiry_is_checked_against_today(today, code):
    population = fixed_population()
    request = CardRequest("0123456789", "Trần Thị Mai", "12/05/1985", *OFFICER)
    assert decide(population, request, today).code == code


@pytest.mark.parametrize(("today", "code"), [(date(2026, 6, 30), "004"), (date(2026, 7, 1), "003")])
def test_new_card_gives_003_once_the_old_card_has_expired(today, code):
    new_card = {
        "card_number": "HC4010123456789",
        "valid_from": "2026-06-01",
        "valid_to": "2027-05-31",
        "registered_facility": "01001",
        "registered_facility_name": "Bệnh viện Đa khoa Thử nghiệm",
    }
    population = fixed_population(new_card=new_card)
    request = CardRequest("DN4010123456789", "Trần Thị Mai", "12/05/1985", *OFFICER)
    decision = decide(population, request, today)
    assert decision.code == code
    assert decision.new_card.card_number == "HC4010123456789"
    assert decision.new_card.valid_to == date(2027, 5, 31)


def test_status_and_management_come_before_expiry():
    population = fixed_population(status="revoked", managed_by="police")
    request = CardRequest("0123456789", "Trần Thị Mai", "12/05/1985", *OFFICER)
    assert decide(population, request, date(2027, 1, 1)).code == "110"
    population = fixed_population(managed_by="defence")
    assert decide(population, request, date(2027, 1, 1)).code == "001"


# --- population loading ----------------------------------------------------------------------


def test_relative_dates_resolve_against_today():
    assert resolve_date("+10d", TODAY) == date(2026, 6, 25)
    assert resolve_date("-15d", TODAY) == date(2026, 5, 31)
    assert resolve_date("2024-01-01", TODAY) == date(2024, 1, 1)
    assert resolve_date(None, TODAY) is None


def test_qr_view_applies_overrides_and_template():
    view = POPULATION.person("wrong-name-060").qr_view(TODAY)
    assert view["full_name"] == "Nguyễn Thị Lan"
    assert view["card_number"] is None  # a new-template QR carries only the 10-digit number
    assert view["social_insurance_number"] == "7919201357"
    old = POPULATION.person("bad-group-051")
    assert old.qr_lookup_number(TODAY) == "ZZ4010108309012"
    cccd = POPULATION.person("eligible-cccd").qr_view(TODAY)
    assert cccd["kind"] == "cccd"
    assert cccd["card_number"] is None
    assert cccd["citizen_id"] == "079303001234"
    assert POPULATION.person("eligible-old").qr_view(TODAY)["valid_to"] == "2027-06-15"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("card_number", "DN4010123456780", "last 10 digits"),
        ("citizen_id", "001085012345", "4th digit must be 1"),
        ("valid_to", "next year", "valid_to"),
        ("qr", "paper", "qr"),
        ("date_of_birth", "12/05/1985", "date_of_birth"),
        ("colour", "blue", "unknown field"),
    ],
)
def test_bad_person_is_reported_with_key_and_field(field, value, message):
    data = raw_population()
    data["people"][0][field] = value
    with pytest.raises(PopulationError) as error:
        parse_population(data, source="pop.json")
    assert "eligible-old" in str(error.value)
    assert message in str(error.value)


def test_duplicate_keys_and_missing_file_are_reported(tmp_path):
    data = raw_population()
    data["people"][1]["key"] = "eligible-old"
    with pytest.raises(PopulationError, match="duplicate key"):
        parse_population(data)
    with pytest.raises(PopulationError, match="cannot read"):
        load_population(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(PopulationError, match="not valid UTF-8 JSON"):
        load_population(tmp_path / "bad.json")
