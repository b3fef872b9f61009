"""Start the desk: configuration, store, gateway client, camera, window, event loop.

``run_desk`` is what ``checkin desk`` calls. Without a display (no ``DISPLAY`` or
``WAYLAND_DISPLAY``) and with no ``QT_QPA_PLATFORM`` set, Qt runs offscreen.

The window opens on the officer sign-in form (filled with the configuration's officer) unless
an officer is given. Scanners: the camera, a keyboard-wedge filter (``ui.wedge``) installed
application-wide, the serial scanner of ``[serial]`` when one is set; the chip reader is
watched when pcscd runs. Sections the configuration does not have are simply not used.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QEventLoop, QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from checkin.config import Config, ConfigError, default_data_dir, load_config
from checkin.config import missing_gateway_settings as missing_settings
from checkin.gateway import GatewayClient
from checkin.intake import Intake
from checkin.model import Officer
from checkin.outbox import OutboxSender
from checkin.qr import DEFAULT_DECODER
from checkin.store import Store
from checkin.store_path import StorePathError, open_store
from drivers.camera import Camera, make_camera
from ui import i18n, text
from ui.desk import DeskWindow
from ui.diagnostics import GuiThreadGarbageCollector
from ui.sounds import Sounds
from ui.workers import DEFAULT_HOLD_OFF_S, CameraWorker, SerialBridge

log = logging.getLogger(__name__)

WINDOW_SIZE = (1280, 800)
LOG_FILE = "desk.log"
_quieted = False  # the offscreen message filter is installed
_keep: list[QApplication] = []


@dataclass
class Session:
    """What one desk works with; ``close`` when the window is gone."""

    config: Config
    store: Store
    gateway: GatewayClient | None
    intake: Intake
    sender: OutboxSender | None = None  # re-checks unverified visits in the background

    def close(self) -> None:
        if self.sender is not None:
            self.sender.stop()
        if self.gateway is not None:
            self.gateway.close()
        self.store.close()


def open_session(config: Config) -> Session:
    """Open the store and, when the gateway settings are complete, a gateway client.
    :class:`StorePathError` when the store path cannot be the store (a folder, not a checkin
    database …), before anything is created there."""
    store = open_store(config.store_path)
    gateway = None if missing_settings(config) else _gateway_client(config)
    intake = Intake(
        store,
        gateway,
        officer=config.gateway.officer,
        facility_code=config.gateway.facility_code,
        cache_max_age=timedelta(hours=config.store.cache_max_age_h),
    )
    sender = None
    if gateway is not None:
        sender = OutboxSender(intake)
        sender.start()
    return Session(config, store, gateway, intake, sender)


def _gateway_client(config: Config) -> GatewayClient:
    gw = config.gateway
    return GatewayClient(
        gw.url,
        gw.username,
        gw.password,
        gw.officer,
        timeout_s=gw.timeout_s,
        connect_timeout_s=gw.connect_timeout_s,
        verify=gw.verify,
    )


def use_offscreen_without_display() -> None:
    """Pick Qt's offscreen platform on a Linux machine with no display, unless told otherwise."""
    if sys.platform in ("win32", "darwin") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def has_display() -> bool:
    return QApplication.platformName() not in ("offscreen", "minimal")


def ensure_app() -> QApplication:
    use_offscreen_without_display()
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "checkin"])
        _keep.append(app)  # the application must outlive every window
        # Python's cycle collector must not destroy Qt objects from a worker thread.
        _keep.append(GuiThreadGarbageCollector(app))
    app.setApplicationName("checkin")
    if QApplication.platformName() == "offscreen" and not _quieted:
        _quiet_offscreen_warnings()
    return app  # type: ignore[return-value]


def _quiet_offscreen_warnings() -> None:
    """The offscreen platform warns about window hints it cannot honour; drop just those."""
    global _quieted
    _quieted = True
    previous = None

    def handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if "does not support propagateSizeHints" in message:
            return
        if previous is not None:
            previous(kind, context, message)
        else:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(handler)


