"""Officer sign-in and the idle lock: every lookup carries the signed-in officer (the sandbox
answers 054 for an officer it does not know), the desk locks after the idle time or Ctrl+L,
and the lock hides the patient and takes no scans."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from checkin.model import Officer, Status
from tests import test_desk
from tests.test_desk import WAIT_MS, check_in, own_card, payload_text, today, type_text
from ui.signin import DEFAULT_IDLE_LOCK_MIN, idle_lock_minutes, validate_officer

# Fixtures shared with tests/test_desk.py (pytest finds them under these names).
make_desk, session = test_desk.make_desk, test_desk.session

GUEST = Officer("Lê Văn Khách", "001099999999")  # not registered with the sandbox


def sign_in(qtbot, window, name: str, citizen_id: str) -> None:
    page = window.sign_in
    page.name.setText("")
    page.name.setFocus()
    type_text(page.name, name)
    page.citizen_id.setText("")
    page.citizen_id.setFocus()
    qtbot.keyClicks(page.citizen_id, citizen_id)
    qtbot.keyClick(page.citizen_id, Qt.Key.Key_Return)


def test_desk_opens_on_the_sign_in_form_filled_from_the_configuration(qtbot, make_desk, session):
    """GIVEN no officer given to the window
    WHEN it opens
    THEN the sign-in form shows the configured officer, Enter signs in, and from then on the
    intake and the gateway client both act as that officer."""
    configured = session.config.gateway.officer
    window = make_desk(session, officer=None, start=True)
    assert window.locked and window.stack.currentWidget() is window.sign_in
    assert window.sign_in.name.text() == configured.name
    assert window.sign_in.citizen_id.text() == configured.citizen_id
    assert not window.actions_by_key["manual"].isEnabled()
    assert window.actions_by_key["quit"].isEnabled()

    with qtbot.waitActive(window):
        window.activateWindow()
    with qtbot.waitSignal(window.locked_changed, timeout=2000) as blocker:
        qtbot.keyClick(window.sign_in.citizen_id, Qt.Key.Key_Return)
    assert blocker.args == [False]
    assert not window.locked
    assert session.intake.officer == configured
    assert session.intake.gateway.officer == configured
    assert window.officer_label.text() == f"Cán bộ: {configured.name} (********0001)"
    assert QApplication.focusWidget() is window.visits


@pytest.mark.parametrize(
    ("name", "citizen_id", "words"),
    [
        ("", "001090000001", "Nhập họ và tên"),
        ("Tiếp", "001090000001", "ít nhất hai chữ"),
        ("Nguyễn Văn 2", "001090000001", "chữ số"),
        ("Nguyễn Văn Tiếp", "", "Nhập số CCCD"),
        ("Nguyễn Văn Tiếp", "00109000", "đủ 12 chữ số (đang có 8)"),
    ],
)
def test_sign_in_says_what_to_fix(name, citizen_id, words):
    officer, problem = validate_officer(name, citizen_id)
    assert officer is None and words in problem


def test_sign_in_form_rejects_a_short_id_and_keeps_the_desk_locked(qtbot, make_desk, session):
    window = make_desk(session, officer=None)
    with qtbot.waitActive(window):
        window.activateWindow()
    sign_in(qtbot, window, "Nguyễn Văn Tiếp", "12345")
    assert window.locked
    assert window.sign_in.error.isVisible()
    assert "đang có 5" in window.sign_in.error.text()
    assert QApplication.focusWidget() is window.sign_in.citizen_id


def test_every_lookup_carries_the_signed_in_officer(qtbot, make_desk, session):
    """GIVEN an officer the gateway does not know signs in
    WHEN a patient is scanned
    THEN the gateway answers 054 (officer not registered) and the audit log names that
    officer; after Ctrl+L and a sign-in by the registered officer, lookups succeed again."""
    registered = session.config.gateway.officer
    window = make_desk(session, officer=None, start=True)
    with qtbot.waitActive(window):
        window.activateWindow()
    sign_in(qtbot, window, GUEST.name, GUEST.citizen_id)
    assert not window.locked and session.intake.officer == GUEST

    result = check_in(qtbot, window, "eligible-old")
    assert result.decision.result_code == "054"
    assert result.decision.status is Status.UNVERIFIED
    audit = session.store.audit_rows(limit=1)[0]
    assert (audit["officer_name"], audit["officer_id"]) == (GUEST.name, GUEST.citizen_id)

    with qtbot.waitSignal(window.locked_changed, timeout=2000):
        qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.locked
    assert window.sign_in.name.text() == GUEST.name and window.sign_in.citizen_id.text() == ""
    sign_in(qtbot, window, registered.name, registered.citizen_id)
    assert not window.locked

    result = check_in(qtbot, window, "eligible-new")
    assert result.decision.status is Status.ELIGIBLE
    audit = session.store.audit_rows(limit=1)[0]
    assert audit["officer_name"] == registered.name


def test_idle_desk_locks_hides_the_patient_and_takes_no_scans(qtbot, make_desk, session):
    window = make_desk(session, start=True)
    check_in(qtbot, window, "eligible-old")
    window.idle.set_interval_ms(80)
    with qtbot.waitSignal(window.locked_changed, timeout=5000) as blocker:
        pass
    assert blocker.args == [True]
    assert window.locked and not window.desk_page.isVisible()
    assert window.sign_in.title.text() == "Màn hình đã khóa"
    assert window.sign_in.name.text() == session.config.gateway.officer.name
    assert window.sign_in.citizen_id.text() == ""

    window.submit(payload_text("expired-010"))
    assert window.statusBar().currentMessage().startswith("Màn hình đang khóa")
    window.open_manual_entry()
    assert window.manual_dialog is None
    qtbot.waitUntil(window.is_settled, timeout=WAIT_MS)
    assert len(session.store.visits_on(today(session))) == 1

    with qtbot.waitActive(window):
        window.activateWindow()
    window.sign_in.citizen_id.setFocus()
    qtbot.keyClicks(window.sign_in.citizen_id, session.config.gateway.officer_id)
    qtbot.keyClick(window.sign_in.citizen_id, Qt.Key.Key_Return)
    assert not window.locked and window.desk_page.isVisible()
    assert window.patient.value("name") == "Trần Thị Mai"  # the desk is as it was left


def test_scanning_ones_own_cccd_at_the_lock_fills_the_form(qtbot, make_desk, session):
    officer = session.config.gateway.officer
    window = make_desk(session)
    window.lock()
    window.submit(payload_text("eligible-cccd"))  # a patient's CCCD: not taken at the lock
    assert window.sign_in.citizen_id.text() == ""
    window.submit(own_card(officer))
    assert window.sign_in.name.text() == officer.name
    assert window.sign_in.citizen_id.text() == officer.citizen_id
    assert window.locked  # Enter still needed


def test_idle_time_comes_from_the_desk_section_when_present(make_desk, session):
    assert idle_lock_minutes(None) == DEFAULT_IDLE_LOCK_MIN == 10
    assert idle_lock_minutes(SimpleNamespace(desk=SimpleNamespace(idle_lock_min=3))) == 3
    assert idle_lock_minutes(SimpleNamespace(desk=SimpleNamespace(idle_lock_min=-1))) == 10
    window = make_desk(session, config=SimpleNamespace(desk=SimpleNamespace(idle_lock_min=2)))
    assert window.idle.interval_ms == 120_000 and window.idle.active
    assert make_desk(session).idle.interval_ms == idle_lock_minutes(session.config) * 60_000
    never = make_desk(session, config=SimpleNamespace(desk=SimpleNamespace(idle_lock_min=0)))
    assert never.idle.never and not never.idle.active  # 0: the desk never locks by itself
