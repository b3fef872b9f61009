"""The desk's flows, offscreen against the real sandbox: duplicates, manual entry, search and
filter, the offline strip with cached answers, re-checks that need attention, feedback,
keyboard shortcuts and focus, and the keyboard-wedge scanner route."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from checkin.breaker import CircuitBreaker
from checkin.formats import cccd_payload, parse_payload
from checkin.model import Gender, Identity, PayloadKind, Source, Status
from checkin.outbox import OutboxSender
from tests import test_desk
from tests.test_desk import WAIT_MS, check_in, own_card, payload_text, today, type_text
from ui import text
from ui.manual_entry import ManualEntryDialog, build_identity

# Fixtures shared with tests/test_desk.py (pytest finds them under these names).
make_desk, session = test_desk.make_desk, test_desk.session


def cccd_for_mai() -> str:
    """The CCCD QR of a namesake of the person whose BHYT card is ``eligible-old``: same name
    and birth date, another citizen ID that the gateway does not know (so no card links the
    two: Mai's own CCCD would reopen her visit, see tests/test_same_person.py)."""
    return cccd_payload(
        Identity(
            kind=PayloadKind.CCCD,
            full_name="Trần Thị Mai",
            citizen_id="079185099999",
            date_of_birth="1985-05-12",
            gender=Gender.FEMALE,
            address="Số 1 Phố Vĩ Dụ, Phường Mẫu, Quận Thử, Thành phố Hà Nội",
            issue_date="2021-04-01",
        )
    )


# -- duplicates ----------------------------------------------------------------------------


def test_possible_duplicate_is_flagged_in_the_patient_panel(qtbot, make_desk, session):
    """GIVEN Trần Thị Mai checked in with her BHYT card (no citizen ID in its QR)
    WHEN her CCCD QR is scanned (same name and birth date, another number)
    THEN a second visit is made but the panel warns it may be the same person (number 1),
    with the duplicate sound and a flash of the queue number."""
    window = make_desk(session, start=True)
    check_in(qtbot, window, "eligible-old")
    assert window.patient.duplicate_text == ""
    result = check_in(qtbot, window, cccd_for_mai())

    assert result.visit.queue_number == 2 and not result.reopened
    assert "Có thể trùng người bệnh" in window.patient.duplicate_text
    assert "số thứ tự 1" in window.patient.duplicate_text
    assert [v.queue_number for v in window.last_checked.duplicates] == [1]
    assert window.sounds.played[-1] == "duplicate"
    assert window.visits.rowCount() == 2


def test_a_different_person_is_not_flagged(qtbot, make_desk, session):
    window = make_desk(session, start=True)
    check_in(qtbot, window, "eligible-old")
    check_in(qtbot, window, "eligible-new")
    assert window.patient.duplicate_text == ""
    assert window.last_checked.duplicates == ()


# -- manual entry ----------------------------------------------------------------------------


def test_number_alone_opens_manual_entry_then_checks_in(qtbot, make_desk, session):
    """GIVEN a scanner that gives only the card number
    WHEN it is submitted
    THEN manual entry opens with the number filled and the name field focused; typing the
    Vietnamese name and birth date and pressing Enter checks the patient in, and the focus
    comes back to today's list."""
    window = make_desk(session, start=True)
    with qtbot.waitActive(window):
        window.activateWindow()
    window.submit("DN4010123456789")
    dialog = window.manual_dialog
    assert isinstance(dialog, ManualEntryDialog)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.name)
    assert dialog.number.text() == "DN4010123456789"
    assert window.statusBar().currentMessage() == text.number_only()

    type_text(dialog.name, "Trần Thị Mai")
    dialog.birth.setFocus()
    type_text(dialog.birth, "12/05/1985")
    with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS) as blocker:
        qtbot.keyClick(dialog.birth, Qt.Key.Key_Return)
    result = blocker.args[0]
    qtbot.waitUntil(window.is_settled, timeout=WAIT_MS)

    assert dialog.name.text() == "Trần Thị Mai"
    assert result.identity.card_number == "DN4010123456789"
    assert result.decision.status is Status.ELIGIBLE
    assert window.manual_dialog is None
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.visits)


