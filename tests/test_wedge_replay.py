"""Keyboard-wedge recordings (drivers/keystrokes.py) and their replay backend
(ui/wedge_replay.py): the format, the committed fixtures, and real QKeyEvents reaching the
wedge filter and the desk."""

from __future__ import annotations

import importlib.util
import time
from itertools import pairwise
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget

from checkin.formats import parse_payload
from checkin.formats.hexutf8 import TELEX, simulate_ime
from drivers import keystrokes
from drivers.keystrokes import LONG_GAP_MS, MAX_LEAD_MS, Keystroke, RecordingError
from tests import test_desk
from tests.conftest import FIXTURES, payload
from tests.test_desk import WAIT_MS
from ui.wedge import WedgeFilter
from ui.wedge_replay import WedgeReplay, key_events

make_desk, session = test_desk.make_desk, test_desk.session  # fixtures shared with test_desk

KEYSTROKES = FIXTURES / "keystrokes"
SCAN, TYPING, TELEX_SCAN = (
    KEYSTROKES / f"{name}.jsonl"
    for name in ("scan-eligible-new", "typing-name", "telex-defence-001")
)


# --- the format and the committed recordings --------------------------------------------------


def test_every_printable_ascii_key_name_is_the_qt_key_of_that_character():
    for char in map(chr, range(0x20, 0x7F)):
        name = keystrokes.key_name(char)
        assert getattr(Qt.Key, name).value == ord(char.upper()), char
    assert keystrokes.key_name("\r") == "Key_Return"
    assert keystrokes.key_name("ễ") is None  # sent as Key_unknown with its text
    press, _ = key_events(Keystroke(0, None, "ễ"), timestamp=1234)
    assert (press.key(), press.text(), press.timestamp()) == (Qt.Key.Key_unknown, "ễ", 1234)
    assert (
        key_events(Keystroke(0, "Key_M", "M"))[0].modifiers() == Qt.KeyboardModifier.ShiftModifier
    )


def test_a_recording_round_trips_and_bad_lines_are_named():
    made = keystrokes.typing("Lê Văn", seed=7)
    assert keystrokes.loads(keystrokes.dumps(made)) == made
    assert made.header["synthetic"] is True and made.header["device"] == "keyboard"
    assert all(60 <= b.t_ms - a.t_ms <= 160 for a, b in pairwise(made.keys))
    header = keystrokes.dumps(made).splitlines()[0]
    cases = {
        '{"format": "other"}': ":1: header",
        header + '\n{"t_ms": 5, "text": "a"}\n{"t_ms": 4, "text": "b"}': ":3: t_ms goes back",
        header + '\n{"t_ms": 5, "text": ""}': ":2: text must be",
        header + "\n{t_ms: 5}": ":2: not JSON",
        header + '\n{"text": "a"}': ":2: needs t_ms",
    }
    for text, message in cases.items():
        with pytest.raises(RecordingError, match=message):
            keystrokes.loads(text, "rec")


def test_committed_recordings_are_what_the_seeded_generator_writes(capsys):
    """The generator also checks each through the wedge detector and the parser."""
    spec = importlib.util.spec_from_file_location("gen_keys", FIXTURES / "generate_keystrokes.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.main(["--check"]) == 0, capsys.readouterr().err
    scan = keystrokes.load(SCAN)
    assert scan.text == payload("eligible-new") + "\r"
    assert 2 <= scan.duration_ms / (len(scan.keys) - 1) <= 4  # ~3 ms a key
    telex = keystrokes.load(TELEX_SCAN)
    assert "\b" in telex.text and telex.header["ime"].startswith("Telex")


def test_compressed_schedule_keeps_the_gaps_in_timestamps_but_not_on_the_clock():
    keys = [Keystroke(t, None, "x") for t in (0, 3, 6, 5006, 5126, 5246)]
    assert [d.send_ms for d in keystrokes.schedule(keys)] == [0, 3, 6, 5006, 5126, 5246]
    dues = keystrokes.schedule(keys, realtime=False)
    assert [d.stamp_ms for d in dues] == [0, 3, 6, 6 + LONG_GAP_MS, 1126, 1246]  # 5 s → 1 s
    assert [d.send_ms for d in dues] == [0] * 6  # all at once: 1.2 s < MAX_LEAD_MS
    long_typing = [Keystroke(120.0 * n, None, "x") for n in range(40)]
    dues = keystrokes.schedule(long_typing, realtime=False)
    assert all(d.stamp_ms - d.send_ms <= MAX_LEAD_MS for d in dues)  # never far ahead
    assert dues[-1].send_ms == 39 * 120 - MAX_LEAD_MS


# --- replayed into a plain window through the wedge filter (the real clock) ---------------------


@pytest.fixture
def field(qtbot):
    window = QWidget()
    line = QLineEdit()
    QVBoxLayout(window).addWidget(line)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    line.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is line)
    wedge = WedgeFilter()
    wedge.install()
    scanned: list[str] = []
    wedge.scanned.connect(scanned.append)
    yield SimpleNamespace(line=line, scanned=scanned, wedge=wedge)
    wedge.uninstall()


