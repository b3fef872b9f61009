"""The desk's building blocks: camera view, verdict banner, offline bar, queue number, patient
panel and today's visits with their filter. Widgets only show what they are given; they never
read the store or the network. Each has ``retranslate()`` to re-label itself after a language
switch (the desk calls it)."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from checkin.duplicates import duplicates_among
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
FLASH_MS = 350
# Lighter tints of the same colours for the visits table.
ROW_TINTS: dict[Status, str] = {
    Status.ELIGIBLE: "#c8e6c9",
    Status.WARNING: "#ffe082",
    Status.NOT_ELIGIBLE: "#ffcdd2",
    Status.UNVERIFIED: "#e0e0e0",
}
ATTENTION_TINT = "#ef9a9a"
FILTER_KEYS = ("all", "eligible", "warning", "not_eligible", "unverified", "attention")


def label_style(size_px: int, bold: bool = False, extra: str = "") -> str:
    """Font size and weight, with room above the text: Vietnamese capitals with stacked
    marks (Ể, Ủ, Ấ) rise above the font's ascent, and a tight word-wrapped QLabel clips the
    top mark, which then reads as another one (KIỂM as KIẾM)."""
    weight = "bold" if bold else "normal"
    room = max(2, size_px // 7)
    return f"font-size: {size_px}px; font-weight: {weight}; padding-top: {room}px; {extra}"


def _label(content: str = "", size_px: int = 16, bold: bool = False) -> QLabel:
    label = QLabel(content)
    label.setStyleSheet(label_style(size_px, bold))
    label.setIndent(0)  # a styled box would otherwise indent the text by half an "x"
    label.setWordWrap(True)
    return label


class CameraView(QLabel):
    """The live preview, scaled to fit while keeping its aspect ratio."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(text.camera_waiting(), parent)
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
    """The large coloured verdict: status, message, next action and where it came from.

    ``flash()`` draws a thick light border for a moment: the visual half of the per-scan
    feedback (the sound is the other half)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.status: Status | None = None
        self.colors = IDLE_COLORS
        self.flashing = False
        self._shown: tuple = ("idle",)
        self.title = _label(size_px=34, bold=True)
        self.message = _label(size_px=20)
        self.action = _label(size_px=18, bold=True)
        self.detail = _label(size_px=14)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 12, 20, 12)
        layout.setSpacing(4)
        for widget in (self.title, self.message, self.action, self.detail):
            layout.addWidget(widget)
        self.setMinimumHeight(190)
        self._flash_timer = QTimer(self)
        self._flash_timer.setSingleShot(True)
        self._flash_timer.timeout.connect(self._end_flash)
        self.show_idle()

    def show_idle(self) -> None:
        self._shown = ("idle",)
        self._show(None, IDLE_COLORS, text.idle_title(), text.idle_message())

    def show_busy(self, message: str | None = None) -> None:
        self._shown = ("busy", message)
        self._show(None, BUSY_COLORS, text.busy_title(), message or text.busy_message())

    def show_decision(self, decision: Decision, reopened: bool = False) -> None:
        self._shown = ("decision", decision, reopened)
        status = decision.status
        title = text.status_title(status)
        if reopened:
            title = f"{title} · {text.reopened_title()}"
        self._show(
            status,
            BANNER_COLORS[status],
            title,
            text.core_words(decision.message),
            text.next_action(decision.action),
            text.decision_detail(decision),
        )

    def retranslate(self) -> None:
        kind = self._shown[0]
        if kind == "decision":
            self.show_decision(*self._shown[1:])
        elif kind == "busy":
            self.show_busy(None)
        else:
            self.show_idle()

    def flash(self) -> None:
        self.flashing = True
        self._style()
        self._flash_timer.start(FLASH_MS)

    def _end_flash(self) -> None:
        self._flash_timer.stop()
        self.flashing = False
        self._style()

    def end_flash(self) -> None:
        """Stop a flash now (before a screenshot)."""
        self._end_flash()

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
        self._style()
        for label, value in (
            (self.title, title),
            (self.message, message),
            (self.action, action),
            (self.detail, detail),
        ):
            label.setText(value)
            label.setVisible(bool(value))

    def _style(self) -> None:
        background, foreground = self.colors
        border = "6px solid #ffffff" if self.flashing else f"6px solid {background}"
        self.setStyleSheet(
            f"QFrame#banner {{ background: {background}; border-radius: 10px;"
            f" border: {border}; }}"
            f" QFrame#banner QLabel {{ color: {foreground}; background: transparent;"
            " border: none; }"
        )


class StatusStrip(QFrame):
    """A one-line coloured bar across the window: offline notice, or the lock notice."""

    def __init__(self, background: str, foreground: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("strip")
        self.setStyleSheet(
            f"QFrame#strip {{ background: {background}; border-radius: 6px; }}"
            f" QFrame#strip QLabel {{ color: {foreground}; background: transparent; }}"
        )
        self.title = _label(size_px=18, bold=True)
        self.title.setWordWrap(False)
        self.message = _label(size_px=15)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 6, 14, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.message, 1)
        self.hide()

    def show_text(self, title: str, message: str) -> None:
        self.title.setText(title)
        self.message.setText(message)
        self.title.setVisible(bool(title))
        self.show()


class QueueNumber(QFrame):
    """Today's queue number in large type."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queue")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.caption = _label(text.queue_label(), size_px=18, bold=True)
        self.number = _label(text.EMPTY_FIELD, size_px=96, bold=True)
        self.note = _label(size_px=15, bold=True)
        layout = QVBoxLayout(self)
        for widget in (self.caption, self.number, self.note):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(widget)
        self.note.hide()
        self.note.setStyleSheet(label_style(15, True, "color: #0d47a1;"))
        self.setMinimumWidth(210)
        self._reopened = False
        self._flash_timer = QTimer(self)
        self._flash_timer.setSingleShot(True)
        self._flash_timer.timeout.connect(lambda: self.setStyleSheet(""))

    def show_number(self, number: int | None, reopened: bool = False) -> None:
        self.number.setText(str(number) if number is not None else text.EMPTY_FIELD)
        self._reopened = reopened
        self.note.setText(text.queue_reopened() if reopened else "")
        self.note.setVisible(reopened)

    def flash(self) -> None:
        self.setStyleSheet("QFrame#queue { background: #bbdefb; }")
        self._flash_timer.start(FLASH_MS * 2)

    def end_flash(self) -> None:
        self._flash_timer.stop()
        self.setStyleSheet("")

    def retranslate(self) -> None:
        self.caption.setText(text.queue_label())
        if self._reopened:
            self.note.setText(text.queue_reopened())