def test_f2_opens_manual_entry_and_enter_shows_what_to_fix(qtbot, make_desk, session):
    window = make_desk(session, start=True)
    with qtbot.waitActive(window):
        window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F2)
    dialog = window.manual_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.number)

    qtbot.keyClick(dialog.number, Qt.Key.Key_Return)  # everything empty
    assert dialog.isVisible()
    assert [k for k, label in dialog.errors.items() if label.isVisible()] == [
        "number",
        "name",
        "birth",
    ]
    assert dialog.errors["number"].text().startswith("Nhập mã thẻ BHYT")
    assert QApplication.focusWidget() is dialog.number

    qtbot.keyClicks(dialog.number, "12345")
    qtbot.keyClick(dialog.number, Qt.Key.Key_Return)
    assert "Không phải mã thẻ BHYT" in dialog.errors["number"].text()

    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert window.manual_dialog is None
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.visits)
    assert session.store.visits_on(today(session)) == []


@pytest.mark.parametrize(
    ("number", "kind", "field"),
    [
        ("DN4010123456789", PayloadKind.BHYT, "card_number"),
        ("0123456789", PayloadKind.BHYT, "social_insurance_number"),
        ("001185012345", PayloadKind.CCCD, "citizen_id"),
        ("dn 4010 1234 56789", PayloadKind.BHYT, "card_number"),
    ],
)
def test_build_identity_accepts_each_number_kind(number, kind, field):
    identity, problems = build_identity(number, "  trần   thị mai ", "12/05/1985", Gender.FEMALE)
    assert problems == {}
    assert identity is not None and identity.kind is kind
    assert getattr(identity, field)
    assert identity.full_name == "trần thị mai"
    assert identity.date_of_birth == "1985-05-12" and identity.warnings == ()


@pytest.mark.parametrize(
    ("number", "name", "birth", "field", "words"),
    [
        ("", "An", "1985", "number", "Nhập mã thẻ"),
        ("DN40101234", "An", "1985", "number", "Không phải mã thẻ"),
        ("001185012345", "", "1985", "name", "Nhập họ và tên"),
        ("001185012345", "An 2", "1985", "name", "chữ số"),
        ("001185012345", "An", "", "birth", "Nhập ngày sinh"),
        ("001185012345", "An", "31/02/1985", "birth", "không hợp lệ"),
        ("001185012345", "An", "01/01/2099", "birth", "tương lai"),
        ("001185012345", "An", "1850", "birth", "quá xa"),
    ],
)
def test_build_identity_says_what_to_fix(number, name, birth, field, words):
    identity, problems = build_identity(number, name, birth, today=date(2026, 5, 14))
    assert identity is None
    assert words in problems[field]


# -- search and filter -----------------------------------------------------------------------


