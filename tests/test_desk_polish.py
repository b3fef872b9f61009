"""What a receptionist and an IT technician trip over at the desk, offscreen against the real
sandbox: a search that hides the selected row, the duplicate flag kept in the list, dialogs
left on top of the lock, the focus after Settings and Diagnostics, a lost serial scanner,
sounds on every scan, the status line in the chosen language, and Settings that apply."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from checkin.formats import cccd_payload
from checkin.model import Gender, Identity, PayloadKind
from tests import test_desk
from tests.test_desk import WAIT_MS, check_in, type_text
from ui import i18n, text

make_desk, session, english = test_desk.make_desk, test_desk.session, test_desk.english


def namesake(citizen_id: str) -> str:
    """A CCCD QR of one of two different people who share a name and a birth date."""
    return cccd_payload(
        Identity(
            kind=PayloadKind.CCCD,
            full_name="Đỗ Văn Trùng",
            citizen_id=citizen_id,
            date_of_birth="1970-01-01",
            gender=Gender.MALE,
            address="Số 2 Phố Vĩ Dụ, Hà Nội",
            issue_date="2021-04-01",
        )
    )


# -- the list, the search and F8 ----------------------------------------------------------


def test_a_search_that_hides_the_selected_row_moves_the_selection(qtbot, make_desk, session):
    """GIVEN two patients, the second selected WHEN a search shows only the first
    THEN the hidden one is no longer selected: the first match is, and Enter in the search
    box opens it."""
    window = make_desk(session, start=True)
    check_in(qtbot, window, "eligible-old")
    check_in(qtbot, window, "expired-010")
    assert window.visits.selected_visit().queue_number == 2

    window.focus_search()
    type_text(window.filter.search, "tran thi")
    assert [v.queue_number for v in window.visits.shown_visits()] == [1]
    assert window.visits.selected_visit().queue_number == 1

    qtbot.keyClick(window.filter.search, Qt.Key.Key_Return)
    assert window.current_visit.queue_number == 1
    assert window.patient.value("name") == "Trần Thị Mai"
    assert window.visits.hasFocus()


def test_f8_after_a_scan_prints_the_new_patient_even_with_a_search_on(qtbot, make_desk, session):
    """GIVEN a search that shows only patient 1, the officer back in the list WHEN patient 2 is
    scanned and F8 pressed at once THEN the ticket is patient 2's, and the list shows them
    again (search cleared)."""
    window = make_desk(session, start=True)
    check_in(qtbot, window, "eligible-old")
    window.focus_search()
    type_text(window.filter.search, "tran thi")
    window.focus_home()
    result = check_in(qtbot, window, "expired-010")

    with qtbot.waitSignal(window.ticket_printed, timeout=WAIT_MS) as printed:
        window.actions_by_key["print"].trigger()
    assert printed.args[0].id == result.visit.id
    assert window.filter.search.text() == ""
    assert window.visits.selected_visit().id == result.visit.id


def test_a_scan_while_typing_a_search_leaves_the_search_alone(qtbot, make_desk, session):
    """GIVEN the officer typing in the search box WHEN a camera scan checks someone in
    THEN the focus and the search text stay (the keys typed next still go to the search),
    and F8 still prints the patient just checked in."""
    window = make_desk(session, start=True)
    check_in(qtbot, window, "eligible-old")
    window.focus_search()
    type_text(window.filter.search, "tran")
    result = check_in(qtbot, window, "expired-010")
    assert window.filter.search.hasFocus() and window.filter.search.text() == "tran"
    type_text(window.filter.search, " thi")
    assert window.filter.search.text() == "tran thi"
    with qtbot.waitSignal(window.ticket_printed, timeout=WAIT_MS) as printed:
        window.actions_by_key["print"].trigger()
    assert printed.args[0].id == result.visit.id


def test_f8_prints_the_row_the_user_picked(qtbot, make_desk, session):
    """GIVEN two check-ins WHEN the officer moves up to row 1 with the keyboard and presses F8
    THEN row 1's ticket is printed (a reprint from the list)."""
    window = make_desk(session, start=True)
    check_in(qtbot, window, "eligible-old")
    check_in(qtbot, window, "expired-010")
    window.focus_home()
    qtbot.keyClick(window.visits, Qt.Key.Key_Up)
    with qtbot.waitSignal(window.ticket_printed, timeout=WAIT_MS) as printed:
        window.actions_by_key["print"].trigger()
    assert printed.args[0].queue_number == 1


