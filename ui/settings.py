"""Settings for IT: camera, scanners, chip reader, gateway, store and desk, saved to the TOML file.

Each field is built from its declaration in :mod:`checkin.config` (label, help, range, choices),
and Save validates through the same :func:`checkin.config.problems` the command line uses: the
fields at fault are outlined in red with the message under them, their tab is opened, and
nothing is written. The gateway password goes to the system keyring; where there is none, the
dialog says so and saves it in the file only when IT ticks the box that says exactly that.

Every test button works off the GUI thread: the camera preview on a :class:`CameraPreview`
thread, the rest through :func:`ui.diagnostics.run_in_background`. The keyboard is enough:
Alt+letter reaches each field and tab (underlined letters), Enter saves, Esc cancels.

The scanner tab's raw monitor shows each key a keyboard-wedge scanner types (character, code
point, gap in ms), then says whether the keys came fast enough to be a scan with the current
timing, and what the text parses as.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QImage, QInputMethodEvent, QKeyEvent, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from checkin import config as cfg
from checkin.config import (
    ENV_PASSWORD,
    Config,
    ConfigError,
    KeyringUnavailable,
    Problem,
    Setting,
    config_file,
    escape_text,
    keyring_available,
    load_config,
    password_from_keyring,
    problems,
    save_password,
    setting_for,
    store_problems,
    unescape_text,
    write_config,
)
from checkin.qr import DEFAULT_DECODER
from ui.diagnostics import check_fix, check_summary, run_in_background
from ui.i18n import tr

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ERROR_STYLE = "color: #b71c1c;"
WARNING_STYLE = "color: #8a4b00; background: #fff3e0; padding: 4px; border-radius: 3px;"
INVALID_STYLE = "border: 2px solid #c62828; border-radius: 3px;"
OK_STYLE = "color: #1b5e20; font-weight: bold;"
BAD_STYLE = "color: #b71c1c; font-weight: bold;"
BUSY_STYLE = "color: #1565c0;"
CAMERA_TEST_S = 3.0
SERIAL_LISTEN_S = 5.0
COMMON_BAUDS = (9600, 14400, 19200, 38400, 57600, 115200)


# -- mnemonics -------------------------------------------------------------------------------


class Mnemonics:
    """Puts ``&`` before the first ASCII letter of each text not yet taken, so Alt+letter
    reaches it (Vietnamese letters with marks cannot be typed with Alt)."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self.taken = set(taken or ())

    def __call__(self, text: str) -> str:
        text = text.replace("&", "&&")
        for i, ch in enumerate(text):
            key = ch.lower()
            if ch.isascii() and ch.isalpha() and key not in self.taken:
                self.taken.add(key)
                return f"{text[:i]}&{text[i:]}"
        return text

    def child(self) -> Mnemonics:
        return Mnemonics(self.taken)


def mnemonic_of(text: str) -> str | None:
    i = text.replace("&&", "").find("&")
    stripped = text.replace("&&", "")
    return stripped[i + 1].lower() if 0 <= i < len(stripped) - 1 else None


# -- one editor per declared setting ---------------------------------------------------------


class FieldEditor(QObject):
    """The widget for one setting, its label and its error line; ``value()`` and ``set()``."""

    def __init__(self, setting: Setting, parent: QWidget) -> None:
        super().__init__(parent)
        self.setting = setting
        meta = setting.meta
        self.widget = self._make(setting)
        self.widget.setObjectName(setting.key)
        self.widget.setAccessibleName(tr(meta.label.vi))
        if meta.help:  # hover, or Shift+F1 from the keyboard
            self.widget.setToolTip(tr(meta.help.vi))
            self.widget.setWhatsThis(tr(meta.help.vi))
        self.error = QLabel("")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        self.label = QLabel(tr(meta.label.vi))
        self.label.setBuddy(self.focus_widget)
        self.row = QWidget()
        box = QVBoxLayout(self.row)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.widget, 1)
        self.extra = line  # tabs add buttons here
        box.addLayout(line)
        box.addWidget(self.error)

    @property
    def focus_widget(self) -> QWidget:
        return self.widget

    def _make(self, s: Setting) -> QWidget:
        meta = s.meta
        if meta.choices:
            box = QComboBox()
            for value, label in meta.choices:
                box.addItem(tr(label.vi), value)
            return box
        if s.type_name == "int":
            spin = QSpinBox()
            spin.setRange(int(meta.minimum or 0), int(meta.maximum or 1_000_000_000))
            spin.setAccelerated(True)
            return spin
        if s.type_name == "float":
            spin = QDoubleSpinBox()
            spin.setDecimals(1)
            spin.setRange(float(meta.minimum or 0.0), float(meta.maximum or 1e9))
            spin.setSingleStep(0.5 if (meta.maximum or 0) <= 600 else 1.0)
            spin.setAccelerated(True)
            return spin
        edit = QLineEdit()
        if meta.secret:
            edit.setEchoMode(QLineEdit.Password)
            edit.setInputMethodHints(Qt.ImhHiddenText | Qt.ImhSensitiveData)
        return edit

    def value(self) -> Any:
        """The typed value; ValueError (with a Vietnamese message) when the text is not."""
        w, s = self.widget, self.setting
        if isinstance(w, QComboBox) and not w.isEditable():
            return w.currentData()
        if isinstance(w, QComboBox):
            text = w.currentText().strip()
        elif isinstance(w, QSpinBox):
            return int(w.value())
        elif isinstance(w, QDoubleSpinBox):
            return float(w.value())
        else:
            text = w.text() if s.meta.secret or s.meta.escapes else w.text().strip()
        if s.meta.escapes:
            try:
                text = unescape_text(text)
            except ValueError as exc:
                wrong = str(exc).rpartition(" ")[2]  # "unknown escape \\q" -> "\\q"
                raise ValueError(
                    tr(
                        "Ký tự đặc biệt {wrong} không có: dùng \\r (Enter), \\t (Tab), \\n,"
                        " \\\\ hoặc \\xHH (mã hex, ví dụ \\x02)",
                        wrong=wrong,
                    )
                ) from None
        if s.optional and not text:
            return None
        return text

    def set(self, value: Any) -> None:
        w, s = self.widget, self.setting
        if isinstance(w, QComboBox) and not w.isEditable():
            index = w.findData(value)
            w.setCurrentIndex(max(0, index))
        elif isinstance(w, QSpinBox | QDoubleSpinBox):
            w.setValue(value)
        else:
            text = "" if value is None else str(value)
            if s.meta.escapes:
                text = escape_text(text)
            if isinstance(w, QComboBox):
                w.setEditText(text)
            else:
                w.setText(text)

    def show_error(self, message: str | None) -> None:
        if message:
            self.error.setText(message)
            self.error.show()
            self.widget.setStyleSheet(INVALID_STYLE)
            self.widget.setProperty("invalid", True)
        else:
            self.error.hide()
            self.error.setText("")
            self.widget.setStyleSheet("")
            self.widget.setProperty("invalid", False)


class PickerEditor(FieldEditor):
    """A setting chosen from what this machine has (cameras, ports, readers) or typed in: an
    editable list whose entries are values, with a line describing the entry chosen."""

    def _make(self, s: Setting) -> QWidget:
        box = QComboBox()
        box.setEditable(True)
        box.setInsertPolicy(QComboBox.NoInsert)
        box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(24)
        self._descriptions: dict[str, str] = {}
        self.description = QLabel("")
        self.description.setStyleSheet("color: #546e7a;")
        self.description.setWordWrap(True)
        box.currentTextChanged.connect(self._describe)
        return box

    def __init__(self, setting: Setting, parent: QWidget) -> None:
        super().__init__(setting, parent)
        self.row.layout().insertWidget(1, self.description)

    def set_options(self, options: list[tuple[str, str]]) -> None:
        """``(value, description)`` pairs; the current text is kept."""
        box: QComboBox = self.widget
        current = box.currentText()
        box.blockSignals(True)
        box.clear()
        self._descriptions = {}
        for value, description in options:
            box.addItem(value)
            box.setItemData(box.count() - 1, description, Qt.ToolTipRole)
            self._descriptions[value] = description
        box.setEditText(current)
        box.blockSignals(False)
        self._describe(current)

    def _describe(self, text: str) -> None:
        self.description.setText(self._descriptions.get(text.strip(), ""))