def test_search_without_diacritics_and_status_filter(qtbot, make_desk, session):
    """F3 searches (diacritics optional, or a number), Esc clears and returns to the list,
    F6 cycles the status filter; the title counts what is shown."""
    window = make_desk(session, start=True)
    for key in ("eligible-old", "expired-010", "wrong-name-060"):
        check_in(qtbot, window, key)
    with qtbot.waitActive(window):
        window.activateWindow()

    qtbot.keyClick(window, Qt.Key.Key_F3)
    assert QApplication.focusWidget() is window.filter.search
    qtbot.keyClicks(window.filter.search, "tran thi")
    assert [v.identity.full_name for v in window.visits.shown_visits()] == ["Trần Thị Mai"]
    assert window.visits_title.text() == "Người bệnh tiếp nhận hôm nay (1/3)"

    qtbot.keyClick(window.filter.search, Qt.Key.Key_Escape)
    assert window.filter.search.text() == ""
    assert QApplication.focusWidget() is window.visits
    assert len(window.visits.shown_visits()) == 3

    window.filter.search.setText("2")  # a queue number
    assert [v.queue_number for v in window.visits.shown_visits()] == [2]
    window.filter.search.setText("3809007890")  # part of a card number
    assert [v.queue_number for v in window.visits.shown_visits()] == [2]
    window.filter.search.clear()

    qtbot.keyClick(window, Qt.Key.Key_F6)  # all → eligible
    assert window.filter.key == "eligible"
    assert [v.queue_number for v in window.visits.shown_visits()] == [1]
    qtbot.keyClick(window, Qt.Key.Key_F6)  # → warning
    assert [v.queue_number for v in window.visits.shown_visits()] == [3]
    qtbot.keyClick(window, Qt.Key.Key_F6)  # → not eligible
    assert [v.queue_number for v in window.visits.shown_visits()] == [2]
    assert window.statusBar().currentMessage() == "Không đủ ĐK"


# -- offline, cache, re-checks ---------------------------------------------------------------


def test_offline_strip_shows_the_cached_answers_age(qtbot, make_desk, session, healthy_sandbox):
    """GIVEN an answer for Lê Thị Bình cached by an earlier lookup
    WHEN the gateway goes down and she is scanned
    THEN the verdict is grey (unverified) from the cache, the banner says when the cached
    answer was had, the offline strip shows with that age, and one re-check is pending."""
    identity = parse_payload(payload_text("eligible-cccd"))
    assert session.intake.check(identity).source is Source.ONLINE  # caches the answer
    window = make_desk(session, start=True)
    assert not window.offline.isVisible()

    healthy_sandbox.faults.set("down")
    result = check_in(qtbot, window, "eligible-cccd")

    assert result.decision.source is Source.CACHE
    assert result.decision.status is Status.UNVERIFIED
    assert window.banner.detail.text().startswith("Theo kết quả tra cứu đã lưu lúc ")
    assert "phút trước" in window.banner.detail.text()
    assert window.offline.isVisible()
    assert window.offline.title.text() == "MẤT KẾT NỐI CỔNG BHXH"
    assert "Kết quả đang hiện là bản lưu lúc" in window.offline.message.text()
    qtbot.waitUntil(lambda: window.pending_label.text() == "Chờ tra lại: 1", timeout=WAIT_MS)
    assert window.pending_label.isVisible()
    assert window.visits.item(0, 5).text() == "Chờ tra lại"
    assert window.sounds.played == ["warning"]


def test_a_slow_lookup_does_not_replace_the_next_patients_verdict(
    qtbot, make_desk, session, healthy_sandbox
):
    """GIVEN the gateway slow for Trần Thị Mai's lookup
    WHEN the next patient (an expired card) is scanned and answered first
    THEN the screen stays on the next patient when Mai's answer arrives late: Mai is registered
    (queue number 1, the list shows both), the status bar announces her late verdict, and her
    outcome sound plays; nothing on screen jumps back to her."""
    window = make_desk(session, start=True)
    asked = sum(healthy_sandbox.requests_by_card.values())  # the sandbox serves every test
    healthy_sandbox.faults.set("slow", 1.5)
    window.submit(payload_text("eligible-old"))
    qtbot.waitUntil(lambda: sum(healthy_sandbox.requests_by_card.values()) > asked, timeout=WAIT_MS)
    qtbot.wait(300)  # counted on arrival; let its handler reach the fault's sleep
    healthy_sandbox.faults.set("none")
    with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS) as first:
        window.submit(payload_text("expired-010"))
    assert first.args[0].identity.full_name == "Lý Văn Sơn"
    with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS) as late:
        pass
    qtbot.waitUntil(window.is_settled, timeout=WAIT_MS)

    mai = late.args[0]
    assert mai.identity.full_name == "Trần Thị Mai" and mai.decision.status is Status.ELIGIBLE
    assert window.last_result.identity.full_name == "Lý Văn Sơn"
    assert window.banner.title.text() == text.status_title(Status.NOT_ELIGIBLE)
    assert window.current_visit.id == first.args[0].visit.id
    assert window.statusBar().currentMessage() == text.late_result(
        "Trần Thị Mai", mai.visit.queue_number, text.status_short(Status.ELIGIBLE)
    )
    assert window.sounds.played == ["not_eligible", "eligible"]
    assert window.visits.rowCount() == 2
    assert len(window.scan_latencies) == 1  # only the verdict that went on screen


