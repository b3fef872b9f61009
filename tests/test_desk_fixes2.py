"""Fixes from the sixth desk audit: the offline strip's age grows while the gateway stays
down, manual entry's error lines are fully shown, the sign-in error follows the language, and
a patient's CCCD seen by the camera at the lock does not take over the sign-in form."""

from __future__ import annotations

import time
import types

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication

from checkin.breaker import CircuitBreaker
from tests import test_desk
from tests.test_desk import check_in, own_card, payload_text, type_text
from ui import i18n, text

# Fixtures shared with tests/test_desk.py (pytest finds them under these names).
make_desk, session = test_desk.make_desk, test_desk.session


# -- 1. the offline strip's age -----------------------------------------------------------------


def test_offline_strip_counts_minutes_since_going_offline(
    qtbot, make_desk, session, healthy_sandbox, monkeypatch
):
    """GIVEN the gateway goes down and the outbox sender probes it every 5 s for 30 minutes
    THEN the strip says offline for 30 minutes (not 0: each failed probe used to restart it)."""
    session.sender.stop()
    now = [100_000.0]  # a whole number: 360 steps of 5 s add up to exactly 30 min
    clock = lambda: now[0]  # noqa: E731
    session.intake.breaker = CircuitBreaker(clock=clock)
    fake_time = types.SimpleNamespace(monotonic=clock, perf_counter=time.perf_counter)
    monkeypatch.setattr("ui.desk.time", fake_time)
    window = make_desk(session, start=True)
    check_in(qtbot, window, "eligible-cccd")
    healthy_sandbox.faults.set("down")
    check_in(qtbot, window, "eligible-old")
    assert not session.intake.breaker.online
    went_offline = session.intake.breaker.status.offline_since
    session.intake.probing_in_background = True
    for _ in range(360):
        now[0] += 5
        session.intake.probe()
    status = session.intake.breaker.status
    assert status.failures > 10 and status.offline_since == went_offline
    assert now[0] - status.since == pytest.approx(30 * 60)
    window.update_offline()
    assert text.offline_since(30) in window.offline.message.text()


# -- 2. manual entry's error lines --------------------------------------------------------------


@pytest.mark.parametrize("language", [i18n.VIETNAMESE, i18n.ENGLISH])
def test_manual_entry_errors_are_fully_shown_under_their_fields(
    qtbot, make_desk, session, language
):
    """GIVEN F2 and a bad number with the name and birth date empty
    WHEN Enter is pressed
    THEN every error line is shown whole (its wrapped height fits), inside the dialog, and
    above the next field (no overlap), in Vietnamese and in English."""
    i18n.set_language(language)
    try:
        window = make_desk(session, start=True)
        window.open_manual_entry()
        dialog = window.manual_dialog
        qtbot.waitExposed(dialog)
        dialog.number.setText("DN40")
        qtbot.keyClick(dialog.number, Qt.Key.Key_Return)
        qtbot.wait(20)
        shown = [k for k, label in dialog.errors.items() if label.isVisible()]
        assert shown == ["number", "name", "birth"]
        below = {"number": dialog.name, "name": dialog.birth, "birth": dialog.gender}
        inside = dialog.rect()
        for key in shown:
            label = dialog.errors[key]
            box = QRect(label.mapTo(dialog, QPoint(0, 0)), label.size())
            assert label.height() >= label.heightForWidth(label.width()), key
            assert label.height() >= label.minimumSizeHint().height(), key
            assert inside.contains(box), (key, box, inside)
            field = below[key]
            field_box = QRect(field.mapTo(dialog, QPoint(0, 0)), field.size())
            assert box.bottom() < field_box.top(), (key, box, field_box)
            above = {"number": dialog.number, "name": dialog.name, "birth": dialog.birth}[key]
            assert QRect(above.mapTo(dialog, QPoint(0, 0)), above.size()).bottom() < box.top()
        buttons = QRect(dialog.buttons.mapTo(dialog, QPoint(0, 0)), dialog.buttons.size())
        assert inside.contains(buttons)
        dialog.reject()
    finally:
        i18n.set_language(i18n.VIETNAMESE)


# -- 3. the sign-in error follows the language ---------------------------------------------------


def test_sign_in_error_is_said_again_in_the_new_language(qtbot, make_desk, session):
    window = make_desk(session, start=True)
    window.lock()
    page = window.sign_in
    page.citizen_id.setText("12345")
    page.submit()
    assert page.error.text() == "Số CCCD của cán bộ phải đủ 12 chữ số (đang có 5)."
    page.citizen_id.setText("1234567")  # typing on does not change the shown error
    try:
        i18n.set_language(i18n.ENGLISH)
        assert page.error.text() == "The officer's citizen ID must have 12 digits (5 typed)."
    finally:
        i18n.set_language(i18n.VIETNAMESE)
    assert "đang có 5" in page.error.text()
    page.prepare(None, locked_by=window.officer)
    assert page.error.isHidden()
    i18n.set_language(i18n.ENGLISH)
    i18n.set_language(i18n.VIETNAMESE)
    assert page.error.isHidden() and page.error.text() == ""


