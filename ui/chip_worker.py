"""The chip citizen ID in the desk: watch the PC/SC reader, read a card when it is placed.

:class:`ChipWorker` watches card events (:class:`drivers.pcsc.CardWatcher`, on its own
thread) and reads each placed card with :func:`checkin.chip.read_card` on a read thread of its
own, never on the GUI thread. It needs the CAN (the last 6 digits of the ID printed on the
card): it asks the window through the ``can_needed`` signal and waits on a
:class:`threading.Event` until :meth:`ChipWorker.answer_can` is called (style.md §1.2 item 4;
Electrum's ``QtHandlerBase``). Taking the card away, or stopping the worker, ends the wait.

Results come back as signals, in the order the reader gives them (issue #5): the identity
from DG13 (``identity_read``), then the photo (``photo_read``), then passive authentication
(``auth_checked``). Failures arrive as ``failed`` with a Vietnamese message; the English
detail goes to the log. The CAN is kept only for the read it was typed for.

Nobody should have to type a CAN the desk already knows: the window offers each patient it
has just checked in (:meth:`ChipWorker.offer_identity`), and a card placed within
``HINT_TTL_S`` is first tried with that patient's citizen ID (its last 6 digits are the CAN; a
CCCD QR also gives BAC keys). A card that refuses it (another person's) costs one failed
authentication, which the card does not count, and the CAN is asked for as usual.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRegularExpression, Qt, Signal
from PySide6.QtGui import QImage, QRegularExpressionValidator
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from checkin.chip import read_card
from checkin.chip.errors import ChipError, WrongAccessKey
from checkin.chip.reader import CardRead, Photo
from checkin.model import Identity, PayloadKind
from ui import text
from ui.i18n import tr

log = logging.getLogger(__name__)

CAN_TIMEOUT_S = 180.0
MAX_ATTEMPTS = 3
HINT_TTL_S = 180.0  # a patient checked in this recently may be the one placing a card

TransportFactory = Callable[[str], Any]  # reader name -> a Transport or a context manager of one


def _pcsc_transport(reader: str) -> Any:
    from drivers.pcsc import PcscTransport

    return PcscTransport(reader)


def _pcsc_watcher(
    on_in: Callable[[str, bytes], None], on_out: Callable[[str], None], reader: str | None
) -> Any:
    from drivers.pcsc import CardWatcher

    return CardWatcher(on_in, on_out, reader=reader)


def chip_error_message(exc: BaseException) -> str:
    """A failed read in words the desk can act on (by the error's class)."""
    for kind in type(exc).__mro__:
        if kind.__name__ in _KNOWN:
            return text.chip_failed(text.chip_error_words(kind.__name__))
    return text.chip_failed(text.chip_error_words(""))


_KNOWN = frozenset(
    (
        "WrongAccessKey",
        "AccessNotSupported",
        "CardRemoved",
        "SecureMessagingError",
        "TlvError",
        "UnknownCard",
        "ReaderError",
    )
)


def photo_image(photo: Photo | None) -> QImage | None:
    """The chip's face image as a QImage: Qt reads JPEG; JPEG 2000 goes through OpenCV."""
    if photo is None:
        return None
    image = QImage.fromData(photo.data)
    if not image.isNull():
        return image
    try:
        import cv2
        import numpy as np

        from ui.workers import to_qimage

        decoded = cv2.imdecode(np.frombuffer(photo.data, np.uint8), cv2.IMREAD_COLOR)
    except Exception:
        log.warning("cannot decode the chip photo (%s)", photo.format, exc_info=True)
        return None
    return None if decoded is None else to_qimage(decoded)


class ChipWorker(QObject):
    """Signals (all delivered on the GUI thread): ``card_placed(reader)``,
    ``card_removed(reader)``, ``can_needed(reader, attempt)`` (answer with
    :meth:`answer_can`), ``identity_read(Identity)``, ``photo_read(Photo | None)``,
    ``auth_checked(PassiveAuthResult)``, ``failed(message)``, ``finished()`` after each read,
    and ``unavailable(message)`` when the reader cannot be watched (no pcscd, no pyscard)."""

    card_placed = Signal(str)
    card_removed = Signal(str)
    can_needed = Signal(str, int)
    identity_read = Signal(object)
    photo_read = Signal(object)
    auth_checked = Signal(object)
    failed = Signal(str)
    finished = Signal()
    unavailable = Signal(str)

    def __init__(
        self,
        *,
        reader: str | None = None,
        csca_dir: str | Path | None = None,
        transport_factory: TransportFactory | None = None,
        watcher_factory: Callable[..., Any] | None = None,
        can_timeout_s: float = CAN_TIMEOUT_S,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.reader = reader
        self.csca_dir = csca_dir
        self.can_timeout_s = can_timeout_s
        self._transport_factory = transport_factory or _pcsc_transport
        self._watcher_factory = watcher_factory or _pcsc_watcher
        self._watcher: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._answered = threading.Event()
        self._can: str | None = None
        self._waiting_for_can = False
        self._lock = threading.Lock()
        self._reading_on: str | None = None
        self._hint: tuple[Identity, float] | None = None  # (patient, time.monotonic())

    # -- control (GUI thread) ---------------------------------------------------------------

    def start(self) -> bool:
        """Watch the reader; False (and ``unavailable``) when card events cannot be had."""
        self._stopping.clear()
        try:
            self._watcher = self._watcher_factory(self.card_inserted, self.card_gone, self.reader)
            self._watcher.start()
        except ChipError as exc:
            log.info("chip reader not watched: %s", exc)
            self._watcher = None
            self.unavailable.emit(text.chip_unavailable(text.chip_error_words(type(exc).__name__)))
            return False
        return True

    def stop(self) -> None:
        self._stopping.set()
        self._answer(None)
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=10)

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def waiting_for_can(self) -> bool:
        return self._waiting_for_can

    def answer_can(self, can: str | None) -> None:
        """The window's answer to ``can_needed``: 6 digits (or the 12-digit ID), or None."""
        self._answer(can)

    def offer_identity(self, identity: Identity) -> None:
        """The patient just checked in: a card placed soon is tried with their citizen ID
        before anyone is asked for the CAN. Identities without a 12-digit ID are ignored."""
        if identity.citizen_id and re.fullmatch(r"\d{12}", identity.citizen_id):
            with self._lock:
                self._hint = (identity, time.monotonic())

    # -- card events (watcher thread, or tests) ---------------------------------------------

    def card_inserted(self, reader: str, atr: bytes = b"") -> None:
        with self._lock:
            if self.busy or self._stopping.is_set():
                return
            self._reading_on = reader
            self._thread = threading.Thread(
                target=self._read, args=(reader,), name="chip-read", daemon=True
            )
            self.card_placed.emit(reader)
            self._thread.start()

    def card_gone(self, reader: str) -> None:
        self.card_removed.emit(reader)
        if self._reading_on == reader and self._waiting_for_can:
            self._answer(None)

    # -- the read (read thread) -------------------------------------------------------------

    def _answer(self, can: str | None) -> None:
        self._can = can
        self._answered.set()

    def _ask_can(self, reader: str, attempt: int) -> str | None:
        self._answered.clear()
        self._can = None
        self._waiting_for_can = True
        try:
            self.can_needed.emit(reader, attempt)
            waited = 0.0
            while not self._answered.wait(0.1):
                waited += 0.1
                if self._stopping.is_set() or waited >= self.can_timeout_s:
                    return None
            return None if self._stopping.is_set() else self._can
        finally:
            self._waiting_for_can = False

    def _take_hint(self) -> Identity | None:
        with self._lock:
            hint, self._hint = self._hint, None
        if hint is None or time.monotonic() - hint[1] > HINT_TTL_S:
            return None
        return hint[0]

    def _read_with_hint(self, reader: str) -> bool:
        """Try the last patient's keys; True when the card opened with them (and was read)."""
        hint = self._take_hint()
        if hint is None:
            return False
        try:
            if hint.kind is PayloadKind.CCCD:
                self._read_once(reader, qr=hint)  # the CAN, and BAC keys should PACE be absent
            else:
                self._read_once(reader, can=hint.citizen_id)
        except WrongAccessKey:
            log.info("the card is not the last patient's; asking for the CAN")
            return False
        with self._lock:
            if self._hint is None:
                self._hint = (hint, time.monotonic())  # the same card placed again opens too
        return True

    def _read(self, reader: str) -> None:
        try:
            if self._read_with_hint(reader):
                return
            for attempt in range(1, MAX_ATTEMPTS + 1):
                can = self._ask_can(reader, attempt)
                if can is None:
                    if not self._stopping.is_set():
                        self.failed.emit(text.chip_cancelled())
                    return
                try:
                    self._read_once(reader, can=can)
                    return
                except WrongAccessKey as exc:
                    log.info("chip refused the CAN (attempt %d): %s", attempt, exc)
                    if attempt == MAX_ATTEMPTS:
                        self.failed.emit(chip_error_message(exc))
        except ChipError as exc:
            log.warning("chip read failed: %s", exc)
            self.failed.emit(chip_error_message(exc))
        except ValueError as exc:  # a CAN that is not 6 digits (the dialog prevents it)
            log.warning("bad chip access key: %s", exc)
            self.failed.emit(text.chip_failed(text.chip_error_words("WrongAccessKey")))
        except Exception:
            log.exception("unexpected failure reading the chip")
            self.failed.emit(text.chip_failed(text.chip_error_words("")))
        finally:
            self._reading_on = None
            self.finished.emit()

    def _read_once(
        self, reader: str, *, can: str | None = None, qr: Identity | None = None
    ) -> CardRead:
        transport = self._transport_factory(reader)
        if hasattr(transport, "__enter__"):
            with transport as opened:
                return self._run_reader(opened, can, qr)
        return self._run_reader(transport, can, qr)

    def _run_reader(self, transport: Any, can: str | None, qr: Identity | None) -> CardRead:
        def progress(stage: str, read: CardRead) -> None:
            if stage == "identity":
                self.identity_read.emit(read.identity())
            elif stage == "photo":
                self.photo_read.emit(read.photo)
            elif stage == "passive_auth":
                self.auth_checked.emit(read.passive_auth)

        return read_card(transport, can=can, qr=qr, csca_dir=self.csca_dir, progress=progress)


class CanDialog(QDialog):
    """Asks for the CAN: the last 6 digits of the 12-digit ID printed on the card (the whole
    ID is accepted too). :attr:`can` holds the 6 digits after ``accepted``."""

    def __init__(self, parent: QWidget | None = None, *, attempt: int = 1) -> None:
        super().__init__(parent)
        self.can: str | None = None
        self.setWindowTitle(tr("Mã CAN của thẻ CCCD"))
        self.setMinimumWidth(460)
        intro = QLabel(
            tr(
                "Thẻ CCCD gắn chip đã đặt lên đầu đọc. Nhập 6 số cuối của số CCCD in trên thẻ"
                " để mở chip."
            )
        )
        intro.setWordWrap(True)
        intro.setStyleSheet("font-size: 16px;")
        self.field = QLineEdit()
        self.field.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,12}")))
        self.field.setMaxLength(12)
        self.field.setPlaceholderText(tr("6 chữ số"))
        self.field.setStyleSheet("font-size: 26px; padding: 2px 6px; letter-spacing: 4px;")
        self.field.setMinimumHeight(50)
        # An access key: the wedge filter never holds or records these keys.
        self.field.setInputMethodHints(
            Qt.InputMethodHint.ImhDigitsOnly | Qt.InputMethodHint.ImhSensitiveData
        )
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("font-size: 15px; font-weight: bold; color: #b71c1c;")
        if attempt > 1:
            self.error.setText(tr("Thẻ từ chối mã vừa nhập: kiểm tra lại 6 số cuối số CCCD."))
        else:
            self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Đọc chip (Enter)"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Hủy (Esc)"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (intro, self.field, self.error, buttons):
            layout.addWidget(widget)
        self.setFocusProxy(self.field)
        self.field.setFocus(Qt.FocusReason.OtherFocusReason)

    def accept(self) -> None:
        digits = re.sub(r"\D", "", self.field.text())
        if len(digits) == 12:
            digits = digits[-6:]
        if len(digits) != 6:
            self.error.setText(tr("Mã CAN gồm đúng 6 chữ số (6 số cuối của số CCCD)."))
            self.error.show()
            self.field.setFocus(Qt.FocusReason.OtherFocusReason)
            self.field.selectAll()
            return
        self.can = digits
        super().accept()
