"""A desk process for the kill tests: ``intake START COUNT`` or ``sync``, printing one line
per acknowledged result (after its commit returned). Run: python -m tests.crash_worker ..."""

from __future__ import annotations

import sys
import time
from datetime import timedelta

from checkin.breaker import CircuitBreaker
from checkin.gateway import GatewayClient
from checkin.intake import Intake
from checkin.model import Officer
from checkin.outbox import OutboxSender
from checkin.store import Store

OFFICER = Officer("Nguyễn Văn Tiếp", "001090000001")


def synthetic_payload(i: int) -> str:
    """A CCCD QR of a synthetic person numbered ``i`` (not in the sandbox registry)."""
    citizen_id = f"001085{i:06d}"
    name = f"Nguyễn Văn {chr(65 + i % 26)}"
    return f"{citizen_id}||{name}|15081985|Nam|Số {i} Phố Thử, Hà Nội|20042021"


def main(argv: list[str]) -> None:
    mode, db, url = argv[:3]
    client = GatewayClient(
        url, "01001_BV", "sandbox-only", OFFICER, timeout_s=1, connect_timeout_s=0.5
    )
    store = Store(db)
    intake = Intake(
        store, client, cache_max_age=timedelta(hours=1), breaker=CircuitBreaker(cooldown_s=60)
    )
    if mode == "intake":
        start, count = int(argv[3]), int(argv[4])
        for i in range(start, start + count):
            result = intake.handle(synthetic_payload(i), intake_key=f"crash-{i}")
            print(f"ack {i} {result.visit.id} {result.visit.queue_number}", flush=True)
    else:
        sender = OutboxSender(
            intake,
            concurrency=1,
            batch=5,
            on_result=lambda entry, decision: print(
                f"rechecked {entry.id} {decision.status}", flush=True
            ),
        )
        while True:
            counts = sender.run_once(everything=True)
            if counts["pending"] == 0:
                print("drained", flush=True)
                break
            time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1:])
