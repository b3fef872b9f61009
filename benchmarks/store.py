"""Cache lookups with 1,000,000 cached answers, and intake latency online and offline.

Run: ``.venv/bin/python benchmarks/store.py [ROWS]`` (default 1,000,000).
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import report, timed

from checkin.gateway import GatewayClient
from checkin.gateway.protocol import CardAnswer
from checkin.intake import Intake
from checkin.model import Identity, PayloadKind
from checkin.sandbox import Sandbox
from checkin.store import Store


def fill(path: Path, rows: int) -> None:
    """Bulk-load cached answers straight into the file (set-up, not what is measured)."""
    now = datetime.now(UTC)
    conn = sqlite3.connect(path)
    conn.execute("BEGIN")
    batch = []
    for i in range(rows):
        social = f"{i:010d}"
        stamp = (now - timedelta(seconds=i % 86400)).isoformat(timespec="seconds")
        answer = CardAnswer("000", "ok", stamp, card_number=f"DN401{social}", valid_to="2099-12-31")
        batch.append((f"DN401{social}", social, "000", stamp, json.dumps(answer.to_json())))
        if len(batch) == 50_000:
            conn.executemany(
                "INSERT INTO answers (number, social_insurance_number, result_code, checked_at,"
                " answer_json) VALUES (?, ?, ?, ?, ?)",
                batch,
            )
            batch.clear()
    if batch:
        conn.executemany(
            "INSERT INTO answers (number, social_insurance_number, result_code, checked_at,"
            " answer_json) VALUES (?, ?, ?, ?, ?)",
            batch,
        )
    conn.commit()
    conn.close()


def main(rows: int) -> None:
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        Store(path).close()
        started = time.perf_counter()
        fill(path, rows)
        print(f"loaded {rows:,} cached answers in {time.perf_counter() - started:.1f} s")
        with Store(path) as store:
            hits = [
                Identity(
                    PayloadKind.BHYT, "X", social_insurance_number=f"{rng.randrange(rows):010d}"
                )
                for _ in range(2000)
            ]
            misses = [
                Identity(PayloadKind.CCCD, "X", citizen_id=f"9{rng.randrange(10**11):011d}")
                for _ in range(2000)
            ]
            age = timedelta(hours=72)
            report(
                "cache lookup, hit (1M rows)",
                timed(lambda i: store.cached_answer(i, max_age=age), hits),
            )
            report(
                "cache lookup, miss (1M rows)",
                timed(lambda i: store.cached_answer(i, max_age=age), misses),
            )
            with Sandbox() as sandbox:
                client = GatewayClient.from_config(sandbox.gateway_config(timeout_s=2))
                online = Intake(store, client)
                client.take_token()
                people = [
                    Identity(
                        PayloadKind.CCCD,
                        "Nguyễn Văn A",
                        citizen_id=f"0010850{i:05d}",
                        date_of_birth="1985-08-15",
                    )
                    for i in range(500)
                ]
                report("intake online (sandbox, 1M-row file)", timed(online.admit, people))
                client.close()
            offline = Intake(store, None)
            people = [
                Identity(
                    PayloadKind.CCCD,
                    "Nguyễn Văn B",
                    citizen_id=f"0010860{i:05d}",
                    date_of_birth="1986-01-01",
                )
                for i in range(500)
            ]
            report("intake offline (1M-row file)", timed(offline.admit, people))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