def test_no_gateway_configured_shows_the_strip(qtbot, make_desk, session):
    session.intake.gateway, gateway = None, session.intake.gateway
    try:
        window = make_desk(session, start=True)
        assert window.offline.isVisible()
        assert "CHƯA CẤU HÌNH CỔNG BHXH" in window.offline.message.text()
    finally:
        session.intake.gateway = gateway


def test_recheck_found_not_eligible_is_marked_for_attention(
    qtbot, make_desk, session, healthy_sandbox
):
    """GIVEN Lý Văn Sơn checked in while the gateway was down (unverified)
    WHEN the re-check later finds his card expired
    THEN his row is marked in the list, the counter says one visit needs attention, and the
    "needs attention" filter shows just him."""
    window = make_desk(session, start=True)
    healthy_sandbox.faults.set("down")
    check_in(qtbot, window, "expired-010")
    check_in(qtbot, window, "eligible-old")  # unverified too, but will re-check eligible
    healthy_sandbox.faults.set("none")
    session.intake.breaker = CircuitBreaker(cooldown_s=0)
    OutboxSender(session.intake).run_once(everything=True)

    with qtbot.waitSignal(window.visits_loaded, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key.Key_F5)
    window.refresh_counts()
    qtbot.waitUntil(lambda: window.attention == 1 and window.pending == 0, timeout=WAIT_MS)

    assert window.attention_label.isVisible()
    assert window.attention_label.text() == "Cần xử lý: 1"
    assert not window.pending_label.isVisible()
    marked = [window.visits.item(r, 5).text() for r in range(window.visits.rowCount())]
    assert marked == [text.note_attention(), ""]
    window.filter.set_key("attention")
    assert [v.identity.full_name for v in window.visits.shown_visits()] == ["Lý Văn Sơn"]


# -- feedback, shortcuts, focus --------------------------------------------------------------


def test_each_scan_flashes_the_banner_and_sounds_its_outcome(qtbot, make_desk, session):
    window = make_desk(session, start=True)
    check_in(qtbot, window, "eligible-old")
    assert window.banner.flashing
    qtbot.waitUntil(lambda: not window.banner.flashing, timeout=2000)
    check_in(qtbot, window, "wrong-name-060")
    check_in(qtbot, window, "expired-010")
    with qtbot.waitSignal(window.runner.failed, timeout=WAIT_MS):
        window.submit("not|a|card")
    check_in(qtbot, window, "eligible-old")
    assert window.sounds.played == ["eligible", "warning", "not_eligible", "error", "duplicate"]


def test_every_action_has_a_shortcut_listed_in_the_footer(make_desk, session):
    window = make_desk(session)
    hint = window.hint.text()
    for name, action in window.actions_by_key.items():
        keys = action.shortcut().toString()
        assert keys, name
        if name not in ("focus_list", "language"):
            assert keys in hint, (name, keys)


def test_focus_rests_on_the_list_after_a_scan(qtbot, make_desk, session):
    window = make_desk(session, start=True)
    with qtbot.waitActive(window):
        window.activateWindow()
    window.filter.combo.setFocus()
    result = check_in(qtbot, window, "eligible-old")
    assert QApplication.focusWidget() is window.visits
    assert window.visits.selected_visit().id == result.visit.id