class PatientPanel(QGroupBox):
    """The patient just scanned or read. The citizen ID is masked; card numbers are shown
    whole (the desk copies them into the hospital system). A chip read adds the photo and
    the passive-authentication badge (``chip``); a possible duplicate adds a warning line
    (``warning``). Those two labels are the panel's, but the window places them (full width
    under the queue number and the panel, where a long line fits)."""

    KEYS = ("name", "birth", "gender", "card", "social", "citizen", "facility", "validity")
    PHOTO_SIZE = (132, 170)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(text.patient_title(), parent)
        self.setStyleSheet("QGroupBox { font-size: 15px; font-weight: bold; }")
        form = QFormLayout()
        form.setVerticalSpacing(4)
        self._values: dict[str, QLabel] = {}
        self._captions: dict[str, QLabel] = {}
        for key in self.KEYS:
            value = _label(size_px=18, bold=key == "name")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            caption = _label(text.field_caption(key), size_px=15)
            caption.setWordWrap(False)
            self._values[key] = value
            self._captions[key] = caption
            form.addRow(caption, value)
        self.photo = QLabel()
        self.photo.setFixedSize(*self.PHOTO_SIZE)
        self.photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.photo.setStyleSheet("border: 1px solid #90a4ae; background: #eceff1; color: #546e7a;")
        self.photo_caption = _label(text.photo_caption(), size_px=13)
        self.photo_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        photo_box = QVBoxLayout()
        photo_box.addWidget(self.photo)
        photo_box.addWidget(self.photo_caption)
        photo_box.addStretch(1)
        self._photo_widgets = (self.photo, self.photo_caption)
        top = QHBoxLayout()
        top.addLayout(form, 1)
        top.addLayout(photo_box)
        self.chip = _label(size_px=14, bold=True)
        self.warning = _label(size_px=15, bold=True)
        self.warning.setStyleSheet(
            "font-size: 15px; font-weight: bold; color: #4e342e; background: #ffe0b2;"
            " border: 2px solid #e65100; border-radius: 4px; padding: 4px;"
        )
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addStretch(1)
        self.identity: Identity | None = None
        self._decision: Decision | None = None
        self._badge: tuple[bool | None, bool | None, bool | None] | None = None
        self._duplicates: list[Visit] = []
        self.clear()

    def value(self, key: str) -> str:
        return self._values[key].text()

    def clear(self) -> None:
        self.identity = None
        self._decision = None
        for label in self._values.values():
            label.setText(text.EMPTY_FIELD)
        self.clear_chip()
        self.show_duplicates([])

    def clear_chip(self) -> None:
        self._badge = None
        self.photo.clear()
        for widget in self._photo_widgets:
            widget.hide()
        self.chip.hide()

    def show_patient(self, identity: Identity, decision: Decision | None = None) -> None:
        """Show a patient; the photo and chip badge stay when it is the same person."""
        if self.identity is None or _person(self.identity) != _person(identity):
            self.clear_chip()
            self.show_duplicates([])
        self.identity = identity
        self._decision = decision
        values = patient_fields(identity, decision)
        for key, label in self._values.items():
            label.setText(values.get(key) or text.EMPTY_FIELD)

    def show_photo(self, image: QImage | None) -> None:
        for widget in self._photo_widgets:
            widget.show()
        if image is None or image.isNull():
            self.photo.setText(text.chip_photo_missing())
            return
        pixmap = QPixmap.fromImage(image).scaled(
            self.photo.size(),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        self.photo.setPixmap(pixmap)

    @property
    def has_photo(self) -> bool:
        pixmap = self.photo.pixmap()
        return pixmap is not None and not pixmap.isNull()

    def show_chip_message(self, message: str) -> None:
        self._badge = None
        self.chip.setText(message)
        self.chip.setStyleSheet(label_style(14, True, "color: #0d47a1;"))
        self.chip.show()

    def show_chip_badge(
        self, hashes_ok: bool | None, signature_ok: bool | None, trusted: bool | None
    ) -> None:
        self._badge = (hashes_ok, signature_ok, trusted)
        bad = hashes_ok is False or signature_ok is False or trusted is False
        colour = "#b71c1c" if bad else ("#1b5e20" if trusted else "#37474f")
        self.chip.setText(text.chip_badge(hashes_ok, signature_ok, trusted))
        self.chip.setStyleSheet(label_style(14, True, f"color: {colour};"))
        self.chip.show()

    def show_duplicates(self, visits: list[Visit]) -> None:
        self._duplicates = list(visits)
        if not visits:
            self.warning.hide()
            return
        numbers = ", ".join(str(v.queue_number) for v in visits)
        self.warning.setText(text.duplicate_warning(len(visits), numbers))
        self.warning.show()

    @property
    def duplicate_text(self) -> str:
        return self.warning.text() if self.warning.isVisible() else ""

    def retranslate(self) -> None:
        self.setTitle(text.patient_title())
        for key, caption in self._captions.items():
            caption.setText(text.field_caption(key))
        self.photo_caption.setText(text.photo_caption())
        if self.identity is not None:
            values = patient_fields(self.identity, self._decision)
            self._values["gender"].setText(values["gender"] or text.EMPTY_FIELD)
        if self._badge is not None:
            self.show_chip_badge(*self._badge)
        self.show_duplicates(self._duplicates)


def _person(identity: Identity) -> str:
    return identity.citizen_id or identity.social_insurance_number or identity.card_number or ""


def patient_fields(identity: Identity, decision: Decision | None) -> dict[str, str]:
    """What the panel shows; the gateway's card data (e.g. a new card) wins over the QR's."""
    card = (decision.card_number if decision else None) or identity.card_number
    facility = (decision.registered_facility if decision else None) or identity.registered_facility
    start, end = identity.valid_from, identity.valid_to
    if decision and (decision.valid_from or decision.valid_to):
        start, end = decision.valid_from, decision.valid_to
    social = identity.social_insurance_number or (card[-10:] if card and len(card) == 15 else "")
    return {
        "name": identity.full_name,
        "birth": text.dmy(identity.date_of_birth),
        "gender": text.gender(identity.gender),
        "card": card or "",
        "social": social or "",
        "citizen": mask_number(identity.citizen_id),
        "facility": facility or "",
        "validity": text.validity(start, end),
    }


# -- today's visits --------------------------------------------------------------------------


def fold(value: str) -> str:
    """Lower case without diacritics (``"Trần Thị Mai"`` → ``"tran thi mai"``), for search."""
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", value) if unicodedata.category(c) != "Mn"
    )
    return " ".join(stripped.replace("đ", "d").replace("Đ", "D").casefold().split())


