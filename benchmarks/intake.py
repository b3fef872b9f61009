"""Intake latency: scan text → registered visit, online against the sandbox and offline.

Prints figures; it is not a test. Run: ``.venv/bin/python benchmarks/intake.py [N]``.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from _common import ROOT, report, timed

from checkin.formats import parse_payload
from checkin.gateway import GatewayClient
from checkin.intake import Intake
from checkin.sandbox import Sandbox
from checkin.store import Store


def payloads() -> list[str]:
    folder = ROOT / "fixtures" / "payloads"
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]


def main(n: int) -> None:
    texts = payloads()
    report("parse (all recorded payloads)", timed(parse_payload, texts * (n // len(texts) + 1)))
    with Sandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        population = sandbox.population
        client = GatewayClient.from_config(sandbox.gateway_config(timeout_s=2))
        with Store(Path(tmp) / "bench.db") as store:
            intake = Intake(
                store,
                client,
                facility_code=population.facility_code,
                cache_max_age=timedelta(hours=72),
            )
            client.take_token()
            report(
                "check online (sandbox over HTTP)",
                timed(intake.check, [parse_payload(texts[i % len(texts)]) for i in range(n)]),
            )
            # Each intake registers a new visit: vary the person so none is a reopen.
            people = [parse_payload(texts[i % len(texts)]) for i in range(n)]
            people = [_renumbered(p, i) for i, p in enumerate(people)]
            report("intake online (check + register)", timed(intake.admit, people))
            offline = Intake(store, None, facility_code=population.facility_code)
            people = [_renumbered(p, n + i) for i, p in enumerate(people)]
            report("intake offline (register unverified)", timed(offline.admit, people))
        client.close()


def _renumbered(identity, i: int):
    from dataclasses import replace

    return (
        replace(
            identity,
            citizen_id=f"{900000000000 + i}",
            social_insurance_number=None,
            card_number=None,
        )
        if identity.citizen_id
        else replace(identity, social_insurance_number=f"{9000000000 + i}", card_number=None)
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