def test_enter_on_a_row_shows_that_visit(qtbot, make_desk, session):
    window = make_desk(session, start=True)
    check_in(qtbot, window, "expired-010")
    check_in(qtbot, window, "eligible-old")
    with qtbot.waitActive(window):
        window.activateWindow()
    window.visits.setFocus()
    window.visits.selectRow(0)
    with qtbot.waitSignal(window.visits.visit_chosen, timeout=2000):
        qtbot.keyClick(window.visits, Qt.Key.Key_Return)
    assert window.queue.number.text() == "1"
    assert window.banner.status is Status.NOT_ELIGIBLE
    assert window.patient.value("name") == "Lý Văn Sơn"


# -- the keyboard-wedge scanner route --------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def send_burst(clock: FakeClock, text: str) -> None:
    """A scanner burst into whichever widget has focus: 4 ms per key, Enter at the end."""
    for char in text + "\r":
        clock.now += 4
        key = Qt.Key.Key_Return if char == "\r" else Qt.Key.Key_unknown
        target = QApplication.focusWidget()
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, char)
            QApplication.sendEvent(target, event)


def test_officer_scanning_their_cccd_at_the_lock_fills_the_form(qtbot, make_desk, session):
    from ui.wedge import WedgeFilter

    clock = FakeClock()
    window = make_desk(session, start=True, wedge=WedgeFilter(clock=clock))
    with qtbot.waitActive(window):
        window.activateWindow()
    window.lock()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.sign_in.citizen_id)
    officer = session.config.gateway.officer
    send_burst(clock, own_card(officer))
    assert window.sign_in.name.text() == officer.name
    assert window.sign_in.citizen_id.text() == officer.citizen_id
    assert QApplication.focusWidget() is window.sign_in.citizen_id  # Enter signs in
    assert window.locked
    send_burst(clock, payload_text("eligible-cccd"))  # a patient's CCCD: not taken
    assert window.sign_in.citizen_id.text() == officer.citizen_id


def test_wedge_scanner_burst_is_checked_in(qtbot, make_desk, session):
    """GIVEN the desk with the application-wide wedge filter installed
    WHEN a scanner types a BHYT QR in a 4 ms-per-key burst ending with Enter, while the
    search box has focus
    THEN the burst is checked in like a camera scan and the search box stays empty."""
    from ui.wedge import WedgeFilter

    clock = FakeClock()
    window = make_desk(session, start=True, wedge=WedgeFilter(clock=clock))
    with qtbot.waitActive(window):
        window.activateWindow()
    window.filter.search.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.filter.search)
    qr = payload_text("eligible-old")
    with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS) as blocker:
        send_burst(clock, qr)
    assert blocker.args[0].identity.full_name == "Trần Thị Mai"
    assert window.filter.search.text() == ""


def test_serial_scanner_scans_are_checked_in(qtbot, make_desk, session):
    """GIVEN the recorded serial stream of three patients (CR LF after each)
    WHEN the desk reads it through the serial bridge
    THEN the three are checked in (intakes run in parallel: any order)."""
    from drivers.serial_scanner import make_scanner
    from tests.test_desk import FIXTURES
    from ui.workers import SerialBridge

    stream = FIXTURES / "streams" / "crlf-three.bin"
    bridge = SerialBridge(lambda on_scan, on_status: make_scanner(f"replay:{stream}", on_scan))
    window = make_desk(session, serial=bridge)
    names: list[str] = []
    window.checked_in.connect(lambda result: names.append(result.identity.full_name))
    window.start()
    qtbot.waitUntil(lambda: len(names) == 3 and window.is_settled(), timeout=WAIT_MS)
    assert sorted(names) == ["Lê Thị Bình", "Phạm Văn Hùng", "Trần Thị Mai"]


# -- sounds ----------------------------------------------------------------------------------