def install_excepthook(notify: Callable[[str], None] | None = None) -> Callable[[], None]:
    """Log any uncaught exception (Qt slots included) and show a calm line instead of a
    traceback. ``notify`` receives the message, e.g. ``DeskWindow.show_error``. Returns a
    function that puts the previous hooks back."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.critical("unexpected error", exc_info=(exc_type, exc, tb))
        if notify is not None:
            try:
                notify(text.unexpected())
            except Exception:  # the window may be gone; the log has it
                log.debug("could not show the error", exc_info=True)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        log.critical(
            "unexpected error in thread %s",
            getattr(args.thread, "name", "?"),
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
        )

    previous = (sys.excepthook, threading.excepthook)

    def restore() -> None:
        sys.excepthook, threading.excepthook = previous

    sys.excepthook = hook
    threading.excepthook = thread_hook
    return restore


def log_to_file(folder: Path | None = None) -> logging.Handler | None:
    """Send log lines with their tracebacks to a rotating file in the data folder; the
    handler (to remove when done), or None when the folder is not writable."""
    path = (folder or default_data_dir()) / LOG_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)
    return handler


def _section(config: object | None, name: str) -> object | None:
    """A configuration section by name, or None when this configuration has no such section
    (sections are added as the desk grows; every use here is optional)."""
    return getattr(config, name, None)


def make_wedge(config: Config | None = None) -> object | None:
    """The keyboard-wedge filter (``ui.wedge.WedgeFilter``), tuned from ``[scanner]``."""
    try:
        from drivers.wedge import WedgeDetector
        from ui.wedge import WedgeFilter
    except ImportError:
        return None
    scanner = _section(config, "scanner")
    names = {"wedge_max_gap_ms": "max_gap_ms", "wedge_min_length": "min_length",
             "prefix": "prefix", "suffix": "suffix"}  # fmt: skip
    values = {arg: getattr(scanner, key) for key, arg in names.items() if hasattr(scanner, key)}
    try:
        detector = WedgeDetector(**values)
    except (TypeError, ValueError):
        log.warning("wedge settings ignored: %s", values)
        detector = WedgeDetector()
    return WedgeFilter(detector)


def make_serial(config: Config | None = None) -> SerialBridge | None:
    """The serial scanner of ``[serial]`` (``url`` set), bridged to the desk; else None."""
    serial = _section(config, "serial")
    url = getattr(serial, "url", "") if serial is not None else ""
    if not url:
        return None
    from drivers.scan_framing import DuplicateGuard
    from drivers.serial_scanner import make_scanner

    desk = _section(config, "desk")
    window = float(getattr(desk, "hold_off_s", DEFAULT_HOLD_OFF_S))
    settings = {
        key: getattr(serial, key)
        for key in ("baudrate", "terminator", "encoding")
        if hasattr(serial, key)
    }
    if settings.get("terminator") == "":
        settings["terminator"] = None  # a pause ends each code

    def factory(on_scan: Callable, on_status: Callable) -> object:
        return make_scanner(url, on_scan, on_status, guard=DuplicateGuard(window), **settings)

    return SerialBridge(factory)


def make_chip_worker(config: Config | None = None) -> object | None:
    """A chip worker when pcscd answers (the desk then reads CCCD cards); else None. The
    reader comes from ``[pcsc] reader`` (empty: any reader), CSCA from ``[chip] csca_dir``."""
    try:
        from drivers.pcsc import pcscd_available
        from ui.chip_worker import ChipWorker
    except ImportError:
        return None
    if not pcscd_available():
        log.info("pcscd not available: chip reading is off")
        return None
    pcsc, chip = _section(config, "pcsc"), _section(config, "chip")
    return ChipWorker(
        reader=getattr(pcsc, "reader", None) or None,
        csca_dir=getattr(chip, "csca_dir", None),
    )


def _decode_fps(config: Config | None, cameras: list[Camera]) -> float | None:
    """``[camera] decode_fps`` for cameras that give frames in real time; None (decode every
    frame) for replays read as fast as they decode, which a wall-clock limit would starve."""
    if not any(c.live or getattr(c, "realtime", False) for c in cameras):
        return None
    camera = _section(config, "camera")
    return float(getattr(camera, "decode_fps", 10.0))


def _decoder_name(config: Config | None) -> str:
    """``[camera] decoder``: which QR decoder the camera uses (zxing unless set)."""
    return str(getattr(_section(config, "camera"), "decoder", DEFAULT_DECODER))


def open_window(
    session: Session,
    cameras: list[Camera] | Camera | None,
    *,
    officer: Officer | None = None,
    chip: bool | None = False,
    wedge: bool = False,
    serial: bool = False,
    sounds: Sounds | None = None,
) -> DeskWindow:
    """The desk window over a session, sized and shown, its camera started. ``chip``: None
    watches the card reader when pcscd runs; ``wedge``: install the wedge-scanner filter;
    ``serial``: read the configured serial scanner."""
    desk = _section(session.config, "desk")
    hold_off = float(getattr(desk, "hold_off_s", DEFAULT_HOLD_OFF_S))
    worker = None
    if cameras:
        cameras = [cameras] if isinstance(cameras, Camera) else list(cameras)
        worker = CameraWorker(
            cameras,
            decoder_name=_decoder_name(session.config),
            hold_off_s=hold_off,
            decode_fps=_decode_fps(session.config, cameras),
        )
    window = DeskWindow(
        session.intake,
        worker,
        officer=officer,
        config=session.config,
        chip=make_chip_worker(session.config) if chip is None or chip else None,
        wedge=make_wedge(session.config) if wedge else None,
        serial=make_serial(session.config) if serial else None,
        sounds=sounds,
    )
    window.resize(*WINDOW_SIZE)
    window.show()
    window.start()
    return window


def apply_language(config: Config | None) -> None:
    """The desk's language from ``[desk] language`` when the configuration has it."""
    code = getattr(_section(config, "desk"), "language", None)
    if code in i18n.LANGUAGES and code != i18n.language():
        i18n.set_language(code)


