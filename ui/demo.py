"""The demo: the real desk against the sandbox gateway, fed recorded fixtures on all three
scanner routes.

Starts the sandbox on a free loopback port, writes a throw-away configuration (its account,
officer and facility, and a serial scanner that is the replay of a recorded byte stream) with a
temporary store, and replays ``fixtures/videos/<key>.avi`` in ``fixtures/demo.txt`` order as
one camera. Meanwhile the serial replay (``fixtures/streams/gaps-two.bin``) sends its two
scans, and a keyboard-wedge recording (``fixtures/keystrokes/telex-defence-001.jsonl``, a
burst garbled by a Telex input method) is typed into the focused widget as real key presses.
Prints one line per check-in. Without a display it saves a screenshot once every recording is
replayed and every intake is done, then exits; with a display the window stays open until
closed.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from checkin.config import (
    CameraConfig,
    Config,
    GatewayConfig,
    SerialConfig,
    StoreConfig,
    load_config,
    write_config,
)
from checkin.intake import IntakeResult
from checkin.sandbox import Sandbox
from drivers.camera import REPLAY_PREFIX, ReplayCamera
from drivers.serial_scanner import REPLAY_PREFIX as SERIAL_REPLAY_PREFIX
from ui.app import Session, ensure_app, has_display, install_excepthook, open_session, open_window
from ui.desk import DeskWindow
from ui.wedge_replay import WedgeReplay

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DEFAULT_SCREENSHOT = Path("out") / "demo.png"
HEADLESS_DEADLINE_S = 120.0
SERIAL_STREAM = Path("streams") / "gaps-two.bin"  # two people who are not in demo.txt
KEYSTROKES = Path("keystrokes") / "telex-defence-001.jsonl"  # nor is this one
KEYSTROKES_AT_S = 5.0  # in real time, typed while the third video plays


class DemoError(Exception):
    """The demo cannot start (fixtures missing); the message says what to do."""


def demo_videos(fixtures: Path | None = None) -> list[Path]:
    """The demo's recordings, in ``demo.txt`` order (from ``fixtures/`` by default)."""
    fixtures = fixtures or FIXTURES
    order = fixtures / "demo.txt"
    if not order.is_file():
        raise DemoError(f"{order} is missing: run python fixtures/generate.py")
    keys = [line.strip() for line in order.read_text(encoding="utf-8").splitlines()]
    videos = [fixtures / "videos" / f"{key}.avi" for key in keys if key and key[0] != "#"]
    missing = [str(v) for v in videos if not v.is_file()]
    if missing:
        raise DemoError(f"missing recording {missing[0]}: run python fixtures/generate.py")
    return videos


def demo_scanner_recordings(fixtures: Path | None = None) -> tuple[Path, Path]:
    """The serial byte stream and the keystroke recording the demo replays."""
    fixtures = fixtures or FIXTURES
    paths = (fixtures / SERIAL_STREAM, fixtures / KEYSTROKES)
    for path in paths:
        if not path.is_file():
            raise DemoError(f"missing recording {path}: restore it from git")
    return paths


def sandbox_config(
    sandbox: Sandbox, folder: Path, first_video: Path, serial_stream: Path | None = None
) -> Config:
    """A configuration that points the desk at the sandbox, with a store in ``folder`` and,
    given a ``serial_stream``, its replay as the serial scanner."""
    population = sandbox.population
    account, officer = population.accounts[0], population.officers[0]
    gateway = GatewayConfig(
        url=sandbox.url,
        username=account.username,
        password=account.password,
        officer_name=officer.name,
        officer_id=officer.citizen_id,
        facility_code=population.facility_code,
        timeout_s=5.0,
        connect_timeout_s=2.0,
    )
    return Config(
        gateway=gateway,
        store=StoreConfig(path=str(folder / "demo.db")),
        camera=CameraConfig(source=f"{REPLAY_PREFIX}{first_video}"),
        serial=SerialConfig(url=f"{SERIAL_REPLAY_PREFIX}{serial_stream}" if serial_stream else ""),
    )


def demo_line(result: IntakeResult) -> str:
    """``#1 Trần Thị Mai — eligible 000 (online): Thẻ còn giá trị sử dụng đến …``"""
    decision = result.decision
    return (
        f"#{result.visit.queue_number} {result.identity.full_name} — {decision.status.value}"
        f" {decision.result_code or '---'} ({decision.source.value}): {decision.message}"
    )


