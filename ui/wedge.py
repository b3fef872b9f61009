"""Keyboard-wedge scanners: an application-wide key filter around ``drivers.wedge``.

Installed on the QApplication, :class:`WedgeFilter` sees every key press before the focused
widget does, whichever widget that is. It holds each text key while the
:class:`~drivers.wedge.WedgeDetector` decides: a scanner burst is swallowed and emitted as
``scanned(str)``; human keys are sent again, as the original QKeyEvents, to the widget that
had focus, at most ``max_gap_ms`` (+ a timer tick) later.

Never held: password and other sensitive fields, widgets with the dynamic property
``wedge_exempt`` set, modifier keys, auto-repeat, shortcuts (Ctrl/Alt/Meta) and control keys
other than the scanner suffix; a control key first releases what is held, so order is kept.

Inter-key gaps come from the window system's event timestamps when they exist (so keys
queued behind a busy GUI thread keep their true spacing); synthetic events without one use
the injectable ``clock``, which returns milliseconds.

A Vietnamese input method (Telex/VNI) corrupts the hex of BHYT codes (formats.md §3.4).
One that rewrites keys, as Unikey does on Windows (``a a`` arrives as ``a``, Backspace,
``â``), is followed: a Backspace while keys are held edits the run instead of ending it, so
the burst holds what a text field would show and ``checkin.formats.parse_payload`` repairs
it. One that composes text itself (ibus, fcitx) delivers input-method events, not key presses,
which this filter does not see: use serial mode there, or switch the input method off.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

from drivers.wedge import Burst, WedgeDetector, WedgeEvent

RESYNC_MS = 5000.0  # event timestamps this far from the clock: re-anchor them
TIMER_SLACK_MS = 5
_MODIFIER_KEYS = frozenset(
    {Qt.Key_Shift, Qt.Key_Control, Qt.Key_Alt, Qt.Key_Meta, Qt.Key_AltGr, Qt.Key_CapsLock}
)
_SHORTCUT_MODIFIERS = Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier
_SENSITIVE_HINTS = Qt.ImhHiddenText | Qt.ImhSensitiveData


def _monotonic_ms() -> float:
    return time.monotonic() * 1000.0


@dataclass
class _HeldKey:
    target: QWidget
    press: QKeyEvent
    releases: list[tuple[QWidget, QKeyEvent]] = field(default_factory=list)


class WedgeFilter(QObject):
    """Application-wide event filter that takes scanner bursts out of the key stream.

    Signals: ``scanned(text)`` per burst, prefix and suffix removed; ``raw_key(text, ms)``
    per key examined, for the IT raw monitor (never for sensitive fields).
    """

    scanned = Signal(str)
    raw_key = Signal(str, float)

    def __init__(
        self,
        detector: WedgeDetector | None = None,
        *,
        clock: Callable[[], float] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.detector = detector or WedgeDetector()
        self._clock = clock or _monotonic_ms
        self._enabled = True
        self._held: deque[_HeldKey] = deque()
        self._in_flight: list[QKeyEvent] = []  # events we are sending again: let them through
        self._offset: float | None = None  # event timestamp + offset = clock time
        self._last_feed_ms = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.poll)

    def install(self, app: QCoreApplication | None = None) -> None:
        (app or QApplication.instance()).installEventFilter(self)

    def uninstall(self, app: QCoreApplication | None = None) -> None:
        self.release_held()
        (app or QApplication.instance()).removeEventFilter(self)

    def isEnabled(self) -> bool:  # Qt naming, like QWidget.isEnabled
        return self._enabled

    def setEnabled(self, enabled: bool) -> None:
        """Turn capture on or off; turning it off first settles the keys held."""
        if not enabled:
            self.release_held()
        self._enabled = enabled

    def poll(self) -> None:
        """Settle the held keys once no key came for ``max_gap_ms`` (the timer calls this)."""
        if not self.detector.pending:
            return
        if self._clock() - self._last_feed_ms > self.detector.max_gap_ms:
            self._apply(self.detector.flush())
        else:
            self._arm_timer()

    def release_held(self) -> None:
        """Decide now about the keys held: a burst is emitted, typing goes to its widget."""
        self._timer.stop()
        self._apply(self.detector.flush())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.KeyPress, QEvent.KeyRelease):
            return False
        if not self._enabled or not isinstance(watched, QWidget):
            return False
        if any(event is sent for sent in self._in_flight) or not _first_receiver(watched):
            return False
        if kind == QEvent.KeyPress:
            return self._key_press(watched, event)
        return self._key_release(watched, event)

    def _key_press(self, widget: QWidget, event: QKeyEvent) -> bool:
        if event.key() in _MODIFIER_KEYS:
            return False
        if not self._wanted(widget, event):
            self.release_held()
            return False
        stamp, resynced = self._key_time(event)
        if resynced:  # the time base jumped: the gap to the held keys is unknown but long
            self.release_held()
        self.raw_key.emit(event.text(), stamp)
        self._held.append(_HeldKey(widget, event.clone()))
        self._last_feed_ms = self._clock()
        self._apply(self.detector.feed(event.text(), stamp))
        if self.detector.pending:
            self._arm_timer()
        return True

    def _key_release(self, widget: QWidget, event: QKeyEvent) -> bool:
        """Releases of held keys wait with them, so a widget never sees one before its press."""
        if not self._held or event.key() in _MODIFIER_KEYS:
            return False
        self._held[-1].releases.append((widget, event.clone()))
        return True

    def _wanted(self, widget: QWidget, event: QKeyEvent) -> bool:
        text = event.text()
        if not text or event.isAutoRepeat() or event.modifiers() & _SHORTCUT_MODIFIERS:
            return False
        if _is_sensitive(widget):
            return False
        if event.key() == Qt.Key_Backspace:  # inside a run it edits the run (Unikey)
            return bool(self.detector.pending)
        return text.isprintable() or text in self.detector.suffix

    def _key_time(self, event: QKeyEvent) -> tuple[float, bool]:
        """The key's time in clock milliseconds (its window-system timestamp, anchored to the
        clock, when it has one), and whether the anchor had to move."""
        now = self._clock()
        stamp = event.timestamp()
        if not stamp:
            return now, False
        resynced = self._offset is None or abs(stamp + self._offset - now) > RESYNC_MS
        if resynced:
            self._offset = now - stamp
        return stamp + self._offset, resynced

    def _arm_timer(self) -> None:
        self._timer.start(int(self.detector.max_gap_ms) + TIMER_SLACK_MS)

    def _apply(self, events: Sequence[WedgeEvent]) -> None:
        for wedge_event in events:
            keys = [self._held.popleft() for _ in range(wedge_event.keys)]
            if isinstance(wedge_event, Burst):
                if wedge_event.text:
                    self.scanned.emit(wedge_event.text)
            else:
                self._send_again(keys)

    def _send_again(self, keys: Sequence[_HeldKey]) -> None:
        for held in keys:
            for target, event in [(held.target, held.press), *held.releases]:
                if not shiboken6.isValid(target):
                    continue  # the widget was deleted while its key was held
                self._in_flight.append(event)
                try:
                    QApplication.sendEvent(target, event)
                finally:
                    self._in_flight.pop()


def _first_receiver(widget: QWidget) -> bool:
    """Qt offers a key event the focus widget first, then its parents while it is ignored;
    only the first offer counts (the rest is a key we already let through)."""
    popup = QApplication.activePopupWidget()
    if popup is not None:
        return widget is (popup.focusWidget() or popup)
    focus = QApplication.focusWidget()
    return widget is focus if focus is not None else widget.isWindow()


def _is_sensitive(widget: QWidget) -> bool:
    if widget.property("wedge_exempt"):
        return True
    if isinstance(widget, QLineEdit) and widget.echoMode() != QLineEdit.EchoMode.Normal:
        return True
    return bool(widget.inputMethodHints() & _SENSITIVE_HINTS)
