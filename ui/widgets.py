"""The desk's building blocks: camera view, verdict banner, queue number, patient panel and
today's visits. Widgets only show what they are given; they never read the store or the
network."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from checkin.eligibility import Decision
from checkin.model import Identity, Status, mask_number
from checkin.store import Visit
from ui import text

# Banner colours (background, text). Amber carries dark text for contrast.
BANNER_COLORS: dict[Status, tuple[str, str]] = {
    Status.ELIGIBLE: ("#2e7d32", "#ffffff"),
    Status.WARNING: ("#f9a825", "#212121"),
    Status.NOT_ELIGIBLE: ("#c62828", "#ffffff"),
    Status.UNVERIFIED: ("#616161", "#ffffff"),
}
IDLE_COLORS = ("#eceff1", "#37474f")
BUSY_COLORS = ("#1565c0", "#ffffff")
# Lighter tints of the same colours for the visits table.
ROW_TINTS: dict[Status, str] = {
    Status.ELIGIBLE: "#c8e6c9",
    Status.WARNING: "#ffe082",
    Status.NOT_ELIGIBLE: "#ffcdd2",
    Status.UNVERIFIED: "#e0e0e0",
}


def _label(content: str = "", size_px: int = 16, bold: bool = False) -> QLabel:
    label = QLabel(content)
    weight = "bold" if bold else "normal"
    label.setStyleSheet(f"font-size: {size_px}px; font-weight: {weight};")
    label.setWordWrap(True)
    return label


class CameraView(QLabel):
    """The live preview, scaled to fit while keeping its aspect ratio."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(text.CAMERA_WAITING, parent)
        self._image: QImage | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setStyleSheet("background: #263238; color: #eceff1; font-size: 16px;")

    @property
    def image(self) -> QImage | None:
        return self._image

    def show_frame(self, image: QImage) -> None:
        self._image = image
        self._rescale()

    def show_message(self, message: str) -> None:
        self._image = None
        self.clear()
        self.setText(message)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._image is None:
            return
        pixmap = QPixmap.fromImage(self._image).scaled(
            self.size(),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        self.setPixmap(pixmap)


class VerdictBanner(QFrame):
    """The large coloured verdict: status, message, next action and where it came from."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.status: Status | None = None
        self.colors = IDLE_COLORS
        self.title = _label(size_px=34, bold=True)
        self.message = _label(size_px=20)
        self.action = _label(size_px=18, bold=True)
        self.detail = _label(size_px=14)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 14, 20, 14)
        for widget in (self.title, self.message, self.action, self.detail):
            layout.addWidget(widget)
        self.setMinimumHeight(200)
        self.show_idle()

    def show_idle(self) -> None:
        self._show(None, IDLE_COLORS, text.IDLE_TITLE, text.IDLE_MESSAGE)

    def show_busy(self) -> None:
        self._show(None, BUSY_COLORS, text.BUSY_TITLE, text.BUSY_MESSAGE)

    def show_decision(self, decision: Decision) -> None:
        status = decision.status
        action = text.NEXT_ACTION.format(action=decision.action)
        parts = [text.SOURCE_WORDS[decision.source]]
        if decision.result_code:
            parts.append(text.RESULT_CODE.format(code=decision.result_code))
        detail = text.DETAIL_SEPARATOR.join(parts)
        self._show(
            status,
            BANNER_COLORS[status],
            text.STATUS_TITLE[status],
            decision.message,
            action,
            detail,
        )

    def _show(
        self,
        status: Status | None,
        colors: tuple[str, str],
        title: str,
        message: str,
        action: str = "",
        detail: str = "",
    ) -> None:
        self.status = status
        self.colors = colors
        background, foreground = colors
        self.setStyleSheet(
            f"QFrame#banner {{ background: {background}; border-radius: 10px; }}"
            f" QFrame#banner QLabel {{ color: {foreground}; background: transparent; }}"
        )
        for label, value in (
            (self.title, title),
            (self.message, message),
            (self.action, action),
            (self.detail, detail),
        ):
            label.setText(value)
            label.setVisible(bool(value))


class QueueNumber(QFrame):
    """Today's queue number in large type."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.caption = _label(text.QUEUE_LABEL, size_px=16, bold=True)
        self.number = _label(text.QUEUE_EMPTY, size_px=84, bold=True)
        self.note = _label(size_px=13)
        layout = QVBoxLayout(self)
        for widget in (self.caption, self.number, self.note):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(widget)
        self.note.hide()
        self.setMinimumWidth(200)

    def show_number(self, number: int | None, reopened: bool = False) -> None:
        self.number.setText(str(number) if number is not None else text.QUEUE_EMPTY)
        self.note.setText(text.QUEUE_REOPENED if reopened else "")
        self.note.setVisible(reopened)


class PatientPanel(QGroupBox):
    """The patient just scanned. The citizen ID is masked; card numbers are shown whole (the
    desk copies them into the hospital system)."""

    FIELDS = (
        ("name", text.FIELD_NAME),
        ("birth", text.FIELD_BIRTH),
        ("gender", text.FIELD_GENDER),
        ("card", text.FIELD_CARD),
        ("social", text.FIELD_SOCIAL),
        ("citizen", text.FIELD_CITIZEN),
        ("facility", text.FIELD_FACILITY),
        ("validity", text.FIELD_VALIDITY),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(text.PATIENT_TITLE, parent)
        self.setStyleSheet("QGroupBox { font-size: 15px; font-weight: bold; }")
        layout = QFormLayout(self)
        self._values: dict[str, QLabel] = {}
        for key, caption in self.FIELDS:
            value = _label(size_px=17, bold=key == "name")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._values[key] = value
            layout.addRow(_label(caption, size_px=15), value)
        self.clear()

    def value(self, key: str) -> str:
        return self._values[key].text()

    def clear(self) -> None:
        for label in self._values.values():
            label.setText(text.EMPTY_FIELD)

    def show_patient(self, identity: Identity, decision: Decision | None = None) -> None:
        values = patient_fields(identity, decision)
        for key, label in self._values.items():
            label.setText(values.get(key) or text.EMPTY_FIELD)


def patient_fields(identity: Identity, decision: Decision | None) -> dict[str, str]:
    """What the panel shows; the gateway's card data (e.g. a new card) wins over the QR's."""
    card = (decision.card_number if decision else None) or identity.card_number
    facility = (decision.registered_facility if decision else None) or identity.registered_facility
    start, end = identity.valid_from, identity.valid_to
    if decision and (decision.valid_from or decision.valid_to):
        start, end = decision.valid_from, decision.valid_to
    return {
        "name": identity.full_name,
        "birth": text.dmy(identity.date_of_birth),
        "gender": text.gender(identity.gender),
        "card": card or "",
        "social": identity.social_insurance_number or "",
        "citizen": mask_number(identity.citizen_id),
        "facility": facility or "",
        "validity": text.validity(start, end),
    }


class VisitsTable(QTableWidget):
    """Today's visits: number, name, status, result code, time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(text.VISITS_COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(text.VISITS_COLUMNS))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.setStyleSheet("font-size: 15px;")

    def set_visits(self, visits: list[Visit]) -> None:
        self.setRowCount(len(visits))
        for row, visit in enumerate(visits):
            for column, value in enumerate(visit_cells(visit)):
                item = QTableWidgetItem(value)
                if column == 2:
                    item.setBackground(QBrush(QColor(ROW_TINTS[visit.status])))
                self.setItem(row, column, item)
        if visits:
            self.scrollToBottom()


def visit_cells(visit: Visit) -> tuple[str, str, str, str, str]:
    return (
        str(visit.queue_number),
        visit.identity.full_name,
        text.STATUS_SHORT[visit.status],
        visit.decision.result_code or text.EMPTY_FIELD,
        _clock_time(visit.presented_at),
    )


def _clock_time(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).strftime("%H:%M")
    except ValueError:
        return stamp
