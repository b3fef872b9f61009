"""The Qt desk, offscreen: camera worker, intake runner, main window, demo.

End-to-end tests use a real sandbox on a real port, a real store on a temporary file, a real
gateway client and recorded fixture videos replayed as fast as they decode.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QApplication

from checkin.config import CameraConfig, load_config, write_config
from checkin.formats import parse_payload
from checkin.model import Source, Status
from checkin.store import Store, now_local
from drivers.camera import ReplayCamera
from ui import text
from ui.app import Session, install_excepthook, open_session, run_desk
from ui.desk import DeskWindow
from ui.widgets import BANNER_COLORS, patient_fields
from ui.workers import CameraWorker, IntakeRunner, ScanFilter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VIDEOS = FIXTURES / "videos"
WAIT_MS = 20_000


def video(key: str) -> Path:
    path = VIDEOS / f"{key}.avi"
    if not path.is_file():
        pytest.skip(f"fixture video {path.name} not generated (python fixtures/generate.py)")
    return path


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def open_with(desk_config: Path, **gateway: object) -> Session:
    """A session from the shared config, with generous timeouts (a busy CI machine must not
    turn an answer into "unverified") and any other gateway settings overridden."""
    config = load_config(desk_config)
    settings = {"timeout_s": 15.0, "connect_timeout_s": 5.0, **gateway}
    return open_session(replace(config, gateway=replace(config.gateway, **settings)))


def close_session(session: Session) -> None:
    """Stop the session's desks (camera, background work) first, then close its store."""
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, DeskWindow) and widget.intake is session.intake:
            widget.shutdown()
    session.close()


@pytest.fixture
def session(desk_config: Path) -> Iterator[Session]:
    """Store on a temporary file, gateway client for the shared sandbox, intake."""
    opened = open_with(desk_config)
    yield opened
    close_session(opened)


@pytest.fixture
def offline_session(desk_config: Path) -> Iterator[Session]:
    """The same, but the gateway URL points at a closed port: every lookup fails fast."""
    opened = open_with(desk_config, url=f"http://127.0.0.1:{closed_port()}")
    yield opened
    close_session(opened)


@pytest.fixture
def make_desk(qtbot) -> Iterator[Callable[..., DeskWindow]]:
    windows: list[DeskWindow] = []

    def make(session: Session, *videos: Path) -> DeskWindow:
        cameras = [ReplayCamera(v, realtime=False) for v in videos]
        worker = CameraWorker(cameras) if cameras else None
        window = DeskWindow(session.intake, worker)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()


def store_day() -> str:
    return now_local().date().isoformat()


def today(session: Session) -> str:
    return session.intake.clock().date().isoformat()


def banner_pixel(window: DeskWindow) -> QColor:
    """The banner's rendered colour, sampled inside its rounded border."""
    image = window.banner.grab().toImage()
    return image.pixelColor(6, image.height() // 2)


def scan_video(qtbot, window: DeskWindow):
    """Start the desk and wait for the first check-in, then for everything to settle."""
    with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS) as blocker:
        window.start()
    qtbot.waitUntil(window.is_settled, timeout=WAIT_MS)
    return blocker.args[0]


# -- end to end ------------------------------------------------------------------------------


def test_eligible_patient_is_checked_in_end_to_end(qtbot, make_desk, session):
    """GIVEN the sandbox and a recording of an eligible patient's old-style BHYT QR
    WHEN the desk replays it
    THEN visit no. 1 is stored eligible, the banner is green and the list has one row."""
    window = make_desk(session, video("eligible-old"))
    result = scan_video(qtbot, window)

    visits = session.store.visits_on(today(session))
    assert [(v.queue_number, v.status) for v in visits] == [(1, Status.ELIGIBLE)]
    assert result.visit.id == visits[0].id and result.decision.source is Source.ONLINE
    assert window.banner.status is Status.ELIGIBLE
    assert banner_pixel(window) == QColor(BANNER_COLORS[Status.ELIGIBLE][0])
    assert window.banner.title.text() == text.STATUS_TITLE[Status.ELIGIBLE]
    assert window.banner.message.text().startswith("Thẻ còn giá trị sử dụng")
    assert window.queue.number.text() == "1"
    assert window.patient.value("name") == "Trần Thị Mai"
    assert window.patient.value("birth") == "12/05/1985"
    assert window.patient.value("gender") == "Nữ"
    assert window.patient.value("card") == "DN4010123456789"
    assert window.patient.value("citizen") == text.EMPTY_FIELD  # an old BHYT QR has none
    assert window.visits.rowCount() == 1
    assert window.visits.item(0, 1).text() == "Trần Thị Mai"
    assert window.visits.item(0, 3).text() == "000"
    assert window.camera_view.image is not None


