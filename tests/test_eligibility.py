"""Every result code maps to a verdict; the table is checked code by code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from checkin import eligibility
from checkin.gateway.protocol import CardAnswer, NewCard
from checkin.model import Source, Status

EXPECTED = {
    "000": Status.ELIGIBLE,
    "001": Status.WARNING,
    "002": Status.WARNING,
    "003": Status.WARNING,
    "004": Status.WARNING,
    "010": Status.NOT_ELIGIBLE,
    "050": Status.NOT_ELIGIBLE,
    "051": Status.WARNING,
    "052": Status.WARNING,
    "053": Status.WARNING,
    "054": Status.UNVERIFIED,
    "055": Status.UNVERIFIED,
    "060": Status.WARNING,
    "061": Status.WARNING,
    "070": Status.WARNING,
    "080": Status.WARNING,
    "090": Status.WARNING,
    "100": Status.UNVERIFIED,
    "101": Status.UNVERIFIED,
    "110": Status.NOT_ELIGIBLE,
    "120": Status.NOT_ELIGIBLE,
    "121": Status.NOT_ELIGIBLE,
    "122": Status.NOT_ELIGIBLE,
    "123": Status.NOT_ELIGIBLE,
    "124": Status.NOT_ELIGIBLE,
    "130": Status.WARNING,
    "205": Status.WARNING,
    "401": Status.UNVERIFIED,
    "500": Status.UNVERIFIED,
}


def reply(code: str, **extra) -> CardAnswer:
    return CardAnswer(
        result_code=code,
        note=None,
        received_at=datetime.now(UTC).isoformat(timespec="seconds"),
        card_number="DN4010123456789",
        valid_from="2024-01-01",
        valid_to="2099-12-31",
        registered_facility="01001",
        **extra,
    )


@pytest.mark.parametrize(("code", "status"), sorted(EXPECTED.items()))
def test_every_code_has_a_verdict_message_and_action(code, status):
    decision = eligibility.decide(reply(code), facility_code="01001")
    assert decision.status is status
    assert decision.result_code == code
    assert decision.message and decision.action
    assert decision.source is Source.ONLINE


def test_table_covers_exactly_the_documented_codes():
    assert set(eligibility.RULES) == set(EXPECTED)


def test_unknown_code_is_unverified_not_a_crash():
    decision = eligibility.decide(reply("999"))
    assert decision.status is Status.UNVERIFIED


@pytest.mark.parametrize("code", ["003", "004"])
def test_new_card_fields_replace_the_old(code):
    new = NewCard("DN4010999999999", "2025-01-01", "2030-12-31", "01002", "BV khác")
    decision = eligibility.decide(reply(code, new_card=new), today=date(2026, 1, 1))
    assert decision.card_number == "DN4010999999999"
    assert decision.valid_to == "2030-12-31"
    assert decision.registered_facility == "01002"


def test_004_keeps_the_old_card_until_the_new_one_starts():
    new = NewCard("DN4010999999999", "2027-01-01", "2031-12-31", "01001", "BV")
    decision = eligibility.decide(reply("004", new_card=new), today=date(2026, 6, 1))
    assert decision.card_number == "DN4010123456789"
    later = eligibility.decide(reply("004", new_card=new), today=date(2027, 1, 1))
    assert later.card_number == "DN4010999999999"


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "status", "words"),
    [
        ("2024-01-01", "2099-12-31", Status.ELIGIBLE, "31/12/2099"),
        ("2024-01-01", "2026-06-20", Status.ELIGIBLE, "còn 19 ngày"),
        ("2026-07-01", "2099-12-31", Status.WARNING, "chưa đến hạn"),
        ("2024-01-01", "2026-05-01", Status.WARNING, "hết hạn 01/05/2026"),
    ],
)
def test_eligible_answers_are_read_against_the_card_dates(valid_from, valid_to, status, words):
    answer = CardAnswer(
        "000",
        None,
        "2026-06-01T01:00:00+00:00",
        card_number="DN4010123456789",
        valid_from=valid_from,
        valid_to=valid_to,
        registered_facility="01001",
    )
    decision = eligibility.decide(answer, facility_code="01001", today=date(2026, 6, 1))
    assert decision.status is status and words in decision.message


def test_eligible_message_names_validity_and_other_facility():
    decision = eligibility.decide(
        reply(
            "000",
        ),
        facility_code="79001",
    )
    assert "31/12/2099" in decision.message
    assert "01001" in decision.message


def test_cached_answer_is_never_shown_as_online():
    old = reply("000")
    now = datetime.fromisoformat(old.received_at) + timedelta(hours=2)
    decision = eligibility.from_cache(old, error="timeout", now=now)
    assert decision.status is Status.UNVERIFIED
    assert decision.source is Source.CACHE
    assert decision.cached_status is Status.ELIGIBLE
    assert "2 giờ trước" in decision.message
    assert decision.error == "timeout"


def test_no_answer_keeps_the_evidence():
    decision = eligibility.without_answer("connection refused")
    assert decision.status is Status.UNVERIFIED and decision.source is Source.NONE
    assert decision.result_code is None and decision.error == "connection refused"
    assert eligibility.Decision.from_json(decision.to_json()) == decision


def test_no_answer_warns_when_the_qr_says_the_card_ran_out():
    """Offline, with no cached answer: the QR's own dates are read against today. The visit
    stays unverified (the gateway's word is what counts) but the desk is told to look."""
    at = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    expired = eligibility.without_answer("down", at=at, printed=("2024-01-01", "2024-12-31"))
    assert expired.status is Status.UNVERIFIED
    assert expired.message.endswith("· Mã QR ghi thẻ hết hạn 31/12/2024: kiểm tra thẻ mới")
    early = eligibility.without_answer("down", at=at, printed=("2027-01-01", None))
    assert early.message.endswith("· Mã QR ghi thẻ chưa đến hạn (từ 01/01/2027)")
    fine = eligibility.without_answer("down", at=at, printed=("2026-01-01", "2027-12-31"))
    assert fine.message == "Chưa xác minh: cổng BHXH không trả lời"
    assert eligibility.without_answer("down", at=at).message == fine.message


def test_an_offline_intake_of_an_expired_qr_says_so(tmp_path):
    from dataclasses import replace

    from checkin.formats import parse_or_raise
    from checkin.intake import Intake
    from checkin.store import Store
    from tests.conftest import payload

    identity = replace(parse_or_raise(payload("eligible-old")), valid_to="2024-12-31")
    with Store(tmp_path / "s.db") as store:
        decision = Intake(store, None).check(identity)
    assert decision.status is Status.UNVERIFIED
    assert "Mã QR ghi thẻ hết hạn 31/12/2024" in decision.message