def play(qtbot, recording, realtime: bool = False, **kwargs) -> WedgeReplay:
    replay = WedgeReplay(recording, realtime=realtime, **kwargs)
    with qtbot.waitSignal(replay.finished, timeout=WAIT_MS):
        replay.start()
    return replay


def test_compressed_burst_is_one_scan_and_typing_lands_in_the_field(qtbot, field):
    started = time.monotonic()
    replay = play(qtbot, SCAN)
    assert field.scanned == [payload("eligible-new")]
    assert (
        field.line.text() == ""
        and replay.sent == len(replay.recording.keys)
        and replay.dropped == 0
    )
    play(qtbot, TYPING)
    qtbot.waitUntil(lambda: field.line.text() == "Nguyễn Thị Lan", timeout=WAIT_MS)
    assert field.scanned == [payload("eligible-new")]  # typing was not a scan
    assert time.monotonic() - started < 1.0  # 1.4 s + 1.7 s of recording, compressed


def test_real_time_burst_survives_a_stalled_gui_thread(qtbot, field):
    """Keys carry their recorded time: a 120 ms stall in the middle of a burst (longer than the
    30 ms gap) neither splits it nor lets its keys reach the field."""
    QTimer.singleShot(400, lambda: time.sleep(0.12))
    started = time.monotonic()
    play(qtbot, SCAN, realtime=True)
    assert time.monotonic() - started >= keystrokes.load(SCAN).duration_ms / 1000
    assert field.scanned == [payload("eligible-new")]
    assert field.line.text() == ""


def test_stop_ends_the_replay_and_keys_go_to_a_given_target(qtbot, field):
    other = QLineEdit()
    field.line.parent().layout().addWidget(other)
    field.wedge.uninstall()  # the filter takes keys at the focus widget only
    replay = play(qtbot, TYPING, target=other)
    assert other.text() == "Nguyễn Thị Lan" and field.line.text() == ""
    replay = WedgeReplay(TYPING, realtime=True)
    replay.start()
    with qtbot.waitSignal(replay.finished, timeout=1000):
        replay.stop()
    assert not replay.running and replay.sent < len(replay.recording.keys)


# --- replayed into the desk ------------------------------------------------------------------


def desk_with_wedge(qtbot, make_desk, session):
    window = make_desk(session, start=True, wedge=WedgeFilter())
    with qtbot.waitActive(window):
        window.activateWindow()
    window.filter.search.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.filter.search)
    return window


def test_recorded_burst_is_one_scan_and_one_check_in(qtbot, make_desk, session):
    """GIVEN the desk with the wedge filter, the search box focused
    WHEN the recorded 3 ms-a-key burst of a new-template BHYT QR is replayed
    THEN it is one check-in and the search box stays empty."""
    window = desk_with_wedge(qtbot, make_desk, session)
    results = []
    window.checked_in.connect(results.append)
    play(qtbot, SCAN)
    qtbot.waitUntil(lambda: len(results) == 1 and window.is_settled(), timeout=WAIT_MS)
    assert results[0].identity.full_name == "Phạm Văn Hùng"
    assert window.filter.search.text() == ""
    assert window.visits.rowCount() == 1


def test_recorded_typing_is_not_a_scan(qtbot, make_desk, session):
    """WHEN a person's slow typing of a name is replayed into the search box
    THEN every key reaches the search box and nothing is checked in."""
    window = desk_with_wedge(qtbot, make_desk, session)
    results = []
    window.checked_in.connect(results.append)
    play(qtbot, TYPING)
    qtbot.waitUntil(lambda: window.filter.search.text() == "Nguyễn Thị Lan", timeout=WAIT_MS)
    qtbot.wait(100)
    assert results == [] and window.runner.pending == 0


def test_recorded_telex_burst_is_repaired_and_flagged(qtbot, make_desk, session):
    """WHEN a burst rewritten by Unikey Telex (Backspace + Vietnamese letter in the hex) is
    replayed
    THEN it is one scan, checked in under the repaired name, with the repair flagged."""
    window = desk_with_wedge(qtbot, make_desk, session)
    submitted: list[str] = []
    window.wedge.scanned.connect(submitted.append)
    results = []
    window.checked_in.connect(results.append)
    play(qtbot, TELEX_SCAN)
    qtbot.waitUntil(lambda: len(results) == 1 and window.is_settled(), timeout=WAIT_MS)
    original = payload("defence-001")
    assert submitted == [simulate_ime(original, TELEX)] != [original]
    assert parse_payload(original).full_name == results[0].identity.full_name == "Vũ Đức Thắng"
    assert any("name repaired" in w and "Telex" in w for w in results[0].identity.warnings)
    assert window.filter.search.text() == ""