def run_until_closed(window: DeskWindow) -> None:
    """Process events until the window closes. A local loop rather than ``app.exec()``: the
    desk never asks the whole application to quit, so nothing is left queued for whoever
    runs an event loop next (a test, the demo)."""
    loop = QEventLoop()
    window.closed.connect(loop.quit)
    loop.exec()


def _store_failure(config: Config, exc: BaseException) -> str:
    """One line: which store path, why it cannot be opened, where to fix it."""
    if isinstance(exc, StorePathError):
        why = str(exc)
    else:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        why = f"store path {config.store_path} cannot be opened: {reason}"
    where = f" {config.source_path}" if config.source_path else ""
    return f"{why}; fix [store] path in the configuration file{where} or run checkin doctor"


def run_desk(
    config_path: str | None = None,
    demo: bool = False,
    *,
    officer: Officer | None = None,
    chip: bool | None = None,
    on_ready: Callable[[DeskWindow, float], None] | None = None,
) -> int:
    """Run the desk until its window closes; the exit code for ``checkin desk``.

    ``on_ready(window, seconds)`` is called once the window is shown and today's list is
    loaded, with the seconds since this call (the cold-start figure, also logged)."""
    started = time.perf_counter()
    if demo:
        from ui.demo import run_demo

        return run_demo()
    ensure_app()
    try:
        config = load_config(config_path)
        camera = make_camera(config.camera.source)
    except (ConfigError, ValueError) as exc:
        print(f"checkin: {exc}", file=sys.stderr)
        return 2
    try:
        session = open_session(config)
    except (StorePathError, OSError, sqlite3.Error) as exc:
        print(f"checkin: {_store_failure(config, exc)}", file=sys.stderr)
        return 2
    handler = log_to_file()
    apply_language(config)
    window = open_window(session, camera, officer=officer, chip=chip, wedge=True, serial=True)

    def report_ready() -> None:
        seconds = time.perf_counter() - started
        log.info("desk ready in %.2f s", seconds)
        if on_ready is not None:
            on_ready(window, seconds)

    window.ready.connect(report_ready)
    restore_hooks = install_excepthook(window.show_error)
    if session.gateway is None:
        window.show_error(text.config_error(", ".join(missing_settings(config))))
    try:
        run_until_closed(window)
        return 0
    finally:
        window.shutdown()
        window.deleteLater()
        session.close()
        restore_hooks()
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()