def test_not_eligible_patient_shows_red(qtbot, make_desk, session):
    """GIVEN a recording of a patient whose card has expired (gateway code 010)
    WHEN the desk replays it
    THEN the visit is stored not eligible and the banner is red with the self-pay action."""
    window = make_desk(session, video("expired-010"))
    result = scan_video(qtbot, window)

    visits = session.store.visits_on(today(session))
    assert [(v.queue_number, v.status) for v in visits] == [(1, Status.NOT_ELIGIBLE)]
    assert result.decision.result_code == "010"
    assert window.banner.status is Status.NOT_ELIGIBLE
    assert banner_pixel(window) == QColor(BANNER_COLORS[Status.NOT_ELIGIBLE][0])
    assert "tự chi trả" in window.banner.action.text()
    assert window.visits.rowCount() == 1


def test_gateway_down_still_registers_an_unverified_visit(qtbot, make_desk, offline_session):
    """GIVEN a gateway that refuses connections
    WHEN a patient is scanned
    THEN the visit is still registered, unverified, with a grey banner and a re-check queued."""
    window = make_desk(offline_session, video("eligible-old"))
    result = scan_video(qtbot, window)

    visits = offline_session.store.visits_on(today(offline_session))
    assert [(v.queue_number, v.status) for v in visits] == [(1, Status.UNVERIFIED)]
    assert result.decision.source is Source.NONE and result.decision.error
    assert window.banner.status is Status.UNVERIFIED
    assert banner_pixel(window) == QColor(BANNER_COLORS[Status.UNVERIFIED][0])
    assert offline_session.store.pending_count() == 1
    assert window.visits.rowCount() == 1


def test_malformed_scan_gives_a_status_message_and_no_visit(qtbot, make_desk, session):
    """GIVEN a desk without a camera
    WHEN text that is not a patient QR is submitted
    THEN the status bar says why, nothing is stored and the banner stays idle."""
    window = make_desk(session)
    with qtbot.waitSignal(window.runner.failed, timeout=WAIT_MS) as blocker:
        window.submit("https://example.com/not-a-card")

    message = blocker.args[0]
    assert message.startswith("Mã QR không hợp lệ: ")
    assert window.statusBar().currentMessage() == message
    assert window.banner.status is None and window.banner.title.text() == text.IDLE_TITLE
    assert session.store.visits_on(today(session)) == []


def test_second_scan_of_the_same_patient_keeps_the_number(qtbot, make_desk, session):
    """GIVEN a patient already checked in today
    WHEN the same QR is submitted again
    THEN the visit is reopened: same number, the banner says so, still one row."""
    window = make_desk(session)
    qr = (FIXTURES / "payloads" / "eligible-old.txt").read_text(encoding="utf-8")
    results = []
    window.checked_in.connect(results.append)
    for _ in range(2):
        with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS):
            window.submit(qr)
    qtbot.waitUntil(lambda: window.is_settled() and window.visits.rowCount() == 1)

    assert [(r.visit.queue_number, r.reopened) for r in results] == [(1, False), (1, True)]
    assert window.queue.number.text() == "1" and window.queue.note.isVisible()
    assert window.statusBar().currentMessage() == text.REOPENED.format(
        name="Trần Thị Mai", number=1
    )