def test_down_from_the_search_box_goes_to_the_first_match(qtbot, make_desk, session):
    window = make_desk(session, start=True)
    check_in(qtbot, window, "eligible-old")
    check_in(qtbot, window, "expired-010")
    window.focus_search()
    type_text(window.filter.search, "ly van")
    qtbot.keyClick(window.filter.search, Qt.Key.Key_Down)
    assert window.visits.hasFocus()
    assert window.visits.selected_visit().queue_number == 2


# -- possible duplicates stay flagged ------------------------------------------------------


def test_a_possible_duplicate_is_noted_in_the_list_and_when_reviewed(qtbot, make_desk, session):
    """GIVEN two people with the same name and birth date but different citizen IDs checked in
    WHEN the list loads and the first is reviewed with Enter THEN both rows' notes name the
    other's number and the panel shows the warning again."""
    window = make_desk(session, start=True)
    first = check_in(qtbot, window, namesake("001070000901"))
    second = check_in(qtbot, window, namesake("001070000902"))
    assert second.visit.id != first.visit.id

    notes = {
        v.queue_number: window.visits.item(row, 5).text()
        for row, v in enumerate(window.visits.visits)
    }
    assert text.note_duplicate(str(second.visit.queue_number)) in notes[first.visit.queue_number]
    assert text.note_duplicate(str(first.visit.queue_number)) in notes[second.visit.queue_number]

    window.visits.select_visit(first.visit.id)
    window.visits.choose_selected()
    assert window.current_visit.id == first.visit.id
    assert f"số thứ tự {second.visit.queue_number}" in window.patient.duplicate_text


# -- dialogs, lock and focus ---------------------------------------------------------------


def test_the_lock_closes_settings_and_diagnostics(qtbot, make_desk, session):
    """GIVEN Settings open WHEN the desk locks (idle or Ctrl+L) THEN Settings closes, nothing
    stays on top of the sign-in form; the same for Diagnostics."""
    from ui.settings import SettingsDialog

    window = make_desk(session, start=True)
    for action, kind in (("settings", SettingsDialog), ("diagnostics", QDialog)):
        window.actions_by_key[action].trigger()
        qtbot.waitUntil(lambda a=action: a in window.tool_dialogs, timeout=WAIT_MS)
        dialog = window.tool_dialogs[action]
        assert isinstance(dialog, kind) and dialog.isVisible()
        window.lock()
        assert window.locked
        qtbot.waitUntil(lambda d=dialog: not d.isVisible(), timeout=WAIT_MS)
        assert not window.tool_dialogs
        window._unlock(window.officer)


def test_settings_and_diagnostics_are_not_opened_while_locked(qtbot, make_desk, session):
    window = make_desk(session, start=True)
    window.lock()
    window.open_settings()
    window.open_diagnostics()
    assert not window.tool_dialogs


def test_saved_settings_apply_the_idle_lock_and_language_at_once(qtbot, make_desk, session):
    window = make_desk(session, start=True)
    config = session.config
    saved = replace(config, desk=replace(config.desk, idle_lock_min=1, language="en"))
    try:
        window._settings_saved(saved)
        assert window.idle.interval_ms == 60_000
        assert i18n.language() == i18n.ENGLISH
        assert window.statusBar().currentMessage().startswith("Settings saved")
    finally:
        i18n.set_language(i18n.VIETNAMESE)
    assert window.statusBar().currentMessage().startswith("Đã lưu cài đặt")


# -- the status line and sounds ------------------------------------------------------------


