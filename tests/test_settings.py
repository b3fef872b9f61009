"""The IT screens, offscreen: the settings dialog and the diagnostics panel.

Real things behind them: the sandbox on a real port, TOML files on disk, recorded videos as
the camera, ``loop://`` as the serial port, pcscd when it runs. Keys are real QKeyEvents;
Vietnamese text is sent as Key_unknown events with the character as text (platform.md §5:
keyClicks with non-ASCII aborts the process).
"""

from __future__ import annotations

import ast
import gc
import string
from dataclasses import replace
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from checkin import config as cfg
from checkin import doctor
from checkin.config import CameraConfig, Config, StoreConfig, load_config, write_config
from tests.test_config import MemoryKeyring
from ui import i18n
from ui.diagnostics import DiagnosticsPanel, GuiThreadGarbageCollector, report_text
from ui.settings import Mnemonics, SettingsDialog

ROOT = Path(__file__).resolve().parents[1]
VIDEO = ROOT / "fixtures" / "videos" / "eligible-new.avi"
PAYLOADS = ROOT / "fixtures" / "payloads"
WAIT_MS = 10_000


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No user files, no password from the environment, keyring's fail backend (as on this
    Linux box) unless a test installs a working one."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("CHECKIN_CONFIG", raising=False)
    monkeypatch.delenv("CHECKIN_GATEWAY_PASSWORD", raising=False)
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    collect_on_gui_thread()
    collector = GuiThreadGarbageCollector()
    yield tmp_path
    collector.stop()
    collect_on_gui_thread()  # pytest-qt has closed the widgets: free them here, not in a worker
    keyring.set_keyring(before)
    i18n.set_language(i18n.VIETNAMESE)


def collect_on_gui_thread() -> None:
    """Delete what was deleteLater()-ed and collect cycles, on this (the GUI) thread."""
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    gc.collect()


@pytest.fixture
def config_file(tmp_path, healthy_sandbox) -> Path:
    """A configuration for the sandbox with the password in the file (as the demo writes)."""
    config = Config(
        gateway=healthy_sandbox.gateway_config(timeout_s=2.0, connect_timeout_s=1.0),
        store=StoreConfig(path=str(tmp_path / "desk.db")),
        camera=CameraConfig(source=f"replay:{VIDEO}"),
    )
    path = tmp_path / "checkin.toml"
    write_config(path, config)
    return path


@pytest.fixture
def dialog(qtbot, config_file) -> SettingsDialog:
    d = SettingsDialog(config_file)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    return d


def set_text(dialog: SettingsDialog, key: str, text: str) -> None:
    widget = dialog.editors[key].widget
    if hasattr(widget, "setEditText") and widget.isEditable():
        widget.setEditText(text)
    else:
        widget.setText(text)


def send_text(widget: QWidget, text: str) -> None:
    """Type ``text`` into ``widget`` as a keyboard would: one press/release per character."""
    for ch in text:
        key = Qt.Key_Return if ch == "\r" else Qt.Key_unknown
        for kind in (QEvent.KeyPress, QEvent.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, key, Qt.NoModifier, ch))


# -- values, validation, saving --------------------------------------------------------------


def test_fields_show_the_file(dialog, healthy_sandbox):
    editors = dialog.editors
    assert editors["gateway.url"].value() == healthy_sandbox.url
    assert editors["gateway.officer_id"].widget.text() == "001090000001"
    assert editors["scanner.suffix"].widget.text() == "\\r"  # escapes, readable
    assert editors["scanner.suffix"].value() == "\r"
    assert editors["serial.terminator"].value() == "\r"
    assert editors["desk.language"].value() == "vi"
    assert editors["camera.source"].value() == f"replay:{VIDEO}"
    assert dialog.password_in_file.isChecked()  # the demo's file holds the password


