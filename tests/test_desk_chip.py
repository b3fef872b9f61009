"""The chip citizen ID in the desk: a card placed on the reader asks for the CAN, shows the
patient from DG13, then the photo, then the passive-authentication badge, and checks the
patient in by citizen ID against the sandbox.

Two ways in: the emulated card in-process as the transport (fast, no pcscd), and the real
stack, pyscard → pcscd → vsmartcard-vpcd → the emulator, on vpcd's second reader so that it
never meets the chip tests' card on the first one.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from checkin.chip.errors import ReaderError
from checkin.model import Source, Status
from tests import test_desk
from tests.chip_emulator import Card, Person, VirtualCard, make_pki
from tests.test_desk import WAIT_MS, today
from ui.chip_worker import CanDialog, ChipWorker

# Fixtures shared with tests/test_desk.py (pytest finds them under these names).
make_desk, session = test_desk.make_desk, test_desk.session


# The sandbox's eligible-cccd person, on a chip (DG13 + DG2 + SOD signed by a test CSCA).
BINH = Person(
    citizen_id="079303001234",
    full_name="Lê Thị Bình",
    date_of_birth="02/02/2003",
    gender="Nữ",
    residence="Tổ 5, Phường Mẫu, Thành phố Hồ Chí Minh",
    issue_date="01/09/2025",
    expiry_date="02/02/2028",
    spouse_name=None,
    old_id_number=None,
    mrz_name="LE<<THI<BINH",
)
READER_1 = "Virtual PCD 00 01"
VPCD_PORT_1 = 35964
LOCK = Path("/tmp/checkin-desk-chip.lock")


@pytest.fixture(scope="module")
def pki():
    return make_pki()


class NoWatcher:
    """Card events come from the test calling ``worker.card_inserted`` itself."""

    def __init__(self, *args) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


def in_process_worker(card: Card, **options) -> ChipWorker:
    """The card as the transport; each read starts from a reset card, as each PC/SC
    connection of drivers.pcsc does (it disconnects with SCARD_RESET_CARD)."""

    def transport(reader: str) -> Card:
        card.reset()
        return card

    return ChipWorker(transport_factory=transport, watcher_factory=NoWatcher, **options)


def answer_can(qtbot, window, can: str, attempt: int = 1) -> CanDialog:
    qtbot.waitUntil(lambda: window.can_dialog is not None, timeout=WAIT_MS)
    dialog = window.can_dialog
    assert isinstance(dialog, CanDialog) and dialog.isVisible()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.field, timeout=2000)
    assert dialog.error.isVisible() == (attempt > 1)
    qtbot.keyClicks(dialog.field, can)
    qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
    return dialog


def record_order(worker: ChipWorker) -> list[str]:
    order: list[str] = []
    worker.identity_read.connect(lambda _: order.append("identity"))
    worker.photo_read.connect(lambda _: order.append("photo"))
    worker.auth_checked.connect(lambda _: order.append("passive_auth"))
    return order


def test_card_on_the_reader_shows_identity_photo_badge_and_checks_in(
    qtbot, make_desk, session, pki
):
    """GIVEN Lê Thị Bình's chip card placed on the reader
    WHEN the desk asks for the CAN and the officer types it
    THEN DG13's identity shows first, then the photo, then a badge that says plainly the
    signature is not verified (no CSCA configured); she is checked in by citizen ID, eligible."""
    worker = in_process_worker(Card(BINH, pki=pki))
    order = record_order(worker)
    window = make_desk(session, chip=worker, start=True)
    with qtbot.waitActive(window):
        window.activateWindow()

    worker.card_inserted("Test reader")
    qtbot.waitUntil(lambda: window.banner.title.text() == "ĐANG TRA CỨU…", timeout=WAIT_MS)
    with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS) as blocker:
        answer_can(qtbot, window, BINH.can)
    qtbot.waitUntil(lambda: "passive_auth" in order and window.is_settled(), timeout=WAIT_MS)

    result = blocker.args[0]
    assert order == ["identity", "photo", "passive_auth"]
    assert result.identity.citizen_id == "079303001234"
    assert result.identity.full_name == "Lê Thị Bình"
    assert result.decision.source is Source.ONLINE
    assert result.decision.status is Status.ELIGIBLE
    assert window.patient.value("name") == "Lê Thị Bình"
    assert window.patient.value("citizen") == "********1234"
    assert window.patient.has_photo
    assert window.patient.chip.text() == (
        "Dữ liệu chip nguyên vẹn, nhưng chưa xác thực chữ ký số (không có CSCA)"
    )
    assert "xác thực:" not in window.patient.chip.text().lower()
    assert window.can_dialog is None and not worker.busy
    assert QApplication.focusWidget() is window.visits


def test_wrong_can_is_asked_again_then_the_read_works(qtbot, make_desk, session, pki):
    worker = in_process_worker(Card(BINH, pki=pki))
    window = make_desk(session, chip=worker, start=True)
    with qtbot.waitActive(window):
        window.activateWindow()
    worker.card_inserted("Test reader")
    answer_can(qtbot, window, "999999")
    with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS):
        answer_can(qtbot, window, BINH.citizen_id, attempt=2)  # the whole ID is fine too
    assert window.patient.value("name") == "Lê Thị Bình"


def test_the_card_of_the_patient_just_scanned_opens_without_a_can(
    qtbot, make_desk, session, pki
):
    """GIVEN Lê Thị Bình checked in from the QR on the back of her CCCD
    WHEN she puts the card on the reader for the photo
    THEN nobody is asked for the CAN (it is her ID's last 6 digits): the chip is read and
    her visit is reopened, not duplicated."""
    from tests.test_desk import check_in

    worker = in_process_worker(Card(BINH, pki=pki))
    asked: list[int] = []
    worker.can_needed.connect(lambda _reader, attempt: asked.append(attempt))
    window = make_desk(session, chip=worker, start=True)
    first = check_in(qtbot, window, "eligible-cccd")
    with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS) as blocker:
        worker.card_inserted("Test reader")
    qtbot.waitUntil(lambda: not worker.busy and window.is_settled(), timeout=WAIT_MS)
    assert asked == [] and window.can_dialog is None
    assert blocker.args[0].reopened and blocker.args[0].visit.id == first.visit.id
    assert window.patient.has_photo


def test_another_persons_card_after_a_scan_asks_for_the_can(qtbot, make_desk, session, pki):
    """The last patient's ID does not open someone else's card: the CAN is asked for as if
    nothing had been tried (first attempt, no error shown)."""
    from dataclasses import replace as dc_replace

    from tests.test_desk import check_in

    other = dc_replace(BINH, citizen_id="079303009999")
    worker = in_process_worker(Card(other, pki=pki))
    window = make_desk(session, chip=worker, start=True)
    check_in(qtbot, window, "eligible-cccd")  # Bình, 079303001234
    worker.card_inserted("Test reader")
    with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS):
        answer_can(qtbot, window, other.can, attempt=1)


def test_a_cancelled_can_leaves_the_desk_as_it_was(qtbot, make_desk, session, pki):
    worker = in_process_worker(Card(BINH, pki=pki))
    window = make_desk(session, chip=worker, start=True)
    with qtbot.waitActive(window):
        window.activateWindow()
    with qtbot.waitSignal(worker.finished, timeout=WAIT_MS):
        worker.card_inserted("Test reader")
        qtbot.waitUntil(lambda: window.can_dialog is not None, timeout=WAIT_MS)
        qtbot.keyClick(window.can_dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: "Đã hủy đọc chip" in window.statusBar().currentMessage())
    assert window.banner.status is None and window.banner.title.text() == "SẴN SÀNG"
    assert session.store.visits_on(today(session)) == []
    assert window.sounds.played == ["error"]


def test_can_dialog_wants_six_digits(qtbot):
    dialog = CanDialog()
    qtbot.addWidget(dialog)
    dialog.field.setText("1234")
    dialog.accept()
    assert dialog.can is None and not dialog.error.isHidden()
    dialog.field.setText("079303001234")
    dialog.accept()
    assert dialog.can == "001234"


def test_a_configured_csca_makes_the_badge_say_verified(
    qtbot, make_desk, session, pki, tmp_path
):
    (tmp_path / "csca.pem").write_bytes(pki.csca_pem)
    worker = in_process_worker(Card(BINH, pki=pki), csca_dir=tmp_path)
    window = make_desk(session, chip=worker, start=True)
    with qtbot.waitActive(window):
        window.activateWindow()
    with qtbot.waitSignal(worker.auth_checked, timeout=WAIT_MS):
        worker.card_inserted("Test reader")
        answer_can(qtbot, window, BINH.can)
    assert window.patient.chip.text().startswith("Chip xác thực: chữ ký số hợp lệ")


def test_card_removed_mid_read_is_a_calm_message(qtbot, make_desk, session, pki):
    class Vanishing(Card):
        def transmit(self, raw: bytes) -> bytes:
            if self.commands >= 8:
                from checkin.chip.errors import CardRemoved

                raise CardRemoved()
            return super().transmit(raw)

    worker = in_process_worker(Vanishing(BINH, pki=pki))
    window = make_desk(session, chip=worker, start=True)
    with qtbot.waitActive(window):
        window.activateWindow()
    with qtbot.waitSignal(worker.failed, timeout=WAIT_MS) as blocker:
        worker.card_inserted("Test reader")
        answer_can(qtbot, window, BINH.can)
    assert blocker.args[0] == (
        "Không đọc được chip: thẻ bị nhấc ra khi đang đọc: đặt lại thẻ, giữ yên trên đầu đọc"
    )
    assert "Traceback" not in window.statusBar().currentMessage()


def test_no_pcscd_is_reported_once_and_the_desk_works_on(qtbot, make_desk, session):
    class Down:
        def __init__(self, *args) -> None: ...

        def start(self) -> None:
            raise ReaderError("pcscd down")

        def stop(self) -> None: ...

    worker = ChipWorker(watcher_factory=Down)
    window = make_desk(session, chip=worker, start=True)
    assert window.statusBar().currentMessage().startswith("Đầu đọc thẻ chip chưa sẵn sàng")


# -- through pcscd + vpcd -------------------------------------------------------------------


@pytest.fixture(scope="module")
def vpcd_reader_1(pki):
    """The emulated card on vpcd's second reader, through the running pcscd."""
    from tests.test_chip_pcsc import VPCD_CONF, VPCD_DRIVER, _pcscd_running

    if not VPCD_DRIVER.exists() or not VPCD_CONF.exists():
        pytest.skip("vsmartcard-vpcd is not installed (`make deps` installs it)")
    if not _pcscd_running():
        pytest.skip("pcscd is not running (`make test` starts it)")
    lock = LOCK.open("a")
    deadline = time.monotonic() + 120
    while True:  # concurrent runs on one machine would share vpcd's port
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                pytest.fail(f"another test run holds {LOCK}")
            time.sleep(0.2)
    virtual = VirtualCard(Card(BINH, pki=pki), port=VPCD_PORT_1)
    virtual.remove()  # start with the reader empty: the test places the card
    virtual.start()
    try:
        yield virtual
    finally:
        virtual.stop()
        with contextlib.suppress(OSError):
            fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


def test_card_placed_on_a_pcsc_reader_through_pcscd(qtbot, make_desk, session, vpcd_reader_1):
    """GIVEN the desk watching vpcd's second reader through pcscd
    WHEN the emulated card is placed on it and the CAN typed
    THEN the desk reads it through pyscard and checks Lê Thị Bình in; taking the card off is
    seen too."""
    worker = ChipWorker(reader=READER_1)
    window = make_desk(session, chip=worker, start=True)
    with qtbot.waitActive(window):
        window.activateWindow()
    with qtbot.waitSignal(worker.card_placed, timeout=WAIT_MS) as placed:
        vpcd_reader_1.insert()
    assert placed.args == [READER_1]
    with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS) as blocker:
        answer_can(qtbot, window, BINH.can)
    qtbot.waitUntil(lambda: not worker.busy and window.patient.chip.isVisible(), timeout=WAIT_MS)
    assert blocker.args[0].identity.citizen_id == "079303001234"
    assert blocker.args[0].decision.status is Status.ELIGIBLE
    assert window.patient.has_photo
    with qtbot.waitSignal(worker.card_removed, timeout=WAIT_MS):
        vpcd_reader_1.remove()


def test_a_wrong_guess_then_the_can_through_pcscd(qtbot, make_desk, session, vpcd_reader_1):
    """Through the real stack: the desk first tries the last patient's ID on a card that is
    not theirs (PACE, then BAC with the QR's keys: all refused), then asks for the CAN; the
    next connection starts from a reset card, so the read works."""
    from checkin.formats import parse_or_raise

    other = parse_or_raise("079303009999||Trần Văn Khác|02022003|Nam|Hà Nội|01092025")
    worker = ChipWorker(reader=READER_1)
    asked: list[int] = []
    worker.can_needed.connect(lambda _reader, attempt: asked.append(attempt))
    window = make_desk(session, chip=worker, start=True)
    with qtbot.waitActive(window):
        window.activateWindow()
    worker.offer_identity(other)
    vpcd_reader_1.insert()
    with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS) as blocker:
        answer_can(qtbot, window, BINH.can)
    assert asked == [1]
    assert blocker.args[0].identity.citizen_id == "079303001234"
    qtbot.waitUntil(lambda: not worker.busy, timeout=WAIT_MS)
    with qtbot.waitSignal(worker.card_removed, timeout=WAIT_MS):
        vpcd_reader_1.remove()
