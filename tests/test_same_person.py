"""One person, two documents, one day: the second scan reopens the first visit.

A visit is found again by any strong number the person's scans (or the gateway's answers to
them) share: the card code, the 10-digit BHXH number, the citizen ID. Same name and birth date
with no shared number stays two visits, flagged as a possible duplicate.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime

from checkin.duplicates import possible_duplicates
from checkin.eligibility import Decision, decide, without_answer
from checkin.formats import parse_payload
from checkin.formats.encode import bhyt_payload
from checkin.gateway.protocol import CardAnswer
from checkin.model import Identity, PayloadKind, Status
from checkin.store import SCHEMA_VERSION, Store, person_numbers
from tests import test_desk
from tests.conftest import payload
from tests.test_desk import check_in

# Fixtures shared with tests/test_desk.py (pytest finds them under these names).
make_desk, session = test_desk.make_desk, test_desk.session

ADDRESS = "Số 1 Phố Ví Dụ, Phường Mẫu, Quận Thử, Thành phố Hà Nội"
# Trần Thị Mai's CCCD QR (fixtures/population.json, key "eligible-old")
CCCD_MAI = f"001185012345|012345678|Trần Thị Mai|12051985|Nữ|{ADDRESS}|01012021"
CARD_MAI = Identity(PayloadKind.BHYT, "Trần Thị Mai", template="old", card_number="DN4010123456789",
                    social_insurance_number="0123456789", date_of_birth="1985-05-12")  # fmt: skip
CHIP_MAI = Identity(PayloadKind.CCCD, "Trần Thị Mai", citizen_id="001185012345",
                    date_of_birth="1985-05-12")  # fmt: skip
NOW = datetime(2026, 5, 14, 9, 0).astimezone()


def online(card: str = "DN4010123456789") -> Decision:
    stamp = NOW.isoformat(timespec="seconds")
    answer = CardAnswer("000", "ok", stamp, card_number=card, valid_to="2099-12-31")
    return decide(answer, today=NOW.date())


def new_template(text: str) -> str:
    """The VssID (new-template) QR of the card in an old-template QR: the 10-digit number."""
    return bhyt_payload(parse_payload(text), template="new")


# -- through the sandbox gateway -------------------------------------------------------------


def test_card_then_cccd_is_one_visit(make_intake):
    intake = make_intake()
    first = intake.handle(payload("eligible-old"))
    again = intake.handle(CCCD_MAI)
    assert again.identity.citizen_id == "001185012345" and again.identity.card_number is None
    assert again.decision.card_number == "DN4010123456789"  # the gateway names her card
    assert again.reopened and again.visit.id == first.visit.id
    assert again.visit.queue_number == first.visit.queue_number == 1
    assert len(intake.store.visits_on(first.visit.visit_date)) == 1
    assert not intake.handle(payload("eligible-new")).reopened  # someone else: a new number


def test_cccd_then_card_is_one_visit(make_intake):
    intake = make_intake()
    first = intake.handle(CCCD_MAI)
    again = intake.handle(payload("eligible-old"))
    assert again.reopened and again.visit.queue_number == first.visit.queue_number
    assert len(intake.store.visits_on(first.visit.visit_date)) == 1


def test_new_template_after_old_template_of_the_same_card_is_one_visit(make_intake):
    intake = make_intake()
    first = intake.handle(payload("eligible-old"))
    vssid = intake.handle(new_template(payload("eligible-old")))
    assert vssid.identity.card_number is None
    assert vssid.identity.social_insurance_number == "0123456789"
    assert vssid.reopened and vssid.visit.id == first.visit.id
    assert len(intake.store.visits_on(first.visit.visit_date)) == 1


def test_chip_read_after_the_card_is_one_visit(make_intake):
    intake = make_intake()
    first = intake.handle(payload("eligible-old"))
    chip = intake.admit(CHIP_MAI)
    assert chip.reopened and chip.visit.queue_number == first.visit.queue_number


def test_offline_cccd_after_an_online_one_still_reopens(make_intake, healthy_sandbox):
    """The numbers learnt when the CCCD reopened the card's visit stay with that visit."""
    intake = make_intake()
    first = intake.handle(payload("eligible-old"))
    intake.handle(CCCD_MAI)
    healthy_sandbox.faults.set("down")
    offline = intake.handle(CCCD_MAI)
    assert offline.reopened and offline.visit.id == first.visit.id
    assert offline.visit.status is Status.ELIGIBLE  # an offline scan never overwrites