def test_invalid_fields_are_marked_and_nothing_is_written(qtbot, dialog, config_file):
    """GIVEN a wrong officer ID and a plain-http URL to a remote host WHEN Save is pressed
    THEN both fields say why, the Gateway tab is open on the first, and the file is as it was."""
    before = config_file.read_bytes()
    set_text(dialog, "gateway.officer_id", "123")
    set_text(dialog, "gateway.url", "http://egw.example.test")
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    assert config_file.read_bytes() == before
    assert dialog.result() != QDialog.Accepted and dialog.isVisible()
    officer = dialog.editors["gateway.officer_id"]
    assert officer.error.isVisibleTo(dialog)
    assert officer.error.text() == "Phải là số CCCD 12 chữ số của cán bộ"
    assert "https" in dialog.editors["gateway.url"].error.text()
    assert dialog.tabs.currentIndex() == dialog._tab_index["gateway"]
    assert QApplication.focusWidget() is dialog.editors["gateway.url"].widget
    assert "2" in dialog.status.text()
    set_text(dialog, "gateway.officer_id", "001090000001")
    set_text(dialog, "gateway.url", "https://egw.example.test")
    assert dialog.validate()[1]
    assert not officer.error.isVisibleTo(dialog)


def test_a_broken_file_opens_with_its_error_and_keeps_the_good_values(qtbot, config_file):
    """GIVEN a file that no longer validates WHEN Settings opens THEN the error is shown at
    the top, the good values are there, and the bad one is marked on Save."""
    text = config_file.read_text(encoding="utf-8").replace(
        'officer_id = "001090000001"', 'officer_id = "12345"'
    )
    config_file.write_text(text, encoding="utf-8")
    dialog = SettingsDialog(config_file)
    qtbot.addWidget(dialog)
    assert not dialog.banner.isHidden() and "gateway.officer_id" in dialog.banner.text()
    assert dialog.editors["gateway.username"].value() == "01001_BV"
    assert dialog.editors["gateway.officer_id"].value() == "12345"
    assert dialog.save() is False
    assert dialog.editors["gateway.officer_id"].error.text()
    assert config_file.read_text(encoding="utf-8") == text


def test_a_bad_escape_is_a_field_error(dialog, config_file):
    before = config_file.read_bytes()
    set_text(dialog, "scanner.prefix", "\\q")
    assert dialog.save() is False
    message = dialog.editors["scanner.prefix"].error.text()
    assert "\\q" in message and "\\x02" in message  # what was wrong, and what is allowed
    assert "unknown escape" not in message  # no English inside the Vietnamese sentence
    assert dialog.tabs.currentIndex() == dialog._tab_index["scanner"]
    assert config_file.read_bytes() == before


def test_valid_edits_are_written_and_load_back_equal(qtbot, dialog, config_file):
    """GIVEN edits on every tab WHEN saved THEN the TOML file loads back to the same values and
    ``saved`` carries that configuration."""
    ed = dialog.editors
    set_text(dialog, "scanner.prefix", "\\x02")
    set_text(dialog, "scanner.suffix", "\\r\\n")
    ed["scanner.wedge_max_gap_ms"].widget.setValue(22.5)
    set_text(dialog, "serial.url", "loop://")
    ed["serial.baudrate"].widget.setValue(19200)
    ed["serial.terminator"].set("\r\n")
    set_text(dialog, "pcsc.reader", "Virtual PCD 00 00")
    set_text(dialog, "gateway.officer_name", "Trần Thị Bình")
    ed["gateway.timeout_s"].widget.setValue(7.5)
    ed["store.retention_days"].widget.setValue(30)
    ed["desk.idle_lock_min"].widget.setValue(5)
    ed["desk.language"].set("en")
    expected, good = dialog.validate()
    assert good
    with qtbot.waitSignal(dialog.saved, timeout=WAIT_MS) as saved:
        assert dialog.save()
    assert dialog.result() == QDialog.Accepted
    again = load_config(config_file)
    for section in cfg.SECTIONS:
        assert getattr(again, section) == getattr(expected, section), section
    assert again.scanner.prefix == "\x02" and again.scanner.suffix == "\r\n"
    assert again.serial == cfg.SerialConfig("loop://", 19200, "\r\n", "utf-8")
    assert again.desk == cfg.DeskConfig(5, "en", 10.0)
    assert saved.args[0].gateway == again.gateway


def test_enter_saves_and_escape_cancels(qtbot, config_file, isolated):
    """Keyboard only: Enter in a field saves; Esc closes without writing."""
    before = config_file.read_bytes()
    cancel = SettingsDialog(config_file)
    qtbot.addWidget(cancel)
    cancel.show()
    qtbot.waitExposed(cancel)
    set_text(cancel, "gateway.facility_code", "79001")
    qtbot.keyClick(cancel.editors["gateway.facility_code"].widget, Qt.Key_Escape)
    assert cancel.result() == QDialog.Rejected and not cancel.isVisible()
    assert config_file.read_bytes() == before

    save = SettingsDialog(config_file)
    qtbot.addWidget(save)
    save.show()
    qtbot.waitExposed(save)
    field = save.editors["gateway.facility_code"].widget
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, "79001")
    qtbot.keyClick(field, Qt.Key_Return)
    assert save.result() == QDialog.Accepted
    assert load_config(config_file).gateway.facility_code == "79001"


