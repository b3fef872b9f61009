"""Cameras as a small device interface: open, read BGR frames, close. No Qt here.

Backends: ``OpenCvCamera`` (a device index, a video file or a stream URL through
``cv2.VideoCapture``) and ``ReplayCamera`` (a recorded video played back at its recorded frame
rate: the virtual camera of the demo and the tests). ``make_camera`` builds one from the spec
string a configuration or the command line carries.

A Qt worker calls ``open``/``read``/``close`` from its own thread. ``close`` may also come from
another thread (the GUI stopping the worker): it wakes a replay that is waiting for its next
frame, and ``read`` then returns None.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

REPLAY_PREFIX = "replay:"
DEFAULT_FPS = 15.0  # used when a file or a device reports no frame rate


class CameraError(RuntimeError):
    """The camera could not be opened (no such device, file or stream)."""


class Camera(ABC):
    """A source of BGR frames.

    ``live``: a device or a stream, which may come back after it stops giving frames (a
    feed reopens it); False for a file or a replay, whose frames simply end.
    """

    name: str
    live: bool = True

    @property
    @abstractmethod
    def fps(self) -> float:
        """Frames per second the source delivers (its reported rate, else DEFAULT_FPS)."""

    @abstractmethod
    def open(self) -> None:
        """Start the source; CameraError when it cannot be opened."""

    @abstractmethod
    def read(self) -> np.ndarray | None:
        """The next BGR frame; None at the end of a file, after close, or once a device is gone."""

    @abstractmethod
    def close(self) -> None:
        """Release the source. Safe to call twice and from another thread."""

    def __enter__(self) -> Camera:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class OpenCvCamera(Camera):
    """``cv2.VideoCapture`` on a device index, a file path or a URL (rtsp://, http://).

    ``close`` waits for a read in progress (at most one frame interval on a working device):
    releasing a capture in the middle of ``VideoCapture.read`` is not safe.
    """

    def __init__(self, source: int | str | Path, *, api_preference: int = cv2.CAP_ANY) -> None:
        self.source: int | str = source if isinstance(source, int) else str(source)
        self.api_preference = api_preference
        self.name = f"camera {source}" if isinstance(source, int) else str(source)
        self.live = isinstance(source, int) or "://" in str(source)
        self._capture: cv2.VideoCapture | None = None
        self._lock = threading.Lock()  # never release the capture in the middle of a read

    @property
    def fps(self) -> float:
        with self._lock:
            reported = self._capture.get(cv2.CAP_PROP_FPS) if self._capture else 0.0
        return _usable_fps(reported)

    def open(self) -> None:
        self.close()
        capture = cv2.VideoCapture(self.source, self.api_preference)
        if not capture.isOpened():
            capture.release()
            raise CameraError(f"cannot open {self.name}")
        with self._lock:
            self._capture = capture

    def read(self) -> np.ndarray | None:
        with self._lock:
            if self._capture is None:
                return None
            ok, frame = self._capture.read()
        return frame if ok else None

    def close(self) -> None:
        with self._lock:
            capture, self._capture = self._capture, None
            if capture is not None:
                capture.release()

    def rewind(self) -> bool:
        """Go back to the first frame of a file; False when the source cannot seek."""
        with self._lock:
            if self._capture is None:
                return False
            return bool(self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0))


class ReplayCamera(Camera):
    """A recorded video played as a camera.

    ``realtime`` paces frames at the recorded rate (sleeping between reads); without it every
    frame comes back as fast as it decodes. ``loop`` starts over at the end instead of
    returning None. ``clock`` exists for tests. A reader slower than the recorded rate gets
    every frame, late (no frames are dropped), so replays stay deterministic.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        realtime: bool = True,
        loop: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.realtime = realtime
        self.loop = loop
        self.live = False
        self.name = f"replay {self.path.name}"
        self._clock = clock
        self._file = OpenCvCamera(self.path)
        self._closed = threading.Event()
        self._started = 0.0
        self._frames_out = 0

    @property
    def fps(self) -> float:
        return self._file.fps

    def open(self) -> None:
        if not self.path.is_file():
            raise CameraError(f"no recording at {self.path}")
        self._file.open()
        self._closed.clear()
        self._started = self._clock()
        self._frames_out = 0

    def read(self) -> np.ndarray | None:
        if self._closed.is_set():
            return None
        frame = self._file.read()
        if frame is None and self.loop and self._frames_out and self._file.rewind():
            frame = self._file.read()
        if frame is None or not self._wait_for_slot():
            return None
        self._frames_out += 1
        return frame

    def close(self) -> None:
        self._closed.set()
        self._file.close()

    def _wait_for_slot(self) -> bool:
        """Sleep until this frame is due at the recorded rate; False when closed meanwhile."""
        if not self.realtime:
            return True
        due = self._started + self._frames_out / self.fps
        delay = due - self._clock()
        if delay > 0:
            return not self._closed.wait(delay)
        return not self._closed.is_set()


def make_camera(spec: str, *, realtime: bool = True, loop: bool = False) -> Camera:
    """Build a camera from its spec.

    ``"0"`` (any non-negative integer) is a device index; ``"replay:PATH"`` replays a recorded
    video (``realtime`` and ``loop`` apply to it only); anything else is a file path or a URL
    opened by OpenCV. The camera is returned unopened.
    """
    spec = spec.strip()
    if not spec:
        raise ValueError("empty camera spec")
    if spec.isascii() and spec.isdigit():
        return OpenCvCamera(int(spec))
    if spec.startswith(REPLAY_PREFIX):
        path = spec[len(REPLAY_PREFIX) :]
        if not path:
            raise ValueError("replay: needs a file path, e.g. replay:fixtures/videos/x.avi")
        return ReplayCamera(path, realtime=realtime, loop=loop)
    return OpenCvCamera(spec)


def _usable_fps(reported: float) -> float:
    return reported if reported and 0.0 < reported < 1000.0 else DEFAULT_FPS