def test_the_status_line_follows_a_language_switch(qtbot, make_desk, session):
    """GIVEN 'checked in X: number N' on the status line WHEN the language is switched
    THEN the line is said again in English, not left in Vietnamese."""
    window = make_desk(session, start=True)
    result = check_in(qtbot, window, "eligible-old")
    vietnamese = window.statusBar().currentMessage()
    assert vietnamese == text.checked_in("Trần Thị Mai", result.visit.queue_number)
    try:
        window.toggle_language()
        english_line = window.statusBar().currentMessage()
        assert english_line != vietnamese and "Trần Thị Mai" in english_line
    finally:
        i18n.set_language(i18n.VIETNAMESE)
    assert window.statusBar().currentMessage() == vietnamese


def test_a_bad_qr_is_explained_without_english_in_vietnamese(qtbot, make_desk, session):
    window = make_desk(session, start=True)
    with qtbot.waitSignal(window.runner.failed, timeout=WAIT_MS) as failed:
        window.submit("DN4010123456789|x|$")
    message = failed.args[0]
    assert message.startswith("Mã QR không hợp lệ (mã bị thiếu hoặc thừa phần")
    assert "fields" not in message and "expected" not in message


def test_bad_qr_in_english_keeps_the_detail(english):
    assert text.bad_qr("BHYT QR has 3 fields, expected 15 or 17").endswith(
        "Detail: BHYT QR has 3 fields, expected 15 or 17"
    )


def test_every_scan_makes_a_sound(qtbot, make_desk, session):
    """A number alone (manual entry opens) and a scan at a locked desk are heard too."""
    window = make_desk(session, start=True)
    window.submit("001185012345")
    assert window.sounds.played[-1] == "warning"
    window.manual_dialog.reject()
    window.lock()
    window.submit("not a card at all")
    assert window.sounds.played[-1] == "error"


# -- the serial scanner ----------------------------------------------------------------------


def test_a_lost_serial_scanner_is_said_and_its_return_too(qtbot, make_desk, session, tmp_path):
    """GIVEN the real serial driver on a port that is not there (a scanner unplugged) THEN the
    status line and the caption under the camera say so (in words, not pyserial's), with
    the error sound; WHEN the port appears (a pseudo-terminal linked at that path) and the
    driver's own retry opens it THEN the desk says so and the caption clears."""
    import os

    from drivers.scan_framing import DuplicateGuard
    from drivers.serial_scanner import make_scanner
    from ui.workers import SerialBridge

    port = tmp_path / "ttyScanner"

    def factory(on_scan, on_status):
        return make_scanner(
            str(port), on_scan, on_status, guard=DuplicateGuard(1.0), reconnect_s=0.2
        )

    bridge = SerialBridge(factory)
    window = make_desk(session, serial=bridge, start=True)
    qtbot.waitUntil(
        lambda: window.statusBar().currentMessage() == text.serial_lost(), timeout=WAIT_MS
    )
    assert text.serial_caption() in window.camera_caption.text()
    assert window.sounds.played[-1] == "error"
    master, slave = os.openpty()
    try:
        port.symlink_to(os.ttyname(slave))
        qtbot.waitUntil(
            lambda: window.statusBar().currentMessage() == text.serial_back(), timeout=WAIT_MS
        )
        assert text.serial_caption() not in window.camera_caption.text()
    finally:
        bridge.stop()
        os.close(master)
        os.close(slave)


# -- re-checks, attention, the lock and paste ----------------------------------------------


