"""The circuit breaker alone (a fake clock), then in front of the real sandbox."""

from __future__ import annotations

import time

import pytest

from checkin.breaker import BreakerState, CircuitBreaker
from checkin.model import Source, Status
from tests.conftest import payload


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_on_first_failure_and_probes_after_cooldown():
    clock, changes = Clock(), []
    breaker = CircuitBreaker(cooldown_s=10, clock=clock, on_change=changes.append)
    assert breaker.allow()
    breaker.failed("timeout")
    assert breaker.status.state is BreakerState.OPEN and not breaker.allow()
    clock.now = 10.5
    assert breaker.allow()  # the one probe
    assert not breaker.allow()  # no second probe while the first is out
    breaker.succeeded()
    assert breaker.online and breaker.status.last_error is None
    assert [c.state for c in changes] == ["open", "half_open", "closed"]


def test_failed_probe_doubles_the_cooldown_up_to_a_cap():
    clock = Clock()
    breaker = CircuitBreaker(cooldown_s=10, max_cooldown_s=25, clock=clock)
    breaker.failed("down")
    waits = []
    for _ in range(3):
        opened = clock.now
        while not breaker.allow():
            clock.now += 0.5
        waits.append(clock.now - opened)
        breaker.failed("still down")
    assert waits == [10, 20, 25]


@pytest.fixture
def intake(make_intake):
    return make_intake(timeout_s=0.5, breaker=CircuitBreaker(cooldown_s=0.3))


@pytest.mark.parametrize("fault", ["down", "slow", "http500", "garbage"])
def test_offline_within_one_timeout_then_no_scan_waits(intake, healthy_sandbox, fault):
    intake.check(intake_identity("eligible-old"))  # online; caches the answer
    healthy_sandbox.faults.set(fault, delay_s=2)
    started = time.monotonic()
    first = intake.handle(payload("eligible-new"))
    assert time.monotonic() - started < 0.5 + 0.4  # one read timeout, at most
    assert first.decision.status is Status.UNVERIFIED and not intake.breaker.online
    started = time.monotonic()
    second = intake.handle(payload("eligible-old"))
    assert time.monotonic() - started < 0.1  # offline: nothing sent
    assert second.decision.source is Source.CACHE
    assert "not sent" in intake.store.audit_rows()[0]["error"]


def test_comes_back_by_itself(intake, healthy_sandbox):
    healthy_sandbox.faults.set("down")
    intake.handle(payload("eligible-new"))
    assert not intake.breaker.online
    assert not intake.probe()  # still in its cooldown
    healthy_sandbox.faults.set("none")
    time.sleep(0.35)
    assert intake.probe() and intake.breaker.online
    result = intake.handle(payload("eligible-old"))
    assert result.decision.source is Source.ONLINE


def intake_identity(key: str):
    from checkin.formats import parse_or_raise

    return parse_or_raise(payload(key))


def test_with_the_outbox_sender_running_no_scan_is_the_probe(intake, healthy_sandbox):
    """GIVEN the desk's set-up (the outbox sender probing in the background) and a gateway
    that stays slow WHEN patients keep scanning past many cooldowns THEN after the first,
    none waits on the gateway (the sender's token probe spends the timeouts), and when the
    gateway recovers the desk comes back online by itself."""
    from checkin.outbox import OutboxSender

    intake.check(intake_identity("eligible-old"))  # online; caches the answer
    sender = OutboxSender(intake, interval_s=0.1)
    sender.start()
    try:
        healthy_sandbox.faults.set("slow", delay_s=2)
        intake.handle(payload("eligible-new"))  # the first finds out: one timeout
        assert not intake.breaker.online
        waits = []
        deadline = time.monotonic() + 2.0  # about six cooldowns of 0.3 s (doubling)
        while time.monotonic() < deadline:
            started = time.monotonic()
            result = intake.handle(payload("eligible-old"))
            waits.append(time.monotonic() - started)
            assert result.decision.source is Source.CACHE
            time.sleep(0.05)
        assert max(waits) < 0.2, max(waits)
        healthy_sandbox.faults.set("none")
        limit = time.monotonic() + 10
        while not intake.breaker.online and time.monotonic() < limit:
            time.sleep(0.05)
        assert intake.breaker.online
        assert intake.handle(payload("eligible-old")).decision.source is Source.ONLINE
    finally:
        sender.stop()
    assert not intake.probing_in_background


def test_offline_since_counts_from_going_offline_not_from_the_last_probe():
    """GIVEN a gateway that stays down for 30 minutes, probed every 5 s
    THEN the status says offline since the first failure (the desk's "offline for N
    minutes" grows), the cooldown still runs from the last failed probe, and coming back
    online clears it."""
    clock = Clock()
    breaker = CircuitBreaker(cooldown_s=10, max_cooldown_s=120, clock=clock)
    clock.now = 100.0
    breaker.failed("down")
    assert breaker.status.offline_since == 100.0 and breaker.status.since == 100.0
    probes = 0
    while clock.now < 100.0 + 30 * 60:
        clock.now += 5
        if breaker.allow():
            probes += 1
            breaker.failed("still down")
    status = breaker.status
    assert status.state is BreakerState.OPEN and probes > 10
    assert status.offline_since == 100.0 and status.since == 100.0
    assert clock.now - status.since >= 30 * 60
    # the cooldown is timed from the last probe (capped at 120 s), not from going offline
    last_probe = clock.now
    while not breaker.allow():
        clock.now += 1
    assert 0 < clock.now - last_probe <= 120
    breaker.succeeded()
    assert breaker.online and breaker.status.offline_since is None
    assert breaker.status.since == clock.now
    clock.now += 50
    breaker.failed("down again")
    assert breaker.status.offline_since == clock.now == breaker.status.since
