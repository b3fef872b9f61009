"""The desk's SQLite file: patients, cached gateway answers, visits, the audit log, the outbox.

Writes go through one writer thread (:class:`_Writer`), each in a ``BEGIN IMMEDIATE``
transaction: a deferred transaction that reads then writes fails at once in WAL mode when
another connection wrote in between (platform.md §7). Readers use a connection of their own
per thread. ``synchronous=FULL``: a visit acknowledged to the desk survives a power cut.
"""

from __future__ import annotations

import json
import os
import queue
import random
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable, Collection
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from checkin.eligibility import Decision
from checkin.gateway.protocol import CardAnswer, CardQuery
from checkin.model import Identity, Officer, Source, Status

T = TypeVar("T")
SCHEMA_VERSION = 3  # 2: visit_numbers; 3: the evidence of each lookup in audit
CLAIM_TTL = timedelta(minutes=2)  # longer than any lookup; an older claim died with its process
RAW_REPLY_LIMIT = 64 * 1024  # characters of a reply kept as evidence (a card answer: a few kB)


@dataclass(frozen=True)
class Visit:
    id: int
    visit_date: str
    queue_number: int
    identity: Identity
    decision: Decision
    presented_at: str
    created_at: str
    updated_at: str
    needs_attention: bool = False  # re-checked later and found not eligible

    @property
    def status(self) -> Status:
        return self.decision.status

    def to_json(self) -> dict:
        return {
            "visit_id": self.id,
            "visit_date": self.visit_date,
            "queue_number": self.queue_number,
            "status": self.decision.status.value,
            "patient": self.identity.to_json(),
            "decision": self.decision.to_json(),
            "presented_at": self.presented_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "needs_attention": self.needs_attention,
        }


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    visit_id: int
    kind: str
    idempotency_key: str
    attempts: int
    next_attempt_at: str


@dataclass(frozen=True)
class LookupRecord:
    """One lookup to audit (always) and whose answer to cache (when ``cache``), with its
    evidence (formats.md §7): the visit it was for (None for ``checkin check``), the values
    sent (never a credential), whether it was sent at all (not while the breaker is open),
    the HTTP status (None without a reply) and the reply's body as received."""

    officer: Officer
    number: str
    answer: CardAnswer | None
    error: str | None
    cache: bool
    at: datetime | None = None
    visit_id: int | None = None
    query: CardQuery | None = None
    sent: bool = True
    http_status: int | None = None
    raw_reply: str | None = None


def now_local() -> datetime:
    return datetime.now().astimezone()


def patient_key(identity: Identity) -> str:
    """One key per person: the citizen ID when known, else the BHXH number, else the code."""
    return identity.citizen_id or identity.social_insurance_number or identity.lookup_number


def lookup_keys(identity: Identity) -> list[str]:
    keys = [identity.card_number, identity.social_insurance_number, identity.citizen_id]
    return [k for k in keys if k]


def person_numbers(identity: Identity, decision: Decision | None = None) -> list[str]:
    """The strong numbers that name one person: the card code, the 10-digit BHXH number (also
    the last 10 characters of a 15-character code), the citizen ID, and, for a scan carrying
    no card of its own (a CCCD, a chip), the card the gateway's answer to it names. Two scans
    sharing any of them are the same person."""
    found: set[str] = set()
    own_card = identity.card_number or identity.social_insurance_number
    card = decision.card_number if decision and not own_card else None
    for number in (
        identity.card_number,
        identity.social_insurance_number,
        identity.citizen_id,
        card,
    ):
        number = (number or "").strip().upper()
        if not number:
            continue
        found.add(number)
        social = _social_number(number)
        if social and social.isdigit():
            found.add(social)
    return sorted(found)


def _social_number(number: str | None) -> str | None:
    if not number:
        return None
    if len(number) == 15:
        return number[-10:]
    return number if len(number) == 10 else None