def test_namesake_unknown_to_the_gateway_is_a_second_visit_flagged(make_intake):
    """Same name and birth date, another citizen ID the gateway does not know (050, no card
    named): nothing links the two, so a second visit, flagged as a possible duplicate."""
    intake = make_intake()
    first = intake.handle(payload("eligible-old"))
    namesake = intake.handle(f"079185099999||Trần Thị Mai|12051985|Nữ|{ADDRESS}|01012021")
    assert namesake.decision.card_number is None
    assert not namesake.reopened and namesake.visit.queue_number == 2
    day = first.visit.visit_date
    flagged = possible_duplicates(
        intake.store, namesake.identity, day, exclude_visit=namesake.visit.id
    )
    assert [v.id for v in flagged] == [first.visit.id]


def test_desk_shows_one_row_for_card_then_cccd(qtbot, make_desk, session):
    window = make_desk(session, start=True)
    first = check_in(qtbot, window, "eligible-old")
    again = check_in(qtbot, window, CCCD_MAI)
    assert again.reopened and again.visit.queue_number == first.visit.queue_number == 1
    assert window.visits.rowCount() == 1
    assert window.last_checked.duplicates == ()


# -- the store alone -------------------------------------------------------------------------


def test_numbers_of_a_person():
    assert person_numbers(CARD_MAI) == ["0123456789", "DN4010123456789"]
    assert person_numbers(CHIP_MAI) == ["001185012345"]
    assert person_numbers(CHIP_MAI, online()) == ["001185012345", "0123456789", "DN4010123456789"]
    assert person_numbers(CHIP_MAI, without_answer("x")) == ["001185012345"]
    # a scan with a card of its own is known by that card, whatever an answer names
    assert person_numbers(CARD_MAI, online("DN4019999999999")) == person_numbers(CARD_MAI)


def test_same_name_and_birth_date_without_a_shared_number_is_two_visits_flagged(tmp_path):
    namesake = replace(CHIP_MAI, citizen_id="079185099999")
    with Store(tmp_path / "d.db") as store:
        card, _ = store.register_visit(CARD_MAI, online(), presented_at=NOW)
        other, reopened = store.register_visit(
            namesake, online("HC4790987654321"), presented_at=NOW
        )
        assert not reopened and other.queue_number == 2
        day = NOW.date().isoformat()
        assert len(store.visits_on(day)) == 2
        flagged = possible_duplicates(store, namesake, day, exclude_visit=other.id)
        assert [v.id for v in flagged] == [card.id]


def test_unknown_answer_keeps_the_cccd_apart_but_flagged(tmp_path):
    """Offline with nothing cached, a CCCD shares no number with the card: two visits."""
    with Store(tmp_path / "d.db") as store:
        card, _ = store.register_visit(CARD_MAI, online(), presented_at=NOW)
        cccd, reopened = store.register_visit(CHIP_MAI, without_answer("x"), presented_at=NOW)
        assert not reopened and cccd.id != card.id
        flagged = possible_duplicates(store, CHIP_MAI, cccd.visit_date, exclude_visit=cccd.id)
        assert [v.id for v in flagged] == [card.id]


def test_reopening_an_unverified_visit_takes_the_online_answer(tmp_path):
    """As a second scan of the same document does: an online verdict updates the visit."""
    with Store(tmp_path / "d.db") as store:
        first, _ = store.register_visit(CARD_MAI, without_answer("down"), presented_at=NOW)
        assert first.status is Status.UNVERIFIED and store.pending_count() == 1
        again, reopened = store.register_visit(CHIP_MAI, online(), presented_at=NOW)
        assert reopened and again.id == first.id and again.queue_number == first.queue_number
        assert again.status is Status.ELIGIBLE
        assert again.identity == first.identity  # the visit keeps who it was opened for


def test_another_day_is_another_visit(tmp_path):
    with Store(tmp_path / "d.db") as store:
        store.register_visit(CARD_MAI, online(), presented_at=NOW)
        later, reopened = store.register_visit(CHIP_MAI, online(), presented_at=NOW.replace(day=15))
        assert not reopened and later.queue_number == 1


def test_a_file_made_before_visit_numbers_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    with Store(path) as store:
        first, _ = store.register_visit(CARD_MAI, online(), presented_at=NOW)
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE visit_numbers")  # as a version-1 file has it
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Store(path) as store:
        again, reopened = store.register_visit(CHIP_MAI, online(), presented_at=NOW)
        assert reopened and again.id == first.id
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    indexes = {r[1] for r in conn.execute("PRAGMA index_list(visit_numbers)")}
    assert any("number" in name for name in indexes)
    conn.close()