def matches_search(visit: Visit, query: str) -> bool:
    """Name words (any order, diacritics optional), a queue number, or part of a number."""
    query = fold(query)
    if not query:
        return True
    identity = visit.identity
    if query.isdigit() and query == str(visit.queue_number):
        return True
    numbers = [identity.card_number, identity.social_insurance_number, identity.citizen_id]
    compact = query.replace(" ", "").upper()
    if len(compact) >= 4 and any(n and compact in n.upper() for n in numbers):
        return True
    name = fold(identity.full_name)
    return all(word in name for word in query.split())


def matches_filter(visit: Visit, key: str) -> bool:
    if key == "all":
        return True
    if key == "attention":
        return visit.needs_attention
    return visit.status.value == key


class VisitsTable(QTableWidget):
    """Today's visits: number, name, status, result code, time, note. ``set_filter`` and
    ``set_search`` hide rows; visits re-checked and found not eligible are marked in red."""

    visit_chosen = Signal(object)  # Enter or double-click on a row: that Visit
    moved_by_user = Signal()  # the current row changed by a key or a click, not by the desk

    def __init__(self, parent: QWidget | None = None) -> None:
        columns = text.visits_columns()
        super().__init__(0, len(columns), parent)
        self.setHorizontalHeaderLabels(columns)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.setStyleSheet("font-size: 15px;")
        self.visits: list[Visit] = []
        self.duplicates: dict[int, list[Visit]] = {}  # visit id -> possible duplicates today
        self.filter_key = "all"
        self.search = ""
        self._quiet = 0  # > 0 while the desk itself moves the selection
        self.itemActivated.connect(lambda item: self._choose(item.row()))
        self.selectionModel().currentRowChanged.connect(self._current_moved)

    def _current_moved(self, *_: object) -> None:
        if not self._quiet:
            self.moved_by_user.emit()

    def set_visits(self, visits: list[Visit]) -> None:
        self._quiet += 1
        try:
            self._set_visits(visits)
        finally:
            self._quiet -= 1

    def _set_visits(self, visits: list[Visit]) -> None:
        selected = self.selected_visit()
        self.visits = list(visits)
        self.duplicates = duplicates_among(self.visits)
        self.setRowCount(len(visits))
        for row, visit in enumerate(visits):
            self._fill(row, visit)
        self._apply()
        if selected is not None:
            self.select_visit(selected.id, scroll=False)
        elif visits:
            self.scrollToBottom()

    def duplicates_of(self, visit_id: int) -> list[Visit]:
        """Today's other visits with the same name and birth date under another number."""
        return list(self.duplicates.get(visit_id, ()))

    def _fill(self, row: int, visit: Visit) -> None:
        bold = QFont()
        bold.setBold(True)
        for column, value in enumerate(visit_cells(visit, self.duplicates.get(visit.id))):
            item = QTableWidgetItem(value)
            if column == 2:
                item.setBackground(QBrush(QColor(ROW_TINTS[visit.status])))
            if visit.needs_attention:
                item.setBackground(QBrush(QColor(ATTENTION_TINT)))
                item.setFont(bold)
            self.setItem(row, column, item)

    def set_filter(self, key: str) -> None:
        self.filter_key = key if key in FILTER_KEYS else "all"
        self._apply_quietly()

    def set_search(self, query: str) -> None:
        self.search = query
        self._apply_quietly()

    def _apply_quietly(self) -> None:
        self._quiet += 1
        try:
            self._apply()
        finally:
            self._quiet -= 1

    def shown_visits(self) -> list[Visit]:
        return [v for row, v in enumerate(self.visits) if not self.isRowHidden(row)]

    def _apply(self) -> None:
        """Hide what the filter and search leave out. A selected row that gets hidden is not
        kept selected (F8 or Enter would act on a patient no longer on screen): the first
        shown row is selected instead, so Enter from the search box opens the match."""
        for row, visit in enumerate(self.visits):
            shown = matches_filter(visit, self.filter_key) and matches_search(visit, self.search)
            self.setRowHidden(row, not shown)
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        if rows and not self.isRowHidden(rows[0].row()):
            return
        self.clearSelection()
        if rows or self.search or self.filter_key != "all":
            self.select_first_shown()

    def select_first_shown(self) -> Visit | None:
        """Select the first row the filter and search show; None when none is shown."""
        for row, visit in enumerate(self.visits):
            if not self.isRowHidden(row):
                self.select_visit(visit.id)
                return visit
        return None

    def choose_selected(self) -> bool:
        """Open the selected row as Enter on it would; False when none is selected."""
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        if not rows or self.isRowHidden(rows[0].row()):
            return False
        self._choose(rows[0].row())
        return True

    def selected_visit(self) -> Visit | None:
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        if not rows or rows[0].row() >= len(self.visits):
            return None
        return self.visits[rows[0].row()]

    def select_visit(self, visit_id: int, scroll: bool = True) -> bool:
        """Select a shown row (a move by the desk, not by the user); False when not shown."""
        for row, visit in enumerate(self.visits):
            if visit.id == visit_id and not self.isRowHidden(row):
                self._quiet += 1
                try:
                    self.selectRow(row)
                    self.setCurrentCell(row, 0)
                finally:
                    self._quiet -= 1
                if scroll:
                    self.scrollToItem(self.item(row, 0))
                return True
        return False

    def _choose(self, row: int) -> None:
        if 0 <= row < len(self.visits):
            self.visit_chosen.emit(self.visits[row])

    def retranslate(self) -> None:
        self.setHorizontalHeaderLabels(text.visits_columns())
        for row, visit in enumerate(self.visits):
            self._fill(row, visit)


