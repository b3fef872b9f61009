"""A camera feeding the QR decoder: rate limit, confirmation, hold-off, reopen, statistics.

No Qt here: :meth:`CameraFeed.run` loops on whatever thread calls it (a ``QThread.run``, a
``threading.Thread``, a test) until its stop event is set or the source ends, and reports
through three callbacks called on that thread:

- ``on_frame(frame)``: every captured BGR frame, or at most ``preview_fps`` a second;
- ``on_scan(scan)``: a payload accepted (see :class:`Scan`);
- ``on_status(status)``: opening, running, lost, waiting to reopen, ended, stopped.

Frames are read as fast as the camera gives them (a live camera that is not read falls
behind), but only ``decode_fps`` of them a second go to the decoder, plus the few right after
a frame showing a payload not yet confirmed (confirming then takes one frame interval, not a
decode interval). A payload is accepted once it was decoded in ``confirm_frames`` decoded
frames within ``confirm_window_s``, and is not accepted again until ``hold_off_s`` have passed
since it was last seen: a phone held in front of the camera for a minute is one scan. When a
live camera stops giving frames (unplugged, the stream dropped) or cannot be opened, the feed
closes it and tries again every ``reopen_s`` seconds until it opens or the feed is stopped. A
file or replay that ends ends the feed (after the next source, when given several: a demo
playlist).

Pattern: a Qt-free decoder behind a factory, and a separate debouncing validator
(style.md §1.2 item 5, after Electrum's qrreader and its validator).
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from checkin.qr import Decoded, QrDecoder, make_decoder
from drivers.camera import Camera, CameraError

log = logging.getLogger(__name__)

CameraSource = Camera | Callable[[], Camera]

# States reported through on_status.
OPENING, RUNNING, LOST, WAITING, ENDED, STOPPED, FAILED = (
    "opening", "running", "lost", "waiting", "ended", "stopped", "failed",
)  # fmt: skip


@dataclass(frozen=True)
class Scan:
    """One accepted payload. ``text`` is None when the QR's bytes are not UTF-8."""

    raw: bytes
    text: str | None
    camera: str
    frame_index: int  # index of the confirming frame among those this camera gave since opening
    at: float  # clock time of acceptance
    frame: np.ndarray = field(repr=False, compare=False)  # the confirming BGR frame
    points: tuple[tuple[int, int], ...] = ()
    stage: str = "direct"  # which decoder pass read it (checkin.qr.Decoded.stage)


@dataclass(frozen=True)
class Status:
    state: str  # OPENING, RUNNING, LOST, WAITING, ENDED, STOPPED or FAILED
    camera: str
    message: str = ""
    attempt: int = 0  # failed opens in a row so far (OPENING, WAITING)


@dataclass(frozen=True)
class FeedStats:
    """Figures over a sliding window: frames/s captured and decoded, decode time in ms."""

    capture_fps: float
    decode_fps: float
    decode_ms_median: float
    decode_ms_p95: float
    frames: int  # captured since the feed started
    decoded: int  # frames given to the decoder since the feed started
    scans: int  # payloads accepted
    reopens: int  # times a lost camera was opened again


class Confirmer:
    """Accept a payload seen in ``confirm_frames`` decoded frames within ``window_s``, then
    hold it off until ``hold_off_s`` after it was last seen. Not thread-safe (one per feed)."""

    def __init__(self, *, confirm_frames: int = 2, window_s: float = 1.0, hold_off_s: float = 10.0):
        self.confirm_frames = max(1, confirm_frames)
        self.window_s = window_s
        self.hold_off_s = hold_off_s
        self._sightings: dict[bytes, deque[float]] = {}
        self._held: dict[bytes, float] = {}  # payload -> last seen after acceptance

    def feed(self, raws: Sequence[bytes], now: float) -> list[bytes]:
        """The payloads decoded in one frame in; the newly accepted ones out."""
        self._held = {raw: seen for raw, seen in self._held.items() if now - seen < self.hold_off_s}
        accepted = []
        for raw in dict.fromkeys(raws):
            if raw in self._held:
                self._held[raw] = now
                continue
            seen = self._sightings.setdefault(raw, deque())
            seen.append(now)
            while seen and now - seen[0] > self.window_s:
                seen.popleft()
            if len(seen) >= self.confirm_frames:
                del self._sightings[raw]
                self._held[raw] = now
                accepted.append(raw)
        self._sightings = {
            raw: seen
            for raw, seen in self._sightings.items()
            if seen and now - seen[-1] <= self.window_s
        }
        return accepted

    def holding(self, raw: bytes) -> bool:
        return raw in self._held

    def pending(self, raw: bytes) -> bool:
        """Seen, not yet confirmed (nor held)."""
        return raw in self._sightings


