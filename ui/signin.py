"""Officer sign-in and the idle lock.

Every gateway lookup carries the signed-in officer's name and 12-digit citizen ID (the
gateway requires both, CV 1923/BHXH-CNTT, and the store's audit log records them). The desk
starts on :class:`SignInPage` unless it is given an officer; it comes back to the same page,
as a lock screen, after ``idle_lock_min`` minutes without a key press or click, or at once
with Ctrl+L. The lock hides the patient data; scans are not taken while it is shown.

The lock is a privacy screen, not an authentication system: there is no password (the
citizen ID is not a secret). At the lock the name is kept and the ID must be typed again, so
that walking up to an unattended desk and pressing Enter does not reopen it; a different
officer may sign in instead (a shift change).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, QRegularExpression, Qt, QTimer, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from checkin.model import Identity, Officer, mask_number
from ui.i18n import tr

DEFAULT_IDLE_LOCK_MIN = 10.0
_ACTIVITY = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


def idle_lock_minutes(config: object | None) -> float:
    """``config.desk.idle_lock_min`` when the configuration has it (0: never lock), else 10."""
    desk = getattr(config, "desk", None)
    value = getattr(desk, "idle_lock_min", None)
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return DEFAULT_IDLE_LOCK_MIN


def clean_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).split())


def validate_officer(name: str, citizen_id: str) -> tuple[Officer | None, str | None]:
    """``(officer, None)`` or ``(None, a message in the current language saying what to fix)``."""
    name = clean_name(name)
    digits = re.sub(r"\s", "", citizen_id)
    if not name:
        return None, tr("Nhập họ và tên cán bộ tiếp nhận.")
    if any(c.isdigit() for c in name):
        return None, tr("Họ tên cán bộ không được có chữ số.")
    if len(name.split()) < 2:
        return None, tr("Nhập đủ họ và tên (ít nhất hai chữ), như trên CCCD.")
    if not digits:
        return None, tr("Nhập số CCCD 12 chữ số của cán bộ.")
    if not digits.isdigit() or len(digits) != 12:
        return None, tr("Số CCCD của cán bộ phải đủ 12 chữ số (đang có {n}).", n=len(digits))
    return Officer(name=name, citizen_id=digits), None


class SignInPage(QWidget):
    """Name and citizen ID of the officer; Enter signs in. ``signed_in(Officer)``.

    ``prepare(default, locked_by=None)``: at start both fields come from the configuration's
    defaults; at the lock the name stays and the ID must be typed again."""

    signed_in = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signin")
        self.locked_by: Officer | None = None
        self._locked_at: datetime | None = None
        self._problem: Callable[[], str] | None = None  # re-rendered by retranslate
        card = QFrame()
        card.setObjectName("signin_card")
        card.setStyleSheet(
            "QFrame#signin_card { background: #ffffff; border: 1px solid #b0bec5;"
            " border-radius: 12px; }"
        )
        card.setFixedWidth(640)  # a fixed width lets the wrapped lines claim their height
        self.title = QLabel()
        self.title.setStyleSheet(
            "font-size: 30px; font-weight: bold; color: #263238; padding-top: 4px;"
        )
        self.title.setIndent(0)
        self.subtitle = QLabel()
        self.subtitle.setWordWrap(True)
        self.subtitle.setStyleSheet("font-size: 16px; color: #455a64;")
        self.name = QLineEdit()
        self.citizen_id = QLineEdit()
        self.citizen_id.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"\d{0,12}"), self.citizen_id)
        )
        self.citizen_id.setMaxLength(12)
        for field in (self.name, self.citizen_id):
            field.setStyleSheet("font-size: 20px; padding: 2px 6px;")
            field.setMinimumHeight(44)
            # Not exempt from the wedge filter: an officer's own CCCD scanned here fills the
            # form (DeskWindow.submit); typing still lands, at most a few ms late.
        self.name_caption = QLabel()
        self.id_caption = QLabel()
        for caption in (self.name_caption, self.id_caption):
            caption.setStyleSheet("font-size: 17px;")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("font-size: 16px; font-weight: bold; color: #b71c1c;")
        self.error.hide()
        self.button = QPushButton()
        self.button.setStyleSheet("font-size: 18px; padding: 8px 18px;")
        self.button.setDefault(True)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("font-size: 14px; color: #546e7a;")
        form = QFormLayout()
        form.addRow(self.name_caption, self.name)
        form.addRow(self.id_caption, self.citizen_id)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(32, 28, 32, 28)
        inner.setSpacing(12)
        for widget in (self.title, self.subtitle):
            inner.addWidget(widget)
        inner.addLayout(form)
        inner.addWidget(self.error)
        inner.addWidget(self.button, 0, Qt.AlignmentFlag.AlignRight)
        inner.addWidget(self.hint)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.setStyleSheet("QWidget#signin { background: #cfd8dc; }")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.button.clicked.connect(self.submit)
        self.name.returnPressed.connect(self._next_or_submit)
        self.citizen_id.returnPressed.connect(self.submit)
        self.retranslate()

    def prepare(self, default: Officer | None, locked_by: Officer | None = None) -> None:
        self.locked_by = locked_by
        self._locked_at = datetime.now() if locked_by else None
        self._show_problem(None)
        officer = locked_by or default
        self.name.setText(officer.name if officer else "")
        self.citizen_id.setText("" if locked_by or not officer else officer.citizen_id)
        self.retranslate()

    def focus_first_empty(self) -> None:
        field = self.citizen_id if self.name.text().strip() else self.name
        field.setFocus(Qt.FocusReason.OtherFocusReason)
        field.selectAll()

    def fill_from_identity(self, identity: Identity) -> bool:
        """An officer scanning their own CCCD fills the form (Enter still signs in).

        At a lock only the locked officer's own card is taken: any other CCCD (a patient's,
        seen by the camera) is refused (``False``: the desk says scans are not taken), so it
        can neither sign in as the officer nor show a patient's citizen ID. Only empty fields
        are filled (a typed start of the same ID is completed); a card that disagrees with
        what is typed is refused. The focus stays in the field being typed in."""
        if not identity.citizen_id or not identity.full_name:
            return False
        locked_by = self.locked_by
        if locked_by is not None and identity.citizen_id != locked_by.citizen_id:
            return False
        name = clean_name(self.name.text()).casefold()
        names = {clean_name(identity.full_name).casefold()}
        if locked_by is not None:
            names.add(clean_name(locked_by.name).casefold())
        typed = self.citizen_id.text()
        if (name and name not in names) or not identity.citizen_id.startswith(typed):
            return False
        if not name:
            self.name.setText(identity.full_name)
        if typed != identity.citizen_id:
            self.citizen_id.setText(identity.citizen_id)
        self._show_problem(None)
        if QApplication.focusWidget() not in (self.name, self.citizen_id):
            self.button.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def submit(self) -> None:
        officer, _ = validate_officer(self.name.text(), self.citizen_id.text())
        if officer is None:
            name, citizen_id = self.name.text(), self.citizen_id.text()
            self._show_problem(lambda: validate_officer(name, citizen_id)[1] or "")
            self.focus_first_empty() if not self.name.text().strip() else self._focus_bad()
            return
        self._show_problem(None)
        self.signed_in.emit(officer)

    def _show_problem(self, problem: Callable[[], str] | None) -> None:
        self._problem = problem
        self.error.setText(problem() if problem else "")
        self.error.setVisible(problem is not None)

    def _focus_bad(self) -> None:
        name_ok = validate_officer(self.name.text(), "000000000000")[0] is not None
        field = self.citizen_id if name_ok else self.name
        field.setFocus(Qt.FocusReason.OtherFocusReason)
        field.selectAll()

    def _next_or_submit(self) -> None:
        if len(self.citizen_id.text()) == 12:
            self.submit()
        else:
            self.citizen_id.setFocus(Qt.FocusReason.TabFocusReason)

    def retranslate(self) -> None:
        if self.locked_by is not None:
            self.title.setText(tr("Màn hình đã khóa"))
            stamp = self._locked_at.strftime("%H:%M") if self._locked_at else ""
            self.subtitle.setText(
                tr(
                    "Khóa lúc {time}. Cán bộ {name} nhập lại số CCCD để mở,"
                    " hoặc cán bộ khác đăng nhập thay ca.",
                    time=stamp,
                    name=self.locked_by.name,
                )
            )
        else:
            self.title.setText(tr("Đăng nhập cán bộ tiếp nhận"))
            self.subtitle.setText(
                tr(
                    "Mỗi lượt tra cứu thẻ BHYT gửi họ tên và số CCCD của cán bộ tới cổng BHXH"
                    " và được ghi vào nhật ký."
                )
            )
        self.name_caption.setText(tr("Họ và tên cán bộ"))
        self.id_caption.setText(tr("Số CCCD (12 số)"))
        self.name.setPlaceholderText(tr("ví dụ: Nguyễn Văn An"))
        self.citizen_id.setPlaceholderText(tr("12 chữ số"))
        self.button.setText(tr("Đăng nhập (Enter)"))
        if self._problem is not None:
            self.error.setText(self._problem())
        self.hint.setText(
            tr("Mẹo: quét mã QR trên CCCD của chính cán bộ để điền nhanh. Ctrl+Q: thoát.")
        )


def describe_officer(officer: Officer) -> tuple[str, str]:
    """Name and masked ID, for the status bar."""
    return officer.name, mask_number(officer.citizen_id)


class IdleWatcher(QObject):
    """Emits ``idle`` after ``minutes`` without a key press, click, wheel or touch anywhere in
    the application (an application-wide event filter; scans from the camera do not count,
    so a card waved at an unattended desk does not keep it open). 0 minutes: never."""

    idle = Signal()

    def __init__(self, minutes: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.idle)
        self._installed = False
        self.never = False
        self.set_minutes(minutes)

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    def set_minutes(self, minutes: float) -> None:
        self.never = minutes <= 0
        if self.never:
            self._timer.stop()
            return
        self._timer.setInterval(max(1, int(minutes * 60_000)))
        if self._timer.isActive():
            self._timer.start()

    def set_interval_ms(self, ms: int) -> None:
        self.never = False
        self._timer.setInterval(max(1, ms))
        if self._timer.isActive():
            self._timer.start()

    def start(self) -> None:
        if self.never:
            return
        if not self._installed:
            app = QApplication.instance()
            if app is not None:
                app.installEventFilter(self)
                self._installed = True
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        if self._installed:
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            self._installed = False

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def poke(self) -> None:
        if self._timer.isActive():
            self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY:
            self.poke()
        return False