def visit_cells(
    visit: Visit, duplicates: list[Visit] | None = None
) -> tuple[str, str, str, str, str, str]:
    if visit.needs_attention:
        note = text.note_attention()
    elif visit.status is Status.UNVERIFIED:
        note = text.note_pending()
    else:
        note = ""
    if duplicates:
        numbers = ", ".join(str(v.queue_number) for v in duplicates)
        note = text.DETAIL_SEPARATOR.join(filter(None, [note, text.note_duplicate(numbers)]))
    return (
        str(visit.queue_number),
        visit.identity.full_name,
        text.status_short(visit.status),
        visit.decision.result_code or text.EMPTY_FIELD,
        _clock_time(visit.presented_at),
        note,
    )


def _clock_time(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).strftime("%H:%M")
    except ValueError:
        return stamp


class VisitsFilter(QWidget):
    """The status filter (F6 cycles it) and the search box (F3 focuses it)."""

    changed = Signal(str, str)  # filter key, search text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = _label(text.filter_label(), size_px=15)
        self.caption.setWordWrap(False)
        self.combo = QComboBox()
        self.combo.setStyleSheet("font-size: 15px;")
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.search.setStyleSheet("font-size: 15px; padding: 3px;")
        self.search.setMinimumWidth(200)  # the whole header fits a 1024-pixel screen
        self.search.setPlaceholderText(text.search_placeholder())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.combo)
        layout.addWidget(self.search, 1)
        self._fill_combo()
        self.combo.currentIndexChanged.connect(self._emit)
        self.search.textChanged.connect(self._emit)

    @property
    def key(self) -> str:
        return self.combo.currentData() or "all"

    def set_key(self, key: str) -> None:
        index = self.combo.findData(key)
        if index >= 0:
            self.combo.setCurrentIndex(index)

    def cycle(self, step: int = 1) -> str:
        self.combo.setCurrentIndex((self.combo.currentIndex() + step) % self.combo.count())
        return self.key

    def _fill_combo(self) -> None:
        current = self.combo.currentData() or "all"
        self.combo.blockSignals(True)
        self.combo.clear()
        for key, label in text.filter_names().items():
            self.combo.addItem(label, key)
        self.combo.setCurrentIndex(max(0, self.combo.findData(current)))
        self.combo.blockSignals(False)

    def _emit(self) -> None:
        self.changed.emit(self.key, self.search.text())

    def retranslate(self) -> None:
        self.caption.setText(text.filter_label())
        self.search.setPlaceholderText(text.search_placeholder())
        self._fill_combo()
