"""Outbox drain rate: N unverified visits re-checked against the sandbox over HTTP.

Run: ``.venv/bin/python benchmarks/sync.py [VISITS] [CONCURRENCY]`` (default 10,000 and 4).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)

from checkin.gateway import GatewayClient
from checkin.intake import Intake
from checkin.model import Identity, PayloadKind
from checkin.outbox import OutboxSender
from checkin.sandbox import Sandbox
from checkin.store import Store


def main(visits: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.db") as store:
        offline = Intake(store, None)
        started = time.perf_counter()
        for i in range(visits):
            offline.admit(
                Identity(
                    PayloadKind.CCCD,
                    "Trần Thị C",
                    citizen_id=f"0011900{i:05d}",
                    date_of_birth="1990-03-04",
                )
            )
        took = time.perf_counter() - started
        print(
            f"registered {visits:,} unverified visits offline in {took:.1f} s"
            f" ({visits / took:,.0f}/s)"
        )
        with Sandbox() as sandbox:
            client = GatewayClient.from_config(sandbox.gateway_config(timeout_s=2))
            sender = OutboxSender(Intake(store, client), concurrency=concurrency, batch=500)
            started = time.perf_counter()
            counts = sender.run_once(everything=True)
            took = time.perf_counter() - started
            client.close()
            lookups = sum(sandbox.lookups_by_card.values())
        print(
            f"drained {counts['rechecked']:,} re-checks in {took:.1f} s"
            f" ({counts['rechecked'] / took:,.0f}/s,"
            f" concurrency {concurrency}); failed {counts['failed']}, pending {counts['pending']},"
            f" gateway lookups {lookups:,}"
        )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 10_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 4,
    )
