"""Background work for the desk: the camera thread, and blocking calls on a thread pool.

Nothing here touches a widget. Results come back to the GUI thread through signals only
(queued connections), so handlers run there and may update the window (style.md §1.2–1.3).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, QThreadPool, Signal
from PySide6.QtGui import QImage

from checkin.duplicates import possible_duplicates
from checkin.formats import PayloadError
from checkin.intake import Intake, IntakeResult
from checkin.model import Identity
from checkin.qr import QrDecoder, make_decoder
from checkin.store import Visit
from drivers.camera import Camera
from ui import text

log = logging.getLogger(__name__)

DEFAULT_HOLD_OFF_S = 10.0
DEFAULT_PREVIEW_FPS = 15.0


def to_qimage(frame: np.ndarray) -> QImage:
    """A BGR (or gray) 8-bit frame as a QImage that owns its pixels."""
    height, width = frame.shape[:2]
    fmt = QImage.Format.Format_Grayscale8 if frame.ndim == 2 else QImage.Format.Format_BGR888
    data = np.ascontiguousarray(frame)
    return QImage(data.data, width, height, data.strides[0], fmt).copy()


class ScanFilter:
    """Accept a payload once it is seen in ``confirm_frames`` frames (gaps of at most
    ``max_gap`` frames allowed), then ignore it for ``hold_off_s`` seconds. The hold-off runs
    from the acceptance and is not extended by repeats. Not thread-safe: one per camera thread.
    """

    def __init__(
        self,
        *,
        confirm_frames: int = 2,
        hold_off_s: float = DEFAULT_HOLD_OFF_S,
        max_gap: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.confirm_frames = max(1, confirm_frames)
        self.hold_off_s = hold_off_s
        self.max_gap = max_gap
        self._clock = clock
        self._frame = 0
        self._sightings: dict[str, tuple[int, int]] = {}  # payload -> (count, last frame)
        self._accepted_at: dict[str, float] = {}

    def feed(self, payloads: Iterable[str]) -> list[str]:
        """The payloads of one frame in; the newly accepted ones out."""
        self._frame += 1
        now = self._clock()
        self._forget(now)
        accepted = []
        for payload in dict.fromkeys(payloads):
            if payload in self._accepted_at:
                continue
            count = self._sightings.get(payload, (0, 0))[0] + 1
            if count >= self.confirm_frames:
                self._sightings.pop(payload, None)
                self._accepted_at[payload] = now
                accepted.append(payload)
            else:
                self._sightings[payload] = (count, self._frame)
        return accepted

    def _forget(self, now: float) -> None:
        self._sightings = {
            p: seen for p, seen in self._sightings.items() if self._frame - seen[1] <= self.max_gap
        }
        self._accepted_at = {
            p: at for p, at in self._accepted_at.items() if now - at < self.hold_off_s
        }


class CameraWorker(QThread):
    """Plays one camera, or several in turn (a playlist), decoding QR codes off the GUI thread.

    Signals: ``frame`` (previews, at most ``preview_fps`` a second), ``scanned`` (an accepted
    payload), ``camera_opened`` (its name), ``error`` (a message for the status bar) and
    ``ended`` (every camera has ended, or the worker was stopped). When the cameras end, the
    preview goes back to the frame of the last accepted scan, so the desk still sees it.
    """

    frame = Signal(QImage)
    scanned = Signal(str)
    camera_opened = Signal(str)
    error = Signal(str)
    ended = Signal()

    def __init__(
        self,
        cameras: Camera | Sequence[Camera],
        *,
        decoder: QrDecoder | None = None,
        hold_off_s: float = DEFAULT_HOLD_OFF_S,
        confirm_frames: int = 2,
        preview_fps: float = DEFAULT_PREVIEW_FPS,
        decode_fps: float | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.cameras = [cameras] if isinstance(cameras, Camera) else list(cameras)
        self._decoder = decoder
        self.filter = ScanFilter(confirm_frames=confirm_frames, hold_off_s=hold_off_s)
        self._unreadable = ScanFilter(confirm_frames=confirm_frames, hold_off_s=hold_off_s)
        self._preview_interval = 1.0 / preview_fps if preview_fps > 0 else 0.0
        self._decode_interval = 1.0 / decode_fps if decode_fps else 0.0
        self._stopping = threading.Event()
        self._current: Camera | None = None
        self._last_preview = -1e9
        self._last_decode = -1e9
        self._last_scan_image: QImage | None = None

    def stop(self, timeout_ms: int = 5000) -> None:
        """Ask the thread to finish, wake a camera waiting for a frame, and wait for it."""
        self._stopping.set()
        camera = self._current
        if camera is not None:
            camera.close()
        if self.isRunning():
            self.wait(timeout_ms)

    def run(self) -> None:
        try:
            decoder = self._decoder or make_decoder("zxing")
        except Exception as exc:
            log.exception("no QR decoder")
            self.error.emit(text.camera_error(exc))
            decoder = None
        for camera in self.cameras:
            if self._stopping.is_set():
                break
            self._play(camera, decoder)
        if self._last_scan_image is not None:
            self.frame.emit(self._last_scan_image)
        self.ended.emit()

    def _play(self, camera: Camera, decoder: QrDecoder | None) -> None:
        self._current = camera
        try:
            camera.open()
        except Exception as exc:
            log.warning("cannot open %s: %s", camera.name, exc)
            self.error.emit(text.camera_error(exc))
            return
        self.camera_opened.emit(camera.name)
        try:
            while not self._stopping.is_set():
                frame = camera.read()
                if frame is None:
                    break
                self._handle(frame, decoder)
        except Exception as exc:
            log.exception("camera %s failed", camera.name)
            self.error.emit(text.camera_error(exc))
        finally:
            camera.close()
            self._current = None

    def _handle(self, frame: np.ndarray, decoder: QrDecoder | None) -> None:
        now = time.monotonic()
        accepted = self._decode(frame, decoder, now) if decoder else []
        if accepted or now - self._last_preview >= self._preview_interval:
            self._last_preview = now
            image = to_qimage(frame)
            self.frame.emit(image)
            if accepted:
                self._last_scan_image = image
        for payload in accepted:
            self.scanned.emit(payload)

    def _decode(self, frame: np.ndarray, decoder: QrDecoder, now: float) -> list[str]:
        if now - self._last_decode < self._decode_interval:
            return []
        self._last_decode = now
        found = decoder.decode(frame)
        if self._unreadable.feed(d.raw.hex() for d in found if d.text is None):
            self.error.emit(text.not_utf8_qr())
        return self.filter.feed(d.text for d in found if d.text)


class TaskRunner(QObject):
    """Runs blocking calls on its own thread pool; callbacks run on the GUI thread.

    ``run(fn, on_success, on_failure)``: ``fn`` must not touch widgets. ``pending`` counts
    calls not yet called back; ``idle`` is emitted when it drops to zero.
    """

    idle = Signal()
    _finished = Signal(object, object, object)  # (callbacks, result, exception)

    def __init__(self, max_threads: int = 4, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._pending = 0
        self._finished.connect(self._deliver)

    @property
    def pending(self) -> int:
        return self._pending

    def run(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        self._pending += 1
        self._pool.start(partial(self._call, fn, (on_success, on_failure)))

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until every started call has returned (callbacks may still be queued)."""
        return self._pool.waitForDone(timeout_ms)

    def _call(self, fn: Callable[[], Any], callbacks: tuple) -> None:
        try:
            result = fn()
        except Exception as exc:
            self._finished.emit(callbacks, None, exc)
        else:
            self._finished.emit(callbacks, result, None)

    def _deliver(self, callbacks: tuple, result: Any, error: BaseException | None) -> None:
        self._pending -= 1
        on_success, on_failure = callbacks
        try:
            if error is None:
                on_success(result)
            else:
                on_failure(error)
        finally:
            if self._pending == 0:
                self.idle.emit()