def test_moving_the_store_with_rechecks_pending_asks_for_a_second_save(
    qtbot, dialog, config_file, tmp_path
):
    """GIVEN a store file with a visit waiting for a re-check
    WHEN IT points the desk at another file and presses Save
    THEN nothing is written and the status says how many re-checks the old file keeps;
    pressing Save again for the same path saves."""
    from checkin import eligibility
    from checkin.formats import parse_or_raise
    from checkin.store import Store
    from tests.conftest import payload

    with Store(tmp_path / "desk.db") as store:
        identity = parse_or_raise(payload("eligible-old"))
        store.register_visit(identity, eligibility.without_answer("gateway down"))
    before = config_file.read_bytes()
    set_text(dialog, "store.path", str(tmp_path / "new.db"))
    assert not dialog.save()
    assert config_file.read_bytes() == before
    assert "còn 1 lượt chờ tra cứu lại" in dialog.status.text()
    assert dialog.save()
    assert load_config(config_file).store.path == str(tmp_path / "new.db")


def test_a_folder_as_store_path_is_refused_naming_it(qtbot, dialog, config_file, tmp_path):
    """GIVEN the Store tab WHEN IT types a folder as the database file and presses Save
    THEN nothing is written, the Store tab is open and the field says the path is a folder
    (the desk could not open it); a file name in that folder saves."""
    folder = tmp_path / "data"
    folder.mkdir()
    before = config_file.read_bytes()
    set_text(dialog, "store.path", str(folder))
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    assert config_file.read_bytes() == before
    assert dialog.result() != QDialog.Accepted and dialog.isVisible()
    editor = dialog.editors["store.path"]
    assert editor.error.isVisibleTo(dialog)
    assert editor.error.text() == f"{folder} là thư mục, không phải tệp"
    assert dialog.tabs.currentIndex() == dialog._tab_index["store"]
    assert "1" in dialog.status.text()
    set_text(dialog, "store.path", str(folder / "desk.db"))
    assert dialog.save()
    assert load_config(config_file).store.path == str(folder / "desk.db")


@pytest.mark.parametrize("kind", ["under a file", "not sqlite", "other sqlite"])
def test_a_store_path_the_desk_cannot_open_is_refused_in_english(
    qtbot, config_file, tmp_path, kind
):
    import sqlite3

    path = tmp_path / "notes.txt"
    path.write_text("plain text", encoding="utf-8")
    if kind == "under a file":
        path, words = path / "desk.db", f"{path / 'desk.db'} is under {path}, which is a file"
    elif kind == "not sqlite":
        words = f"{path} is not a checkin database (not an SQLite file)"
    else:
        path = tmp_path / "other.db"
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE patients (anything)")
        conn.close()
        words = f"{path} is not a checkin database (it holds other tables)"
    data = path.read_bytes() if path.is_file() else None
    i18n.set_language(i18n.ENGLISH)
    dialog = SettingsDialog(config_file)
    qtbot.addWidget(dialog)
    before = config_file.read_bytes()
    set_text(dialog, "store.path", str(path))
    assert dialog.save() is False
    assert words in dialog.editors["store.path"].error.text()
    assert config_file.read_bytes() == before
    assert (path.read_bytes() if path.is_file() else None) == data  # not opened for writing


def test_every_field_has_a_mnemonic_or_is_reachable(dialog):
    """Alt+letter reaches the tabs and most fields; no two share a letter within a tab."""
    bar = dialog.tabs.tabBar()
    tab_keys = [_mnemonic(bar.tabText(i)) for i in range(bar.count())]
    assert all(tab_keys) and len(set(tab_keys)) == len(tab_keys)
    for page in range(dialog.tabs.count()):
        labels = [
            e.label.text()
            for e in dialog.editors.values()
            if dialog.tabs.widget(page).isAncestorOf(e.widget)
        ]
        keys = [k for k in (_mnemonic(t) for t in labels) if k]
        assert len(keys) == len(set(keys))
        assert not set(keys) & set(tab_keys)
        assert len(keys) >= len(labels) - 2  # Vietnamese labels may run out of ASCII letters


