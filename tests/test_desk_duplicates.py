"""checkin.duplicates: the same name and birth date under another number, flagged not merged."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from checkin.duplicates import (
    duplicates_among,
    is_possible_duplicate,
    normalize_name,
    possible_duplicates,
    same_birth_date,
)
from checkin.eligibility import without_answer
from checkin.model import Identity, PayloadKind
from checkin.store import Store

CARD = Identity(PayloadKind.BHYT, "Trần Thị Mai", card_number="DN4010123456789",
                social_insurance_number="0123456789", date_of_birth="1985-05-12")  # fmt: skip
CCCD = Identity(PayloadKind.CCCD, "TRẦN  thị   Mai", citizen_id="001185012345",
                date_of_birth="1985-05-12")  # fmt: skip


def test_names_are_normalised_but_keep_their_diacritics():
    decomposed = "Tra\u0302\u0300n Thi\u0323 Mai"  # NFD, as some keyboards type it
    assert normalize_name(decomposed) == normalize_name("  TRẦN thị\tMai ") == "trần thị mai"
    assert normalize_name("Trần Thị Mài") != normalize_name("Trần Thị Mai")
    assert normalize_name(None) == ""


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("1985-05-12", "1985-05-12", True),
        ("1985-05-12", "1985-05-13", False),
        ("1985", "1985-05-12", True),
        ("1985-05-12", "1985", True),
        ("1984", "1985-05-12", False),
        (None, "1985", False),
    ],
)
def test_birth_dates(a, b, same):
    assert same_birth_date(a, b) is same


def test_same_name_and_birth_date_under_another_number_is_a_possible_duplicate():
    assert is_possible_duplicate(CCCD, CARD)
    assert is_possible_duplicate(CARD, CCCD)


@pytest.mark.parametrize(
    "other",
    [
        # another birth date
        Identity(PayloadKind.CCCD, "Trần Thị Mai", citizen_id="0", date_of_birth="1985-05-13"),
        # another name
        Identity(PayloadKind.CCCD, "Trần Thị Mài", citizen_id="0", date_of_birth="1985-05-12"),
        # the same number: the same record
        Identity(
            PayloadKind.BHYT,
            "Trần Thị Mai",
            social_insurance_number="0123456789",
            date_of_birth="1985-05-12",
        ),
        Identity(PayloadKind.BHYT, "", card_number="DN4010199999999"),  # no name at all
    ],
)
def test_not_a_possible_duplicate(other):
    assert not is_possible_duplicate(other, CARD)


def test_possible_duplicates_reads_only_that_day(tmp_path):
    """GIVEN the card visit today and a namesake yesterday WHEN the CCCD is checked for today
    THEN only today's card visit is returned, and not the CCCD's own visit."""
    now = datetime(2026, 5, 14, 9, 0).astimezone()
    with Store(tmp_path / "d.db") as store:
        today_card, _ = store.register_visit(CARD, without_answer("x"), presented_at=now)
        store.register_visit(
            CARD, without_answer("x"), presented_at=now - timedelta(days=1)
        )
        own, _ = store.register_visit(CCCD, without_answer("x"), presented_at=now)
        day = now.date().isoformat()
        found = possible_duplicates(store, CCCD, day, exclude_visit=own.id)
        assert [v.id for v in found] == [today_card.id]
        assert possible_duplicates(store, CARD, day, exclude_visit=today_card.id)[0].id == own.id
        assert store.visits_born(day, "1985") and not store.visits_born(day, "1986")
        assert store.attention_count(day) == 0


def test_possible_duplicates_without_the_narrowing_query():
    class OnlyVisitsOn:
        def __init__(self, visits):
            self.visits = visits

        def visits_on(self, day):
            return self.visits

    from checkin.store import Visit

    visit = Visit(1, "2026-05-14", 1, CARD, without_answer("x"), "", "", "")
    assert possible_duplicates(OnlyVisitsOn([visit]), CCCD, "2026-05-14") == [visit]
    assert possible_duplicates(OnlyVisitsOn([visit]), CARD, "2026-05-14") == []


def test_duplicates_among_a_days_list(tmp_path):
    """The list's Note column: each visit names the others that may be the same person
    under another number; the same person's own visit and other people are left out."""
    other = Identity(PayloadKind.CCCD, "Lê Văn An", citizen_id="001080000001",
                     date_of_birth="1980-01-01")  # fmt: skip
    with Store(tmp_path / "d.db") as store:
        card, _ = store.register_visit(CARD, without_answer("down"))
        cccd, _ = store.register_visit(CCCD, without_answer("down"))
        store.register_visit(other, without_answer("down"))
        found = duplicates_among(store.visits_on(card.visit_date))
    assert {k: [v.id for v in vs] for k, vs in found.items()} == {
        card.id: [cccd.id],
        cccd.id: [card.id],
    }