@dataclass(frozen=True)
class Checked:
    """One finished intake as the desk shows it: the result, any possible duplicates of the
    patient among today's other visits, and how long the work took off the GUI thread."""

    result: IntakeResult
    duplicates: tuple[Visit, ...] = ()
    seconds: float = 0.0


class IntakeRunner(QObject):
    """``submit(text)`` runs ``Intake.handle`` off the GUI thread, ``admit(identity)`` runs
    ``Intake.admit`` (manual entry, chip); then the possible-duplicate check. ``done(Checked)``
    or ``failed(message)`` comes back on the GUI thread, then ``idle`` when nothing is left."""

    submitted = Signal(str)
    done = Signal(object)
    failed = Signal(str)
    idle = Signal()

    def __init__(self, intake: Intake, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.intake = intake
        self._tasks = TaskRunner(parent=self)
        self._tasks.idle.connect(self.idle)

    @property
    def pending(self) -> int:
        return self._tasks.pending

    def submit(self, payload: str) -> None:
        self.submitted.emit(payload)
        self._run(partial(self.intake.handle, payload))

    def admit(self, identity: Identity) -> None:
        self._run(partial(self.intake.admit, identity))

    def wait(self, timeout_ms: int = -1) -> bool:
        return self._tasks.wait(timeout_ms)

    def _run(self, work: Callable[[], IntakeResult]) -> None:
        self._tasks.run(partial(self._checked, work), self._succeed, self._fail)

    def _checked(self, work: Callable[[], IntakeResult]) -> Checked:
        started = time.perf_counter()
        result = work()
        try:
            duplicates = possible_duplicates(
                self.intake.store,
                result.identity,
                result.visit.visit_date,
                exclude_visit=result.visit.id,
            )
        except Exception:  # a failed advisory check must not lose the check-in
            log.exception("possible-duplicate check failed")
            duplicates = []
        return Checked(result, tuple(duplicates), time.perf_counter() - started)

    def _succeed(self, checked: Checked) -> None:
        self.done.emit(checked)

    def _fail(self, exc: BaseException) -> None:
        self.failed.emit(failure_message(exc))


def failure_message(exc: BaseException) -> str:
    """What the desk officer reads about a failed intake; the traceback goes to the log."""
    if isinstance(exc, PayloadError):
        return text.bad_qr(str(exc))
    log.error("intake failed", exc_info=exc)
    return text.intake_failed()


class SerialBridge(QObject):
    """A serial (or USB virtual COM) scanner in the desk: its reader thread's callbacks become
    signals on the GUI thread. ``scanned(text)`` per scan (repeats of the same text within
    the scanner's duplicate window are dropped), ``error(message)`` for a frame that is not
    text, ``status(text)`` for connected / disconnected. ``factory(on_scan, on_status)`` makes
    the ``drivers.serial_scanner`` scanner; see ``ui.app.make_serial``."""

    scanned = Signal(str)
    error = Signal(str)
    status = Signal(str)

    def __init__(
        self, factory: Callable[[Callable, Callable], Any], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._factory = factory
        self._scanner: Any = None

    def start(self) -> None:
        try:
            self._scanner = self._factory(self._on_scan, self.status.emit)
            self._scanner.start()
        except Exception as exc:
            log.warning("serial scanner not started: %s", exc)
            self.error.emit(text.serial_error(str(exc)))

    def stop(self) -> None:
        scanner, self._scanner = self._scanner, None
        if scanner is not None:
            scanner.stop()

    def _on_scan(self, event: Any) -> None:
        scanned = getattr(event, "text", None)
        if scanned is None:
            self.error.emit(text.serial_error(getattr(event, "reason", "?")))
        elif not getattr(event, "duplicate", False):
            self.scanned.emit(scanned)