def _mnemonic(text: str) -> str | None:
    from ui.settings import mnemonic_of

    return mnemonic_of(text)


def test_mnemonics_skip_letters_taken():
    mn = Mnemonics({"c"})
    assert mn("Camera") == "C&amera"
    assert mn("Cổng A&B") == "Cổ&ng A&&B"
    assert mn("ĐĐ") == "ĐĐ"


# -- the password ----------------------------------------------------------------------------


def test_no_keyring_says_so_and_never_writes_the_password_silently(qtbot, dialog, config_file):
    """GIVEN no system keyring WHEN IT types a password and unticks "keep it in the file"
    THEN Save refuses with a message naming the way out, and the file is unchanged."""
    before = config_file.read_bytes()
    assert not dialog.keyring_warning.isHidden()
    assert "CHECKIN_GATEWAY_PASSWORD" in dialog.keyring_warning.text()
    dialog.password_in_file.setChecked(False)
    set_text(dialog, "gateway.password", "new-secret")
    assert dialog.save() is False
    error = dialog.editors["gateway.password"].error.text()
    assert "CHECKIN_GATEWAY_PASSWORD" in error and "kho khóa" in error
    assert config_file.read_bytes() == before
    dialog.password_in_file.setChecked(True)  # said out loud: keep it in the file
    assert dialog.save() is True
    assert load_config(config_file, secrets=False).gateway.password == "new-secret"


def test_with_a_keyring_the_password_leaves_the_file(qtbot, config_file, isolated):
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    dialog = SettingsDialog(config_file)
    qtbot.addWidget(dialog)
    assert dialog.keyring_warning.isHidden()
    username = dialog.editors["gateway.username"].value()
    dialog.password_in_file.setChecked(False)
    set_text(dialog, "gateway.password", "kept-safe")
    assert dialog.save() is True
    assert "kept-safe" not in config_file.read_text(encoding="utf-8")
    assert load_config(config_file, secrets=False).gateway.password == ""
    assert ring.entries[("checkin", username)] == "kept-safe"
    assert load_config(config_file).gateway.password == "kept-safe"

    again = SettingsDialog(config_file)  # the next time: an empty field keeps it
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: "kho khóa" in again.password_note.text(), timeout=WAIT_MS)
    assert not again.password_in_file.isChecked()
    assert again.save() is True
    assert ring.entries[("checkin", username)] == "kept-safe"


def test_a_new_account_name_needs_its_password(qtbot, config_file, isolated):
    """The keyring keeps the password under the account name: renaming the account with the
    password field empty is refused with words saying what to type; with it, saved."""
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    dialog = SettingsDialog(config_file)
    qtbot.addWidget(dialog)
    dialog.password_in_file.setChecked(False)
    set_text(dialog, "gateway.password", "kept-safe")
    assert dialog.save() is True

    again = SettingsDialog(config_file)
    qtbot.addWidget(again)
    set_text(again, "gateway.username", "79001_BV")
    assert again.save() is False
    error = again.editors["gateway.password"].error.text()
    assert error == "Đổi tài khoản thì nhập lại mật khẩu của tài khoản 79001_BV"
    set_text(again, "gateway.password", "other-secret")
    assert again.save() is True
    assert ring.entries[("checkin", "79001_BV")] == "other-secret"


def test_the_environment_password_is_never_copied_into_the_file(
    qtbot, tmp_path, healthy_sandbox, monkeypatch
):
    secret = healthy_sandbox.population.accounts[0].password
    monkeypatch.setenv("CHECKIN_GATEWAY_PASSWORD", secret)
    path = tmp_path / "env.toml"
    gw = healthy_sandbox.gateway_config(password="")
    write_config(path, Config(gateway=gw, store=StoreConfig(path=str(tmp_path / "x.db"))))
    dialog = SettingsDialog(path)
    qtbot.addWidget(dialog)
    assert dialog.editors["gateway.password"].value() == ""
    assert "CHECKIN_GATEWAY_PASSWORD" in dialog.password_note.text()
    with qtbot.waitSignal(dialog.connection_tested, timeout=WAIT_MS) as tested:
        dialog.test_connection()  # uses the environment's password
    assert tested.args[0] is True, tested.args[1]
    assert dialog.save() is True
    assert secret not in path.read_text(encoding="utf-8")


# -- the test buttons ------------------------------------------------------------------------