# -- 4. a CCCD scanned at the lock ---------------------------------------------------------------


def locked_with_digits(qtbot, window, digits: str):
    with qtbot.waitActive(window):
        window.activateWindow()
    window.lock()
    page = window.sign_in
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.citizen_id)
    type_text(page.citizen_id, digits)
    return page


def test_a_patients_cccd_at_the_lock_is_not_taken(qtbot, make_desk, session):
    """GIVEN the desk locked by the officer, who has typed 4 digits of their ID
    WHEN the camera sees a patient's CCCD
    THEN the form is untouched (no patient name or citizen ID on the lock screen), the desk
    says scans are not taken, the focus stays in the ID field, and the officer's next digits
    and Enter sign the officer in."""
    officer = session.config.gateway.officer
    window = make_desk(session, start=True)
    page = locked_with_digits(qtbot, window, officer.citizen_id[:4])
    window.submit(payload_text("wrong-dob-070"))  # Dương Thị Thanh, 001190003579
    assert page.name.text() == officer.name
    assert page.citizen_id.text() == officer.citizen_id[:4]
    assert window.statusBar().currentMessage() == text.locked_scan_ignored()
    assert window.sounds.played[-1] == "error"
    assert QApplication.focusWidget() is page.citizen_id
    type_text(page.citizen_id, officer.citizen_id[4:])
    qtbot.keyClick(page.citizen_id, Qt.Key.Key_Return)
    assert not window.locked and window.officer == officer


def test_the_locked_officers_own_cccd_completes_what_was_typed(qtbot, make_desk, session):
    officer = session.config.gateway.officer
    window = make_desk(session, start=True)
    page = locked_with_digits(qtbot, window, officer.citizen_id[:4])
    window.submit(own_card(officer))
    assert page.name.text() == officer.name
    assert page.citizen_id.text() == officer.citizen_id
    assert QApplication.focusWidget() is page.citizen_id  # still where the officer types
    type_text(page.citizen_id, "99")  # keys still on their way: the field is full
    assert page.citizen_id.text() == officer.citizen_id
    qtbot.keyClick(page.citizen_id, Qt.Key.Key_Return)
    assert not window.locked and window.officer == officer


def test_the_locked_officers_card_does_not_overwrite_different_digits(qtbot, make_desk, session):
    officer = session.config.gateway.officer
    window = make_desk(session, start=True)
    page = locked_with_digits(qtbot, window, "999")
    window.submit(own_card(officer))
    assert page.citizen_id.text() == "999"
    assert window.locked


def test_first_sign_in_fills_from_the_officers_card_without_moving_the_focus(
    qtbot, make_desk, session
):
    """GIVEN the first sign-in of the day (nobody locked in) with the form empty and the
    focus in the name field WHEN the officer scans their own CCCD THEN both fields are filled,
    the focus stays in the name field, and Enter there signs in."""
    officer = session.config.gateway.officer
    window = make_desk(session, officer=None, start=True)
    with qtbot.waitActive(window):
        window.activateWindow()
    page = window.sign_in
    page.name.setText("")
    page.citizen_id.setText("")
    page.name.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.name)
    window.submit(own_card(officer))
    assert (page.name.text(), page.citizen_id.text()) == (officer.name, officer.citizen_id)
    assert QApplication.focusWidget() is page.name
    qtbot.keyClick(page.name, Qt.Key.Key_Return)
    assert not window.locked and window.officer == officer


def test_first_sign_in_keeps_what_was_typed(qtbot, make_desk, session):
    """GIVEN the first sign-in with a name being typed WHEN a patient's CCCD is seen THEN
    nothing is overwritten or mixed in (not even the empty ID field) and the scan is refused."""
    window = make_desk(session, officer=None, start=True)
    with qtbot.waitActive(window):
        window.activateWindow()
    page = window.sign_in
    page.name.setText("")
    page.citizen_id.setText("")
    page.name.setFocus()
    type_text(page.name, "Nguyễn Văn")
    window.submit(payload_text("eligible-cccd"))  # Lê Thị Bình
    assert (page.name.text(), page.citizen_id.text()) == ("Nguyễn Văn", "")
    assert window.statusBar().currentMessage() == text.locked_scan_ignored()
    assert QApplication.focusWidget() is page.name
