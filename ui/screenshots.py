"""Regenerate the pictures in ``docs/screenshots/``: ``python -m ui.screenshots [--out DIR]``.

Everything is real: the sandbox gateway on a loopback port, a temporary store, the desk
window at 1280×800 on Qt's offscreen platform, the recorded payloads
(``fixtures/payloads/<key>.txt``) submitted as scans, the camera panel showing a frame of the
matching recording (``fixtures/videos/<key>.avi``). One store for the whole run, so today's
list fills up as a real morning would:

- ``desk-eligible.png``, ``desk-warning.png``, ``desk-not-eligible.png``: three verdicts;
- ``desk-same-person.png``: the same person again under her citizen ID: the gateway names her
  card, so her visit is reopened with its number;
- ``desk-duplicate.png``: a namesake (same name and birth date, a citizen ID the gateway does
  not know): a new visit, flagged as a possible duplicate in the panel and the list;
- ``desk-chip.png``: a chip ID card read through the in-process card emulator (when the test
  emulator is importable): DG13 identity, photo, and the passive-authentication badge;
- ``desk-offline.png``: the gateway down (sandbox fault ``down``): grey, from the cache, with
  the offline strip and a pending re-check;
- ``desk-english.png``: the English desk; ``desk-signin.png``: the lock screen;
- ``ticket.png``: the queue ticket; ``settings.png`` and ``diagnostics.png`` when those
  screens exist; ``desk.png``: the demo's final state (``checkin demo``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication, QWidget

from checkin.breaker import CircuitBreaker
from checkin.config import CameraConfig, Config, StoreConfig, load_config, write_config
from checkin.formats import cccd_payload, parse_payload
from checkin.model import Gender, Identity, PayloadKind
from checkin.outbox import OutboxSender
from checkin.sandbox import Sandbox
from drivers.camera import REPLAY_PREFIX
from ui import i18n
from ui.app import Session, ensure_app, open_session
from ui.desk import DeskWindow
from ui.sounds import Sounds

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
DEFAULT_OUT = ROOT / "docs" / "screenshots"
SIZE = (1280, 800)
RECORDING = "eligible-old.avi"  # the camera of the settings and diagnostics pictures
WAIT_S = 30.0


class ScreenshotError(RuntimeError):
    pass


def wait_until(ready: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    """Run the event loop until ``ready()``; ScreenshotError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise ScreenshotError("timed out waiting for the desk")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def payload(key: str) -> str:
    return (FIXTURES / "payloads" / f"{key}.txt").read_text(encoding="utf-8")