def test_connection_test_against_the_sandbox(qtbot, dialog):
    with qtbot.waitSignal(dialog.connection_tested, timeout=WAIT_MS) as tested:
        qtbot.mouseClick(dialog.gateway_test_button, Qt.LeftButton)
    ok, message = tested.args
    assert ok is True and "đã cấp token" in message
    assert dialog.gateway_result.text().startswith("✓")


def test_connection_test_says_what_is_wrong(qtbot, dialog):
    set_text(dialog, "gateway.password", "wrong")
    with qtbot.waitSignal(dialog.connection_tested, timeout=WAIT_MS) as tested:
        dialog.test_connection()
    ok, message = tested.args
    assert ok is False and "từ chối tài khoản" in message and "mật khẩu" in message
    set_text(dialog, "gateway.officer_id", "12")
    with qtbot.waitSignal(dialog.connection_tested, timeout=WAIT_MS) as tested:
        dialog.test_connection()
    assert tested.args[0] is False and "viền đỏ" in tested.args[1]


def test_connection_test_does_not_block_the_gui(qtbot, dialog, healthy_sandbox):
    """The sandbox answers after 1.5 s; the GUI thread keeps turning meanwhile."""
    healthy_sandbox.faults.set("slow", delay_s=1.5)
    dialog.editors["gateway.timeout_s"].widget.setValue(5.0)
    started = __import__("time").monotonic()
    dialog.test_connection()
    assert __import__("time").monotonic() - started < 0.3  # returned at once
    assert not dialog.gateway_test_button.isEnabled()
    with qtbot.waitSignal(dialog.connection_tested, timeout=WAIT_MS) as tested:
        pass
    assert tested.args[0] is True and dialog.gateway_test_button.isEnabled()


def test_camera_test_shows_frames_and_reads_the_qr(qtbot, dialog):
    with qtbot.waitSignal(dialog.camera_tested, timeout=WAIT_MS) as tested:
        qtbot.mouseClick(dialog.camera_test_button, Qt.LeftButton)
    ok, message = tested.args
    assert ok is True
    assert "khung hình/giây" in message and "Đọc được mã QR" in message
    assert dialog.preview.pixmap() is not None and not dialog.preview.pixmap().isNull()


def test_camera_test_on_a_missing_file(qtbot, dialog, isolated):
    set_text(dialog, "camera.source", str(isolated / "none.avi"))
    with qtbot.waitSignal(dialog.camera_tested, timeout=WAIT_MS) as tested:
        dialog.test_camera()
    assert tested.args[0] is False and "Không mở được camera" in tested.args[1]


def test_serial_test_on_loop(qtbot, dialog):
    set_text(dialog, "serial.url", "loop://")
    with qtbot.waitSignal(dialog.serial_tested, timeout=WAIT_MS) as tested:
        qtbot.mouseClick(dialog.serial_test_button, Qt.LeftButton)
    ok, message = tested.args
    assert ok is True and "THU-NGHIEM-123" in message


def test_serial_test_on_a_missing_port(qtbot, dialog, isolated):
    set_text(dialog, "serial.url", str(isolated / "ttyNOPE"))
    with qtbot.waitSignal(dialog.serial_tested, timeout=WAIT_MS) as tested:
        dialog.test_serial()
    assert tested.args[0] is False and "Không mở được cổng" in tested.args[1]


def test_chip_test_read_answers_in_words(qtbot, dialog):
    """No card is assumed: the answer is an ATR or a Vietnamese sentence saying what to do."""
    with qtbot.waitSignal(dialog.chip_tested, timeout=WAIT_MS) as tested:
        qtbot.mouseClick(dialog.chip_test_button, Qt.LeftButton)
    ok, message = tested.args
    assert message
    assert ("ATR" in message) if ok else ("thẻ" in message or "pcscd" in message)


def test_pickers_list_this_machines_devices(qtbot, dialog):
    qtbot.waitUntil(lambda: dialog.find_ports.isEnabled(), timeout=WAIT_MS)
    ports = dialog.editors["serial.url"].widget
    values = [ports.itemText(i) for i in range(ports.count())]
    assert "loop://" in values and "" in values
    cameras = dialog.editors["camera.source"].widget
    assert any(cameras.itemText(i).startswith("replay:") for i in range(cameras.count()))


# -- the raw key monitor ---------------------------------------------------------------------