def test_background_rechecks_reach_the_list_and_the_banner_without_f5(
    qtbot, make_desk, session, healthy_sandbox
):
    """GIVEN two patients checked in while the gateway was down, Mai's verdict on screen
    WHEN the re-check runs in the background THEN the next counter refresh reloads the list
    (Lý Văn Sơn marked, Mai eligible) and Mai's banner is no longer 'unverified'; F7 on
    Lý Văn Sơn's row then clears his flag and the counter."""
    from checkin.breaker import CircuitBreaker
    from checkin.model import Status
    from checkin.outbox import OutboxSender

    window = make_desk(session, start=True)
    healthy_sandbox.faults.set("down")
    try:
        check_in(qtbot, window, "expired-010")
        mai = check_in(qtbot, window, "eligible-old")
    finally:
        healthy_sandbox.faults.set("none")
    assert mai.decision.status is Status.UNVERIFIED
    session.intake.breaker = CircuitBreaker(cooldown_s=0)
    OutboxSender(session.intake).run_once(everything=True)

    window.counts_timer.timeout.emit()  # the 5 s timer firing
    qtbot.waitUntil(lambda: window.attention == 1 and window.pending == 0, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.current_visit.status is Status.ELIGIBLE, timeout=WAIT_MS)
    assert window.banner.status is Status.ELIGIBLE
    notes = [window.visits.item(r, 5).text() for r in range(window.visits.rowCount())]
    assert notes == [text.note_attention(), ""]

    son = next(v for v in window.visits.visits if v.needs_attention)
    window.focus_home()
    window.visits.select_visit(son.id)
    window._list_moved()  # as the arrow key would
    window.actions_by_key["handled"].trigger()
    qtbot.waitUntil(lambda: window.attention == 0, timeout=WAIT_MS)
    assert not window.attention_label.isVisible()
    assert window.statusBar().currentMessage() == text.handled(son.queue_number)


def test_f7_without_a_visit_needing_attention_says_how(qtbot, make_desk, session):
    window = make_desk(session, start=True)
    check_in(qtbot, window, "eligible-old")
    window.actions_by_key["handled"].trigger()
    assert window.statusBar().currentMessage() == text.nothing_to_handle()


def test_a_verdict_arriving_after_the_lock_stays_off_the_lock_screen(
    qtbot, make_desk, session, healthy_sandbox
):
    """GIVEN a slow lookup in flight WHEN the desk is locked and the officer starts typing their
    ID THEN the late verdict neither names the patient on the lock screen nor moves the
    focus or selects what was typed."""
    window = make_desk(session, start=True)
    healthy_sandbox.faults.set("slow", delay_s=1.0)
    try:
        window.submit(test_desk.payload_text("eligible-old"))
        window.lock()
        field = window.sign_in.citizen_id
        field.clear()
        field.setFocus()
        type_text(field, "0010900")
        with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS):
            pass
    finally:
        healthy_sandbox.faults.set("none")
    assert window.locked
    assert "Trần Thị Mai" not in window.statusBar().currentMessage()
    assert field.text() == "0010900" and not field.hasSelectedText()


def test_ctrl_v_in_the_search_box_checks_a_qr_in(qtbot, make_desk, session):
    """The search box keeps Ctrl+V for itself: a patient's QR on the clipboard is checked in
    anyway (the footer promises it); words are pasted into the search as usual."""
    from PySide6.QtGui import QGuiApplication

    window = make_desk(session, start=True)
    window.focus_search()
    QGuiApplication.clipboard().setText(test_desk.payload_text("eligible-old"))
    with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS):
        qtbot.keyClick(window.filter.search, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.filter.search.text() == ""
    QGuiApplication.clipboard().setText("tran thi")
    qtbot.keyClick(window.filter.search, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.filter.search.text() == "tran thi"


def test_a_device_message_is_cleared_on_a_language_switch(qtbot, make_desk, session):
    window = make_desk(session, start=True)
    window.show_error("Không mở được camera 0")
    try:
        window.toggle_language()
        assert window.statusBar().currentMessage() == ""
    finally:
        i18n.set_language(i18n.VIETNAMESE)


def test_the_desk_fits_a_1024_by_768_screen_in_both_languages(qtbot, make_desk, session):
    """Small reception PCs: with both counters showing, nothing forces the window wider
    than 1024 pixels (long labels wrap instead)."""
    window = make_desk(session, start=True)
    check_in(qtbot, window, "eligible-old")
    window.pending, window.attention = 3, 2
    window._show_counts()
    try:
        for language in (i18n.VIETNAMESE, i18n.ENGLISH):
            i18n.set_language(language)
            window.resize(1024, 768)
            assert window.minimumSizeHint().width() <= 1024, language
            assert window.width() == 1024
    finally:
        i18n.set_language(i18n.VIETNAMESE)