def camera_frame(key: str):
    """A frame from the middle of ``fixtures/videos/<key>.avi`` as a QImage, or None."""
    path = FIXTURES / "videos" / f"{key}.avi"
    if not path.is_file():
        return None
    import cv2

    from ui.workers import to_qimage

    capture = cv2.VideoCapture(str(path))
    try:
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or 1
        capture.set(cv2.CAP_PROP_POS_FRAMES, count // 2)
        ok, frame = capture.read()
    finally:
        capture.release()
    return to_qimage(frame) if ok else None


def qr_frame(text: str):
    """The empty desk of the recordings with a phone showing ``text`` as a QR, for the shots
    whose payload has no recording (the CCCD QR made for the duplicate)."""
    import cv2
    import numpy as np
    import segno

    from ui.workers import to_qimage

    capture = cv2.VideoCapture(str(FIXTURES / "videos" / "eligible-old.avi"))
    try:
        ok, desk = capture.read()
    finally:
        capture.release()
    if not ok:
        return None
    qr = segno.make(text, error="m")
    modules = np.array(qr.matrix, dtype=np.uint8)
    scale = max(1, 300 // (modules.shape[0] + 8))
    code = np.kron(np.pad(1 - modules, 4, constant_values=1) * 255, np.ones((scale, scale)))
    code = code.astype(np.uint8)
    h, w = code.shape
    top, left = (desk.shape[0] - h) // 2, (desk.shape[1] - w) // 2
    cv2.rectangle(desk, (left - 24, top - 60), (left + w + 24, top + h + 60), (40, 40, 40), -1)
    desk[top : top + h, left : left + w] = cv2.cvtColor(code, cv2.COLOR_GRAY2BGR)
    return to_qimage(desk)


def empty_desk_frame():
    """The first frame of a recording: the desk before a card comes into view."""
    import cv2

    from ui.workers import to_qimage

    capture = cv2.VideoCapture(str(FIXTURES / "videos" / "eligible-old.avi"))
    try:
        ok, frame = capture.read()
    finally:
        capture.release()
    return to_qimage(frame) if ok else None


def save(widget: QWidget, path: Path) -> Path:
    if isinstance(widget, DeskWindow):
        widget.end_feedback()
    for _ in range(3):
        QApplication.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not widget.grab().save(str(path)):
        raise ScreenshotError(f"cannot write {path}")
    print(f"screenshot: {path}", flush=True)
    return path


class Shots:
    """One desk over one session, and the steps that make each picture."""

    def __init__(self, session: Session, sandbox: Sandbox, out: Path, config_path: Path) -> None:
        self.session = session
        self.sandbox = sandbox
        self.out = out
        self.config_path = config_path
        self.window = DeskWindow(
            session.intake,
            officer=session.config.gateway.officer,
            config=session.config,
            sounds=Sounds(enabled=False),
            ticket_folder=out / ".tickets",
        )
        self.window.resize(*SIZE)
        self.window.show()
        self.window.start()
        self.window._on_camera_opened("USB Camera (1920×1080)")
        wait_until(self.window.is_settled)

    def scan(self, key_or_text: str, camera_key: str | None = None) -> None:
        text = payload(key_or_text) if "|" not in key_or_text else key_or_text
        frame = camera_frame(camera_key or key_or_text) or qr_frame(text)
        if frame is not None:
            self.window.camera_view.show_frame(frame)
        before = len(self.window.scan_latencies)
        self.window.submit(text)
        wait_until(lambda: len(self.window.scan_latencies) > before)
        self.settle()

    def settle(self) -> None:
        self.window.refresh_counts()
        wait_until(self.window.is_settled)

    def morning(self) -> None:
        """Patients before the pictures, one of them re-checked later as not covered."""
        for key in ("retiree-ht3", "defence-001"):
            self.scan(key)
        self.sandbox.faults.set("down")
        self.scan("revoked-110")
        self.sandbox.faults.set("none")
        self.session.intake.breaker = CircuitBreaker()
        OutboxSender(self.session.intake).run_once(everything=True)
        self.window.refresh_visits()
        self.settle()

    def verdicts(self) -> None:
        self.scan("eligible-old")
        self.eligible_visit = self.window.current_visit
        save(self.window, self.out / "desk-eligible.png")
        self.scan("wrong-name-060")
        save(self.window, self.out / "desk-warning.png")
        self.scan("expired-010")
        save(self.window, self.out / "desk-not-eligible.png")
        identity = Identity(
            kind=PayloadKind.CCCD,
            full_name="Trần Thị Mai",
            citizen_id="001185012345",
            date_of_birth="1985-05-12",
            gender=Gender.FEMALE,
            address="Số 1 Phố Ví Dụ, Phường Mẫu, Quận Thử, Thành phố Hà Nội",
            issue_date="2021-04-01",
        )
        self.scan(cccd_payload(identity))
        save(self.window, self.out / "desk-same-person.png")
        namesake = replace(identity, citizen_id="079185099999", address="Số 9 Đường Mẫu, TP HCM")
        self.scan(cccd_payload(namesake))
        save(self.window, self.out / "desk-duplicate.png")

    def chip(self) -> None:
        try:
            from tests.chip_emulator import Card, Person, make_pki
        except ImportError:
            print("desk-chip.png skipped: the test card emulator is not importable")
            return
        from ui.chip_worker import ChipWorker

        person = Person(
            citizen_id="079079001234",
            full_name="Phạm Văn Hùng",
            date_of_birth="03/09/1979",
            gender="Nam",
            residence="Số 25 Đường Mẫu, Phường Thử, Thành phố Hồ Chí Minh",
            issue_date="15/07/2023",
            expiry_date="03/09/2039",
            mrz_name="PHAM<<VAN<HUNG",
            sex="M",
        )
        card = Card(person, pki=make_pki())

        class NoWatcher:
            def __init__(self, *args: object) -> None: ...

            def start(self) -> None: ...

            def stop(self) -> None: ...

        worker = ChipWorker(transport_factory=lambda reader: card, watcher_factory=NoWatcher)
        worker.can_needed.connect(lambda reader, attempt: worker.answer_can(person.can))
        worker.card_placed.connect(self.window._on_card_placed)
        worker.identity_read.connect(self.window._on_chip_identity)
        worker.photo_read.connect(self.window._on_chip_photo)
        worker.auth_checked.connect(self.window._on_chip_auth)
        frame = empty_desk_frame()
        if frame is not None:
            self.window.camera_view.show_frame(frame)
        before = len(self.window.scan_latencies)
        worker.card_inserted("ACS ACR1252 (mô phỏng)")
        wait_until(lambda: not worker.busy and len(self.window.scan_latencies) > before)
        self.settle()
        save(self.window, self.out / "desk-chip.png")

    def offline(self) -> None:
        identity = parse_payload(payload("eligible-cccd"))
        self.session.intake.check(identity)  # an answer in the cache, as from an earlier day
        self.sandbox.faults.set("down")
        try:
            self.scan("eligible-cccd")
            self.window.update_offline()
            save(self.window, self.out / "desk-offline.png")
        finally:
            self.sandbox.faults.set("none")
            self.session.intake.breaker = CircuitBreaker()
            self.window.update_offline()

    def english(self) -> None:
        i18n.set_language(i18n.ENGLISH)
        try:
            self.scan("child-te1")
            save(self.window, self.out / "desk-english.png")
        finally:
            i18n.set_language(i18n.VIETNAMESE)

    def sign_in(self) -> None:
        self.window.lock()
        save(self.window, self.out / "desk-signin.png")

    def ticket(self) -> None:
        from ui.ticket import Ticket, TicketView

        view = TicketView(
            Ticket.of(self.eligible_visit, facility_code=self.session.intake.facility_code)
        )
        view.resize(440, 620)
        view.show()
        save(view, self.out / "ticket.png")
        view.close()

    def it_screens(self) -> None:
        try:
            from ui.settings import SettingsDialog
        except ImportError:
            SettingsDialog = None
        if SettingsDialog is not None:
            dialog = SettingsDialog(self.config_path)
            dialog.show()
            settle_until = time.monotonic() + 0.5  # its device listing runs in the background
            wait_until(lambda: time.monotonic() > settle_until)
            save(dialog, self.out / "settings.png")
            dialog.close()
        try:
            from ui.diagnostics import DiagnosticsPanel
        except ImportError:
            DiagnosticsPanel = None
        if DiagnosticsPanel is not None:
            panel = DiagnosticsPanel(load_config(self.config_path))
            panel.resize(*SIZE)
            panel.show()
            done: list[object] = []
            panel.refreshed.connect(done.append)
            panel.refresh()
            wait_until(lambda: bool(done), timeout_s=60)
            save(panel, self.out / "diagnostics.png")
            panel.close()

    def close(self) -> None:
        self.window.shutdown()
        self.window.close()
        self.window.deleteLater()


def make_all(out: Path, *, demo: bool = True) -> list[Path]:
    """Write every picture into ``out``; the paths written."""
    ensure_app()
    i18n.set_language(i18n.VIETNAMESE)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="checkin-shots-") as tmp, Sandbox() as sandbox:
        config = Config(
            gateway=sandbox.gateway_config(timeout_s=5.0, connect_timeout_s=2.0),
            store=StoreConfig(path=str(Path(tmp) / "desk.db")),
            camera=CameraConfig(source=REPLAY_PREFIX + str(FIXTURES / "videos" / RECORDING)),
        )
        config_path = Path(tmp) / "checkin.toml"
        write_config(config_path, config)
        session = open_session(load_config(config_path))
        shots = Shots(session, sandbox, out, config_path)
        try:
            shots.morning()
            shots.verdicts()
            shots.chip()
            shots.offline()
            shots.english()
            shots.sign_in()
            shots.ticket()
            shots.it_screens()
        finally:
            shots.close()
            session.close()
    if demo:
        from ui.demo import run_demo

        if run_demo(screenshot=str(out / "desk.png"), realtime=False) != 0:
            raise ScreenshotError("the demo did not finish")
    return sorted(p for p in out.glob("*.png") if p.stat().st_mtime >= started - 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the PNGs")
    parser.add_argument("--no-demo", action="store_true", help="skip desk.png (the demo)")
    args = parser.parse_args(argv)
    try:
        written = make_all(args.out, demo=not args.no_demo)
    except ScreenshotError as exc:
        print(f"checkin: {exc}", file=sys.stderr)
        return 1
    print(f"{len(written)} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
