"""The store on a real SQLite file: queue numbers, cache, audit, outbox, one writer."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest

from checkin import eligibility
from checkin.gateway.protocol import CardAnswer
from checkin.model import Identity, Officer, PayloadKind, Source, Status
from checkin.store import LookupRecord, Store

OFFICER = Officer("Nguyễn Văn Tiếp", "001090000001")


def person(n: int, **extra) -> Identity:
    return Identity(
        PayloadKind.BHYT,
        f"Người Thử {n}",
        card_number=f"DN40{n:011d}",
        social_insurance_number=f"{n:010d}",
        date_of_birth="1980-01-01",
        **extra,
    )


def answer(code: str = "000", when: datetime | None = None, card: str = "DN4000000000001"):
    stamp = (when or datetime.now(UTC)).isoformat(timespec="seconds")
    return CardAnswer(
        result_code=code,
        note="ok",
        received_at=stamp,
        card_number=card,
        social_insurance_number=card[-10:],
        valid_to="2099-12-31",
        registered_facility="01001",
    )


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "desk.db") as s:
        yield s


def test_queue_numbers_count_up_per_day(store):
    decision = eligibility.decide(answer())
    numbers = [store.register_visit(person(i), decision)[0].queue_number for i in range(1, 4)]
    assert numbers == [1, 2, 3]
    tomorrow = datetime.now().astimezone() + timedelta(days=1)
    visit, _ = store.register_visit(person(9), decision, presented_at=tomorrow)
    assert visit.queue_number == 1
    assert [v.queue_number for v in store.visits_on(visit.visit_date)] == [1]


def test_second_scan_same_day_reopens_the_visit(store):
    decision = eligibility.decide(answer())
    first, reopened1 = store.register_visit(person(1), decision)
    again, reopened2 = store.register_visit(person(1), decision)
    assert (reopened1, reopened2) == (False, True)
    assert again.id == first.id and again.queue_number == first.queue_number
    assert len(store.visits_on(first.visit_date)) == 1


def test_same_intake_key_is_idempotent(store):
    decision = eligibility.without_answer("down")
    a, _ = store.register_visit(person(1), decision, intake_key="k1")
    b, reopened = store.register_visit(person(1), decision, intake_key="k1")
    assert a.id == b.id and reopened
    assert store.pending_count() == 1


def test_unverified_visit_and_its_outbox_entry_are_written_together(store):
    visit, _ = store.register_visit(person(1), eligibility.without_answer("timeout"))
    assert visit.status is Status.UNVERIFIED
    entries = store.due_outbox()
    assert [(e.visit_id, e.kind) for e in entries] == [(visit.id, "recheck")]
    verified, _ = store.register_visit(person(2), eligibility.decide(answer()))
    assert verified.status is Status.ELIGIBLE
    assert store.pending_count() == 1


def test_complete_recheck_updates_visit_once(store):
    visit, _ = store.register_visit(person(1), eligibility.without_answer("timeout"))
    entry = store.due_outbox()[0]
    expired = eligibility.decide(answer("010"))
    store.complete_recheck(entry, expired, resolved=True)
    store.complete_recheck(entry, eligibility.decide(answer()), resolved=True)  # a retry
    updated = store.visit(visit.id)
    assert updated.status is Status.NOT_ELIGIBLE and updated.needs_attention
    assert store.pending_count() == 0


def test_failed_recheck_backs_off(store):
    store.register_visit(person(1), eligibility.without_answer("timeout"))
    entry = store.due_outbox()[0]
    store.complete_recheck(entry, eligibility.without_answer("still down"), resolved=False)
    assert store.due_outbox() == []  # not due until the back-off passes
    later = datetime.now().astimezone() + timedelta(hours=1)
    (again,) = store.due_outbox(now=later)
    assert again.attempts == 1


def test_cache_finds_newest_answer_by_any_number(store):
    old = datetime.now(UTC) - timedelta(hours=5)
    store.record_attempt(LookupRecord(OFFICER, "0000000001", answer("010", old), None, True))
    store.record_attempt(LookupRecord(OFFICER, "DN4000000000001", answer("000"), None, True))
    by_social = Identity(PayloadKind.BHYT, "X", social_insurance_number="0000000001")
    found = store.cached_answer(by_social, max_age=timedelta(hours=1))
    assert found is not None and found.result_code == "000"
    assert store.cached_answer(person(2), max_age=timedelta(hours=1)) is None


def test_cache_respects_max_age_and_audit_keeps_everything(store):
    old = datetime.now(UTC) - timedelta(days=4)
    store.record_attempt(LookupRecord(OFFICER, "DN4000000000001", answer("000", old), None, True))
    store.record_attempt(LookupRecord(OFFICER, "DN4000000000001", None, "timeout", False))
    assert store.cached_answer(person(1), max_age=timedelta(hours=72)) is None
    assert store.cached_answer(person(1), max_age=timedelta(days=5)) is not None
    rows = store.audit_rows()
    assert [r["error"] for r in rows] == ["timeout", None]
    assert rows[0]["officer_name"] == OFFICER.name


def test_parallel_writers_lose_nothing(store):
    decision = eligibility.without_answer("down")

    def work(base: int) -> None:
        for i in range(25):
            store.register_visit(person(base + i), decision)

    threads = [threading.Thread(target=work, args=(k * 100,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    visits = store.visits_on(datetime.now().astimezone().date().isoformat())
    assert sorted(v.queue_number for v in visits) == list(range(1, 101))
    assert store.pending_count() == 100


def test_file_is_wal_and_survives_reopen(tmp_path):
    path = tmp_path / "desk.db"
    with Store(path) as s:
        visit, _ = s.register_visit(person(1), eligibility.decide(answer()))
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with Store(path) as s:
        again = s.visit(visit.id)
    assert again.identity == visit.identity
    assert again.decision.source is Source.ONLINE


def test_writes_after_close_fail_clearly(tmp_path):
    s = Store(tmp_path / "desk.db")
    s.close()
    with pytest.raises(RuntimeError, match="closed"):
        s.register_visit(person(1), eligibility.without_answer("x"))


def test_purge_removes_old_cached_answers_but_keeps_the_audit(store):
    old = datetime.now(UTC) - timedelta(days=100)
    for when in (old, datetime.now(UTC)):
        store.record_attempt(
            LookupRecord(OFFICER, "DN4000000000001", answer("000", when), None, True)
        )
    assert store.purge_answers(timedelta(days=90)) == 1
    assert store.purge_answers(timedelta(days=90)) == 0
    assert store.cached_answer(person(1), max_age=timedelta(days=365)) is not None
    assert len(store.audit_rows()) == 2


def test_an_online_rescan_clears_the_attention_flag_of_a_recheck(tmp_path):
    """GIVEN a visit re-checked later and found not eligible (flagged for the desk) WHEN the
    patient is scanned again and the gateway answers THEN the new verdict replaces it and the
    flag is cleared: the patient is at the desk, the verdict on screen."""
    from checkin.eligibility import Decision, without_answer
    from checkin.formats import parse_or_raise
    from checkin.model import Source, Status
    from checkin.store import Store, now_local
    from tests.conftest import payload

    identity = parse_or_raise(payload("eligible-old"))
    with Store(tmp_path / "s.db") as store:
        visit, _ = store.register_visit(identity, without_answer("down"))
        (entry,) = store.due_outbox(now=now_local().replace(year=2100))
        expired = Decision(Status.NOT_ELIGIBLE, "010", "Thẻ hết hạn", "", Source.ONLINE)
        store.complete_recheck(entry, expired, resolved=True)
        assert store.visit(visit.id).needs_attention
        assert store.attention_count(visit.visit_date) == 1
        fine = Decision(Status.ELIGIBLE, "000", "Thẻ còn giá trị", "", Source.ONLINE)
        again, reopened = store.register_visit(identity, fine)
        assert reopened and again.id == visit.id
        assert store.visit(visit.id).status is Status.ELIGIBLE
        assert not store.visit(visit.id).needs_attention
        assert store.attention_count(visit.visit_date) == 0
