"""Raw scanner bytes to scans, and a duplicate-scan guard. Pure Python: no Qt, no pyserial.

A serial or USB-CDC (virtual COM) scanner sends each QR as bytes, usually followed by a
terminator; some prepend a byte-order mark or a NUL, some send no terminator at all
(formats.md §2). :class:`ScanFramer` turns any chunking of that byte stream into the same
scans, after the pattern of cccd-checkin's ``ScanBuffer`` (style.md §1.2 item 12):

- CR, LF and CRLF all end a scan when the terminator is one of them; any other terminator is
  matched exactly; with none, only an idle gap (or the end of a stream) ends a scan;
- an idle gap of ``idle_complete_ms`` after the last byte ends a scan too;
- leading BOMs and NULs, then an optional prefix and suffix, are stripped;
- a scan longer than ``max_bytes`` gives one :class:`ScanError` and the rest of it is dropped
  up to the next terminator or gap;
- text is decoded strictly: bytes that are not valid in the encoding give a
  :class:`ScanError` carrying the raw bytes, never replacement characters.

Times are milliseconds on any monotonic clock the caller chooses (a replay uses a virtual one).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

MAX_SCAN_BYTES = 4096
LINE_TERMINATORS = ("\r", "\n", "\r\n")
_LINE_BREAK = re.compile(rb"[\r\n]")
_LEADING_NOISE = (b"\xef\xbb\xbf", b"\x00")  # UTF-8 byte-order mark, NUL


@dataclass(frozen=True)
class Scan:
    """One framed, decoded scan. ``raw`` is the frame as received, before stripping."""

    text: str
    raw: bytes
    duplicate: bool = False  # set by DuplicateGuard.mark: the same text within its window


@dataclass(frozen=True)
class ScanError:
    """A frame that could not become text: too long, or not valid in the encoding."""

    reason: str
    raw: bytes


ScanEvent = Scan | ScanError


class ScanFramer:
    """Assembles raw bytes into scans; feed it chunks as they come, poll it when idle."""

    def __init__(
        self,
        terminator: str | None = "\r",
        *,
        prefix: str = "",
        suffix: str = "",
        idle_complete_ms: float | None = 150.0,
        max_bytes: int = MAX_SCAN_BYTES,
        encoding: str = "utf-8",
    ) -> None:
        self.encoding = encoding
        self.idle_complete_ms = idle_complete_ms
        self.max_bytes = max_bytes
        self._line_mode = terminator in LINE_TERMINATORS
        self._terminator = (terminator or "").encode(encoding)
        self._prefix = prefix.encode(encoding)
        self._suffix = suffix.encode(encoding)
        self._buffer = bytearray()
        self._discarding = False  # inside a scan already reported as too long
        self._last_ms: float | None = None

    @property
    def pending(self) -> bool:
        """Bytes are waiting for a terminator or an idle gap."""
        return bool(self._buffer) or self._discarding

    def feed(self, data: bytes, now_ms: float | None = None) -> list[ScanEvent]:
        """Add a chunk received at ``now_ms``; returns the scans it completes.

        A gap of ``idle_complete_ms`` since the previous chunk first completes what was pending,
        so ``feed(b"", now)`` is the same as :meth:`poll`.
        """
        events = self.poll(now_ms) if now_ms is not None else []
        if data:
            self._last_ms = now_ms
            self._buffer += data
            events += self._split()
        return events

    def poll(self, now_ms: float) -> list[ScanEvent]:
        """Complete the pending scan when nothing has arrived for ``idle_complete_ms``."""
        if self.idle_complete_ms is None or self._last_ms is None or not self.pending:
            return []
        if now_ms - self._last_ms < self.idle_complete_ms:
            return []
        return self.flush()

    def flush(self) -> list[ScanEvent]:
        """Complete whatever is pending (the end of a stream)."""
        frame = bytes(self._buffer)
        self._buffer.clear()
        return self._complete(frame)

    def reset(self) -> None:
        """Drop pending bytes, e.g. after the port was lost in the middle of a scan."""
        self._buffer.clear()
        self._discarding = False
        self._last_ms = None

    def _split(self) -> list[ScanEvent]:
        events: list[ScanEvent] = []
        while (span := self._find_terminator()) is not None:
            frame = bytes(self._buffer[: span[0]])
            del self._buffer[: span[1]]
            events += self._complete(frame)
        if len(self._buffer) > self.max_bytes and not self._discarding:
            events.append(self._too_long(bytes(self._buffer)))
            self._discarding = True
        if self._discarding:  # keep only what could be the start of a split terminator
            keep = max(len(self._terminator) - 1, 0)
            del self._buffer[: max(len(self._buffer) - keep, 0)]
        return events

    def _find_terminator(self) -> tuple[int, int] | None:
        if self._line_mode:
            match = _LINE_BREAK.search(self._buffer)
            return match.span() if match else None
        if not self._terminator:
            return None
        start = self._buffer.find(self._terminator)
        return None if start < 0 else (start, start + len(self._terminator))

    def _complete(self, frame: bytes) -> list[ScanEvent]:
        if self._discarding:
            self._discarding = False
            return []
        if len(frame) > self.max_bytes:
            return [self._too_long(frame)]
        body = self._strip(frame)
        if not body:
            return []
        try:
            return [Scan(body.decode(self.encoding), frame)]
        except UnicodeDecodeError as exc:
            reason = f"not valid {self.encoding} at byte {exc.start}; scan ignored"
            return [ScanError(reason, frame)]

    def _too_long(self, frame: bytes) -> ScanError:
        reason = f"scan longer than {self.max_bytes} bytes; dropped"
        return ScanError(reason, frame[: self.max_bytes])

    def _strip(self, frame: bytes) -> bytes:
        stripped = True
        while stripped:
            stripped = False
            for noise in _LEADING_NOISE:
                if frame.startswith(noise):
                    frame, stripped = frame[len(noise) :], True
        if self._prefix and frame.startswith(self._prefix):
            frame = frame[len(self._prefix) :]
        if self._suffix and frame.endswith(self._suffix):
            frame = frame[: -len(self._suffix)]
        return frame


class DuplicateGuard:
    """Reports the same text seen again within ``window_s`` of its first sighting.

    The window is fixed from the first scan and not extended by repeats, so a phone held in
    front of the scanner gives one scan per window, not one ever. Thread-safe; entries older
    than the window are pruned on every call. ``window_s`` may change at run time and then
    applies to the entries already held; 0 turns the guard off.
    """

    def __init__(self, window_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._first_seen: dict[str, float] = {}
        self.window_s = window_s

    @property
    def window_s(self) -> float:
        return self._window_s

    @window_s.setter
    def window_s(self, value: float) -> None:
        if value < 0:
            raise ValueError("duplicate window must be >= 0 seconds")
        with self._lock:
            self._window_s = float(value)

    def is_duplicate(self, text: str, now: float | None = None) -> bool:
        """True when ``text`` was first seen less than the window ago; otherwise records it."""
        now = self._clock() if now is None else now
        with self._lock:
            self._prune(now)
            if text in self._first_seen:
                return True
            if self._window_s > 0:
                self._first_seen[text] = now
            return False

    def mark(self, scan: Scan, now: float | None = None) -> Scan:
        """The scan, flagged ``duplicate=True`` when the guard reports it."""
        return replace(scan, duplicate=True) if self.is_duplicate(scan.text, now) else scan

    def clear(self) -> None:
        with self._lock:
            self._first_seen.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._first_seen)

    def _prune(self, now: float) -> None:
        expired = [t for t, first in self._first_seen.items() if now - first >= self._window_s]
        for text in expired:
            del self._first_seen[text]