# -- the camera preview thread ---------------------------------------------------------------


class CameraPreview(QThread):
    """Shows a camera in the dialog: ``frame`` previews (at most 15 a second), ``stats``
    (frames per second, decoded QR text or "") once a second, ``failed(message)`` when the
    camera does not open, ``result(fps, text)`` at the end of a timed test."""

    frame = Signal(QImage)
    stats = Signal(float, str)
    failed = Signal(str)
    result = Signal(float, str)

    def __init__(
        self, source: str, duration_s: float | None = None, decoder: str = DEFAULT_DECODER
    ) -> None:
        super().__init__()
        self.source = source
        self.duration_s = duration_s
        self.decoder = decoder  # a checkin.qr.DECODERS name (the other one if it cannot load)
        self._stopping = False
        self._camera = None

    def request_stop(self, *_: object) -> None:
        """Ask the thread to end (never waits): its dialog was closed or deleted."""
        self._stopping = True
        camera = self._camera
        if camera is not None:
            with contextlib.suppress(Exception):
                camera.close()

    def stop(self, timeout_ms: int = 2000) -> None:
        self.request_stop()
        if self.isRunning():
            self.wait(timeout_ms)  # the keeper holds it if a driver is stuck

    def run(self) -> None:
        from drivers.camera import make_camera
        from ui.workers import to_qimage

        try:
            camera = make_camera(self.source, realtime=True, loop=True)
            camera.open()
        except Exception as exc:
            self.failed.emit(str(exc))
            return
        self._camera = camera
        decoder = _decoder(self.decoder)
        started = last_preview = last_stats = time.monotonic()
        frames, window_frames, decoded, fps = 0, 0, "", 0.0
        try:
            while not self._stopping:
                image = camera.read()
                now = time.monotonic()
                if image is None:
                    break
                frames += 1
                window_frames += 1
                if now - last_preview >= 1 / 15:
                    last_preview = now
                    self.frame.emit(to_qimage(image))
                if decoder is not None and not decoded and frames % 3 == 1:
                    found = [d.text for d in decoder.decode(image) if d.text]
                    decoded = found[0] if found else ""
                if now - last_stats >= 1.0:
                    fps = window_frames / (now - last_stats)
                    self.stats.emit(fps, decoded)
                    last_stats, window_frames = now, 0
                if self.duration_s is not None and now - started >= self.duration_s:
                    break
        finally:
            camera.close()
            self._camera = None
        elapsed = time.monotonic() - started
        if fps == 0.0 and elapsed > 0:
            fps = frames / elapsed
        self.result.emit(fps, decoded)


def _decoder(name: str = DEFAULT_DECODER) -> Any:
    try:
        from checkin.qr import make_decoder

        return make_decoder(name)
    except Exception:
        return None