def test_each_outcome_has_its_own_short_wav(tmp_path):
    """The tones are written with the standard library and handed to the player; without a
    player (or when playing fails) the fallback beep is used and nothing is raised."""
    import wave

    from ui.sounds import OUTCOMES, Sounds

    played: list = []
    sounds = Sounds(player=played.append, folder=tmp_path)
    for outcome in OUTCOMES:
        sounds.play(outcome)
    assert [p.stem for p in played] == list(OUTCOMES)
    frames = set()
    for path in played:
        with wave.open(str(path)) as wav:
            seconds = wav.getnframes() / wav.getframerate()
            assert 0.1 < seconds < 0.6
            frames.add(wav.readframes(wav.getnframes()))
    assert len(frames) == len(OUTCOMES)  # all different

    beeps: list[bool] = []

    def broken(path):
        raise OSError("no audio device")

    fallback = Sounds(player=broken, folder=tmp_path, beep=lambda: beeps.append(True))
    fallback.play("eligible")
    fallback.play("no-such-outcome")
    assert fallback.played == ["eligible", "error"] and beeps == [True, True]


def test_tools_menu_opens_settings_and_diagnostics(qtbot, make_desk, session):
    """IT reaches Settings (Ctrl+,) and Diagnostics (F9) from the desk itself."""
    from ui.diagnostics import DiagnosticsPanel
    from ui.settings import SettingsDialog

    desk = make_desk(session)
    desk.actions_by_key["diagnostics"].trigger()
    qtbot.waitUntil(lambda: bool(desk.findChildren(DiagnosticsPanel)), timeout=WAIT_MS)
    (panel,) = desk.findChildren(DiagnosticsPanel)
    qtbot.waitUntil(lambda: panel.table.rowCount() > 0, timeout=WAIT_MS)  # ran on opening
    desk.actions_by_key["settings"].trigger()  # one tool at a time
    assert not desk.findChildren(SettingsDialog)
    desk.tool_dialogs["diagnostics"].reject()
    qtbot.waitUntil(lambda: desk.visits.hasFocus(), timeout=WAIT_MS)  # focus back home
    desk.actions_by_key["settings"].trigger()
    qtbot.waitUntil(lambda: bool(desk.findChildren(SettingsDialog)), timeout=WAIT_MS)
    (dialog,) = desk.findChildren(SettingsDialog)
    assert dialog.isVisible()
    dialog.reject()
    qtbot.waitUntil(lambda: desk.visits.hasFocus() and not desk.tool_dialogs, timeout=WAIT_MS)


def test_settings_borrows_a_live_camera_and_gives_it_back(qtbot, session, tmp_path):
    """A webcam opens once: while Settings is open the desk lets go of it (so the dialog's
    preview and test can open it), says so under the preview, and takes it back after."""
    from tests.test_camera_feed import FlakyCamera
    from ui.desk import DeskWindow
    from ui.settings import SettingsDialog
    from ui.sounds import Sounds
    from ui.workers import CameraWorker

    camera = FlakyCamera(before=10**6, refusals=0, text="x")
    window = DeskWindow(
        session.intake,
        CameraWorker(camera),
        officer=session.config.gateway.officer,
        config=session.config,
        sounds=Sounds(enabled=False),
        ticket_folder=tmp_path,
    )
    qtbot.addWidget(window)
    window.show()
    try:
        window.start()
        qtbot.waitUntil(lambda: window._camera_state == "running", timeout=WAIT_MS)
        window.actions_by_key["settings"].trigger()
        (dialog,) = window.findChildren(SettingsDialog)
        qtbot.waitUntil(lambda: window._camera_state == "paused", timeout=WAIT_MS)
        assert camera.closed and not window.camera.isRunning()
        assert window.camera_caption.text() == text.camera_paused()
        dialog.reject()
        qtbot.waitUntil(lambda: window._camera_state == "running", timeout=WAIT_MS)
        assert camera.opens == 2 and not camera.closed
    finally:
        window.shutdown()