class Store:
    """Open (creating if needed) the store at ``path``. Thread-safe; close when done."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # each thread's reader, with its thread: a dead thread's reader is closed by the next
        # thread that opens one (thread pools come and go; their files must not pile up)
        self._readers: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._readers_lock = threading.Lock()
        self._writer = _Writer(self.path)
        self._writer.call(_create_schema)

    def close(self) -> None:
        self._writer.stop()
        with self._readers_lock:
            for _thread, conn in self._readers:
                conn.close()
            self._readers.clear()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes ------------------------------------------------------------------------------

    def record_attempt(self, record: LookupRecord) -> None:
        """Audit one lookup with its evidence (and cache its answer when ``record.cache``)."""
        self._writer.call(lambda db: _write_lookup(db, record))

    def register_visit(
        self,
        identity: Identity,
        decision: Decision,
        *,
        presented_at: datetime | None = None,
        intake_key: str | None = None,
        lookup: LookupRecord | None = None,
    ) -> tuple[Visit, bool]:
        """Register a visit with the day's next queue number, or reopen today's visit of the
        same person: one sharing any strong number (:func:`person_numbers`) with this scan or
        with the gateway's answer to it, so a BHYT card then a CCCD is one visit. A name and
        birth date alone never reopen (see checkin/duplicates.py). Returns ``(visit, reopened)``.
        An unverified visit gets its re-check entry in the outbox in the same transaction, so
        neither exists without the other. ``lookup`` (the one the decision rests on) is audited
        in that transaction too, linked to the visit. A reopened visit that gets an online
        answer about the card has its pending re-check closed: nothing is left to re-check."""
        presented = presented_at or now_local()
        key = intake_key or str(uuid.uuid4())

        def write(db: sqlite_utils.Database) -> tuple[int, bool]:
            existing = _find_intake(db, key)
            if existing is not None:
                _write_lookup(db, lookup, existing)
                return existing, True
            day = presented.date().isoformat()
            person = patient_key(identity)
            numbers = person_numbers(identity, decision)
            _upsert_patient(db, identity, person, presented)
            today = _find_visit_of(db, person, numbers, day)
            if today is not None:
                _write_lookup(db, lookup, today)
                if _refresh_decision(db, today, decision) and decision.source is Source.ONLINE:
                    _close_rechecks(db, today)
                _add_numbers(db, today, day, numbers)  # a later scan of any of them reopens too
                return today, True
            visit_id = _insert_visit(db, identity, decision, person, day, presented, key)
            _write_lookup(db, lookup, visit_id)
            _add_numbers(db, visit_id, day, numbers)
            if decision.status is Status.UNVERIFIED:
                _enqueue(db, visit_id, "recheck", f"recheck:{key}", presented)
            return visit_id, False

        visit_id, reopened = self._writer.call(write)
        return self.visit(visit_id), reopened

    def complete_recheck(
        self,
        entry: OutboxEntry,
        decision: Decision,
        *,
        resolved: bool,
        lookup: LookupRecord | None = None,
    ) -> None:
        """Store a re-check's outcome, and the lookup it rests on, in one transaction: the
        answer is never kept without its entry being closed, nor the other way round. When
        ``resolved`` the entry is done and never sent again."""
        stamp = now_local().isoformat(timespec="seconds")

        def write(db: sqlite_utils.Database) -> None:
            _write_lookup(db, lookup, entry.visit_id)
            row = db.execute("SELECT state FROM outbox WHERE id = ?", [entry.id]).fetchone()
            if row is None or row[0] != "pending":
                return  # already delivered by an earlier run: idempotent
            if resolved:
                attention = decision.status is Status.NOT_ELIGIBLE
                db.execute(
                    "UPDATE visits SET status = ?, result_code = ?, source = ?, decision_json = ?,"
                    " needs_attention = ?, updated_at = ? WHERE id = ?",
                    [
                        decision.status.value,
                        decision.result_code,
                        decision.source.value,
                        json.dumps(decision.to_json(), ensure_ascii=False),
                        int(attention),
                        stamp,
                        entry.visit_id,
                    ],
                )
                db.execute(
                    "UPDATE outbox SET state = 'done', attempts = attempts + 1, updated_at = ?,"
                    " last_error = NULL, claimed_at = NULL WHERE id = ?",
                    [stamp, entry.id],
                )
            else:
                db.execute(
                    "UPDATE outbox SET attempts = attempts + 1, updated_at = ?, last_error = ?,"
                    " next_attempt_at = ?, claimed_at = NULL WHERE id = ?",
                    [stamp, decision.error, _backoff(entry.attempts + 1), entry.id],
                )

        self._writer.call(write)

    def purge_answers(self, older_than: timedelta, now: datetime | None = None) -> int:
        """Delete cached answers older than the retention period; the audit log stays."""
        cutoff = ((now or now_local()) - older_than).astimezone(UTC).isoformat(timespec="seconds")

        def write(db: sqlite_utils.Database) -> int:
            return db.execute("DELETE FROM answers WHERE checked_at < ?", [cutoff]).rowcount

        return self._writer.call(write)

    # -- reads -------------------------------------------------------------------------------

    def cached_answer(
        self, identity: Identity, *, max_age: timedelta, now: datetime | None = None
    ) -> CardAnswer | None:
        """The newest cached answer for any of the identity's numbers, if young enough."""
        keys = lookup_keys(identity)
        social = {_social_number(k) for k in keys} - {None}
        if not keys:
            return None
        oldest = ((now or now_local()) - max_age).isoformat(timespec="seconds")
        marks = ",".join("?" * len(keys))
        smarks = ",".join("?" * len(social)) or "NULL"
        row = (
            self._read()
            .execute(
                f"SELECT answer_json, checked_at FROM answers WHERE (number IN ({marks})"
                f" OR social_insurance_number IN ({smarks})) ORDER BY checked_at DESC LIMIT 1",
                [*keys, *social],
            )
            .fetchone()
        )
        if row is None or datetime.fromisoformat(row[1]) < datetime.fromisoformat(oldest):
            return None
        return CardAnswer.from_json(json.loads(row[0]))

    def visit(self, visit_id: int) -> Visit:
        row = self._read().execute(_VISIT_SELECT + " WHERE id = ?", [visit_id]).fetchone()
        if row is None:
            raise KeyError(f"no visit {visit_id}")
        return _visit_from_row(row)

    def visits_on(self, day: str) -> list[Visit]:
        rows = (
            self._read()
            .execute(_VISIT_SELECT + " WHERE visit_date = ? ORDER BY queue_number", [day])
            .fetchall()
        )
        return [_visit_from_row(r) for r in rows]

    def due_outbox(self, now: datetime | None = None, limit: int = 100) -> list[OutboxEntry]:
        stamp = (now or now_local()).isoformat(timespec="seconds")
        rows = (
            self._read()
            .execute(
                "SELECT id, visit_id, kind, idempotency_key, attempts, next_attempt_at FROM outbox"
                " WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
                [stamp, limit],
            )
            .fetchall()
        )
        return [OutboxEntry(*r) for r in rows]

    def claim_due(
        self, now: datetime | None = None, limit: int = 100, skip: Collection[int] = ()
    ) -> list[OutboxEntry]:
        """Claim due entries for sending, durably, so that no other sender takes them. A
        claim whose process is gone, or older than ``CLAIM_TTL``, is free again. Entries
        whose id is in ``skip`` (those a pass has already tried) are left alone."""
        moment = now_local()
        stamp = (now or moment).isoformat(timespec="seconds")
        stale = (moment - CLAIM_TTL).isoformat(timespec="seconds")
        claimed = moment.isoformat(timespec="seconds")

        def write(db: sqlite_utils.Database) -> list[OutboxEntry]:
            rows = db.execute(
                "SELECT id, visit_id, kind, idempotency_key, attempts, next_attempt_at,"
                " claimed_at, claimed_by FROM outbox WHERE state = 'pending'"
                " AND next_attempt_at <= ? ORDER BY id",
                [stamp],
            )
            free = []
            for row in rows:
                if row[0] in skip:
                    continue
                if row[6] is None or row[6] < stale or not _owner_alive(row[7]):
                    free.append(OutboxEntry(*row[:6]))
                    if len(free) == limit:
                        break
            for entry in free:
                db.execute(
                    "UPDATE outbox SET claimed_at = ?, claimed_by = ? WHERE id = ?",
                    [claimed, _OWNER, entry.id],
                )
            return free

        return self._writer.call(write)

    def pending_count(self) -> int:
        return (
            self._read()
            .execute("SELECT count(*) FROM outbox WHERE state = 'pending'")
            .fetchone()[0]
        )

    def audit_rows(self, limit: int = 100) -> list[dict[str, Any]]:
        cursor = self._read().execute(
            "SELECT at, officer_name, officer_id, number, result_code, error FROM audit"
            " ORDER BY id DESC LIMIT ?",
            [limit],
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]

    def lookup_attempts(self, visit_id: int) -> list[dict[str, Any]]:
        """Every lookup made for a visit, oldest first, with its evidence: the failed-lookup
        log of the case-(b) bundle (formats.md §7). ``values_sent`` is None for rows written
        before schema version 3."""
        cursor = self._read().execute(
            "SELECT at, officer_name, officer_id, number, sent, query_json, http_status,"
            " result_code, error, raw_reply FROM audit WHERE visit_id = ? ORDER BY at, id",
            [visit_id],
        )
        attempts = []
        for row in cursor.fetchall():
            at, name, officer_id, number, sent, query, status, code, error, raw = row
            attempts.append(
                {
                    "at": at,
                    "officer_name": name,
                    "officer_id": officer_id,
                    "number": number,
                    "sent": sent is None or bool(sent),
                    "values_sent": json.loads(query) if query else None,
                    "http_status": status,
                    "result_code": code,
                    "error": error,
                    "raw_reply": raw,
                }
            )
        return attempts

    def _read(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            self._local.conn = conn
            with self._readers_lock:
                alive = []
                for thread, reader in self._readers:
                    if thread.is_alive():
                        alive.append((thread, reader))
                    else:
                        reader.close()  # check_same_thread=False: its thread is gone
                alive.append((threading.current_thread(), conn))
                self._readers = alive
        return conn

    # -- read-only queries for the desk (issue #6) ------------------------------------------
    # Added for ui/ and checkin/duplicates.py. They only read, through this thread's reader
    # connection; nothing above changed.

    def visits_born(self, day: str, year: str) -> list[Visit]:
        """Visits of ``day`` whose patient's birth date (``YYYY`` or ``YYYY-MM-DD``) falls in
        ``year``: the candidates for a possible-duplicate check."""
        rows = (
            self._read()
            .execute(
                _VISIT_SELECT + " WHERE visit_date = ?"
                " AND substr(json_extract(identity_json, '$.date_of_birth'), 1, 4) = ?"
                " ORDER BY queue_number",
                [day, year],
            )
            .fetchall()
        )
        return [_visit_from_row(r) for r in rows]

    def acknowledge(self, visit_id: int) -> bool:
        """The desk has dealt with a visit found not eligible at its re-check (the patient was
        told, self-pay arranged): it no longer needs attention. True when it did."""
        stamp = now_local().isoformat(timespec="seconds")

        def write(db: sqlite_utils.Database) -> bool:
            cursor = db.execute(
                "UPDATE visits SET needs_attention = 0, updated_at = ?"
                " WHERE id = ? AND needs_attention = 1",
                [stamp, visit_id],
            )
            return cursor.rowcount > 0

        return self._writer.call(write)

    def attention_count(self, day: str) -> int:
        """Visits of ``day`` re-checked later and found not eligible (the desk must act)."""
        return (
            self._read()
            .execute(
                "SELECT count(*) FROM visits WHERE visit_date = ? AND needs_attention = 1", [day]
            )
            .fetchone()[0]
        )


# -- writer thread ---------------------------------------------------------------------------


class _Writer:
    """The one thread that writes. ``call`` runs a function inside ``BEGIN IMMEDIATE`` …
    ``COMMIT`` (rolled back if it raises) and returns its result to the caller."""

    def __init__(self, path: Path) -> None:
        self._jobs: queue.Queue[tuple[Callable, Future] | None] = queue.Queue()
        self._ready: Future = Future()
        self._thread = threading.Thread(
            target=self._run, args=(path,), name="store-writer", daemon=True
        )
        self._thread.start()
        self._ready.result()

    def call(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        if not self._thread.is_alive():
            raise RuntimeError("the store is closed")
        done: Future = Future()
        self._jobs.put((fn, done))
        return done.result()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()

    def _run(self, path: Path) -> None:
        try:
            conn = _connect(path)
            conn.execute("PRAGMA journal_mode=WAL")
            db = sqlite_utils.Database(conn)
        except BaseException as exc:  # report open failures to the constructor
            self._ready.set_exception(exc)
            return
        self._ready.set_result(None)
        while (job := self._jobs.get()) is not None:
            fn, done = job
            try:
                conn.execute("BEGIN IMMEDIATE")
                result = fn(db)
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                done.set_exception(exc)
            else:
                done.set_result(result)
        conn.close()


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


# -- schema and row helpers ------------------------------------------------------------------


def _create_schema(db: sqlite_utils.Database) -> None:
    db["patients"].create(
        {
            "key": str,
            "card_number": str,
            "social_insurance_number": str,
            "citizen_id": str,
            "full_name": str,
            "date_of_birth": str,
            "identity_json": str,
            "first_seen": str,
            "last_seen": str,
        },
        pk="key",
        if_not_exists=True,
    )
    db["answers"].create(
        {
            "id": int,
            "number": str,
            "social_insurance_number": str,
            "result_code": str,
            "checked_at": str,
            "answer_json": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db["visits"].create(
        {
            "id": int,
            "intake_key": str,
            "visit_date": str,
            "queue_number": int,
            "patient_key": str,
            "full_name": str,
            "status": str,
            "result_code": str,
            "source": str,
            "identity_json": str,
            "decision_json": str,
            "needs_attention": int,
            "presented_at": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"intake_key", "visit_date", "queue_number", "patient_key", "status"},
        if_not_exists=True,
    )
    db["audit"].create(
        {
            "id": int,
            "at": str,
            "officer_name": str,
            "officer_id": str,
            "number": str,
            "result_code": str,
            "error": str,
        },
        pk="id",
        if_not_exists=True,
    )
    for column, kind in _AUDIT_EVIDENCE.items():  # files made before version 3
        if column not in db["audit"].columns_dict:
            db["audit"].add_column(column, kind)
    db["outbox"].create(
        {
            "id": int,
            "visit_id": int,
            "kind": str,
            "idempotency_key": str,
            "state": str,
            "attempts": int,
            "next_attempt_at": str,
            "created_at": str,
            "updated_at": str,
            "last_error": str,
            "claimed_at": str,
            "claimed_by": str,
        },
        pk="id",
        foreign_keys=[("visit_id", "visits", "id")],
        defaults={"state": "pending", "attempts": 0},
        if_not_exists=True,
    )
    for column in ("claimed_at", "claimed_by"):  # files made before claims existed
        if column not in db["outbox"].columns_dict:
            db["outbox"].add_column(column, str)
    if "visit_numbers" not in db.table_names():  # new, or a file made before version 2
        db["visit_numbers"].create(
            {"visit_id": int, "visit_date": str, "number": str}, pk=("visit_id", "number")
        )
        _backfill_numbers(db)
    indexes = [
        ("answers", ["number", "checked_at"], False),
        ("answers", ["social_insurance_number", "checked_at"], False),
        ("visits", ["visit_date", "queue_number"], True),
        ("visits", ["intake_key"], True),
        ("visits", ["patient_key", "visit_date"], False),
        ("visit_numbers", ["number", "visit_date"], False),
        ("outbox", ["idempotency_key"], True),
        ("outbox", ["state", "next_attempt_at"], False),
        ("audit", ["number"], False),
        ("audit", ["visit_id", "at"], False),
    ]
    for table, columns, unique in indexes:
        db[table].create_index(columns, unique=unique, if_not_exists=True)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


# Version 3: what a lookup was for, what it sent and what came back (formats.md §7).
_AUDIT_EVIDENCE = {
    "visit_id": int,
    "sent": int,
    "query_json": str,
    "http_status": int,
    "raw_reply": str,
}


def _write_lookup(
    db: sqlite_utils.Database, record: LookupRecord | None, visit_id: int | None = None
) -> None:
    """Audit ``record`` (nothing when None), for ``visit_id`` unless it names its own visit."""
    if record is None:
        return
    answer = record.answer
    query = record.query
    raw = record.raw_reply
    db["audit"].insert(
        {
            "at": (record.at or now_local()).isoformat(timespec="seconds"),
            "officer_name": record.officer.name,
            "officer_id": record.officer.citizen_id,
            "number": record.number,
            "result_code": answer.result_code if answer else None,
            "error": record.error,
            "visit_id": record.visit_id if record.visit_id is not None else visit_id,
            "sent": int(record.sent),
            "query_json": json.dumps(
                {
                    "number": query.number,
                    "full_name": query.full_name,
                    "date_of_birth": query.date_of_birth,
                },
                ensure_ascii=False,
            )
            if query
            else None,
            "http_status": record.http_status,
            "raw_reply": raw[:RAW_REPLY_LIMIT] if raw else raw,
        }
    )
    if answer is not None and record.cache:
        db["answers"].insert(
            {
                "number": record.number,
                "social_insurance_number": answer.social_insurance_number
                or _social_number(answer.card_number)
                or _social_number(record.number),
                "result_code": answer.result_code,
                "checked_at": answer.received_at,
                "answer_json": json.dumps(answer.to_json(), ensure_ascii=False),
            }
        )


def _upsert_patient(
    db: sqlite_utils.Database, identity: Identity, key: str, seen: datetime
) -> None:
    stamp = seen.isoformat(timespec="seconds")
    row = {
        "key": key,
        "card_number": identity.card_number,
        "social_insurance_number": identity.social_insurance_number,
        "citizen_id": identity.citizen_id,
        "full_name": identity.full_name,
        "date_of_birth": identity.date_of_birth,
        "identity_json": json.dumps(identity.to_json(), ensure_ascii=False),
        "last_seen": stamp,
    }
    if db.execute("SELECT 1 FROM patients WHERE key = ?", [key]).fetchone():
        db["patients"].update(key, {k: v for k, v in row.items() if v is not None})
    else:
        db["patients"].insert({**row, "first_seen": stamp})


def _find_intake(db: sqlite_utils.Database, key: str) -> int | None:
    row = db.execute("SELECT id FROM visits WHERE intake_key = ?", [key]).fetchone()
    return row[0] if row else None


def _find_visit_of(
    db: sqlite_utils.Database, person: str, numbers: list[str], day: str
) -> int | None:
    """Today's first visit of this person: the same patient key, else any shared number."""
    row = db.execute(
        "SELECT id FROM visits WHERE patient_key = ? AND visit_date = ? ORDER BY id LIMIT 1",
        [person, day],
    ).fetchone()
    if row is None and numbers:
        marks = ",".join("?" * len(numbers))
        row = db.execute(
            f"SELECT min(visit_id) FROM visit_numbers WHERE number IN ({marks}) AND visit_date = ?",
            [*numbers, day],
        ).fetchone()
    return row[0] if row else None


def _add_numbers(db: sqlite_utils.Database, visit_id: int, day: str, numbers: list[str]) -> None:
    db.conn.executemany(
        "INSERT OR IGNORE INTO visit_numbers (visit_id, visit_date, number) VALUES (?, ?, ?)",
        [(visit_id, day, n) for n in numbers],
    )


def _backfill_numbers(db: sqlite_utils.Database) -> None:
    """The numbers of visits registered before ``visit_numbers`` existed (schema version 1)."""
    rows = db.execute("SELECT id, visit_date, identity_json, decision_json FROM visits")
    for visit_id, day, identity_json, decision_json in rows.fetchall():
        identity = Identity.from_json(json.loads(identity_json))
        decision = Decision.from_json(json.loads(decision_json)) if decision_json else None
        _add_numbers(db, visit_id, day, person_numbers(identity, decision))


def _refresh_decision(db: sqlite_utils.Database, visit_id: int, decision: Decision) -> bool:
    """A second scan with an online answer updates today's visit; an offline one does not
    overwrite what is known. The patient is at the desk with the new verdict on screen, so a
    flag left by an earlier re-check ("needs attention") is cleared. True when updated."""
    if decision.status is Status.UNVERIFIED:
        return False
    db.execute(
        "UPDATE visits SET status = ?, result_code = ?, source = ?, decision_json = ?,"
        " needs_attention = 0, updated_at = ? WHERE id = ?",
        [
            decision.status.value,
            decision.result_code,
            decision.source.value,
            json.dumps(decision.to_json(), ensure_ascii=False),
            now_local().isoformat(timespec="seconds"),
            visit_id,
        ],
    )
    return True


def _close_rechecks(db: sqlite_utils.Database, visit_id: int) -> None:
    """The visit's pending re-checks are done: a later scan got the gateway's answer. A sender
    holding one of them finds it closed and stores nothing but its lookup."""
    db.execute(
        "UPDATE outbox SET state = 'done', updated_at = ?, last_error = NULL, claimed_at = NULL"
        " WHERE visit_id = ? AND state = 'pending'",
        [now_local().isoformat(timespec="seconds"), visit_id],
    )


def _insert_visit(
    db: sqlite_utils.Database,
    identity: Identity,
    decision: Decision,
    person: str,
    day: str,
    presented: datetime,
    key: str,
) -> int:
    number = db.execute(
        "SELECT coalesce(max(queue_number), 0) + 1 FROM visits WHERE visit_date = ?", [day]
    ).fetchone()[0]
    stamp = now_local().isoformat(timespec="seconds")
    table = db["visits"].insert(
        {
            "intake_key": key,
            "visit_date": day,
            "queue_number": number,
            "patient_key": person,
            "full_name": identity.full_name,
            "status": decision.status.value,
            "result_code": decision.result_code,
            "source": decision.source.value,
            "identity_json": json.dumps(identity.to_json(), ensure_ascii=False),
            "decision_json": json.dumps(decision.to_json(), ensure_ascii=False),
            "needs_attention": 0,
            "presented_at": presented.isoformat(timespec="seconds"),
            "created_at": stamp,
            "updated_at": stamp,
        }
    )
    return int(table.last_pk)


def _enqueue(db: sqlite_utils.Database, visit_id: int, kind: str, key: str, at: datetime) -> None:
    stamp = at.isoformat(timespec="seconds")
    db["outbox"].insert(
        {
            "visit_id": visit_id,
            "kind": kind,
            "idempotency_key": key,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": stamp,
            "created_at": stamp,
            "updated_at": stamp,
        }
    )


_OWNER = f"{os.getpid()}@{socket.gethostname()}"


def _owner_alive(owner: str | None) -> bool:
    """Is the process that claimed an entry still running? (WAL: all users share one host.)"""
    if not owner:
        return False
    pid, _, host = owner.partition("@")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # cannot tell: the claim's age decides
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _backoff(attempts: int) -> str:
    """Next try: 30 s doubling to 30 min, ±20 % jitter so that desks do not retry in step."""
    delay = min(30 * 2 ** max(0, attempts - 1), 1800) * random.uniform(0.8, 1.2)
    return (now_local() + timedelta(seconds=delay)).isoformat(timespec="seconds")


_VISIT_SELECT = (
    "SELECT id, visit_date, queue_number, identity_json, decision_json, presented_at,"
    " created_at, updated_at, needs_attention FROM visits"
)


def _visit_from_row(row: tuple) -> Visit:
    return Visit(
        id=row[0],
        visit_date=row[1],
        queue_number=row[2],
        identity=Identity.from_json(json.loads(row[3])),
        decision=Decision.from_json(json.loads(row[4])),
        presented_at=row[5],
        created_at=row[6],
        updated_at=row[7],
        needs_attention=bool(row[8]),
    )
