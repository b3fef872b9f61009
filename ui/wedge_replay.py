"""The replay backend of the keyboard-wedge scanner: a recording played as real key presses.

:class:`WedgeReplay` plays a keystroke recording (``fixtures/keystrokes/*.jsonl``, format in
``drivers/keystrokes.py``) into the running application: each key press becomes a KeyPress and
a KeyRelease ``QKeyEvent`` for the focused widget (or a given target), as a keyboard would send
them, so the application-wide :class:`~ui.wedge.WedgeFilter` sees exactly what a wedge scanner
or a person would give it. Keys without a US-layout key go as ``Key_unknown`` with their text
(platform.md §5); upper-case letters and shifted punctuation carry the Shift modifier.

Non-blocking: a single-shot QTimer sends each key when it is due. Each key carries its
recorded time as the event timestamp, which the wedge filter measures gaps with, so a GUI
thread that stalls in the middle of a burst does not split it; keys that fell due during a
stall are sent together. ``realtime=False`` compresses time (``drivers.keystrokes.schedule``):
keys go out as fast as the event loop allows, their timestamps still recorded-time apart, so a
burst is still a scan and typing still typing.

Keys are delivered synchronously (``QApplication.sendEvent``) when due, as Qt delivers a key
from the window system, so the filter has taken each key before its own gap timer can fire.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

from drivers.keystrokes import Keystroke, Recording, load, schedule

log = logging.getLogger(__name__)

_SHIFTED = frozenset('~!@#$%^&*()_+{}|:"<>?')


def _monotonic_ms() -> float:
    return time.monotonic() * 1000.0


def key_events(stroke: Keystroke, timestamp: int = 0) -> tuple[QKeyEvent, QKeyEvent]:
    """The press and release a keyboard sends for one recorded key."""
    key = getattr(Qt.Key, stroke.key, Qt.Key.Key_unknown) if stroke.key else Qt.Key.Key_unknown
    modifiers = Qt.KeyboardModifier.NoModifier
    text = stroke.text
    if len(text) == 1 and text.isascii() and (text.isupper() or text in _SHIFTED):
        modifiers = Qt.KeyboardModifier.ShiftModifier
    events = (
        QKeyEvent(QEvent.Type.KeyPress, key, modifiers, text),
        QKeyEvent(QEvent.Type.KeyRelease, key, modifiers, text),
    )
    if timestamp:
        for event in events:
            event.setTimestamp(timestamp)
    return events


class WedgeReplay(QObject):
    """Plays one keystroke recording into the application between ``start()`` and the end.

    ``finished`` is emitted once, when the last key was sent or ``stop()`` ended the replay.
    ``target``: the widget every key goes to; by default the focus widget at the moment each
    key is due, else the active window, else ``fallback`` (the wedge filter, like Qt, takes a
    key at the focus widget, or at a window when no widget has focus). Without any, a key is
    dropped, as a keyboard's keys go to another application. ``sent`` counts the keys sent,
    ``dropped`` those that found no widget.
    """

    finished = Signal()

    def __init__(
        self,
        recording: Recording | str | Path,
        *,
        realtime: bool = True,
        target: QWidget | None = None,
        fallback: QWidget | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.recording = recording if isinstance(recording, Recording) else load(recording)
        self.realtime = realtime
        self.target = target
        self.fallback = fallback
        self.sent = 0
        self.dropped = 0
        self._dues = schedule(self.recording.keys, realtime)
        self._index = 0
        self._started_ms = 0.0
        self._stamp_base = 0
        self._running = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Play from the first key (the keys due at once are sent before this returns)."""
        if self._running:
            return
        self._index, self.sent, self.dropped = 0, 0, 0
        self._running = True
        self._started_ms = _monotonic_ms()
        self._stamp_base = int(self._started_ms) or 1  # 0 would mean "no timestamp"
        self._tick()

    def stop(self) -> None:
        """End the replay now; the keys not sent yet are not sent."""
        self._timer.stop()
        if self._running:
            self._running = False
            self.finished.emit()

    def _tick(self) -> None:
        elapsed = _monotonic_ms() - self._started_ms
        while self._running and self._index < len(self._dues):
            due = self._dues[self._index]
            if due.send_ms > elapsed:
                self._timer.start(max(0, math.ceil(due.send_ms - elapsed)))
                return
            self._send(self.recording.keys[self._index], self._stamp_base + round(due.stamp_ms))
            self._index += 1
        self.stop()

    def _send(self, stroke: Keystroke, timestamp: int) -> None:
        widget = self.target if self.target is not None else QApplication.focusWidget()
        if widget is None:
            widget = QApplication.activeWindow() or self.fallback
        if widget is None or not shiboken6.isValid(widget):
            self.dropped += 1
            log.debug("keystroke replay: no widget for key %r", stroke.text)
            return
        for event in key_events(stroke, timestamp):
            QApplication.sendEvent(widget, event)
        self.sent += 1