def test_paste_shortcut_submits_the_clipboard(qtbot, make_desk, session):
    """Ctrl+V hands the clipboard's text to the intake like a scan."""
    window = make_desk(session)
    with qtbot.waitActive(window):
        window.activateWindow()
    QGuiApplication.clipboard().setText("not a patient QR")
    with qtbot.waitSignal(window.runner.failed, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage().startswith("Mã QR không hợp lệ: ")


def test_unexpected_intake_error_becomes_a_calm_message(qtbot, session, monkeypatch):
    """GIVEN an intake that fails in an unforeseen way
    WHEN the runner is given a scan
    THEN ``failed`` carries the calm message (no traceback text) and nothing crashes."""

    def explode(payload: str) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(session.intake, "handle", explode)
    runner = IntakeRunner(session.intake)
    with qtbot.waitSignal(runner.failed, timeout=WAIT_MS) as blocker:
        runner.submit("anything")
    assert blocker.args == [text.INTAKE_FAILED]
    runner.wait()


def test_excepthook_logs_and_notifies(caplog):
    shown: list[str] = []
    restore = install_excepthook(shown.append)
    try:
        try:
            raise ValueError("boom")
        except ValueError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        restore()
    assert shown == [text.UNEXPECTED]
    assert "unexpected error" in caplog.text


def test_patient_panel_masks_the_citizen_id():
    identity = parse_payload((FIXTURES / "payloads" / "eligible-cccd.txt").read_text("utf-8"))
    fields = patient_fields(identity, None)
    assert fields["name"] == "Lê Thị Bình"
    assert fields["citizen"].endswith(identity.citizen_id[-4:])
    assert fields["citizen"].startswith("********") and len(fields["citizen"]) == 12


def test_run_desk_with_a_configured_replay_camera(qtbot, desk_config, tmp_path, monkeypatch):
    """GIVEN a configuration whose camera is a recording
    WHEN ``run_desk`` runs until its window is closed (once the patient is checked in)
    THEN it returns 0 and the visit is in the configured store."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    config = load_config(desk_config)
    source = CameraConfig(source=f"replay:{video('eligible-old')}")
    gateway = replace(config.gateway, timeout_s=15.0, connect_timeout_s=5.0)
    path = tmp_path / "run-desk.toml"
    write_config(path, replace(config, camera=source, gateway=gateway))

    def close_when(ready: Callable[[DeskWindow], bool]) -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, DeskWindow) and widget.isVisible() and ready(widget):
                widget.close()

    poll, deadline = QTimer(), QTimer()
    poll.timeout.connect(lambda: close_when(lambda w: w.is_settled() and w.visits.rowCount()))
    deadline.timeout.connect(lambda: close_when(lambda w: True))
    poll.start(50)
    deadline.start(WAIT_MS)
    try:
        assert run_desk(str(path)) == 0
    finally:
        poll.stop()
        deadline.stop()
    with Store(config.store_path) as store:
        visits = store.visits_on(store_day())
    assert [(v.queue_number, v.status) for v in visits] == [(1, Status.ELIGIBLE)]
    assert (tmp_path / "data" / "checkin" / "desk.log").is_file()


# -- camera worker ---------------------------------------------------------------------------


def run_worker(qtbot, worker: CameraWorker) -> list[str]:
    scanned: list[str] = []
    worker.scanned.connect(scanned.append)
    with qtbot.waitSignal(worker.ended, timeout=WAIT_MS):
        worker.start()
    worker.wait()
    return scanned


@pytest.mark.parametrize("hold_off_s", [10.0, 0.0])
def test_playlist_and_hold_off(qtbot, hold_off_s):
    """The same recording twice in a playlist: scanned once within the hold-off; without a
    hold-off, again every time it is confirmed."""
    path = video("eligible-old")
    cameras = [ReplayCamera(path, realtime=False), ReplayCamera(path, realtime=False)]
    scanned = run_worker(qtbot, CameraWorker(cameras, hold_off_s=hold_off_s))
    payload = (FIXTURES / "payloads" / "eligible-old.txt").read_text(encoding="utf-8")
    assert set(scanned) == {payload}
    assert len(scanned) == 1 if hold_off_s else len(scanned) > 2


def test_camera_that_cannot_open_reports_and_ends(qtbot, tmp_path):
    worker = CameraWorker(ReplayCamera(tmp_path / "missing.avi", realtime=False))
    errors: list[str] = []
    worker.error.connect(errors.append)
    assert run_worker(qtbot, worker) == []
    assert len(errors) == 1 and errors[0].startswith("Lỗi camera")


def test_scan_filter_confirms_and_holds_off():
    now = [0.0]
    scans = ScanFilter(confirm_frames=2, hold_off_s=10.0, max_gap=1, clock=lambda: now[0])
    assert scans.feed(["a"]) == []
    assert scans.feed(["a", "a"]) == ["a"]  # second frame: accepted once
    assert scans.feed(["a"]) == []  # held off
    now[0] = 11.0
    assert scans.feed(["a"]) == []  # hold-off over: needs two frames again
    assert scans.feed([]) == [] and scans.feed([]) == []  # gap longer than max_gap
    assert scans.feed(["a"]) == []
    assert scans.feed(["a"]) == ["a"]


# -- demo ------------------------------------------------------------------------------------


def test_demo_checks_everyone_in_and_writes_a_screenshot(qtbot, tmp_path, capsys):
    from ui.demo import demo_videos, run_demo

    try:
        videos = demo_videos()
    except Exception as exc:
        pytest.skip(str(exc))
    target = tmp_path / "shots" / "demo.png"

    assert run_demo(screenshot=str(target), realtime=False) == 0

    lines = capsys.readouterr().out.splitlines()
    check_ins = [line for line in lines if line.startswith("#")]
    numbers = sorted(int(line.split()[0][1:]) for line in check_ins)  # intakes run in parallel
    assert numbers == list(range(1, len(videos) + 1))
    assert any(" — eligible 000 (online): " in line for line in check_ins)
    assert any(" — not_eligible 010 (online): " in line for line in check_ins)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any(str(target.resolve()) in line for line in lines)
