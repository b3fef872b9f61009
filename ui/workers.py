"""Background work for the desk: the camera thread, and blocking calls on a thread pool.

Nothing here touches a widget. Results come back to the GUI thread through signals only
(queued connections), so handlers run there and may update the window (style.md §1.2–1.3).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
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
from checkin.qr import DEFAULT_DECODER, QrDecoder, make_decoder
from checkin.store import Visit
from drivers.camera import Camera
from drivers.camera_feed import FAILED, LOST, RUNNING, WAITING, CameraFeed, FeedStats, Scan
from drivers.camera_feed import Status as FeedStatus
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


class CameraWorker(QThread):
    """Plays one camera, or several in turn (a playlist), decoding QR codes off the GUI thread.

    A Qt face on :class:`drivers.camera_feed.CameraFeed`, which does the work: frames to the
    decoder at most ``decode_fps`` a second (None: every frame), a payload accepted once seen in
    ``confirm_frames`` decoded frames and not again until ``hold_off_s`` after it was last seen,
    a live camera that disappears reopened every ``reopen_s`` seconds.

    Signals: ``frame`` (previews, at most ``preview_fps`` a second, and the frame of every
    accepted scan), ``scanned`` (an accepted payload), ``camera_opened`` (its name),
    ``camera_lost`` (its name: unplugged or not answering, being reopened), ``error`` (a message
    for the status bar) and ``ended`` (every camera has ended, or the worker was stopped). When
    the cameras end, the preview goes back to the frame of the last accepted scan, so the desk
    still sees it. :meth:`stats` gives frames/s and decode times, from any thread.

    ``decoder``: the QR decoder to use; None makes ``decoder_name`` (``[camera] decoder``) when
    the thread starts, or the other backend when that one cannot load (``make_decoder``).
    """

    frame = Signal(QImage)
    scanned = Signal(str)
    camera_opened = Signal(str)
    camera_lost = Signal(str)
    error = Signal(str)
    ended = Signal()

    def __init__(
        self,
        cameras: Camera | Sequence[Camera],
        *,
        decoder: QrDecoder | None = None,
        decoder_name: str = DEFAULT_DECODER,
        hold_off_s: float = DEFAULT_HOLD_OFF_S,
        confirm_frames: int = 2,
        preview_fps: float = DEFAULT_PREVIEW_FPS,
        decode_fps: float | None = None,
        reopen_s: float = 2.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.cameras = [cameras] if isinstance(cameras, Camera) else list(cameras)
        self.feed = CameraFeed(
            self.cameras,
            decoder,
            decode_fps=decode_fps or 0.0,
            preview_fps=preview_fps,
            confirm_frames=confirm_frames,
            hold_off_s=hold_off_s,
            reopen_s=reopen_s,
            on_frame=self._on_frame,
            on_scan=self._on_scan,
            on_status=self._on_status,
        )
        self.decoder_name = decoder_name  # made on the thread when no decoder was given
        self._last_scan_image: QImage | None = None
        self._lost = False  # the current camera was reported lost and has not come back yet

    def stats(self) -> FeedStats:
        return self.feed.stats()

    def stop(self, timeout_ms: int = 5000) -> None:
        """Ask the thread to finish, wake a camera waiting for a frame, and wait for it."""
        self.feed.stop()
        if self.isRunning():
            self.wait(timeout_ms)

    @property
    def live(self) -> bool:
        """A device or stream among the cameras (one that another window could not open
        while this worker holds it)."""
        return any(camera.live for camera in self.cameras)

    def resume(self) -> None:
        """Start again after :meth:`stop` (the settings dialog needed the camera)."""
        if not self.isRunning():
            self.feed.reset()
            self.start()

    def run(self) -> None:
        if self.feed.decoder is None:
            try:
                self.feed.decoder = make_decoder(self.decoder_name)
            except Exception as exc:
                log.exception("no QR decoder")
                self.error.emit(text.camera_error(exc))
                self.feed.decoder = _NoDecoder()
        try:
            self.feed.run()
        except Exception as exc:  # never let a camera bug end the thread without a word
            log.exception("camera feed failed")
            self.error.emit(text.camera_error(exc))
        if self._last_scan_image is not None:
            self.frame.emit(self._last_scan_image)
        self.ended.emit()

    # -- feed callbacks, on this thread ------------------------------------------------------

    def _on_frame(self, frame: np.ndarray) -> None:
        self.frame.emit(to_qimage(frame))

    def _on_scan(self, scan: Scan) -> None:
        image = to_qimage(scan.frame)
        self._last_scan_image = image
        self.frame.emit(image)
        if scan.text is None:
            self.error.emit(text.not_utf8_qr())
        else:
            self.scanned.emit(scan.text)

    def _on_status(self, status: FeedStatus) -> None:
        if status.state == RUNNING:
            self._lost = False
            self.camera_opened.emit(status.camera)
        elif status.state == FAILED:
            self.error.emit(text.camera_error(status.message))
        elif status.state in (LOST, WAITING) and not self._lost:
            # once per outage: a camera retried every 2 s must not flood the status bar
            self._lost = True
            self.camera_lost.emit(status.camera)
            self.error.emit(text.camera_lost(status.camera))


class _NoDecoder:
    """Stands in when no QR library loads: the preview still runs, nothing is decoded."""

    def decode(self, frame: np.ndarray) -> list:
        return []


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
    seq: int = 0  # the submission's number (IntakeRunner counts from 1)


class IntakeRunner(QObject):
    """``submit(text)`` runs ``Intake.handle`` off the GUI thread, ``admit(identity)`` runs
    ``Intake.admit`` (manual entry, chip); then the possible-duplicate check. Both return the
    submission's number (1, 2, …): lookups run in parallel and a slow one may finish after a
    later one, so ``done(Checked)`` carries it in ``Checked.seq``, ``failed(message, seq)``
    too. They come back on the GUI thread, then ``idle`` when nothing is left."""

    submitted = Signal(str)
    done = Signal(object)
    failed = Signal(str, int)
    idle = Signal()

    def __init__(self, intake: Intake, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.intake = intake
        self._tasks = TaskRunner(parent=self)
        self._tasks.idle.connect(self.idle)
        self._seq = 0

    @property
    def pending(self) -> int:
        return self._tasks.pending

    def submit(self, payload: str) -> int:
        self.submitted.emit(payload)
        return self._run(partial(self.intake.handle, payload))

    def admit(self, identity: Identity) -> int:
        return self._run(partial(self.intake.admit, identity))

    def wait(self, timeout_ms: int = -1) -> bool:
        return self._tasks.wait(timeout_ms)

    def _run(self, work: Callable[[], IntakeResult]) -> int:
        self._seq += 1
        seq = self._seq
        self._tasks.run(partial(self._checked, work, seq), self._succeed, partial(self._fail, seq))
        return seq

    def _checked(self, work: Callable[[], IntakeResult], seq: int) -> Checked:
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
        return Checked(result, tuple(duplicates), time.perf_counter() - started, seq)

    def _succeed(self, checked: Checked) -> None:
        self.done.emit(checked)

    def _fail(self, seq: int, exc: BaseException) -> None:
        self.failed.emit(failure_message(exc), seq)


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
