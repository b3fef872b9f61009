"""The desk's path in-process: recorded payloads → sandbox over HTTP → real SQLite file."""

from __future__ import annotations

import sqlite3
import time

import pytest

from checkin.breaker import CircuitBreaker
from checkin.formats import PayloadError
from checkin.gateway import GatewayClient
from checkin.intake import Intake
from checkin.model import Officer, Source, Status
from checkin.outbox import sync_once
from checkin.store import Store
from tests.conftest import payload


@pytest.fixture
def intake(make_intake):
    return make_intake()


@pytest.mark.parametrize(
    ("key", "status", "code"),
    [
        ("eligible-old", Status.ELIGIBLE, "000"),
        ("eligible-new", Status.ELIGIBLE, "000"),
        ("eligible-cccd", Status.ELIGIBLE, "000"),
        ("new-card-004", Status.WARNING, "004"),
        ("expired-010", Status.NOT_ELIGIBLE, "010"),
        ("unregistered-050", Status.NOT_ELIGIBLE, "050"),
        ("bad-group-051", Status.WARNING, "051"),
        ("wrong-name-060", Status.WARNING, "060"),
        ("wrong-dob-070", Status.WARNING, "070"),
        ("revoked-110", Status.NOT_ELIGIBLE, "110"),
    ],
)
def test_recorded_payloads_get_the_right_verdict(intake, key, status, code):
    result = intake.handle(payload(key))
    assert (result.decision.status, result.decision.result_code) == (status, code)
    assert result.decision.source is Source.ONLINE
    assert result.visit.queue_number == 1 and not result.reopened
    (audit,) = intake.store.audit_rows()
    assert audit["result_code"] == code and audit["officer_name"] == intake.officer.name


def test_new_card_is_what_the_visit_records(intake):
    result = intake.handle(payload("new-card-003"))
    assert result.decision.result_code == "003"
    assert result.decision.card_number != result.identity.card_number


def test_second_scan_reopens_todays_visit(intake):
    first = intake.handle(payload("eligible-old"))
    again = intake.handle(payload("eligible-old"))
    assert again.reopened and again.visit.id == first.visit.id
    other = intake.handle(payload("eligible-new"))
    assert other.visit.queue_number == 2


def test_bad_payload_raises_and_writes_nothing(intake):
    with pytest.raises(PayloadError):
        intake.handle("DN4010123456789|zz|$")
    assert intake.store.audit_rows() == []


def test_gateway_down_uses_the_cache_but_never_as_online(intake, healthy_sandbox):
    intake.check(intake_identity(payload("eligible-old")))
    healthy_sandbox.faults.set("down")
    result = intake.handle(payload("eligible-old"))
    decision = result.decision
    assert decision.status is Status.UNVERIFIED and decision.source is Source.CACHE
    assert decision.cached_status is Status.ELIGIBLE and decision.error
    assert intake.store.pending_count() == 1


def test_gateway_down_without_cache_admits_unverified_with_evidence(intake, healthy_sandbox):
    healthy_sandbox.faults.set("http500")
    result = intake.handle(payload("expired-010"))
    assert result.decision.status is Status.UNVERIFIED and result.decision.source is Source.NONE
    assert "HTTP 500" in result.decision.error
    assert intake.store.audit_rows()[0]["error"] == result.decision.error


def test_sync_rechecks_once_and_flags_not_eligible(intake, healthy_sandbox):
    intake.breaker = CircuitBreaker(cooldown_s=0.05)
    healthy_sandbox.faults.set("down")
    visit = intake.handle(payload("expired-010")).visit
    before = sum(healthy_sandbox.requests_by_card.values())
    # offline: the sender waits for the breaker instead of hammering a dead gateway
    assert sync_once(intake) == {"sent": 0, "rechecked": 0, "failed": 0, "pending": 1}
    assert sum(healthy_sandbox.requests_by_card.values()) == before
    healthy_sandbox.faults.set("none")
    time.sleep(0.06)
    before = sum(healthy_sandbox.lookups_by_card.values())
    assert sync_once(intake) == {"sent": 1, "rechecked": 1, "failed": 0, "pending": 0}
    assert sync_once(intake) == {"sent": 0, "rechecked": 0, "failed": 0, "pending": 0}
    assert sum(healthy_sandbox.lookups_by_card.values()) == before + 1
    updated = intake.store.visit(visit.id)
    assert updated.status is Status.NOT_ELIGIBLE and updated.needs_attention


def test_a_recheck_repeated_after_a_crash_is_not_a_second_lookup(intake, healthy_sandbox):
    """The sender claimed the entry and the gateway answered, then the desk died before the
    commit: the next pass sends the entry's idempotency key again and gets the same answer
    from the gateway's record, without a second lookup of the card."""
    intake.breaker = CircuitBreaker(cooldown_s=0.05)
    healthy_sandbox.faults.set("down")
    visit = intake.handle(payload("expired-010")).visit
    healthy_sandbox.faults.set("none")
    time.sleep(0.06)
    assert intake.probe()
    with sqlite3.connect(intake.store.path) as conn:
        (key,) = conn.execute("SELECT idempotency_key FROM outbox WHERE visit_id = ?", [visit.id])
    card = visit.identity.lookup_number
    lookups, replays = healthy_sandbox.lookups_by_card[card], healthy_sandbox.replays_by_card[card]
    lost = intake.recheck(visit, idempotency_key=key[0])  # the answer the dead desk never stored
    assert sync_once(intake) == {"sent": 1, "rechecked": 1, "failed": 0, "pending": 0}
    assert healthy_sandbox.lookups_by_card[card] == lookups + 1
    assert healthy_sandbox.replays_by_card[card] == replays + 1
    updated = intake.store.visit(visit.id)
    assert updated.status is lost.decision.status is Status.NOT_ELIGIBLE


