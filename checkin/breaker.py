"""A circuit breaker in front of the gateway: the desk goes offline at the first sign that the
gateway cannot answer, so no scan waits on a dead gateway, and comes back by itself.

States: ``closed`` (online: every lookup goes out), ``open`` (offline: lookups are not sent;
the desk answers from the cache at once), ``half_open`` (one probe lookup is let through after
``cooldown_s``; success closes the breaker, failure opens it again with a longer cooldown).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerStatus:
    state: BreakerState
    since: float  # monotonic time the desk last went offline or came back online
    last_error: str | None
    failures: int
    offline_since: float | None = None  # monotonic time it went offline; None while online


class CircuitBreaker:
    """Thread-safe. ``allow()`` before a lookup; ``succeeded()`` / ``failed(reason)`` after."""

    def __init__(
        self,
        *,
        cooldown_s: float = 10.0,
        max_cooldown_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerStatus], None] | None = None,
    ) -> None:
        self._cooldown = cooldown_s
        self._base_cooldown = cooldown_s
        self._max_cooldown = max_cooldown_s
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._since = clock()  # the last state change (open/half-open too): the cooldown
        self._online_changed = self._since  # the last change between online and offline
        self._probe_out = False
        self._failures = 0
        self._last_error: str | None = None

    @property
    def status(self) -> BreakerStatus:
        with self._lock:
            return self._status()

    @property
    def online(self) -> bool:
        return self.status.state is BreakerState.CLOSED

    def allow(self) -> bool:
        """May a lookup go to the gateway now? In ``half_open`` only one probe at a time."""
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return True
            if self._state is BreakerState.OPEN:
                if self._clock() - self._since < self._cooldown:
                    return False
                self._set(BreakerState.HALF_OPEN)
            if self._probe_out:
                return False
            self._probe_out = True
            return True

    def succeeded(self) -> None:
        with self._lock:
            self._probe_out = False
            self._failures = 0
            self._cooldown = self._base_cooldown
            if self._state is not BreakerState.CLOSED:
                self._last_error = None
                self._set(BreakerState.CLOSED)

    def failed(self, reason: str) -> None:
        with self._lock:
            self._probe_out = False
            self._failures += 1
            self._last_error = reason
            if self._state is BreakerState.HALF_OPEN:
                self._cooldown = min(self._cooldown * 2, self._max_cooldown)
            self._set(BreakerState.OPEN)

    def _set(self, state: BreakerState) -> None:
        changed = state is not self._state
        now = self._clock()
        if (state is BreakerState.CLOSED) != (self._state is BreakerState.CLOSED):
            self._online_changed = now  # went offline, or came back
        self._state = state
        self._since = now
        if changed and self._on_change is not None:
            self._on_change(self._status())

    def _status(self) -> BreakerStatus:
        return BreakerStatus(
            self._state,
            self._online_changed,
            self._last_error,
            self._failures,
            None if self._state is BreakerState.CLOSED else self._online_changed,
        )
