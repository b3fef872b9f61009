"""Re-checking unverified visits once the gateway answers again.

Every unverified visit has an outbox entry written in the same transaction as the visit. The
sender claims due entries (durably, before anything is sent), re-checks them with bounded
concurrency, and stores each outcome in one transaction that also closes the entry. An entry
that is already closed is never sent again, so retries and restarts do not deliver twice.

The one window left is physical: a process killed after the gateway answered and before the
outcome was committed. Its claim then expires and the request is sent again, under the same
idempotency key (the entry's, in an ``Idempotency-Key`` header): a gateway that honours the
header (the sandbox does) answers it from its record, so the card is looked up once. One that
ignores it looks the card up a second time; the lookup is read-only, so the repeat changes
nothing but the gateway's log. Either way the visit is re-checked, never lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from checkin.eligibility import Decision
from checkin.intake import Intake
from checkin.model import Source
from checkin.store import OutboxEntry, now_local

log = logging.getLogger(__name__)

ResultHook = Callable[[OutboxEntry, Decision], None]


class OutboxSender:
    """Drains the outbox: ``run_once()`` for one pass, ``start()`` for a background thread."""

    def __init__(
        self,
        intake: Intake,
        *,
        interval_s: float = 5.0,
        concurrency: int = 2,
        batch: int = 200,
        on_result: ResultHook | None = None,
    ) -> None:
        self.intake = intake
        self.interval_s = interval_s
        self.concurrency = max(1, concurrency)
        self.batch = batch
        self.on_result = on_result
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one pass at a time

    def run_once(self, *, everything: bool = False) -> dict[str, int]:
        """One pass. ``everything`` ignores back-off times (a manual ``checkin sync``)."""
        with self._lock:
            counts = {"sent": 0, "rechecked": 0, "failed": 0, "pending": 0}
            store = self.intake.store
            online = self.intake.probe()  # pending or not: scans rely on it to come back online
            if online and store.pending_count():
                horizon = _far_future() if everything else None
                tried: set[int] = set()  # once per pass: an entry that fails waits for the next
                while not self._stop.is_set():
                    entries = store.claim_due(now=horizon, limit=self.batch, skip=tried)
                    if not entries:
                        break
                    tried.update(entry.id for entry in entries)
                    self._send(entries, counts)
                    if not self.intake.breaker.online:
                        break
            counts["pending"] = store.pending_count()
            return counts

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self.intake.probing_in_background = True
            self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
            self.intake.probing_in_background = False

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:  # the sender must outlive any one bad pass
                log.exception("outbox pass failed")

    def _send(self, entries: list[OutboxEntry], counts: dict[str, int]) -> None:
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="recheck") as pool:
            for entry, decision in zip(entries, pool.map(self._recheck, entries), strict=True):
                if decision.source is Source.ONLINE:
                    counts["sent"] += 1
                    counts["rechecked"] += 1
                else:
                    counts["failed"] += 1
                if self.on_result is not None:
                    self.on_result(entry, decision)

    def _recheck(self, entry: OutboxEntry) -> Decision:
        store = self.intake.store
        visit = store.visit(entry.visit_id)
        outcome = self.intake.recheck(visit, idempotency_key=entry.idempotency_key)
        resolved = outcome.decision.source is Source.ONLINE
        store.complete_recheck(entry, outcome.decision, resolved=resolved, lookup=outcome.lookup)
        return outcome.decision


def sync_once(intake: Intake, *, everything: bool = True) -> dict[str, int]:
    """``checkin sync``: one pass over the outbox; the contract's counts."""
    return OutboxSender(intake).run_once(everything=everything)


def _far_future() -> datetime:
    return datetime.max.replace(tzinfo=now_local().tzinfo)
