"""Fault injection for the sandbox gateway: make it fail the ways the real one does.

Modes (formats.md §6.8 lists what the real gateway does):

- ``none``: answer normally.
- ``down``: read the request, then close the connection without answering.
- ``slow``: wait ``delay_s`` seconds, then answer normally.
- ``http500``: HTTP 500 with an HTML body.
- ``garbage``: HTTP 200 with a body that is not JSON.
- ``expire_tokens``: a one-shot action: every token issued so far stops working (the next card
  check gets 401 and the client must take a new token); the mode then reads ``none``.
- ``401_empty``: card checks get HTTP 401 with an empty body (token requests still work).
- ``trickle``: HTTP 200 and its headers at once, then the JSON body one byte every ``delay_s``
  seconds (default 1): a gateway behind a congested link, which each read timeout forgives.

Each :meth:`Faults.set` replaces the whole fault state.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

MODES = ("none", "down", "slow", "http500", "garbage", "expire_tokens", "401_empty", "trickle")
DEFAULT_DELAY_S = 3.0
DEFAULT_TRICKLE_S = 1.0
MAX_DELAY_S = 600.0


@dataclass(frozen=True)
class FaultState:
    mode: str
    delay_s: float

    def to_json(self) -> dict:
        return {"mode": self.mode, "delay_s": self.delay_s}


class Faults:
    """Thread-safe fault switch shared by every request handler."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = FaultState("none", 0.0)
        self._token_generation = 0

    def set(self, mode: str, delay_s: float | None = None) -> FaultState:
        """Switch to ``mode``; raises ``ValueError`` for an unknown mode or a bad delay."""
        if mode not in MODES:
            raise ValueError(f"unknown fault mode {mode!r}; expected one of {', '.join(MODES)}")
        delay = _check_delay(mode, delay_s)
        with self._lock:
            if mode == "expire_tokens":
                self._token_generation += 1
                mode = "none"
            self._state = FaultState(mode, delay)
            return self._state

    def clear(self) -> None:
        self.set("none")

    @property
    def state(self) -> FaultState:
        with self._lock:
            return self._state

    @property
    def mode(self) -> str:
        return self.state.mode

    @property
    def token_generation(self) -> int:
        """Tokens issued under an older generation are no longer valid."""
        with self._lock:
            return self._token_generation


def _check_delay(mode: str, delay_s: float | None) -> float:
    if delay_s is None:
        return {"slow": DEFAULT_DELAY_S, "trickle": DEFAULT_TRICKLE_S}.get(mode, 0.0)
    if isinstance(delay_s, bool) or not isinstance(delay_s, int | float):
        raise ValueError("delay_s must be a number of seconds")
    if not 0 <= delay_s <= MAX_DELAY_S:
        raise ValueError(f"delay_s must be between 0 and {MAX_DELAY_S:g}")
    return float(delay_s)
