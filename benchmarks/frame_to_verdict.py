"""From a 720p camera frame holding a QR to an eligibility decision, with a cached answer.

The core of the desk's "QR in front of the camera → verdict on screen" path, without Qt:
decode the frame (our pipeline, gray conversion included) → ``parse_payload`` →
``Intake.check`` answered from the cache. The cache is filled first by one real lookup
against the sandbox gateway; then the check runs (a) with no gateway and (b) with a gateway
whose circuit breaker is open (the offline desk: an audited "not sent" and the cached answer).
Also shown: decoding the webcam's MJPG frame to BGR, which happens before the decoder.

Target (issue 3): under 150 ms from frame to verdict on screen at 720p, Qt paint included;
the desk benchmark adds the paint. Run: ``.venv/bin/python benchmarks/frame_to_verdict.py [N]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
from _common import ROOT, report

from checkin.breaker import CircuitBreaker
from checkin.formats import ParseFailure, parse_payload
from checkin.gateway import GatewayClient
from checkin.intake import Intake
from checkin.qr import make_decoder
from checkin.sandbox import Sandbox
from checkin.store import Store
from fixtures.generate import frame_with_payload

PEOPLE = ("eligible-new", "eligible-old", "eligible-cccd")  # one per QR layout


def main(n: int) -> None:
    decoder = make_decoder()
    frames = []
    for key in PEOPLE:
        payload = (ROOT / "fixtures" / "payloads" / f"{key}.txt").read_text("utf-8")
        frame = frame_with_payload(payload, size=(1280, 720))
        frames.append((key, payload, frame.jpeg, frame.bgr()))
    with Sandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        facility = sandbox.population.facility_code
        client = GatewayClient.from_config(sandbox.gateway_config(timeout_s=2))
        with Store(Path(tmp) / "bench.db") as store:
            online = Intake(store, client, facility_code=facility)
            for key, payload, _, _ in frames:  # one real lookup each: the answer is cached
                decision = online.check(parse_payload(payload))
                print(f"cached by a sandbox lookup: {key}: {decision.status.value}")
            client.close()
            no_gateway = Intake(
                store, None, facility_code=facility, cache_max_age=timedelta(hours=72)
            )
            breaker = CircuitBreaker(cooldown_s=3600)
            breaker.failed("benchmark: gateway down")
            tripped = Intake(store, client, facility_code=facility, breaker=breaker)
            for label, intake in (("no gateway", no_gateway), ("breaker open", tripped)):
                run(label, intake, decoder, frames, n)


def run(label: str, intake: Intake, decoder, frames: list, n: int) -> None:
    stages: dict[str, list[float]] = {k: [] for k in ("mjpg", "decode", "parse", "check", "core")}
    verdicts = set()
    for i in range(n):
        key, payload, jpeg, bgr = frames[i % len(frames)]
        t0 = time.perf_counter()
        cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        t1 = time.perf_counter()
        found = decoder.decode(bgr)
        t2 = time.perf_counter()
        identity = parse_payload(found[0].text)
        t3 = time.perf_counter()
        assert not isinstance(identity, ParseFailure), identity
        decision = intake.check(identity)
        t4 = time.perf_counter()
        assert found[0].text == payload
        cached = decision.cached_status.value if decision.cached_status else None
        verdicts.add((key, decision.source.value, decision.status.value, cached))
        for name, seconds in (("mjpg", t1 - t0), ("decode", t2 - t1), ("parse", t3 - t2),
                              ("check", t4 - t3), ("core", t4 - t1)):  # fmt: skip
            stages[name].append(seconds)
    print(f"\n== {label}: {n} frames of 1280x720, {len(frames)} people")
    report("MJPG → BGR (before the decoder)", stages["mjpg"])
    report("decode (pipeline)", stages["decode"])
    report("parse_payload", stages["parse"])
    report(f"Intake.check ({label}, cached)", stages["check"])
    report("frame → decision (decode+parse+check)", stages["core"])
    print("decisions:", sorted(verdicts))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