def test_raw_monitor_shows_each_key_and_judges_the_burst(qtbot, dialog):
    """GIVEN the monitor focused WHEN a scanner types a CCCD QR (Vietnamese included) and Enter
    THEN each key is listed with its code point and gap, and the run is judged a scan that
    parses."""
    dialog.tabs.setCurrentIndex(dialog._tab_index["scanner"])
    monitor = dialog.monitor
    monitor.setFocus()
    text = (PAYLOADS / "eligible-cccd.txt").read_text(encoding="utf-8").strip()
    assert any(ord(ch) > 127 for ch in text)
    with qtbot.waitSignal(monitor.burst, timeout=WAIT_MS) as burst:
        send_text(monitor, text + "\r")
    body, is_scan = burst.args
    assert body == text and is_scan is True
    assert monitor.rowCount() == len(text) + 1
    assert monitor.item(monitor.rowCount() - 1, 0).text() == "Enter"
    first_vietnamese = next(i for i, ch in enumerate(text) if ord(ch) > 127)
    assert monitor.item(first_vietnamese, 1).text() == f"U+{ord(text[first_vietnamese]):04X}"
    assert float(monitor.item(1, 2).text()) < 30
    assert dialog.monitor_verdict.text().startswith("✓")
    assert "hợp lệ" in dialog.monitor_verdict.text()
    assert dialog.isVisible()  # Enter stayed in the monitor: it did not save


def test_raw_monitor_tells_typing_from_scanning(qtbot, dialog):
    monitor = dialog.monitor
    dialog.editors["scanner.wedge_max_gap_ms"].widget.setValue(5.0)
    assert monitor.max_gap_ms == 5.0  # the monitor follows the timing being edited
    monitor.setFocus()
    with qtbot.waitSignal(monitor.burst, timeout=WAIT_MS) as burst:
        send_text(monitor, "a")
        qtbot.wait(40)
        send_text(monitor, "b")
    assert list(burst.args) == ["a", False]
    qtbot.waitUntil(lambda: "Gõ tay" in dialog.monitor_verdict.text(), timeout=WAIT_MS)


def test_raw_monitor_uses_prefix_and_suffix(qtbot, dialog):
    set_text(dialog, "scanner.prefix", "\\x02")
    set_text(dialog, "scanner.suffix", "\\t")
    monitor = dialog.monitor
    monitor.setFocus()
    with qtbot.waitSignal(monitor.burst, timeout=WAIT_MS) as burst:
        send_text(monitor, "\x02ABCDEFGH\t")
    assert list(burst.args) == ["ABCDEFGH", True]
    assert QApplication.focusWidget() is monitor  # a scanner's Tab did not move the focus


# -- the diagnostics panel -------------------------------------------------------------------


def test_diagnostics_panel_refreshes_with_f5_and_copies_a_masked_report(
    qtbot, config_file, isolated
):
    data = isolated / "data" / "checkin"
    data.mkdir(parents=True)
    (data / "checkin-errors.log").write_text("KeyError: 001090000001\n", encoding="utf-8")
    panel = DiagnosticsPanel(load_config(config_file))
    qtbot.addWidget(panel)
    panel.show()
    panel.activateWindow()
    qtbot.waitActive(panel)
    with qtbot.waitSignal(panel.refreshed, timeout=WAIT_MS) as done:
        qtbot.keyClick(panel, Qt.Key_F5)
    checks = done.args[0]
    assert panel.table.rowCount() == len(checks) == 10
    names = [panel.table.item(r, 1).text() for r in range(panel.table.rowCount())]
    assert "Cổng BHXH" in names and "Cơ sở dữ liệu" in names
    gateway_row = names.index("Cổng BHXH")
    assert panel.table.item(gateway_row, 0).text() == "✓"
    assert panel.status.text().startswith("✓")
    qtbot.mouseClick(panel.copy_button, Qt.LeftButton)
    report = QGuiApplication.clipboard().text()
    assert "Cổng BHXH" in report and "********0001" in report
    assert "001090000001" not in report


def test_diagnostics_panel_shows_a_failure_and_its_fix(qtbot, config_file, tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = load_config(config_file)
    config = replace(config, gateway=replace(config.gateway, url=f"http://127.0.0.1:{port}"))
    path = tmp_path / "down.toml"
    write_config(path, config)
    panel = DiagnosticsPanel(load_config(path))
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.refreshed, timeout=WAIT_MS):
        panel.refresh()
    row = [c.name for c in panel.checks].index("gateway")
    assert panel.table.item(row, 0).text() == "✗"
    assert "checkin sandbox" in panel.table.item(row, 3).text()
    assert panel.status.text().startswith("✗") and "Cổng BHXH" in panel.status.text()


