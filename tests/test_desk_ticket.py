"""The queue ticket: initials never the name, status and route in words, printed through
QPrinter to a PDF (no printer in tests) and drawn on screen."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from checkin.eligibility import Decision
from checkin.model import Identity, PayloadKind, Source, Status
from checkin.store import Visit
from tests import test_desk
from tests.test_desk import WAIT_MS, check_in
from ui import ticket as ticket_module
from ui.ticket import Ticket, TicketError, TicketView, initials, print_ticket, route_words

# Fixtures shared with tests/test_desk.py (pytest finds them under these names).
make_desk, session = test_desk.make_desk, test_desk.session


FACILITY = "01001"


def a_visit(status: Status = Status.ELIGIBLE, facility: str | None = FACILITY) -> Visit:
    decision = Decision(status, "000", "ok", "ok", Source.ONLINE, registered_facility=facility)
    identity = Identity(PayloadKind.BHYT, "Trần Thị Mai", card_number="DN4010123456789")
    stamp = "2026-05-14T08:42:00+07:00"
    return Visit(7, "2026-05-14", 12, identity, decision, stamp, stamp, stamp)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Trần Thị Mai", "T.T.M."), ("đặng  minh khôi", "Đ.M.K."), ("", "—"), ("Ánh", "Á.")],
)
def test_initials(name, expected):
    assert initials(name) == expected


def test_route_in_words():
    assert route_words(a_visit(), FACILITY).startswith("Đúng tuyến")
    assert "nơi khác (79012)" in route_words(a_visit(facility="79012"), FACILITY)
    assert route_words(a_visit(facility=None), FACILITY) == ""
    assert route_words(a_visit(), "") == ""


def test_ticket_carries_initials_time_status_and_route_never_the_name():
    ticket = Ticket.of(a_visit(Status.NOT_ELIGIBLE), facility_code=FACILITY)
    assert (ticket.number, ticket.initials, ticket.time) == (12, "T.T.M.", "08:42  14/05/2026")
    assert ticket.status == "Không đủ điều kiện hưởng BHYT (khám dịch vụ)"
    assert ticket.route.startswith("Đúng tuyến")
    assert all("Trần" not in value for value in map(str, vars(ticket).values()))


def test_print_ticket_to_pdf(qapp, tmp_path):
    """GIVEN a visit WHEN printed to a PDF THEN the file is a real, non-trivial PDF of one
    80 mm page with an embedded font (no PDF text tool is installed to read it back)."""
    path = print_ticket(a_visit(), pdf_path=tmp_path / "out" / "ticket.pdf", facility_code=FACILITY)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-1.")
    assert len(data) > 5_000
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1
    assert b"/FontFile" in data  # the Vietnamese glyphs travel with the file
    width, height = map(float, re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data).groups())
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (80, 110)  # millimetres


def test_no_printer_is_a_clear_error(qapp, monkeypatch):
    monkeypatch.setattr(ticket_module, "printer_available", lambda: False)
    with pytest.raises(TicketError, match="không tìm thấy máy in"):
        print_ticket(a_visit())


def test_ticket_view_renders(qtbot, tmp_path):
    view = TicketView(Ticket.of(a_visit(), facility_code=FACILITY))
    qtbot.addWidget(view)
    view.resize(420, 600)
    image = view.grab().toImage()
    assert image.save(str(tmp_path / "ticket.png"))
    paper = image.pixelColor(image.width() // 2, 30)
    assert paper == QColor("#ffffff")
    dark = sum(
        1
        for x in range(0, image.width(), 4)
        for y in range(120, 260, 4)
        if image.pixelColor(x, y).lightness() < 80
    )
    assert dark > 100  # the big queue number is drawn


def test_f8_prints_the_last_check_in_and_then_a_reprint(qtbot, make_desk, session, tmp_path):
    window = make_desk(session, start=True)
    with qtbot.waitActive(window):
        window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F8)
    assert window.statusBar().currentMessage().startswith("Chưa có người bệnh để in phiếu")

    result = check_in(qtbot, window, "eligible-old")
    with qtbot.waitSignal(window.ticket_printed, timeout=WAIT_MS) as blocker:
        qtbot.keyClick(window, Qt.Key.Key_F8)
    visit, path = blocker.args
    assert visit.id == result.visit.id
    assert path == tmp_path / "tickets" / f"ticket-{visit.visit_date}-001.pdf"
    assert path.read_bytes().startswith(b"%PDF")
    assert "đã lưu phiếu số 1" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.ticket_printed, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key.Key_F8)
    assert 1 in window._printed


def test_f8_on_a_given_printer(qtbot, make_desk, session, tmp_path):
    from ui.ticket import make_printer

    printer = make_printer(tmp_path / "given.pdf")
    window = make_desk(session, start=True, printer=printer)
    check_in(qtbot, window, "expired-010")
    with qtbot.waitSignal(window.ticket_printed, timeout=WAIT_MS) as blocker:
        window.print_current_ticket()
    assert blocker.args[1] is None
    assert window.statusBar().currentMessage() == "Đã in phiếu số 1"
    assert (tmp_path / "given.pdf").read_bytes().startswith(b"%PDF")


def test_reprint_is_marked():
    assert replace(Ticket.of(a_visit()), reprint=True).reprint
