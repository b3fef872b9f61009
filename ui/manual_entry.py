"""Manual entry, for when nothing scans: a card number or citizen ID, the name, the birth date.

:func:`build_identity` validates the fields (messages in Vietnamese, one per field) and builds
the same :class:`~checkin.model.Identity` a scan would give, so the patient goes through
``Intake.admit`` like any other: the gateway lookup needs the number, the name and the birth
date. The dialog opens with F2, or by itself when a scan gives a number alone.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from checkin.formats import ParseFailure, parse_payload
from checkin.formats.dates import parse_birth_date
from checkin.model import Gender, Identity
from ui.i18n import tr

FIELDS = ("number", "name", "birth", "gender")


def build_identity(
    number: str, name: str, birth: str, gender: Gender | None = None, *, today: date | None = None
) -> tuple[Identity | None, dict[str, str]]:
    """``(identity, {})`` or ``(None, {field: message})`` for the fields to fix."""
    problems: dict[str, str] = {}
    parsed: Identity | None = None
    compact = "".join(number.split())
    if not compact:
        problems["number"] = tr("Nhập mã thẻ BHYT, mã số BHXH hoặc số CCCD.")
    else:
        result = parse_payload(compact) if "|" not in compact else ParseFailure("has |")
        if isinstance(result, ParseFailure):
            problems["number"] = tr(
                "Không phải mã thẻ BHYT (15 ký tự, như DN4010123456789), mã số BHXH (10 số)"
                " hay số CCCD (12 số)."
            )
        else:
            parsed = result
    clean = " ".join(unicodedata.normalize("NFC", name).split())
    if not clean:
        problems["name"] = tr("Nhập họ và tên người bệnh như trên thẻ.")
    elif any(c.isdigit() for c in clean):
        problems["name"] = tr("Họ tên không được có chữ số.")
    born: str | None = None
    if not birth.strip():
        problems["birth"] = tr("Nhập ngày sinh (ngày/tháng/năm, hoặc chỉ năm sinh).")
    else:
        try:
            born, _ = parse_birth_date(birth.strip())
        except ValueError:
            problems["birth"] = tr("Ngày sinh không hợp lệ: gõ dạng 12/05/1985 hoặc 1985.")
        else:
            day = today or date.today()
            if born and born[:4].isdigit() and (int(born[:4]) > day.year or born > day.isoformat()):
                problems["birth"] = tr("Ngày sinh ở tương lai: kiểm tra lại.")
            elif born and int(born[:4]) < day.year - 130:
                problems["birth"] = tr("Năm sinh quá xa: kiểm tra lại.")
    if problems or parsed is None:
        return None, problems
    return (
        replace(parsed, full_name=clean, date_of_birth=born, gender=gender, warnings=()),
        {},
    )


class ManualEntryDialog(QDialog):
    """Number, name, birth date, gender; Enter accepts when valid, Esc cancels.

    After ``accepted``, :attr:`identity` holds what to admit."""

    def __init__(self, parent: QWidget | None = None, *, number: str = "") -> None:
        super().__init__(parent)
        self.identity: Identity | None = None
        self.setWindowTitle(tr("Nhập tay thông tin người bệnh"))
        self.setMinimumWidth(620)
        intro = QLabel(
            tr(
                "Dùng khi không quét được thẻ. Cổng BHXH cần số thẻ hoặc số CCCD, họ tên và ngày"
                " sinh đúng như trên thẻ."
            )
        )
        intro.setWordWrap(True)
        intro.setStyleSheet("font-size: 15px;")
        self.number = QLineEdit(number)
        self.number.setPlaceholderText(tr("DN4010123456789, 0123456789 hoặc 001185012345"))
        self.name = QLineEdit()
        self.name.setPlaceholderText(tr("Họ và tên có dấu, ví dụ: Trần Thị Mai"))
        self.birth = QLineEdit()
        self.birth.setPlaceholderText(tr("12/05/1985 hoặc 1985"))
        self.gender = QComboBox()
        self.gender.addItem(tr("Không rõ"), None)
        self.gender.addItem(tr("Nam"), Gender.MALE.value)
        self.gender.addItem(tr("Nữ"), Gender.FEMALE.value)
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        captions = {
            "number": tr("Mã thẻ BHYT / mã số BHXH / số CCCD"),
            "name": tr("Họ và tên"),
            "birth": tr("Ngày sinh"),
            "gender": tr("Giới tính"),
        }
        fields = {"number": self.number, "name": self.name, "birth": self.birth,
                  "gender": self.gender}  # fmt: skip
        for key in FIELDS:
            widget = fields[key]
            widget.setStyleSheet("font-size: 17px; padding: 2px 4px;")
            widget.setMinimumHeight(36)
            caption = QLabel(captions[key])
            caption.setStyleSheet("font-size: 15px;")
            form.addRow(caption, widget)
            error = QLabel()
            error.setWordWrap(True)
            error.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
            error.setStyleSheet("font-size: 14px; font-weight: bold; color: #b71c1c;")
            error.hide()
            self.errors[key] = error
            form.addRow("", error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Tra cứu (Enter)"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Hủy (Esc)"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        first = self.name if number else self.number
        first.setFocus(Qt.FocusReason.OtherFocusReason)
        self.setFocusProxy(first)

    def accept(self) -> None:
        gender_value = self.gender.currentData()
        identity, problems = build_identity(
            self.number.text(),
            self.name.text(),
            self.birth.text(),
            Gender(gender_value) if gender_value else None,
        )
        for key, label in self.errors.items():
            label.setText(problems.get(key, ""))
            label.setVisible(key in problems)
        if identity is None:
            self._fit()
            first = next(k for k in FIELDS if k in problems)
            widget = {"number": self.number, "name": self.name, "birth": self.birth}[first]
            widget.setFocus(Qt.FocusReason.OtherFocusReason)
            widget.selectAll()
            return
        self.identity = identity
        super().accept()

    def _fit(self) -> None:
        """Grow the dialog so every shown error line fits under its field (the layout wraps
        them to the field's width; a window does not grow by itself for that)."""
        layout = self.layout()
        layout.invalidate()
        layout.activate()
        width = max(self.width(), self.minimumSizeHint().width())
        if layout.hasHeightForWidth():
            height = layout.totalHeightForWidth(width)
        else:
            height = layout.totalSizeHint().height()
        height = max(height, layout.totalMinimumSize().height())
        if width > self.width() or height > self.height():
            self.resize(width, max(height, self.height()))