def run_demo(screenshot: str | None = None, realtime: bool = True, as_json: bool = False) -> int:
    """Run the demo; 0 when every recording was replayed and every intake finished.
    ``as_json``: instead of its lines, print one JSON document once done: ``{"visits": [as
    checkin visits --json], "recordings": {"videos", "serial_streams", "keystroke_recordings"},
    "screenshot": path or null, "seconds"}``."""
    ensure_app()
    try:
        videos = demo_videos()
        stream, keys = demo_scanner_recordings()
    except DemoError as exc:
        print(f"checkin: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="checkin-demo-") as tmp, Sandbox() as sandbox:
        config_path = Path(tmp) / "checkin.toml"
        write_config(config_path, sandbox_config(sandbox, Path(tmp), videos[0], stream))
        session = open_session(load_config(config_path))
        try:
            return _DemoRun(session, videos, keys, screenshot, realtime, as_json).run()
        finally:
            session.close()


class _DemoRun:
    """The desk window of one demo, what it prints, and when it is done: the camera's videos
    played, the serial stream and the keystrokes sent, and every intake finished."""

    def __init__(
        self,
        session: Session,
        videos: list[Path],
        keystrokes: Path,
        screenshot: str | None,
        realtime: bool,
        as_json: bool = False,
    ) -> None:
        self.session = session
        self.as_json = as_json
        self.headless = not has_display()
        default = DEFAULT_SCREENSHOT if self.headless else None
        self.target = Path(screenshot) if screenshot else default
        self.videos = len(videos)
        self.finished = False
        self.started = time.monotonic()
        self.loop = QEventLoop()
        cameras = [ReplayCamera(v, realtime=realtime) for v in videos]
        # The configured officer is signed in: the demo never stops at the sign-in form.
        self.window = open_window(
            session, cameras, officer=session.config.gateway.officer, wedge=True, serial=True
        )
        if not as_json:
            self.window.checked_in.connect(lambda result: _say(demo_line(result)))
        self.window.settled.connect(self._on_settled)
        self.window.closed.connect(self.loop.quit)
        self.replaying = {"keystrokes"}  # scanner replays still sending
        if self.window.serial is not None:
            self.replaying.add("serial")
            self.window.serial.status.connect(self._on_serial_status)
        self.keystrokes = WedgeReplay(
            keystrokes, realtime=realtime, fallback=self.window, parent=self.window
        )
        self.keystrokes.finished.connect(lambda: self._replayed("keystrokes"))
        self.window.activateWindow()  # the keys go to the focused widget, as a scanner's do
        QTimer.singleShot(int(KEYSTROKES_AT_S * 1000) if realtime else 0, self.keystrokes.start)

    def run(self) -> int:
        restore_hooks = install_excepthook(self.window.show_error)
        deadline = QTimer()
        deadline.setSingleShot(True)
        deadline.timeout.connect(self.loop.quit)
        if self.headless:
            deadline.start(int(HEADLESS_DEADLINE_S * 1000))
        try:
            self.loop.exec()
        finally:
            deadline.stop()
            self.window.close()
            self.window.deleteLater()
            restore_hooks()
        if self.headless and not self.finished:
            print("checkin: the demo did not finish in time", file=sys.stderr)
            return 1
        return 0

    def _on_serial_status(self, status: str) -> None:
        if status == "stopped":
            self._replayed("serial")

    def _replayed(self, source: str) -> None:
        self.replaying.discard(source)
        if self.window.is_settled():
            self._on_settled()

    def _on_settled(self) -> None:
        if self.finished or self.replaying:
            return  # reported once; not before the scanner replays have sent everything
        self.finished = True
        seconds = time.monotonic() - self.started
        if self.as_json:
            self._report_json(seconds)
        else:
            _report(self.window, self.target, self.videos, seconds)
        if self.headless:
            self.loop.quit()

    def _report_json(self, seconds: float) -> None:
        saved = None
        if self.target is not None:
            saved = save_screenshot(self.window, self.target)
            if saved is None:
                print(f"checkin: could not write {self.target}", file=sys.stderr)
        data = {
            "visits": [v.to_json() for v in self.window.visits.visits],  # as loaded, settled
            "recordings": {
                "videos": self.videos,
                "serial_streams": 1,
                "keystroke_recordings": 1,
            },
            "screenshot": str(saved) if saved else None,
            "seconds": round(seconds, 1),
        }
        print(json.dumps(data, ensure_ascii=False), flush=True)


def _report(window: DeskWindow, target: Path | None, videos: int, seconds: float) -> None:
    count = window.visits.rowCount()
    replayed = f"{videos + 2} recordings replayed ({videos} videos, 1 serial stream, 1 keystroke"
    _say(f"demo: {replayed} recording), {count} visits today, {seconds:.1f} s")
    if target is not None:
        saved = save_screenshot(window, target)
        _say(f"screenshot: {saved}" if saved else f"checkin: could not write {target}")


def save_screenshot(window: DeskWindow, path: Path) -> Path | None:
    """Grab the window into a PNG (creating its folder); None when it cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    window.end_feedback()
    QApplication.processEvents()
    return path.resolve() if window.grab().save(str(path)) else None


def _say(line: str) -> None:
    try:
        print(line, flush=True)
    except UnicodeEncodeError:  # a console that cannot show Vietnamese
        print(line.encode("ascii", "replace").decode("ascii"), flush=True)