class _ThreadKeeper(QObject):
    """Holds every preview thread until it has really ended, whatever happens to the dialog
    that started it (a QThread deleted while running aborts the process)."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[QThread] = set()

    def keep(self, thread: QThread) -> None:
        self.threads.add(thread)
        thread.finished.connect(self.release)  # queued: this object lives on the GUI thread

    def stop_all(self) -> None:
        """At application exit: end every preview still running."""
        for thread in list(self.threads):
            thread.request_stop()
        for thread in list(self.threads):
            thread.wait(1000)

    def release(self) -> None:
        for thread in list(self.threads):
            if thread.isFinished() and thread.wait(100):
                self.threads.discard(thread)
        if any(t.isFinished() for t in self.threads):
            QTimer.singleShot(50, self.release)


_keeper: _ThreadKeeper | None = None


def _keep_until_finished(thread: QThread) -> None:
    global _keeper
    if _keeper is None:
        _keeper = _ThreadKeeper()
        QApplication.instance().aboutToQuit.connect(_keeper.stop_all)
    _keeper.keep(thread)


# -- the raw key monitor ---------------------------------------------------------------------

_KEY_NAMES = {"\r": "Enter", "\n": "LF", "\t": "Tab", "\x1b": "Esc", "\b": "Backspace"}


@dataclass
class SeenKey:
    text: str
    at_ms: float
    gap_ms: float | None


class RawKeyMonitor(QTableWidget):
    """Focus it and scan: one row per key (character, code point, gap since the previous key).

    A run of keys ends on the suffix or after ``max_gap_ms`` without a key; it is then judged
    as the desk would judge it (``burst(text, is_scan)``). Keys never leave this widget, Enter
    included; Tab leaves it only when typed slowly (a scanner's Tab is recorded). Exempt from
    the desk's wedge filter (property ``wedge_exempt``).
    """

    key_seen = Signal(str, int, float)  # text, code point, gap ms (-1 for the first key)
    burst = Signal(str, bool)  # the run's text (prefix and suffix removed), a scan or not
    input_method_used = Signal()

    MAX_ROWS = 400

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self.setProperty("wedge_exempt", True)
        self.setHorizontalHeaderLabels([tr("Ký tự"), tr("Mã"), tr("Cách (ms)"), tr("Lần quét")])
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.NoSelection)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setAttribute(Qt.WA_InputMethodEnabled, True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.setAccessibleName(tr("Ô theo dõi phím của máy quét"))
        self.max_gap_ms = 30.0
        self.min_length = 6
        self.prefix = ""
        self.suffix = "\r"
        self.keys: list[SeenKey] = []
        self._run: list[SeenKey] = []
        self.last_run: list[SeenKey] = []
        self._runs = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.end_run)
        self.setStyleSheet("QTableWidget:focus { border: 2px solid #1565c0; }")

    def configure(self, max_gap_ms: float, min_length: int, prefix: str, suffix: str) -> None:
        self.max_gap_ms, self.min_length = max_gap_ms, min_length
        self.prefix, self.suffix = prefix, suffix

    def clear_keys(self) -> None:
        self.keys.clear()
        self._run.clear()
        self.setRowCount(0)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.KeyPress and event.key() in (Qt.Key_Tab, Qt.Key_Backtab):
            last = self._run[-1].at_ms if self._run else None
            if last is not None and self._now(event) - last <= self.max_gap_ms:
                self.keyPressEvent(event)  # a scanner's Tab: record it, keep the focus
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key_Escape:
            event.ignore()  # Esc still closes the dialog
            return
        text = event.text()
        if not text or event.isAutoRepeat():
            event.accept()
            return
        if event.modifiers() & (Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier):
            super().keyPressEvent(event)  # shortcuts and mnemonics keep working
            return
        self.record(text, self._now(event))
        event.accept()

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        """A Vietnamese input method (Telex/VNI) is composing: the scanner's text is changed."""
        self.input_method_used.emit()
        if event.commitString():
            self.record(event.commitString(), time.monotonic() * 1000.0)
        event.accept()

    def record(self, text: str, at_ms: float) -> None:
        previous = self._run[-1].at_ms if self._run else None
        gap = None if previous is None else max(0.0, at_ms - previous)
        if gap is not None and gap > self.max_gap_ms:
            self.end_run()
            gap = None if not self.keys else at_ms - self.keys[-1].at_ms
        key = SeenKey(text, at_ms, gap)
        self.keys.append(key)
        self._run.append(key)
        self._add_row(key)
        self.key_seen.emit(text, ord(text[0]), -1.0 if gap is None else gap)
        if self.suffix and "".join(k.text for k in self._run).endswith(self.suffix):
            self.end_run()
        else:
            self._timer.start(int(self.max_gap_ms) + 20)

    def end_run(self) -> None:
        self._timer.stop()
        run, self._run = self._run, []
        if not run:
            return
        self.last_run = run
        text = "".join(k.text for k in run)
        body = text
        if self.suffix and body.endswith(self.suffix):
            body = body[: -len(self.suffix)]
        has_prefix = not self.prefix or body.startswith(self.prefix)
        if self.prefix and has_prefix:
            body = body[len(self.prefix) :]
        gaps = [k.gap_ms for k in run[1:] if k.gap_ms is not None]
        is_scan = (
            has_prefix and len(body) >= self.min_length and all(g <= self.max_gap_ms for g in gaps)
        )
        self._runs += 1
        self.burst.emit(body, is_scan)

    def _add_row(self, key: SeenKey) -> None:
        if self.rowCount() >= self.MAX_ROWS:
            self.removeRow(0)
        row = self.rowCount()
        self.insertRow(row)
        shown = _KEY_NAMES.get(key.text, key.text)
        code = " ".join(f"U+{ord(ch):04X}" for ch in key.text)
        gap = "—" if key.gap_ms is None else f"{key.gap_ms:.1f}"
        cells = [shown, code, gap, str(self._runs + 1)]
        slow = key.gap_ms is not None and key.gap_ms > self.max_gap_ms
        for column, content in enumerate(cells):
            item = QTableWidgetItem(content)
            if column == 2 and slow:
                item.setForeground(Qt.darkRed)
            self.setItem(row, column, item)
        self.scrollToBottom()

    @staticmethod
    def _now(event: QKeyEvent) -> float:
        # Window-system timestamps keep the true spacing of keys queued behind a busy GUI;
        # synthetic events have none.
        return time.monotonic() * 1000.0


# -- tests that run off the GUI thread -------------------------------------------------------


@dataclass(frozen=True)
class SerialTrial:
    opened: bool
    error: str = ""
    scans: tuple[tuple[str, bytes], ...] = ()


def serial_trial(
    url: str, baudrate: int, terminator: str, encoding: str, listen_s: float = SERIAL_LISTEN_S
) -> SerialTrial:
    """Open the port, wait up to ``listen_s`` for one scan (``loop://`` gets a test line sent
    to it), close. Blocking: call from a worker thread."""
    try:
        from drivers.serial_scanner import make_scanner
    except ImportError:
        make_scanner = None
    if make_scanner is None:  # pragma: no cover - the scanner driver ships with checkin
        return _raw_serial_trial(url, baudrate, listen_s)
    import threading

    statuses: list[str] = []
    scans: list[tuple[str, bytes]] = []
    done = threading.Event()

    def on_scan(event: Any) -> None:
        text = getattr(event, "text", None)
        raw = getattr(event, "raw", b"")
        scans.append((text if text is not None else f"[{event.reason}]", raw))
        done.set()

    def on_status(status: str) -> None:
        statuses.append(status)
        if status.startswith("disconnected"):
            done.set()

    try:
        scanner = make_scanner(
            url,
            on_scan,
            on_status,
            baudrate=baudrate,
            terminator=terminator or None,
            encoding=encoding,
            reconnect_s=60.0,
        )
    except Exception as exc:
        return SerialTrial(False, str(exc))
    scanner.start()
    try:
        deadline = time.monotonic() + 2.0
        while not statuses and time.monotonic() < deadline:
            time.sleep(0.02)
        if statuses and statuses[0] == "connected" and url.startswith("loop://"):
            scanner.send(("THU-NGHIEM-123" + (terminator or "\r")).encode(encoding))
        done.wait(listen_s)
    finally:
        scanner.stop()
    failed = next((s for s in statuses if s.startswith("disconnected")), None)
    if failed and not scans:
        return SerialTrial(False, failed.split(":", 1)[-1].strip())
    if not statuses:
        return SerialTrial(False, tr("cổng không trả lời"))
    return SerialTrial(True, "", tuple(scans))


def _raw_serial_trial(url: str, baudrate: int, listen_s: float) -> SerialTrial:
    from checkin.doctor import open_serial

    try:
        port = open_serial(url, baudrate)
    except Exception as exc:
        return SerialTrial(False, str(exc))
    try:
        deadline = time.monotonic() + listen_s
        data = b""
        while time.monotonic() < deadline and not data.endswith((b"\r", b"\n")):
            data += port.read(256)
    finally:
        port.close()
    return SerialTrial(True, "", ((data.decode("utf-8", "replace"), data),) if data else ())


def chip_trial(reader: str) -> tuple[str, str]:
    """Connect to the card on ``reader`` (or the first holding one) and return (reader, ATR
    hex). Raises ChipError subclasses with one English line."""
    from drivers.pcsc import PcscTransport

    transport = PcscTransport(reader or None, exclusive=False, connect_timeout=2.0)
    transport.open()
    try:
        return transport.reader_name or "", transport.atr.hex(" ").upper()
    finally:
        transport.close()


def describe_payload(text: str) -> tuple[bool, str, str]:
    """(parsed, what it is in the desk's language, the parser's reason when it failed)."""
    from checkin.formats import ParseFailure, parse_payload

    result = parse_payload(text)
    if isinstance(result, ParseFailure):
        return False, tr("Không phải mã BHYT hoặc CCCD"), result.reason
    kind = result.kind.value.upper()
    return True, tr("Mã {kind} hợp lệ: {name}", kind=kind, name=result.full_name), ""


# -- the dialog ------------------------------------------------------------------------------


class SettingsDialog(QDialog):
    """Edit and save the configuration at ``config_path`` (the default file when None).

    Signals: ``saved(Config)`` after a save (the configuration as the desk will load it);
    ``devices_listed(dict)``, ``connection_tested(bool, str)``, ``camera_tested(bool, str)``,
    ``serial_tested(bool, str)``, ``chip_tested(bool, str)`` when each background job ends.
    """

    saved = Signal(object)
    devices_listed = Signal(dict)
    connection_tested = Signal(bool, str)
    camera_tested = Signal(bool, str)
    serial_tested = Signal(bool, str)
    chip_tested = Signal(bool, str)

    def __init__(self, config_path: str | Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.path = config_file(config_path)
        self._closing = False
        self._preview: CameraPreview | None = None
        self._move_confirmed_for: Path | None = None  # a new store path IT chose to keep
        self.editors: dict[str, FieldEditor] = {}
        self.original, self.load_error = _read_lenient(self.path)
        self.setWindowTitle(tr("Cài đặt — {path}", path=self.path))
        self._mnemonics = Mnemonics({mnemonic_of(tr("&Lưu")) or "l"})  # the Save button
        self._build()
        self._fill(self.original)
        self._clear_results_on_edit()
        self._list_devices()
        self._probe_password()
        self.resize(900, 680)

    # -- construction ------------------------------------------------------------------------

    def _build(self) -> None:
        self.tabs = QTabWidget()
        titles = [
            ("camera", tr("Camera")),
            ("scanner", tr("Máy quét")),
            ("chip", tr("Đầu đọc thẻ chip")),
            ("gateway", tr("Cổng BHXH")),
            ("store", tr("Dữ liệu")),
            ("desk", tr("Quầy tiếp đón")),
        ]
        self._tab_index: dict[str, int] = {}
        pages = {
            "camera": self._camera_tab,
            "scanner": self._scanner_tab,
            "chip": self._chip_tab,
            "gateway": self._gateway_tab,
            "store": self._store_tab,
            "desk": self._desk_tab,
        }
        tab_letters = self._mnemonics
        labelled = [(key, tab_letters(title)) for key, title in titles]
        for key, title in labelled:
            page = pages[key](self._mnemonics.child())
            self._tab_index[key] = self.tabs.addTab(page, title)

        self.banner = QLabel("")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(WARNING_STYLE)
        self.banner.setVisible(bool(self.load_error))
        if self.load_error:
            self.banner.setText(
                tr(
                    "Tệp cấu hình hiện tại có lỗi: {error}. Sửa các ô bên dưới rồi Lưu.",
                    error=self.load_error,
                )
            )
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.save_button = self.buttons.addButton(tr("&Lưu"), QDialogButtonBox.AcceptRole)
        self.cancel_button = self.buttons.addButton(tr("Hủy (Esc)"), QDialogButtonBox.RejectRole)
        self.save_button.setDefault(True)
        self.save_button.setAutoDefault(True)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        QShortcut(QKeySequence("Ctrl+S"), self, self.save)
        for index in self._tab_index.values():
            QShortcut(QKeySequence(f"Ctrl+{index + 1}"), self, lambda i=index: self._open_tab(i))
        self._fix_focus_chain()

    def _editor(self, key: str, form: QFormLayout, mn: Mnemonics, picker: bool = False):
        s = setting_for(key)
        editor = (PickerEditor if picker else FieldEditor)(s, self)
        editor.label.setText(mn(tr(s.meta.label.vi)))
        form.addRow(editor.label, editor.row)
        self.editors[key] = editor
        return editor

    @staticmethod
    def _form() -> QFormLayout:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        return form

    @staticmethod
    def _result_label() -> QLabel:
        label = QLabel("")
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        label.setMinimumHeight(22)
        return label

    def _camera_tab(self, mn: Mnemonics) -> QWidget:
        page = QWidget()
        form = self._form()
        source = self._editor("camera.source", form, mn, picker=True)
        self.browse_camera = QPushButton(mn(tr("Chọn tệp video…")))
        self.browse_camera.clicked.connect(self._browse_video)
        source.extra.addWidget(self.browse_camera)
        self.find_cameras = QPushButton(mn(tr("Tìm camera")))
        self.find_cameras.clicked.connect(self._list_devices)
        source.extra.addWidget(self.find_cameras)
        self._editor("camera.decode_fps", form, mn)
        self._editor("camera.decoder", form, mn)
        self.preview = QLabel(tr("Chưa xem trước"))
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.setMinimumSize(480, 300)
        self.preview.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.preview.setStyleSheet("background: #263238; color: #eceff1;")
        self.preview_button = QPushButton(mn(tr("Xem trước")))
        self.preview_button.setCheckable(True)
        self.preview_button.toggled.connect(self._toggle_preview)
        self.camera_test_button = QPushButton(mn(tr("Thử")))
        self.camera_test_button.setToolTip(
            tr("Xem camera trong 3 giây: số khung hình mỗi giây và có đọc được mã QR không")
        )
        self.camera_test_button.clicked.connect(self.test_camera)
        self.camera_result = self._result_label()
        row = QHBoxLayout()
        row.addWidget(self.preview_button)
        row.addWidget(self.camera_test_button)
        row.addWidget(self.camera_result, 1)
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(self.preview, 1)
        layout.addLayout(row)
        return page

    def _scanner_tab(self, mn: Mnemonics) -> QWidget:
        page = QWidget()
        wedge = QGroupBox(tr("Máy quét kiểu bàn phím (USB HID)"))
        form = self._form()
        for key in (
            "scanner.wedge_max_gap_ms",
            "scanner.wedge_min_length",
            "scanner.prefix",
            "scanner.suffix",
        ):
            editor = self._editor(key, form, mn)
            signal = getattr(editor.widget, "valueChanged", None) or editor.widget.textChanged
            signal.connect(self._configure_monitor)
        wedge.setLayout(form)

        serial = QGroupBox(tr("Máy quét cổng COM (serial, USB CDC)"))
        sform = self._form()
        url = self._editor("serial.url", sform, mn, picker=True)
        self.find_ports = QPushButton(mn(tr("Tìm cổng")))
        self.find_ports.clicked.connect(self._list_devices)
        url.extra.addWidget(self.find_ports)
        self._editor("serial.baudrate", sform, mn)
        self._editor("serial.terminator", sform, mn)
        self._editor("serial.encoding", sform, mn)
        self.serial_test_button = QPushButton(mn(tr("Thử cổng COM")))
        self.serial_test_button.setToolTip(
            tr("Mở cổng và chờ một lần quét trong 5 giây (loop:// tự gửi một dòng thử)")
        )
        self.serial_test_button.clicked.connect(self.test_serial)
        self.serial_result = self._result_label()
        row = QHBoxLayout()
        row.addWidget(self.serial_test_button)
        row.addWidget(self.serial_result, 1)
        sform.addRow(row)
        serial.setLayout(sform)

        monitor_box = QGroupBox(tr("Theo dõi phím (quét thử)"))
        self.monitor = RawKeyMonitor()
        self.monitor_label = QLabel(mn(tr("Các phím nhận được")))
        self.monitor_label.setBuddy(self.monitor)
        key = mnemonic_of(self.monitor_label.text())
        self.monitor_hint = QLabel(
            tr(
                "Chọn ô này (Alt+{key}) rồi quét một mã: mỗi phím máy quét gõ hiện ra với mã"
                " ký tự và khoảng cách (ms). Máy quét cổng COM không gõ vào đây.",
                key=(key or "?").upper(),
            )
        )
        self.monitor_hint.setWordWrap(True)
        self.monitor_verdict = self._result_label()
        self.monitor_warning = QLabel("")
        self.monitor_warning.setWordWrap(True)
        self.monitor_warning.setStyleSheet(WARNING_STYLE)
        self.monitor_warning.hide()
        self.clear_monitor = QPushButton(mn(tr("Xóa")))
        self.clear_monitor.clicked.connect(self._clear_monitor)
        self.monitor.burst.connect(self._on_burst)
        self.monitor.input_method_used.connect(self._on_input_method)
        mlayout = QVBoxLayout(monitor_box)
        mlayout.addWidget(self.monitor_hint)
        head = QHBoxLayout()
        head.addWidget(self.monitor_label, 1)
        head.addWidget(self.clear_monitor)
        mlayout.addLayout(head)
        mlayout.addWidget(self.monitor, 1)
        mlayout.addWidget(self.monitor_verdict)
        mlayout.addWidget(self.monitor_warning)

        left = QVBoxLayout()
        left.addWidget(wedge)
        left.addWidget(serial)
        left.addStretch(1)
        layout = QHBoxLayout(page)
        layout.addLayout(left, 3)
        layout.addWidget(monitor_box, 2)
        return page

    def _chip_tab(self, mn: Mnemonics) -> QWidget:
        page = QWidget()
        form = self._form()
        reader = self._editor("pcsc.reader", form, mn, picker=True)
        self.find_readers = QPushButton(mn(tr("Làm mới")))
        self.find_readers.clicked.connect(self._list_devices)
        reader.extra.addWidget(self.find_readers)
        csca = self._editor("chip.csca_dir", form, mn)
        browse = QPushButton(tr("…"))
        browse.setAccessibleName(tr("Chọn thư mục"))
        browse.clicked.connect(lambda: self._browse_folder("chip.csca_dir"))
        csca.extra.addWidget(browse)
        self.chip_test_button = QPushButton(mn(tr("Đọc thử")))
        self.chip_test_button.setToolTip(tr("Kết nối tới thẻ trên đầu đọc và hiện ATR của thẻ"))
        self.chip_test_button.clicked.connect(self.test_chip)
        self.chip_result = self._result_label()
        self.pcsc_status = self._result_label()
        row = QHBoxLayout()
        row.addWidget(self.chip_test_button)
        row.addWidget(self.chip_result, 1)
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(self.pcsc_status)
        layout.addLayout(row)
        hint = QLabel(
            tr(
                "Đặt thẻ CCCD gắn chip lên đầu đọc rồi nhấn Đọc thử. Nếu không thấy đầu đọc:"
                " kiểm tra dịch vụ PC/SC (Linux: pcscd; Windows: Smart Card)."
            )
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #546e7a;")
        layout.addWidget(hint)
        layout.addStretch(1)
        return page

    def _gateway_tab(self, mn: Mnemonics) -> QWidget:
        page = QWidget()
        form = self._form()
        for key in ("gateway.url", "gateway.username", "gateway.password"):
            self._editor(key, form, mn)
        self.password_note = QLabel("")
        self.password_note.setWordWrap(True)
        self.password_note.setStyleSheet("color: #546e7a;")
        self.password_in_file = QCheckBox(
            mn(tr("Lưu mật khẩu trong tệp cấu hình (ai đọc được tệp sẽ thấy mật khẩu)"))
        )
        self.keyring_warning = QLabel("")
        self.keyring_warning.setWordWrap(True)
        self.keyring_warning.setStyleSheet(WARNING_STYLE)
        self.keyring_warning.hide()
        password = self.editors["gateway.password"]
        password.row.layout().addWidget(self.password_note)
        password.row.layout().addWidget(self.keyring_warning)
        password.row.layout().addWidget(self.password_in_file)
        for key in (
            "gateway.officer_name",
            "gateway.officer_id",
            "gateway.facility_code",
            "gateway.timeout_s",
            "gateway.connect_timeout_s",
            "gateway.ca_bundle",
        ):
            self._editor(key, form, mn)
        browse = QPushButton(tr("…"))
        browse.setAccessibleName(tr("Chọn tệp"))
        browse.clicked.connect(lambda: self._browse_file("gateway.ca_bundle"))
        self.editors["gateway.ca_bundle"].extra.addWidget(browse)
        self.gateway_test_button = QPushButton(mn(tr("Kiểm tra kết nối")))
        self.gateway_test_button.clicked.connect(self.test_connection)
        self.gateway_result = self._result_label()
        row = QHBoxLayout()
        row.addWidget(self.gateway_test_button)
        row.addWidget(self.gateway_result, 1)
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addStretch(1)
        return page

    def _store_tab(self, mn: Mnemonics) -> QWidget:
        page = QWidget()
        form = self._form()
        path = self._editor("store.path", form, mn)
        browse = QPushButton(mn(tr("Chọn tệp…")))
        browse.clicked.connect(self._browse_store)
        path.extra.addWidget(browse)
        path.widget.setPlaceholderText(str(cfg.default_data_dir() / "checkin.db"))
        self._editor("store.cache_max_age_h", form, mn)
        self._editor("store.retention_days", form, mn)
        note = QLabel(
            tr(
                "Dữ liệu tiếp đón và hàng đợi tra cứu lại nằm trong tệp này. Đổi tệp khi đang có"
                " lượt chờ tra cứu lại sẽ để các lượt đó lại trong tệp cũ."
            )
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #546e7a;")
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addStretch(1)
        return page

    def _desk_tab(self, mn: Mnemonics) -> QWidget:
        page = QWidget()
        form = self._form()
        for key in ("desk.idle_lock_min", "desk.language", "desk.hold_off_s"):
            self._editor(key, form, mn)
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addStretch(1)
        return page

    def _fix_focus_chain(self) -> None:
        """Spin boxes: Enter saves (their default is to swallow it in some styles)."""
        for editor in self.editors.values():
            if isinstance(editor.widget, QAbstractSpinBox):
                editor.widget.setKeyboardTracking(False)

    def _clear_results_on_edit(self) -> None:
        """A test result speaks of the values tested: editing them clears it."""
        results = {
            "gateway.": self.gateway_result,
            "serial.": self.serial_result,
            "pcsc.": self.chip_result,
            "camera.": self.camera_result,
        }
        for key, editor in self.editors.items():
            label = next((r for prefix, r in results.items() if key.startswith(prefix)), None)
            if label is None:
                continue
            widget = editor.widget
            signal = (
                widget.editTextChanged
                if isinstance(widget, QComboBox) and widget.isEditable()
                else getattr(widget, "currentIndexChanged", None)
                or getattr(widget, "valueChanged", None)
                or widget.textChanged
            )
            signal.connect(lambda *_, r=label: (r.clear(), r.setToolTip("")))

    def _open_tab(self, index: int) -> None:
        self.tabs.setCurrentIndex(index)
        self.tabs.currentWidget().focusNextChild()

    # -- values ------------------------------------------------------------------------------

    def _fill(self, config: Config) -> None:
        for s, value in cfg.iter_values(config):
            editor = self.editors.get(s.key)
            if editor is not None:
                editor.set(value)
        self.password_in_file.setChecked(bool(config.gateway.password))
        self._configure_monitor()

    def collect(self) -> tuple[Config, list[Problem | tuple[str, str]]]:
        """The configuration the fields describe, and what cannot be read from them (key,
        Vietnamese message) pairs."""
        config = replace(self.original, source_path=self.path)
        unreadable: list[Problem | tuple[str, str]] = []
        for key, editor in self.editors.items():
            try:
                config = cfg.with_value(config, key, editor.value())
            except ValueError as exc:
                unreadable.append((key, str(exc)))
        return config, unreadable

    def validate(self) -> tuple[Config, bool]:
        """Check every field; mark the bad ones. (config, good)."""
        config, unreadable = self.collect()
        for editor in self.editors.values():
            editor.show_error(None)
        messages: dict[str, str] = {}
        for key, message in unreadable:
            messages.setdefault(key, message)
        for problem in [*problems(config), *store_problems(config)]:
            messages.setdefault(problem.key, tr(problem.phrase.vi, **problem.values))
        orphan = self._password_left_behind(config)
        if orphan:
            messages.setdefault("gateway.password", orphan)
        for key, message in messages.items():
            if key in self.editors:
                self.editors[key].show_error(message)
        if messages:
            first = next(k for k in self.editors if k in messages)
            self._show_field(first)
            self._set_status(
                tr("Chưa lưu: {count} ô chưa đúng (viền đỏ).", count=len(messages)), BAD_STYLE
            )
        return config, not messages

    def _password_left_behind(self, config: Config) -> str | None:
        """The keyring keeps the password under the account name: a new account name with
        the password field left empty would leave the desk without one."""
        old, new = self.original.gateway.username, config.gateway.username
        if old == new or not new or config.gateway.password or os.environ.get(ENV_PASSWORD):
            return None
        if self.password_in_file.isChecked():
            return None
        return tr("Đổi tài khoản thì nhập lại mật khẩu của tài khoản {username}", username=new)

    def _show_field(self, key: str) -> None:
        section = key.split(".", 1)[0]
        tab = {"serial": "scanner", "pcsc": "chip"}.get(section, section)
        self.tabs.setCurrentIndex(self._tab_index[tab])
        self.editors[key].focus_widget.setFocus(Qt.OtherFocusReason)

    # -- saving ------------------------------------------------------------------------------

    def save(self) -> bool:
        """Validate, keep the password, write the file; True when written."""
        config, good = self.validate()
        if not good:
            return False
        if not self._store_move_confirmed(config):
            return False
        try:
            config = self._settle_password(config)
        except KeyringUnavailable as exc:
            editor = self.editors["gateway.password"]
            editor.show_error(tr(exc.problem.phrase.vi, **exc.problem.values))
            self._show_field("gateway.password")
            self._set_status(tr("Chưa lưu: mật khẩu chưa có chỗ giữ an toàn."), BAD_STYLE)
            return False
        try:
            write_config(self.path, config)
        except OSError as exc:
            self._set_status(tr("Không ghi được tệp cấu hình: {error}", error=exc), BAD_STYLE)
            return False
        try:
            loaded = load_config(self.path)
        except ConfigError as exc:  # pragma: no cover - validated above
            self._set_status(str(exc), BAD_STYLE)
            return False
        self.original = replace(config, source_path=self.path)
        self._set_status(tr("Đã lưu {path}", path=self.path), OK_STYLE)
        self.saved.emit(loaded)
        self.accept()
        return True

    def _store_move_confirmed(self, config: Config) -> bool:
        """A new store file leaves the old file's pending re-checks behind: say how many and
        save only when Save is pressed again for the same path."""
        old, new = self.original.store_path, config.store_path
        if old == new or self._move_confirmed_for == new:
            return True
        pending = pending_rechecks(old)
        if not pending:
            return True
        self._move_confirmed_for = new
        self._show_field("store.path")
        self._set_status(
            tr(
                "Tệp cũ {path} còn {count} lượt chờ tra cứu lại; tệp mới sẽ không tra lại"
                " các lượt đó. Chạy “checkin sync” trước, hoặc bấm Lưu lần nữa để vẫn đổi.",
                path=old,
                count=pending,
            ),
            BAD_STYLE,
        )
        return False

    def _settle_password(self, config: Config) -> Config:
        """Where the typed password goes: the file when IT ticked the box, else the keyring
        (KeyringUnavailable when there is none); an empty field keeps what is stored."""
        gw = config.gateway
        if self.password_in_file.isChecked():
            return config
        if gw.password:
            save_password(gw.username, gw.password)
        return replace(config, gateway=replace(gw, password=""))

    def _set_status(self, message: str, style: str = "") -> None:
        self.status.setText(message)
        self.status.setStyleSheet(style)

    # -- background jobs ---------------------------------------------------------------------

    def _list_devices(self) -> None:
        from checkin.doctor import list_devices

        for button in (self.find_cameras, self.find_ports, self.find_readers):
            button.setEnabled(False)
        self.pcsc_status.setText(tr("Đang tìm thiết bị…"))
        run_in_background(self, lambda: list_devices(2.5), self._devices_listed)

    def _devices_listed(self, devices: dict | None, error: BaseException | None) -> None:
        for button in (self.find_cameras, self.find_ports, self.find_readers):
            button.setEnabled(True)
        devices = devices or {"cameras": [], "pcsc": [], "serial": [], "errors": {}}
        cameras = [
            (str(c["index"]), f"{c['name']} ({c['width']}×{c['height']})")
            for c in devices["cameras"]
        ]
        video = FIXTURES / "videos" / "eligible-new.avi"
        if video.is_file():
            cameras.append((f"replay:{video}", tr("Camera mô phỏng: video mẫu (để thử)")))
        self.editors["camera.source"].set_options(cameras)
        ports = [(p["device"], f"{p['description']} — {p['hwid']}") for p in devices["serial"]]
        ports.append(("loop://", tr("Cổng ảo vòng lặp (để thử: gửi gì nhận nấy)")))
        stream = FIXTURES / "streams" / "crlf-three.bin"
        if stream.is_file():
            ports.append((f"replay:{stream}", tr("Máy quét mô phỏng: bản ghi mẫu (để thử)")))
        self.editors["serial.url"].set_options([("", tr("Không dùng máy quét cổng COM")), *ports])
        readers = [(name, tr("Đầu đọc đang kết nối")) for name in devices["pcsc"]]
        self.editors["pcsc.reader"].set_options([("", tr("Đầu đọc đầu tiên có thẻ")), *readers])
        why = devices.get("errors", {}).get("pcsc")
        if why:
            self.pcsc_status.setText(tr("Không liệt kê được đầu đọc: {error}", error=why))
            self.pcsc_status.setStyleSheet(BAD_STYLE)
        else:
            self.pcsc_status.setText(tr("{count} đầu đọc đang kết nối", count=len(readers)))
            self.pcsc_status.setStyleSheet("")
        self.devices_listed.emit(devices)

    def _probe_password(self) -> None:
        """Say where the password is kept (the keyring is asked off the GUI thread)."""
        available = keyring_available()
        if not available:
            self.keyring_warning.setText(
                tr(
                    "Máy này không có kho khóa hệ thống (keyring) nên không giữ được mật khẩu an"
                    " toàn. Hãy đặt biến môi trường {env} cho màn hình tiếp đón, hoặc đánh dấu ô"
                    " dưới đây để lưu mật khẩu trong tệp cấu hình.",
                    env=ENV_PASSWORD,
                )
            )
            self.keyring_warning.show()
        username = self.original.gateway.username
        if os.environ.get(ENV_PASSWORD):
            self._password_note(
                tr("Đang dùng mật khẩu từ biến môi trường {env}.", env=ENV_PASSWORD)
            )
        elif self.original.gateway.password:
            self._password_note(tr("Mật khẩu đang nằm trong tệp cấu hình."))
        elif available and username:
            run_in_background(self, lambda: password_from_keyring(username), self._keyring_read)
        else:
            self._password_note(tr("Chưa có mật khẩu."))

    def _keyring_read(self, password: str | None, error: BaseException | None) -> None:
        if password:
            self._password_note(
                tr("Đã có mật khẩu trong kho khóa hệ thống; để trống để giữ nguyên.")
            )
        else:
            self._password_note(tr("Chưa có mật khẩu trong kho khóa hệ thống."))

    def _password_note(self, text: str) -> None:
        self.password_note.setText(text)

    def test_connection(self) -> None:
        """Take a token with the account in the fields, off the GUI thread."""
        from checkin.doctor import check_gateway

        config, unreadable = self.collect()
        bad = [p for p in problems(config) if p.key.startswith("gateway.")]
        if bad or any(k.startswith("gateway.") for k, _ in unreadable):
            self.validate()
            message = tr("Sửa các ô viền đỏ trước khi kiểm tra.")
            self._result(self.gateway_result, False, message)
            self.connection_tested.emit(False, message)
            return
        gw = config.gateway
        if not gw.password:
            gw = replace(gw, password=os.environ.get(ENV_PASSWORD, ""))
        self.gateway_test_button.setEnabled(False)
        self._busy(self.gateway_result, tr("Đang kết nối tới {url}…", url=gw.url))

        def work() -> Any:
            account = gw
            if not account.password:
                account = replace(account, password=password_from_keyring(gw.username) or "")
            return check_gateway(account, limit_s=min(8.0, gw.connect_timeout_s + gw.timeout_s))

        run_in_background(self, work, self._connection_done)

    def _connection_done(self, check: Any, error: BaseException | None) -> None:
        self.gateway_test_button.setEnabled(True)
        if error is not None:
            ok, message = False, tr("Lỗi khi kiểm tra: {error}", error=error)
        else:
            ok = bool(check.ok)
            message = check_summary(check)
            fix = check_fix(check)
            if not ok and fix:
                message = f"{message}. {fix}"
        self._result(self.gateway_result, ok, message)
        self.connection_tested.emit(ok, message)

    def test_camera(self) -> None:
        """Show the camera for a few seconds, then say how fast it is and whether a QR reads."""
        self.preview_button.setChecked(False)
        self.camera_test_button.setEnabled(False)
        self._busy(self.camera_result, tr("Đang thử camera trong {s:g} giây…", s=CAMERA_TEST_S))
        if not self._start_preview(CAMERA_TEST_S):
            self.camera_test_button.setEnabled(True)

    def _toggle_preview(self, on: bool) -> None:
        if on:
            self._start_preview(None)
        else:
            self._stop_preview()

    def _start_preview(self, duration_s: float | None) -> bool:
        self._stop_preview()
        source = self.editors["camera.source"].value()
        if not source:
            message = tr("Hãy chọn một camera.")
            self._result(self.camera_result, False, message)
            self.camera_tested.emit(False, message)
            return False
        preview = CameraPreview(source, duration_s, self.editors["camera.decoder"].value())
        preview.frame.connect(self._show_frame)
        preview.stats.connect(self._show_stats)
        preview.failed.connect(self._camera_failed)
        preview.result.connect(self._camera_result if duration_s else self._preview_ended)
        self.destroyed.connect(preview.request_stop)
        preview.finished.connect(lambda p=preview: self._preview_finished(p))
        self._preview = preview
        _keep_until_finished(preview)
        preview.start()
        return True

    def _stop_preview(self) -> None:
        preview, self._preview = self._preview, None
        if preview is not None:
            for signal in (preview.frame, preview.stats, preview.failed, preview.result):
                with contextlib.suppress(RuntimeError, TypeError):
                    signal.disconnect()
            preview.stop(timeout_ms=500)

    def _preview_ended(self, fps: float, decoded: str) -> None:
        """A plain preview ended (a file came to its end, or it was stopped)."""

    def _preview_finished(self, preview: CameraPreview) -> None:
        if self._preview is preview:
            self._preview = None
            if not shiboken6.isValid(self) or self._closing:
                return
            self.preview_button.blockSignals(True)
            self.preview_button.setChecked(False)
            self.preview_button.blockSignals(False)
            self.camera_test_button.setEnabled(True)

    def _show_frame(self, image: QImage) -> None:
        pixmap = QPixmap.fromImage(image).scaled(
            self.preview.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation
        )
        self.preview.setPixmap(pixmap)

    def _show_stats(self, fps: float, text: str) -> None:
        if self.camera_test_button.isEnabled():  # a plain preview, not a timed test
            self.camera_result.setText(self._camera_words(fps, text))
            self.camera_result.setStyleSheet("")

    def _camera_words(self, fps: float, text: str) -> str:
        words = tr("{fps:.1f} khung hình/giây", fps=fps)
        if text:
            _, what, _ = describe_payload(text)
            return words + " · " + tr("Đọc được mã QR. {what}", what=what)
        return words + " · " + tr("Chưa thấy mã QR: đưa một mã vào trước camera")

    def _camera_failed(self, message: str) -> None:
        self.camera_test_button.setEnabled(True)
        self.preview.setText(tr("Không có hình"))
        text = tr("Không mở được camera: {error}", error=message)
        self._result(self.camera_result, False, text)
        self.camera_tested.emit(False, text)

    def _camera_result(self, fps: float, decoded: str) -> None:
        self.camera_test_button.setEnabled(True)
        ok = fps > 0
        text = self._camera_words(fps, decoded) if ok else tr("Camera không gửi hình nào")
        self._result(self.camera_result, ok, text)
        self.camera_tested.emit(ok, text)

    def test_serial(self) -> None:
        """Open the port in the fields and wait for one scan, off the GUI thread."""
        keys = ("serial.url", "serial.baudrate", "serial.terminator", "serial.encoding")
        try:
            url, baud, terminator, encoding = (self.editors[k].value() for k in keys)
        except ValueError as exc:
            self._result(self.serial_result, False, str(exc))
            return
        if not url:
            message = tr("Chọn hoặc nhập một cổng COM trước.")
            self._result(self.serial_result, False, message)
            self.serial_tested.emit(False, message)
            return
        self.serial_test_button.setEnabled(False)
        self._busy(
            self.serial_result,
            tr("Đang mở {url}… quét thử một mã trong {s:g} giây", url=url, s=SERIAL_LISTEN_S),
        )
        run_in_background(
            self, lambda: serial_trial(url, baud, terminator, encoding), self._serial_done
        )

    def _serial_done(self, trial: SerialTrial | None, error: BaseException | None) -> None:
        self.serial_test_button.setEnabled(True)
        if error is not None or trial is None:
            ok, message = False, tr("Lỗi khi thử: {error}", error=error)
        elif not trial.opened:
            ok, message = False, tr("Không mở được cổng: {error}", error=trial.error)
        elif not trial.scans:
            ok, message = True, tr("Mở được cổng nhưng chưa nhận được mã nào.")
        else:
            text, raw = trial.scans[0]
            _, what, reason = describe_payload(text)
            self.serial_result.setToolTip(reason)
            shown = escape_text(text if len(text) <= 40 else text[:40] + "…")
            ok = True
            message = tr(
                "Đã nhận {n} byte: {scanned} — {what}", n=len(raw), scanned=shown, what=what
            )
        self._result(self.serial_result, ok, message)
        self.serial_tested.emit(ok, message)

    def test_chip(self) -> None:
        """Connect to the card on the chosen reader and show its ATR, off the GUI thread."""
        reader = self.editors["pcsc.reader"].value() or ""
        self.chip_test_button.setEnabled(False)
        self._busy(self.chip_result, tr("Đang kết nối tới thẻ…"))
        run_in_background(self, lambda: chip_trial(reader), self._chip_done)

    def _chip_done(self, result: tuple[str, str] | None, error: BaseException | None) -> None:
        self.chip_test_button.setEnabled(True)
        if error is not None or result is None:
            ok, message = False, _chip_words(error)
        else:
            ok, message = (
                True,
                tr("Đầu đọc {reader}: thẻ trả lời, ATR {atr}", reader=result[0], atr=result[1]),
            )
        self._result(self.chip_result, ok, message)
        self.chip_tested.emit(ok, message)

    def _busy(self, label: QLabel, text: str) -> None:
        label.setText(text)
        label.setStyleSheet(BUSY_STYLE)

    @staticmethod
    def _result(label: QLabel, ok: bool, text: str) -> None:
        label.setText(("✓ " if ok else "✗ ") + text)
        label.setStyleSheet(OK_STYLE if ok else BAD_STYLE)

    # -- the raw monitor ---------------------------------------------------------------------

    def _configure_monitor(self, *_: object) -> None:
        if not hasattr(self, "monitor"):
            return
        values = []
        for key in (
            "scanner.wedge_max_gap_ms",
            "scanner.wedge_min_length",
            "scanner.prefix",
            "scanner.suffix",
        ):
            editor = self.editors.get(key)
            if editor is None:
                return
            try:
                values.append(editor.value())
            except ValueError:
                return
        self.monitor.configure(*values)

    def _clear_monitor(self) -> None:
        self.monitor.clear_keys()
        self.monitor_verdict.setText("")
        self.monitor_warning.hide()
        self.monitor.setFocus()

    def _on_burst(self, text: str, is_scan: bool) -> None:
        gaps = [k.gap_ms for k in self.monitor.last_run[1:] if k.gap_ms is not None]
        if not is_scan:
            slowest = max(gaps) if gaps else 0.0
            message = tr(
                "Gõ tay (hoặc quét quá chậm): {n} ký tự, khoảng cách lớn nhất {gap:.0f} ms."
                " Máy quét cần gõ {min} ký tự trở lên, mỗi phím cách nhau tối đa {limit:.0f} ms.",
                n=len(text),
                gap=slowest,
                min=self.monitor.min_length,
                limit=self.monitor.max_gap_ms,
            )
            self._result(self.monitor_verdict, False, message)
            return
        parsed, what, reason = describe_payload(text)
        message = tr("Lần quét: {n} ký tự. {what}", n=len(text), what=what)
        self._result(self.monitor_verdict, parsed, message)
        self.monitor_verdict.setToolTip(reason)
        if any(ch in text for ch in "\ufffd?") and not parsed:
            self.monitor_warning.setText(
                tr(
                    "Có ký tự bị hỏng: bố cục bàn phím hoặc bộ gõ làm sai dấu tiếng Việt."
                    " Đặt bàn phím US, tắt Unikey/EVKey, hoặc dùng chế độ cổng COM."
                )
            )
            self.monitor_warning.show()
        QApplication.beep()

    def _on_input_method(self) -> None:
        self.monitor_warning.setText(
            tr(
                "Bộ gõ tiếng Việt (Telex/VNI) đang bật và làm thay đổi chữ máy quét gõ: hãy tắt"
                " bộ gõ khi quét, hoặc dùng chế độ cổng COM."
            )
        )
        self.monitor_warning.show()

    # -- file pickers ------------------------------------------------------------------------

    def _browse_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, tr("Chọn tệp video"), "", tr("Video (*.avi *.mp4 *.mkv *.mov);;Tất cả (*)")
        )
        if path:
            self.editors["camera.source"].set(path)

    def _browse_file(self, key: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Chọn tệp"))
        if path:
            self.editors[key].set(path)

    def _browse_folder(self, key: str) -> None:
        path = QFileDialog.getExistingDirectory(self, tr("Chọn thư mục"))
        if path:
            self.editors[key].set(path)

    def _browse_store(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            tr("Tệp dữ liệu"),
            "",
            tr("SQLite (*.db);;Tất cả (*)"),
            options=QFileDialog.DontConfirmOverwrite,
        )
        if path:
            self.editors["store.path"].set(path)

    # -- closing -----------------------------------------------------------------------------

    def showEvent(self, event: Any) -> None:
        self._closing = False  # shown again after a close: results are wanted again
        super().showEvent(event)

    def done(self, result: int) -> None:
        self._closing = True
        self._stop_preview()
        self.monitor._timer.stop()
        super().done(result)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and not event.modifiers():
            focus = QApplication.focusWidget()
            if isinstance(focus, QPushButton) and focus is not self.save_button:
                focus.click()
                return
            self.save()
            return
        super().keyPressEvent(event)


def _chip_words(error: BaseException | None) -> str:
    """A chip reader error in the desk's language (the driver speaks English)."""
    text = str(error or "")
    if "pcscd" in text or "PC/SC service" in text:
        return tr("Dịch vụ PC/SC (pcscd) không chạy: khởi động dịch vụ rồi thử lại.")
    if "no card" in text:
        return tr("Chưa có thẻ trên đầu đọc: đặt thẻ CCCD nằm phẳng trên đầu đọc rồi thử lại.")
    if "no PC/SC card reader" in text:
        return tr("Không có đầu đọc nào: cắm đầu đọc thẻ chip.")
    if "in use" in text:
        return tr("Đầu đọc đang được chương trình khác dùng: đóng chương trình đó rồi thử lại.")
    if "is not connected" in text or "matches several" in text:
        return tr("Không tìm thấy đầu đọc đã chọn: {error}", error=text)
    if "pyscard" in text:
        return tr("Chưa cài thư viện pyscard: chạy make deps.")
    return tr("Không đọc được: {error}", error=text or type(error).__name__)


def _read_lenient(path: Path) -> tuple[Config, str | None]:
    """The file as written (no password from the environment or keyring). A file with errors
    still gives every value that can be used, and the first error as one line."""
    if not path.is_file():
        return Config(source_path=path), None
    try:
        return load_config(path, secrets=False), None
    except ConfigError as exc:
        error = str(exc)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return Config(source_path=path), error
    config = Config(source_path=path)
    for section, cls in cfg.SECTIONS.items():
        values = data.get(section)
        if not isinstance(values, dict):
            continue
        declared = {f.name: str(f.type) for f in fields(cls)}
        for key, value in values.items():
            if key in declared and cfg._type_ok(value, declared[key]):
                if declared[key] == "float":
                    value = float(value)
                config = cfg.with_value(config, f"{section}.{key}", value)
    return config, error


def open_settings(
    config_path: str | Path | None = None,
    parent: QWidget | None = None,
    on_saved: Callable[[Config], None] | None = None,
) -> SettingsDialog:
    """Show the dialog (modal to ``parent``); ``on_saved`` gets the saved configuration."""
    dialog = SettingsDialog(config_path, parent)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    if on_saved is not None:
        dialog.saved.connect(on_saved)
    dialog.open()
    return dialog


__all__ = [
    "CameraPreview",
    "FieldEditor",
    "Mnemonics",
    "RawKeyMonitor",
    "SettingsDialog",
    "chip_trial",
    "describe_payload",
    "open_settings",
    "serial_trial",
]


def save_screenshots(folder: str | Path, *, language: str | None = None) -> list[Path]:
    """PNG pictures of every settings tab (with a test result on each), a field error, and the
    diagnostics panel, against the bundled sandbox and the recorded fixtures; for the docs.
    Needs a QApplication (offscreen is fine). Returns the files written."""
    import tempfile

    from checkin.config import CameraConfig, StoreConfig
    from checkin.sandbox import Sandbox
    from ui import i18n
    from ui.diagnostics import DiagnosticsPanel

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance()
    before = i18n.language()
    if language:
        i18n.set_language(language)
    written: list[Path] = []

    def settle(until: Callable[[], bool], timeout_s: float = 8.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not until() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        app.processEvents()

    def shoot(widget: QWidget, name: str) -> None:
        path = folder / f"{name}.png"
        widget.grab().save(str(path))
        written.append(path)

    data_home = os.environ.get("XDG_DATA_HOME")
    try:
        with Sandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
            os.environ["XDG_DATA_HOME"] = tmp  # this machine's own logs stay out of the pictures
            video = FIXTURES / "videos" / "eligible-new.avi"
            config = Config(
                gateway=sandbox.gateway_config(timeout_s=3.0, connect_timeout_s=1.0),
                store=StoreConfig(path=str(Path(tmp) / "desk.db")),
                camera=CameraConfig(source=f"replay:{video}"),
                serial=cfg.SerialConfig(url="loop://"),
            )
            path = Path(tmp) / "checkin.toml"
            write_config(path, config)
            dialog = SettingsDialog(path)
            dialog.show()
            done: dict[str, bool] = {}
            for signal in ("camera_tested", "connection_tested", "serial_tested", "chip_tested"):
                getattr(dialog, signal).connect(lambda *_, s=signal: done.__setitem__(s, True))
            settle(lambda: dialog.find_ports.isEnabled())
            dialog.test_camera()
            dialog.test_connection()
            dialog.test_serial()
            dialog.test_chip()
            settle(lambda: len(done) == 4, 10.0)
            dialog.monitor.setFocus()
            payload = (FIXTURES / "payloads" / "eligible-cccd.txt").read_text(encoding="utf-8")
            for ch in payload.strip() + "\r":
                key = Qt.Key_Return if ch == "\r" else Qt.Key_unknown
                for kind in (QEvent.KeyPress, QEvent.KeyRelease):
                    QApplication.sendEvent(dialog.monitor, QKeyEvent(kind, key, Qt.NoModifier, ch))
            settle(lambda: bool(dialog.monitor_verdict.text()), 2.0)
            for key, index in dialog._tab_index.items():
                dialog.tabs.setCurrentIndex(index)
                settle(lambda: False, 0.1)
                shoot(dialog, f"settings-{key}")
            dialog.editors["gateway.officer_id"].set("123")
            dialog.editors["gateway.url"].set("http://egw.example.test")
            dialog.save()
            settle(lambda: False, 0.1)
            shoot(dialog, "settings-invalid")
            dialog.reject()
            panel = DiagnosticsPanel(load_config(path))
            panel.show()
            finished: list[bool] = []
            panel.refreshed.connect(lambda *_: finished.append(True))
            panel.refresh()
            settle(lambda: bool(finished), 8.0)
            shoot(panel, "diagnostics")
            panel.close()
            dialog.deleteLater()
            panel.deleteLater()
    finally:
        if data_home is None:
            os.environ.pop("XDG_DATA_HOME", None)
        else:
            os.environ["XDG_DATA_HOME"] = data_home
        if language:
            i18n.set_language(before)
    return written


def pending_rechecks(path: Path) -> int:
    """Pending outbox entries in a store file, read-only; 0 when it cannot be read."""
    if not Path(path).is_file():
        return 0
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            row = conn.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return 0
    return int(row[0])
