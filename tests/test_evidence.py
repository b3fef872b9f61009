"""The evidence of every lookup, kept with its visit (formats.md §7, issue 4): what was sent,
the HTTP status, the result code or the error, the raw reply; ``checkin evidence``; and a
second scan answered online closing the visit's re-check."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime

import pytest

from checkin import eligibility
from checkin.breaker import CircuitBreaker
from checkin.gateway.protocol import CardAnswer, CardQuery, password_hash
from checkin.model import Identity, Officer, PayloadKind, Source, Status
from checkin.outbox import sync_once
from checkin.store import RAW_REPLY_LIMIT, SCHEMA_VERSION, LookupRecord, Store
from tests.conftest import payload
from tests.test_cli import assert_one_line_exit_2, run

OFFICER = Officer("Nguyễn Văn Tiếp", "001090000001")


@pytest.fixture
def intake(make_intake):
    return make_intake(breaker=CircuitBreaker(cooldown_s=0.05))


def back_online(sandbox) -> None:
    sandbox.faults.set("none")
    time.sleep(0.06)  # past the breaker's cooldown


def test_offline_intake_then_sync_keeps_the_failed_lookup(intake, healthy_sandbox):
    healthy_sandbox.faults.set("down")
    result = intake.handle(payload("eligible-new"))
    assert result.decision.status is Status.UNVERIFIED
    back_online(healthy_sandbox)
    assert sync_once(intake)["rechecked"] == 1
    visit = intake.store.visit(result.visit.id)
    assert visit.status is Status.ELIGIBLE  # the decision moved on; the evidence stays

    failed, answered = intake.store.lookup_attempts(visit.id)
    identity = result.identity
    sent = {
        "number": identity.lookup_number,
        "full_name": identity.full_name,
        "date_of_birth": identity.date_of_birth,
    }
    assert failed["sent"] and failed["http_status"] is None and failed["result_code"] is None
    assert failed["error"] == result.decision.error and "cannot reach" in failed["error"]
    assert failed["at"] and failed["values_sent"] == sent and failed["raw_reply"] is None
    assert failed["officer_name"] == intake.officer.name
    assert answered["http_status"] == 200 and answered["result_code"] == "000"
    assert answered["error"] is None and answered["values_sent"] == sent
    assert json.loads(answered["raw_reply"])["maKetQua"] == "000"
    assert datetime.fromisoformat(failed["at"]) <= datetime.fromisoformat(answered["at"])


def test_http_500_and_not_sent_are_recorded_and_no_secret_is_stored(make_intake, healthy_sandbox):
    intake = make_intake(breaker=CircuitBreaker(cooldown_s=0.5))
    intake.check(intake_identity("eligible-old"))  # a token, and a lookup without a visit
    healthy_sandbox.faults.set("http500")
    first = intake.handle(payload("expired-010")).visit  # the card check answers 500
    second = intake.handle(payload("reduced-120")).visit  # breaker open: not sent
    (failed,) = intake.store.lookup_attempts(first.id)
    assert failed["sent"] and failed["http_status"] == 500
    assert "HTTP 500" in failed["error"] and failed["result_code"] is None
    assert (
        failed["raw_reply"].startswith("<!DOCTYPE html>") and "Server Error" in failed["raw_reply"]
    )
    (skipped,) = intake.store.lookup_attempts(second.id)
    assert not skipped["sent"] and skipped["http_status"] is None
    assert skipped["error"].startswith("not sent: gateway offline")
    assert skipped["values_sent"]["number"] == intake.store.visit(second.id).identity.lookup_number
    with sqlite3.connect(intake.store.path) as conn:
        unlinked = conn.execute("SELECT count(*) FROM audit WHERE visit_id IS NULL").fetchone()
    assert unlinked[0] == 1  # the `check`

    healthy_sandbox.faults.set("none")
    time.sleep(0.55)
    assert sync_once(intake)["rechecked"] == 2
    token = intake.gateway._token
    assert token is not None
    intake.store.close()  # checkpoints the WAL into the file
    stored = b"".join(
        p.read_bytes()
        for p in intake.store.path.parent.iterdir()
        if p.name.startswith(intake.store.path.name)
    )
    password = healthy_sandbox.population.accounts[0].password
    secrets = [token.access_token, token.id_token, password, password_hash(password)]
    secrets.append(password_hash(password).lower())
    for secret in filter(None, secrets):
        assert secret.encode() not in stored
    assert b"token=" not in stored


def test_a_second_scan_answered_online_closes_the_recheck(intake, healthy_sandbox):
    healthy_sandbox.faults.set("down")
    first = intake.handle(payload("retiree-ht3"))
    assert first.decision.status is Status.UNVERIFIED and intake.store.pending_count() == 1
    back_online(healthy_sandbox)
    again = intake.handle(payload("retiree-ht3"))
    assert again.reopened and again.visit.id == first.visit.id
    assert again.decision.status is Status.ELIGIBLE
    assert intake.store.pending_count() == 0
    lookups = sum(healthy_sandbox.lookups_by_card.values())
    assert sync_once(intake) == {"sent": 0, "rechecked": 0, "failed": 0, "pending": 0}
    assert sum(healthy_sandbox.lookups_by_card.values()) == lookups
    attempts = intake.store.lookup_attempts(first.visit.id)
    assert [a["http_status"] for a in attempts] == [None, 200]


def test_a_second_scan_answered_from_the_cache_keeps_the_recheck(tmp_path):
    identity = Identity(
        kind=PayloadKind.BHYT,
        card_number="DN4010123456789",
        social_insurance_number="0123456789",
        full_name="Trần Thị Mai",
        date_of_birth="1985-05-12",
    )
    answer = CardAnswer("000", "ok", "2026-01-01T00:00:00+00:00", card_number="DN4010123456789")
    now = datetime(2026, 11, 22, 8, 0).astimezone()
    with Store(tmp_path / "d.db") as store:
        store.register_visit(identity, eligibility.without_answer("down"))
        cached = eligibility.from_cache(answer, error="down", now=now)
        assert cached.source is Source.CACHE
        store.register_visit(identity, cached)
        assert store.pending_count() == 1
        online = eligibility.decide(answer)
        _, reopened = store.register_visit(identity, online)
        assert reopened and store.pending_count() == 0
        (entry_state,) = store._read().execute("SELECT state FROM outbox").fetchone()
        assert entry_state == "done"


def test_evidence_command(desk_config, healthy_sandbox):
    config = str(desk_config)
    healthy_sandbox.faults.set("down")
    intake = json.loads(run("--config", config, "intake", "--json", payload("eligible-new")).stdout)
    healthy_sandbox.faults.set("none")
    assert json.loads(run("--config", config, "sync", "--json").stdout)["rechecked"] == 1
    (visit,) = json.loads(run("--config", config, "visits", "--json").stdout)

    result = run("--config", config, "evidence", str(intake["visit_id"]), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["visit"] == visit
    failed, answered = data["attempts"]
    assert failed["error"] == intake["decision"]["error"] and failed["http_status"] is None
    assert answered["http_status"] == 200 and answered["result_code"] == "000"
    assert "maKetQua" in answered["raw_reply"]
    assert failed["officer_id"].startswith("*")  # masked: the full ID stays in the store

    human = run("--config", config, "evidence", str(intake["visit_id"])).stdout.splitlines()
    assert len(human) == 4 and "no reply" in human[2] and "HTTP 200" in human[3]

    assert_one_line_exit_2(run("--config", config, "evidence", "999"), "no visit 999")
    assert run("--config", config, "evidence", "abc").returncode == 2


def test_a_version_2_file_gets_the_evidence_columns(tmp_path):
    path = tmp_path / "old.db"
    identity = Identity(
        kind=PayloadKind.CCCD, citizen_id="001085000001", full_name="Lê Văn A", date_of_birth="1985"
    )
    with Store(path) as store:
        visit, _ = store.register_visit(identity, eligibility.without_answer("down"))
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        DROP TABLE audit;
        CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT, officer_name TEXT,
            officer_id TEXT, number TEXT, result_code TEXT, error TEXT);
        INSERT INTO audit (at, officer_name, officer_id, number, error)
            VALUES ('2026-11-22T08:00:00+07:00', 'Cán bộ', '001090000001', '001085000001', 'x');
        PRAGMA user_version = 2;
        """
    )
    conn.close()
    with Store(path) as store:
        assert store.audit_rows()[0]["error"] == "x"  # the old row is kept
        assert store.lookup_attempts(visit.id) == []  # it names no visit
        query = CardQuery("001085000001", "Lê Văn A", "1985")
        store.record_attempt(
            LookupRecord(
                OFFICER, "001085000001", None, "boom", False, visit_id=visit.id, query=query
            )
        )
        (attempt,) = store.lookup_attempts(visit.id)
        assert attempt["error"] == "boom" and attempt["values_sent"]["full_name"] == "Lê Văn A"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    columns = {r[1] for r in conn.execute("PRAGMA table_info(audit)")}
    assert {"visit_id", "sent", "query_json", "http_status", "raw_reply"} <= columns
    conn.close()


def test_a_long_reply_is_cut_to_the_limit(tmp_path):
    with Store(tmp_path / "d.db") as store:
        store.record_attempt(
            LookupRecord(OFFICER, "1", None, "x", False, visit_id=7, raw_reply="é" * 100_000)
        )
        (attempt,) = store.lookup_attempts(7)
    assert len(attempt["raw_reply"]) == RAW_REPLY_LIMIT


def intake_identity(key: str) -> Identity:
    from checkin.formats import parse_payload

    return parse_payload(payload(key))