def test_report_text_in_english():
    i18n.set_language(i18n.ENGLISH)
    checks = [
        doctor._check(
            "gateway",
            False,
            doctor.T.GATEWAY_REFUSED,
            doctor.T.GATEWAY_REFUSED_FIX,
            host="127.0.0.1",
            port=9,
        ),
        doctor._check("keyring", False, doctor.T.KEYRING_MISSING, required=False, backend="x"),
    ]
    text = report_text(checks)
    assert "✗ Gateway: 127.0.0.1:9 refused the connection" in text
    assert "Fix: nothing listens there" in text
    assert "(optional)" in text


# -- the English catalog ---------------------------------------------------------------------


def _tr_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "tr"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]


def _fields(text: str) -> set[str]:
    return {f[1] for f in string.Formatter().parse(text) if f[1]}


def test_every_it_screen_string_has_english_with_the_same_fields():
    english = i18n.catalog(i18n.ENGLISH)
    wanted = _tr_literals(ROOT / "ui" / "settings.py") + _tr_literals(
        ROOT / "ui" / "diagnostics.py"
    )
    wanted += [p.vi for p in cfg.phrases()] + [p.vi for p in doctor.phrases()]
    missing = [text for text in wanted if text not in english]
    assert not missing
    given = {"value", "minimum", "maximum", "choices"}  # what a config Problem always carries
    for text in wanted:
        if text in {p.vi for p in cfg.phrases()}:
            assert _fields(english[text]) <= _fields(text) | given, text
        else:
            assert _fields(english[text]) == _fields(text), text


def test_the_dialog_in_english(qtbot, config_file):
    i18n.set_language(i18n.ENGLISH)
    dialog = SettingsDialog(config_file)
    qtbot.addWidget(dialog)
    titles = [dialog.tabs.tabText(i).replace("&", "") for i in range(dialog.tabs.count())]
    assert titles == ["Camera", "Scanner", "Chip reader", "Gateway", "Store", "Desk"]
    assert dialog.save_button.text() == "&Save"
    assert dialog.editors["gateway.officer_id"].label.text().replace("&", "") == (
        "Default officer citizen ID"
    )
    set_text(dialog, "gateway.officer_id", "1")
    assert dialog.save() is False
    assert dialog.editors["gateway.officer_id"].error.text() == (
        "must be the officer's 12-digit citizen ID"
    )


def test_no_vietnamese_text_has_two_english_translations(monkeypatch):
    """Every catalog module registers into one dict: the same key twice must agree."""
    import importlib
    import pkgutil

    import ui

    seen: dict[str, set[str]] = {}
    real = i18n.register

    def spy(language: str, entries: dict[str, str]) -> None:
        for key, value in entries.items():
            seen.setdefault(key, set()).add(value)
        real(language, entries)

    monkeypatch.setattr(i18n, "register", spy)
    for module in pkgutil.iter_modules(ui.__path__):
        if module.name.startswith("lang_"):
            importlib.reload(importlib.import_module(f"ui.{module.name}"))
    assert {k: v for k, v in seen.items() if len(v) > 1} == {}


def test_escape_in_the_monitor_still_cancels(qtbot, dialog, config_file):
    before = config_file.read_bytes()
    dialog.monitor.setFocus()
    qtbot.keyClick(dialog.monitor, Qt.Key_Escape)
    assert dialog.result() == QDialog.Rejected and not dialog.isVisible()
    assert config_file.read_bytes() == before


def test_enter_in_a_picker_saves(qtbot, dialog, config_file):
    combo = dialog.editors["serial.url"].widget
    combo.setEditText("loop://")
    combo.lineEdit().setFocus()
    qtbot.keyClick(combo.lineEdit(), Qt.Key_Return)
    assert dialog.result() == QDialog.Accepted
    assert load_config(config_file).serial.url == "loop://"


def test_the_panel_refreshes_again_after_being_closed_and_shown(qtbot, config_file):
    panel = DiagnosticsPanel(load_config(config_file))
    qtbot.addWidget(panel)
    panel.show()
    panel.close()
    panel.show()
    with qtbot.waitSignal(panel.refreshed, timeout=WAIT_MS):
        panel.refresh()
