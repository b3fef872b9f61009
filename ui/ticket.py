"""The queue ticket: number, the patient's initials (never the full name), time, insurance
status in words and, when known, the route (đúng tuyến when the card's registered facility is
this hospital).

One painter draws it on an 80 mm roll (QPrinter, or a PDF in tests) and on screen
(:class:`TicketView`, for the preview and the screenshots). It works in a fixed logical space
of tenths of a millimetre, so the same code lays out both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRect, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QPageLayout, QPageSize, QPainter, QPaintEvent, QPen
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo
from PySide6.QtWidgets import QSizePolicy, QWidget

from checkin.model import Status
from checkin.store import Visit
from ui.i18n import tr

PAPER_MM = (80.0, 110.0)  # an 80 mm thermal roll, cut at 11 cm
MARGIN_MM = 3.0
LOGICAL = (int(PAPER_MM[0] * 10), int(PAPER_MM[1] * 10))  # tenths of a millimetre


class TicketError(RuntimeError):
    """The ticket could not be printed; ``str(exc)`` says why in Vietnamese."""


def initials(full_name: str) -> str:
    """``"Trần Thị Mai"`` → ``"T.T.M."``: what the ticket shows instead of the name."""
    letters = [word[0].upper() for word in full_name.split() if word[0].isalpha()]
    return "".join(f"{letter}." for letter in letters) or "—"


def status_words(status: Status) -> str:
    return {
        Status.ELIGIBLE: tr("Đủ điều kiện hưởng BHYT"),
        Status.WARNING: tr("BHYT: cần kiểm tra thêm tại quầy"),
        Status.NOT_ELIGIBLE: tr("Không đủ điều kiện hưởng BHYT (khám dịch vụ)"),
        Status.UNVERIFIED: tr("BHYT: chưa xác minh, sẽ tra cứu lại"),
    }[status]


def route_words(visit: Visit, facility_code: str) -> str:
    """Đúng tuyến when registered here; otherwise only the fact, never a guess of the route
    (a referral or an emergency can still make it đúng tuyến)."""
    registered = visit.decision.registered_facility or visit.identity.registered_facility
    if not registered or not facility_code:
        return ""
    if registered == facility_code:
        return tr("Đúng tuyến (ĐK KCB ban đầu tại đây)")
    return tr("Đăng ký KCB ban đầu nơi khác ({code}): hỏi giấy chuyển tuyến", code=registered)


@dataclass(frozen=True)
class Ticket:
    number: int
    initials: str
    time: str
    status: str
    route: str
    reprint: bool = False

    @classmethod
    def of(
        cls,
        visit: Visit,
        *,
        facility_code: str = "",
        when: datetime | None = None,
        reprint: bool = False,
    ) -> Ticket:
        try:
            presented = datetime.fromisoformat(visit.presented_at)
        except ValueError:
            presented = when or datetime.now()
        stamp = (when or presented).strftime("%H:%M  %d/%m/%Y")
        return cls(
            number=visit.queue_number,
            initials=initials(visit.identity.full_name),
            time=stamp,
            status=status_words(visit.status),
            route=route_words(visit, facility_code),
            reprint=reprint,
        )


def _font(pixels: int, bold: bool = False) -> QFont:
    font = QFont("DejaVu Sans")
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


def paint_ticket(painter: QPainter, target: QRect, ticket: Ticket) -> None:
    """Draw ``ticket`` into ``target`` (device pixels), keeping the paper's proportions."""
    width, height = LOGICAL
    scale = min(target.width() / width, target.height() / height)
    view_w, view_h = int(width * scale), int(height * scale)
    left = target.x() + (target.width() - view_w) // 2
    top = target.y() + (target.height() - view_h) // 2
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.setViewport(left, top, view_w, view_h)
    painter.setWindow(0, 0, width, height)
    painter.fillRect(QRectF(0, 0, width, height), QColor("#ffffff"))
    painter.setPen(QColor("#000000"))
    margin = MARGIN_MM * 10
    inner = width - 2 * margin
    center = Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap
    y = margin

    def line(content: str, pixels: int, bold: bool = False, gap: float = 8) -> None:
        nonlocal y
        if not content:
            return
        painter.setFont(_font(pixels, bold))
        box = painter.boundingRect(QRectF(margin, y, inner, height), center, content)
        painter.drawText(QRectF(margin, y, inner, box.height()), center, content)
        y += box.height() + gap

    line(tr("PHIẾU TIẾP NHẬN"), 46, bold=True, gap=4)
    line(tr("SỐ THỨ TỰ"), 40)
    line(str(ticket.number), 260, bold=True, gap=0)
    line(ticket.initials, 80, bold=True)
    line(ticket.time, 42, gap=14)
    painter.setPen(QPen(QColor("#000000"), 3, Qt.PenStyle.DashLine))
    painter.drawLine(int(margin), int(y), int(width - margin), int(y))
    painter.setPen(QColor("#000000"))
    y += 16
    line(ticket.status, 46, bold=True)
    line(ticket.route, 38)
    if ticket.reprint:
        line(tr("(in lại)"), 34)
    painter.setFont(_font(30))
    footer = tr("Giữ phiếu này và chờ gọi số.")
    painter.drawText(
        QRectF(margin, height - margin - 40, inner, 40), Qt.AlignmentFlag.AlignHCenter, footer
    )
    painter.restore()


def make_printer(pdf_path: str | Path | None = None) -> QPrinter:
    """A printer set up for the 80 mm roll: the system default, or a PDF file."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if pdf_path is not None:
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(pdf_path))
    size = QPageSize(QSizeF(*PAPER_MM), QPageSize.Unit.Millimeter, "checkin-80mm")
    printer.setPageLayout(
        QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))
    )
    printer.setDocName("checkin ticket")
    return printer


def printer_available() -> bool:
    return not QPrinterInfo.defaultPrinter().isNull() or bool(QPrinterInfo.availablePrinters())


def print_ticket(
    visit: Visit,
    printer: QPrinter | None = None,
    pdf_path: str | Path | None = None,
    *,
    facility_code: str = "",
    reprint: bool = False,
) -> Path | None:
    """Print ``visit``'s ticket on ``printer`` (default: the system's default printer), or to
    ``pdf_path``. Returns the PDF path when one was written. Raises :class:`TicketError`."""
    if printer is None:
        if pdf_path is None and not printer_available():
            raise TicketError(tr("không tìm thấy máy in nào trên máy này"))
        printer = make_printer(pdf_path)
    elif pdf_path is not None:
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(pdf_path))
    if pdf_path is not None:
        Path(pdf_path).parent.mkdir(parents=True, exist_ok=True)
    ticket = Ticket.of(visit, facility_code=facility_code, reprint=reprint)
    painter = QPainter()
    if not painter.begin(printer):
        raise TicketError(tr("máy in không sẵn sàng (kiểm tra giấy, dây cắm hoặc driver)"))
    try:
        page = printer.pageLayout().paintRectPixels(printer.resolution())
        paint_ticket(painter, QRect(0, 0, page.width(), page.height()), ticket)
    finally:
        painter.end()
    return Path(pdf_path) if pdf_path is not None else None


class TicketView(QWidget):
    """The ticket on screen, at the paper's proportions."""

    def __init__(self, ticket: Ticket | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ticket = ticket
        self.setMinimumSize(LOGICAL[0] // 2, LOGICAL[1] // 2)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def show_ticket(self, ticket: Ticket) -> None:
        self.ticket = ticket
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#9e9e9e"))
        if self.ticket is not None:
            paint_ticket(painter, self.rect().adjusted(12, 12, -12, -12), self.ticket)
        painter.end()