class _Window:
    """Timestamps (and values) of the last events, for rates and percentiles."""

    def __init__(self, size: int) -> None:
        self.times: deque[float] = deque(maxlen=size)
        self.values: deque[float] = deque(maxlen=size)

    def add(self, at: float, value: float = 0.0) -> None:
        self.times.append(at)
        self.values.append(value)

    def rate(self, now: float, horizon_s: float) -> float:
        recent = [t for t in self.times if now - t <= horizon_s]
        if len(recent) < 2 or recent[-1] <= recent[0]:
            return 0.0
        return (len(recent) - 1) / (recent[-1] - recent[0])


class CameraFeed:
    """Frames from a camera (or several in turn) to the decoder and accepted scans out.

    The decode rate is a schedule of ``decode_fps`` slots a second, each taken by the first
    frame at or after it: a frame arriving a hair early (camera jitter) moves one decode to the
    next frame but not the slots after it, so the rate stays ``decode_fps``. A frame that
    shows a payload still to be confirmed is followed by decoding the next frames at once, up to
    ``confirm_frames`` of them, until the payload is confirmed or a frame lacks it: confirming
    costs one frame interval (33 ms at 30 fps), not a decode interval, and a desk with nothing
    in front of the camera still decodes only ``decode_fps`` frames a second.

    ``source``: a :class:`Camera`, a callable making one (called again for every reopen, so a
    fresh capture object is used), or a sequence of either, played in turn. Whether a source
    that stops giving frames is reopened or has ended is ``reopen``'s call: None (default) asks
    the camera (``Camera.live``: devices and stream URLs yes, files and replays no).
    """

    def __init__(
        self,
        source: CameraSource | Sequence[CameraSource],
        decoder: QrDecoder | None = None,
        *,
        decode_fps: float = 10.0,
        preview_fps: float | None = None,
        confirm_frames: int = 2,
        confirm_window_s: float = 1.0,
        hold_off_s: float = 10.0,
        reopen: bool | None = None,
        reopen_s: float = 2.0,
        stats_window: int = 100,
        stats_horizon_s: float = 5.0,
        on_frame: Callable[[np.ndarray], None] | None = None,
        on_scan: Callable[[Scan], None] | None = None,
        on_status: Callable[[Status], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(source, Camera) or callable(source):
            sources: list[CameraSource] = [source]
        else:
            sources = list(source)
        if not sources:
            raise ValueError("CameraFeed needs at least one camera")
        self._sources = sources
        self.decoder = decoder  # None: make_decoder() when run starts
        self.decode_interval = 1.0 / decode_fps if decode_fps and decode_fps > 0 else 0.0
        self.preview_interval = 1.0 / preview_fps if preview_fps and preview_fps > 0 else 0.0
        self.confirmer = Confirmer(
            confirm_frames=confirm_frames, window_s=confirm_window_s, hold_off_s=hold_off_s
        )
        self.reopen = reopen
        self.reopen_s = reopen_s
        self.stats_horizon_s = stats_horizon_s
        self.on_frame = on_frame
        self.on_scan = on_scan
        self.on_status = on_status
        self._clock = clock
        self._lock = threading.Lock()
        self._captured = _Window(stats_window)
        self._decodes = _Window(stats_window)
        self._totals = {"frames": 0, "decoded": 0, "scans": 0, "reopens": 0}
        self._stop = threading.Event()
        self._camera: Camera | None = None

    # False: a confirming frame waits for the next decode slot like any other (the behaviour
    # before; benchmarks/camera_latency.py --plain-rate compares the two).
    confirm_burst = True

    # --- control -----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop from any thread: ends ``run`` soon, waking a camera waiting for a frame."""
        self._stop.set()
        camera = self._camera
        if camera is not None:
            camera.close()

    def reset(self) -> None:
        """Make a stopped feed runnable again (only while ``run`` is not running): the
        confirmation and hold-off state and the figures are kept."""
        self._stop = threading.Event()

    def stats(self) -> FeedStats:
        """A consistent snapshot, from any thread."""
        now = self._clock()
        with self._lock:
            times = list(self._decodes.values)
            return FeedStats(
                capture_fps=self._captured.rate(now, self.stats_horizon_s),
                decode_fps=self._decodes.rate(now, self.stats_horizon_s),
                decode_ms_median=statistics.median(times) if times else 0.0,
                decode_ms_p95=_percentile(times, 0.95),
                **self._totals,
            )

    def run(self, stop_event: threading.Event | None = None) -> None:
        """Play every source in turn; return when they have ended or the feed is stopped."""
        if stop_event is not None:
            if self._stop.is_set():  # stop() came before run()
                stop_event.set()
            self._stop = stop_event
        stop = self._stop
        decoder = self.decoder or make_decoder()
        for source in self._sources:
            if stop.is_set():
                break
            self._play(source, decoder, stop)
        self._camera = None

    # --- one source --------------------------------------------------------------------

    def _play(self, source: CameraSource, decoder: QrDecoder, stop: threading.Event) -> None:
        attempt = 0  # failed opens in a row
        reopening = False
        live = self.reopen
        name = getattr(source, "name", "camera")
        while not stop.is_set():
            camera = source if isinstance(source, Camera) else None
            try:
                camera = camera or source()  # type: ignore[operator]
                name = camera.name
                if live is None:
                    live = camera.live
                self._status(OPENING, name, attempt=attempt)
                self._camera = camera
                if stop.is_set():
                    break
                camera.open()
            except (CameraError, OSError) as exc:
                self._camera = None
                if live is False:  # a file: nothing will change by waiting
                    self._status(FAILED, name, str(exc))
                    return
                attempt += 1
                self._status(WAITING, name, f"{exc}; retrying in {self.reopen_s:g} s", attempt)
                if stop.wait(self.reopen_s):
                    break
                continue
            if reopening:
                with self._lock:
                    self._totals["reopens"] += 1
            attempt, reopening = 0, False
            self._status(RUNNING, name)
            gone = self._capture(camera, decoder, stop)
            camera.close()
            self._camera = None
            if stop.is_set():
                break
            if not (live and gone):
                self._status(ENDED, name)
                return
            reopening = True
            self._status(LOST, name, f"no frames; reopening every {self.reopen_s:g} s")
            if stop.wait(self.reopen_s):
                break
        self._status(STOPPED, name)

    def _capture(self, camera: Camera, decoder: QrDecoder, stop: threading.Event) -> bool:
        """Read until the camera gives no frame (True) or the feed is stopped (False)."""
        last_preview = next_decode = -float("inf")
        confirming = 0  # frames still to decode at once for a payload awaiting confirmation
        index = -1
        while not stop.is_set():
            try:
                frame = camera.read()
            except Exception:
                log.exception("reading %s failed", camera.name)
                frame = None
            if frame is None:
                return not stop.is_set()
            index += 1
            now = self._clock()
            with self._lock:
                self._captured.add(now)
                self._totals["frames"] += 1
            if self.on_frame is not None and now - last_preview >= self.preview_interval:
                last_preview = now
                self.on_frame(frame)
            due = now >= next_decode
            if not (due or confirming):
                continue
            if due:  # keep to the slots; start again from now after a stall of a slot or more
                on_time = now - next_decode < self.decode_interval
                next_decode = (next_decode if on_time else now) + self.decode_interval
            else:
                confirming -= 1
            awaiting = self._decode(frame, index, camera.name, decoder, now)
            if not (awaiting and self.confirm_burst):
                confirming = 0
            elif due:
                confirming = self.confirmer.confirm_frames
        return False

    def _decode(
        self, frame: np.ndarray, index: int, name: str, decoder: QrDecoder, now: float
    ) -> bool:
        """Decode one frame and report what it confirms; True when a payload it shows awaits
        confirmation."""
        started = time.perf_counter()
        try:
            found = decoder.decode(frame)
        except Exception:  # a decoder bug on one odd frame must not stop the camera
            log.exception("decoding a frame from %s failed", name)
            found = []
        elapsed_ms = (time.perf_counter() - started) * 1000
        with self._lock:
            self._decodes.add(now, elapsed_ms)
            self._totals["decoded"] += 1
        by_raw: dict[bytes, Decoded] = {d.raw: d for d in found}
        for raw in self.confirmer.feed(list(by_raw), now):
            decoded = by_raw[raw]
            with self._lock:
                self._totals["scans"] += 1
            if self.on_scan is not None:
                self.on_scan(
                    Scan(raw, decoded.text, name, index, now, frame, decoded.points, decoded.stage)
                )
        return any(self.confirmer.pending(raw) for raw in by_raw)

    def _status(self, state: str, camera: str, message: str = "", attempt: int = 0) -> None:
        log.info("camera %s: %s %s", camera, state, message)
        if self.on_status is not None:
            self.on_status(Status(state, camera, message, attempt))


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