def test_officer_not_registered_is_unverified_and_says_so(tmp_path, healthy_sandbox):
    account = healthy_sandbox.population.accounts[0]
    client = GatewayClient(
        healthy_sandbox.url, account.username, account.password, Officer("Người Lạ", "079090009999")
    )
    with Store(tmp_path / "d.db") as store:
        result = Intake(store, client).handle(payload("eligible-old"))
    assert result.decision.status is Status.UNVERIFIED and result.decision.result_code == "054"
    assert "IT" in result.decision.action


def test_sync_tries_an_entry_that_keeps_failing_once_per_pass(tmp_path, healthy_sandbox):
    """An officer the gateway does not know (054): the re-check cannot succeed until IT fixes
    the account. A pass tries it once, reports it failed and pending, and returns; passes
    that come and go do not pile up open database files."""
    account = healthy_sandbox.population.accounts[0]
    client = GatewayClient(
        healthy_sandbox.url, account.username, account.password, Officer("Người Lạ", "079090009999")
    )
    with Store(tmp_path / "d.db") as store:
        intake = Intake(store, client)
        visit = intake.handle(payload("eligible-old")).visit
        assert visit.status is Status.UNVERIFIED
        card = visit.identity.lookup_number
        before = healthy_sandbox.lookups_by_card[card]
        for _ in range(20):
            counts = sync_once(intake)
            assert counts == {"sent": 0, "rechecked": 0, "failed": 1, "pending": 1}
        # once per pass, as this desk recorded it and as the gateway saw it (the sandbox is
        # shared by the session: another test's background sender may ask about this card too)
        attempts = store.lookup_attempts(visit.id)
        assert len(attempts) == 1 + 20 and all(a["result_code"] == "054" for a in attempts)
        assert healthy_sandbox.lookups_by_card[card] >= before + 20
        assert len(store._readers) <= 3  # this thread's, and at most the last pool's


def test_a_number_alone_is_refused_before_anything_is_written(intake):
    with pytest.raises(PayloadError, match="a number alone cannot be checked in"):
        intake.handle("DN4010123456789")
    assert intake.store.visits_on(intake.clock().date().isoformat()) == []
    assert intake.store.pending_count() == 0


@pytest.mark.parametrize(
    ("change", "code"),
    [({"full_name": "Trần Thị X"}, "061"), ({"full_name": "Lê Văn X"}, "060"),
     ({"date_of_birth": "1986-05-12"}, "070")],
)  # fmt: skip
def test_the_card_asked_about_is_in_the_decision_when_the_answer_names_none(intake, change, code):
    """060/061/070 answers carry no card; the contract wants ``card_number`` when known."""
    import dataclasses

    identity = dataclasses.replace(intake_identity(payload("eligible-old")), **change)
    decision = intake.check(identity)
    assert decision.result_code == code
    assert decision.card_number == "DN4010123456789"


def test_an_offline_decision_keeps_the_card_number(intake, healthy_sandbox):
    healthy_sandbox.faults.set("down")
    result = intake.handle(payload("eligible-old"))
    assert result.decision.source is Source.NONE
    assert result.decision.card_number == "DN4010123456789"


def test_without_a_gateway_the_message_says_so(tmp_path):
    with Store(tmp_path / "d.db") as store:
        result = Intake(store, None).handle(payload("eligible-old"))
    assert result.decision.message == "Chưa xác minh: chưa cấu hình cổng BHXH"
    assert result.decision.error == "no gateway configured"


def intake_identity(text: str):
    from checkin.formats import parse_or_raise

    return parse_or_raise(text)


def test_a_refused_account_is_not_called_a_gateway_that_did_not_answer(tmp_path, healthy_sandbox):
    """GIVEN the hospital's gateway password wrong WHEN a patient is checked THEN the verdict
    says the account was refused and to call IT, with or without a cached answer, and the
    English desk says the same."""
    from dataclasses import replace

    from checkin.formats import parse_or_raise
    from checkin.gateway import GatewayClient
    from checkin.intake import ACCOUNT_MESSAGE, Intake
    from checkin.store import Store
    from tests.conftest import payload
    from ui import i18n
    from ui.text import core_words

    settings = healthy_sandbox.gateway_config(timeout_s=1.0, connect_timeout_s=0.5)
    identity = parse_or_raise(payload("eligible-old"))
    with Store(tmp_path / "s.db") as store:
        good = Intake(store, GatewayClient.from_config(settings))
        assert good.check(identity).source.value == "online"  # the answer is now cached
        wrong = Intake(store, GatewayClient.from_config(replace(settings, password="wrong")))
        cached = wrong.check(identity)
        fresh = wrong.check(parse_or_raise(payload("expired-010")))
    assert cached.status.value == "unverified" and cached.source.value == "cache"
    assert cached.message.startswith("Chưa xác minh (cổng BHXH từ chối tài khoản bệnh viện")
    assert fresh.message.startswith(ACCOUNT_MESSAGE) and fresh.error.startswith("account refused")
    i18n.set_language(i18n.ENGLISH)
    try:
        assert "refused the hospital's account" in core_words(cached.message)
        assert "refused the hospital's account" in core_words(fresh.message)
    finally:
        i18n.set_language(i18n.VIETNAMESE)
