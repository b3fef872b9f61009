"""The diagnostics panel for IT: every ``checkin doctor`` check in a table, refreshed off the
GUI thread (the button or F5), and a plain-text report to paste into a ticket (numbers masked).

:func:`run_in_background` is the small helper this panel and the settings dialog share: the
work runs on a daemon thread (a hung camera or gateway can never hold the application open),
and the callback runs on the GUI thread, only if its widget still exists.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from checkin.config import Config, ConfigError, load_config
from checkin.doctor import Check, all_passed, mask_text, run_checks
from ui.i18n import tr

# -- background work -------------------------------------------------------------------------


class _Bridge(QObject):
    """Lives as long as the application; carries results from worker threads to the GUI."""

    finished = Signal(object, object, object, object)  # owner, callback, result, error

    def __init__(self) -> None:
        super().__init__()
        self.finished.connect(self._deliver, Qt.QueuedConnection)

    @staticmethod
    def _deliver(owner: QObject, callback: Callable, result: Any, error: Any) -> None:
        if not shiboken6.isValid(owner) or getattr(owner, "_closing", False):
            return
        callback(result, error)


_bridge: _Bridge | None = None


def run_in_background(
    owner: QObject, fn: Callable[[], Any], callback: Callable[[Any, BaseException | None], None]
) -> threading.Thread:
    """Run ``fn()`` on a daemon thread; ``callback(result, error)`` on the GUI thread (skipped
    once ``owner`` is deleted or has ``_closing`` set). ``fn`` must not touch widgets."""
    global _bridge
    if _bridge is None:
        _bridge = _Bridge()
        _bridge.moveToThread(QApplication.instance().thread())

    def work() -> None:
        try:
            result, error = fn(), None
        except Exception as exc:
            result, error = None, exc
        bridge = _bridge
        if bridge is not None and shiboken6.isValid(bridge):
            bridge.finished.emit(owner, callback, result, error)

    thread = threading.Thread(target=work, daemon=True, name="checkin-ui-task")
    thread.start()
    return thread


class GuiThreadGarbageCollector(QObject):
    """Run Python's cyclic garbage collector on the GUI thread only.

    Left automatic, the collector runs in whichever thread happens to allocate, and a
    parentless Qt object caught in a reference cycle (a dialog whose signals are connected to
    lambdas that name it) is then destroyed from a worker thread: a segmentation fault. This
    turns automatic collection off and collects from a timer on the GUI thread instead, by the
    same generation thresholds (the pattern of Anki's ``aqt`` garbage collector). ``stop()``
    gives automatic collection back. One per application: install it at start-up.
    """

    def __init__(self, parent: QObject | None = None, interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect_if_due)
        self._timer.start(interval_ms)

    def collect_if_due(self) -> int:
        young, middle, old = gc.get_count()
        first, second, third = self._thresholds
        if young <= first:
            return 0
        generation = 2 if middle > second and old > third else 1 if middle > second else 0
        return gc.collect(generation)

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()


# -- the panel -------------------------------------------------------------------------------

OK_COLOURS = {
    True: ("#c8e6c9", "#1b5e20"),
    False: ("#ffcdd2", "#b71c1c"),
    None: ("#eceff1", "#455a64"),
}
OPTIONAL_FAIL = ("#ffe0b2", "#e65100")  # a failure that does not stop the desk
MARKS = {True: "✓", False: "✗", None: "–"}


def check_title(check: Check) -> str:
    return tr(check.title.vi)


def check_summary(check: Check) -> str:
    """The summary in the desk's language."""
    if check.phrases is None:
        return check.summary
    return tr(check.phrases[0].vi, **check.values)


def check_fix(check: Check) -> str:
    if check.phrases is None or check.phrases[1] is None:
        return check.fix
    return tr(check.phrases[1].vi, **check.values)


def report_text(checks: list[Check], when: datetime | None = None) -> str:
    """A plain-text report for a support ticket, in the desk's language, numbers masked."""
    when = when or datetime.now()
    lines = [tr("Báo cáo chẩn đoán checkin — {time}", time=when.strftime("%Y-%m-%d %H:%M:%S"))]
    verdict = tr("Mọi kiểm tra bắt buộc đều đạt") if all_passed(checks) else tr("Có lỗi cần xử lý")
    lines.append(verdict)
    lines.append("")
    for check in checks:
        optional = "" if check.required or check.ok is not False else tr(" (không bắt buộc)")
        lines.append(f"{MARKS[check.ok]} {check_title(check)}: {check_summary(check)}{optional}")
        fix = check_fix(check)
        if fix and check.ok is not True:
            lines.append(f"    {tr('Cách xử lý')}: {fix}")
        for row in check.detail.splitlines():
            lines.append(f"    {row}")
    return mask_text("\n".join(lines)) + "\n"


class DiagnosticsPanel(QWidget):
    """The doctor's checks in a table. ``refreshed(list[Check])`` after each run.

    ``config`` is the desk's configuration; when it came from a file, each refresh reads the
    file again, so what Settings just saved is what gets checked.
    """

    refreshed = Signal(list)

    COLUMNS = 4

    def __init__(self, config: Config | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config = config or Config()
        self.checks: list[Check] = []
        self._closing = False
        self._running = False
        self.setWindowTitle(tr("Chẩn đoán thiết bị và kết nối"))
        self._build()
        QShortcut(QKeySequence(Qt.Key_F5), self, self.refresh)

    def _build(self) -> None:
        self.status = QLabel(tr("Nhấn F5 để kiểm tra."))
        self.status.setStyleSheet("font-size: 15px; font-weight: bold; padding: 4px;")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, self.COLUMNS)
        self.table.setHorizontalHeaderLabels(
            ["", tr("Hạng mục"), tr("Tình trạng"), tr("Cách xử lý")]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.NoSelection)  # keep the row colours
        self.table.setFocusPolicy(Qt.StrongFocus)
        self.table.setWordWrap(True)
        self.table.setAlternatingRowColors(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.Stretch)
        header.setSectionResizeMode(3, QHeaderView.Stretch)
        self.table.setAccessibleName(tr("Kết quả chẩn đoán"))
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.detail.setStyleSheet("font-family: monospace; color: #37474f;")
        self.table.currentCellChanged.connect(lambda row, *_: self._show_detail(row))

        self.refresh_button = QPushButton(tr("&Kiểm tra lại (F5)"))
        self.refresh_button.clicked.connect(self.refresh)
        self.copy_button = QPushButton(tr("&Sao chép báo cáo"))
        self.copy_button.clicked.connect(self.copy_report)
        self.copy_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)
        self.resize(1000, 560)

    # -- running -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Run every check off the GUI thread (ignored while a run is going)."""
        if self._running:
            return
        self._running = True
        self.refresh_button.setEnabled(False)
        self.status.setText(tr("Đang kiểm tra… (tối đa khoảng 5 giây)"))
        self.status.setStyleSheet(self._status_style("#1565c0", "#e3f2fd"))
        config = self.config
        run_in_background(self, lambda: _run(config), self._done)

    def _done(self, result: Any, error: BaseException | None) -> None:
        self._running = False
        self.refresh_button.setEnabled(True)
        if error is not None:
            self.status.setText(tr("Không chạy được chẩn đoán: {error}", error=error))
            self.status.setStyleSheet(self._status_style("#b71c1c", "#ffcdd2"))
            return
        self.show_checks(result)
        self.refreshed.emit(result)

    def show_checks(self, checks: list[Check]) -> None:
        self.checks = list(checks)
        self.table.setRowCount(len(checks))
        for row, check in enumerate(checks):
            background, foreground = OK_COLOURS[check.ok]
            if check.ok is False and not check.required:
                background, foreground = OPTIONAL_FAIL
            fix = check_fix(check) if check.ok is not True else ""
            cells = [MARKS[check.ok], check_title(check), check_summary(check), fix]
            for column, content in enumerate(cells):
                item = QTableWidgetItem(content)
                item.setBackground(QBrush(QColor(background)))
                item.setForeground(QBrush(QColor(foreground)))
                if column == 0:
                    item.setTextAlignment(Qt.AlignCenter)
                    font = item.font()
                    font.setBold(True)
                    font.setPointSize(font.pointSize() + 3)
                    item.setFont(font)
                if check.detail:
                    item.setToolTip(check.detail)
                self.table.setItem(row, column, item)
        self.table.resizeRowsToContents()
        failed = [c for c in checks if c.failed]
        if failed:
            names = ", ".join(check_title(c) for c in failed)
            self.status.setText(tr("✗ Cần xử lý: {names}", names=names))
            self.status.setStyleSheet(self._status_style("#b71c1c", "#ffcdd2"))
        else:
            self.status.setText(tr("✓ Mọi kiểm tra bắt buộc đều đạt"))
            self.status.setStyleSheet(self._status_style("#1b5e20", "#c8e6c9"))
        self.copy_button.setEnabled(bool(checks))
        if checks:
            self.table.setCurrentCell(0, 1)
            self._show_detail(0)

    def _show_detail(self, row: int) -> None:
        if 0 <= row < len(self.checks):
            self.detail.setText(self.checks[row].detail)

    @staticmethod
    def _status_style(colour: str, background: str) -> str:
        return (
            f"font-size: 15px; font-weight: bold; padding: 6px; color: {colour};"
            f" background: {background}; border-radius: 4px;"
        )

    def report(self) -> str:
        return report_text(self.checks)

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report())
        self.status.setText(tr("Đã sao chép báo cáo (các số định danh đã được che)."))

    def showEvent(self, event: Any) -> None:
        if self._closing:  # shown again after a close
            self._closing = self._running = False
            self.refresh_button.setEnabled(True)
        super().showEvent(event)

    def keyPressEvent(self, event: Any) -> None:
        """F5 refreshes, also when the shortcut map does not see the key."""
        if event.key() == Qt.Key_F5 and not event.modifiers():
            self.refresh()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: Any) -> None:
        self._closing = True
        super().closeEvent(event)


def _run(config: Config) -> list[Check]:
    """Re-read the configuration file when there is one, then run every check."""
    if config.source_path is not None:
        try:
            fresh = load_config(config.source_path)
        except ConfigError as exc:
            return run_checks(None, config_error=str(exc), config_path=config.source_path)
        return run_checks(fresh)
    return run_checks(config)
