"""Telling a keyboard-wedge scanner burst from human typing, by inter-key timing. Pure Python.

A wedge scanner types its payload as key presses, each a few milliseconds after the last
(2–10 ms is common); a person leaves 50–300 ms between keys and cannot keep under 30 ms for
six keys in a row. So keys are grouped into *runs*: a key joins the current run when it comes
within ``max_gap_ms`` of the previous one. A run ends when the next key comes later than that,
when :meth:`WedgeDetector.poll` finds the gap has passed, or on the scanner's suffix (Enter by
default). An ended run is a :class:`Burst` when its text, without prefix and suffix, has at
least ``min_length`` characters (and starts with the prefix, when one is configured);
otherwise it is :class:`Typed` and its keys go back to the widget, in order.

Every key fed ends up in exactly one event, in order, so nothing a person types is lost: at
worst it reaches the widget ``max_gap_ms`` late. Keys are fed one text per key press; the
caller leaves out auto-repeat, control keys (other than the suffix and Backspace inside a run)
and shortcuts.

Backspace (``"\b"``) inside a run edits it, as it would edit a text field: a Vietnamese input
method that works by rewriting keys (Unikey on Windows turns ``a a`` into ``a ⌫ â``) leaves a
burst whose text is what a field would show, the Telex-corrupted text that
``checkin.formats.parse_payload`` repairs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Burst:
    """A scanner burst: ``text`` without prefix and suffix; ``keys`` presses to swallow."""

    text: str
    keys: int


@dataclass(frozen=True)
class Typed:
    """Human keys: ``text`` of ``keys`` presses that must reach the widget after all."""

    text: str
    keys: int


WedgeEvent = Burst | Typed


class WedgeDetector:
    """Feed it ``(text, timestamp_ms)`` per key press; it returns the runs that ended."""

    def __init__(
        self, max_gap_ms: float = 30.0, min_length: int = 6, prefix: str = "", suffix: str = "\r"
    ) -> None:
        self.max_gap_ms = max_gap_ms
        self.min_length = min_length
        self.prefix = prefix
        self.suffix = suffix
        self._run: list[str] = []
        self._last_ms: float | None = None

    @property
    def pending(self) -> int:
        """Keys held in the current run (their fate is not decided yet)."""
        return len(self._run)

    def feed(self, text: str, timestamp_ms: float) -> list[WedgeEvent]:
        """One key press; returns the runs it ends (the previous one, this one, or both)."""
        events = self.poll(timestamp_ms)
        self._run.append(text)
        self._last_ms = timestamp_ms
        if text and self.suffix.endswith(text) and "".join(self._run).endswith(self.suffix):
            events += self.flush()
        return events

    def poll(self, now_ms: float) -> list[WedgeEvent]:
        """End the current run if no key came for more than ``max_gap_ms``."""
        if self._run and self._last_ms is not None and now_ms - self._last_ms > self.max_gap_ms:
            return self.flush()
        return []

    def flush(self) -> list[WedgeEvent]:
        """End the current run now (gap timer, a control key, focus change, disabling)."""
        if not self._run:
            return []
        text, keys = "".join(self._run), len(self._run)
        self._run.clear()
        body = self._body(_edited(text))
        if body is not None and len(body) >= self.min_length:
            return [Burst(body, keys)]
        return [Typed(text, keys)]

    def _body(self, text: str) -> str | None:
        """The run without prefix and suffix; None when a required prefix is missing."""
        if self.prefix:
            if not text.startswith(self.prefix):
                return None
            text = text[len(self.prefix) :]
        if self.suffix and text.endswith(self.suffix):
            text = text[: -len(self.suffix)]
        return text


BACKSPACE = "\b"


def _edited(text: str) -> str:
    """The text with its backspaces applied, as a text field would show it."""
    if BACKSPACE not in text:
        return text
    kept: list[str] = []
    for char in text:
        if char == BACKSPACE:
            if kept:
                kept.pop()
        else:
            kept.append(char)
    return "".join(kept)
