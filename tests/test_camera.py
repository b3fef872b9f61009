"""drivers.camera: real OpenCV on real MJPG files; no camera device is needed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from checkin.qr import make_decoder
from drivers.camera import (
    DEFAULT_FPS,
    CameraError,
    OpenCvCamera,
    ReplayCamera,
    make_camera,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def numbered_frames(count: int) -> list[np.ndarray]:
    """Frames whose brightness encodes their index (20, 40, 60, ...), robust to JPEG."""
    return [np.full((120, 160, 3), 20 * (i + 1), np.uint8) for i in range(count)]


def frame_number(frame: np.ndarray) -> int:
    return round(float(frame.mean()) / 20) - 1


def write_video(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_video(tmp_path / "clip.avi", numbered_frames(10), fps=30)


def read_all(camera: ReplayCamera | OpenCvCamera, limit: int = 1000) -> list[np.ndarray]:
    frames = []
    while (frame := camera.read()) is not None and len(frames) < limit:
        frames.append(frame)
    return frames


# --- make_camera -------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "index"), [("0", 0), ("2", 2), (" 1 ", 1)])
def test_digits_are_a_device_index(spec: str, index: int) -> None:
    camera = make_camera(spec)
    assert isinstance(camera, OpenCvCamera)
    assert camera.source == index
    assert camera.name == f"camera {index}"


def test_replay_spec() -> None:
    camera = make_camera("replay:fixtures/videos/eligible-old.avi", realtime=False, loop=True)
    assert isinstance(camera, ReplayCamera)
    assert camera.path == Path("fixtures/videos/eligible-old.avi")
    assert (camera.realtime, camera.loop) == (False, True)
    assert make_camera("replay:x.avi").realtime is True


@pytest.mark.parametrize("spec", ["rtsp://10.0.0.5/live", "clips/desk.avi", "C:\\cam\\a.avi", "-1"])
def test_anything_else_is_opened_by_opencv(spec: str) -> None:
    camera = make_camera(spec)
    assert isinstance(camera, OpenCvCamera)
    assert camera.source == spec


@pytest.mark.parametrize(
    ("spec", "live"),
    [("0", True), ("rtsp://10.0.0.5/live", True), ("http://cam/mjpg", True),
     ("clips/desk.avi", False), ("replay:x.avi", False)],
)  # fmt: skip
def test_devices_and_streams_are_live_files_are_not(spec: str, live: bool) -> None:
    assert make_camera(spec).live is live


@pytest.mark.parametrize("spec", ["", "   ", "replay:"])
def test_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError):
        make_camera(spec)


# --- ReplayCamera ------------------------------------------------------------------------


def test_replay_as_fast_as_possible_reads_every_frame_then_none(clip: Path) -> None:
    camera = ReplayCamera(clip, realtime=False)
    camera.open()
    frames = read_all(camera)
    assert [frame_number(f) for f in frames] == list(range(10))
    assert frames[0].shape == (120, 160, 3) and frames[0].dtype == np.uint8
    assert camera.read() is None
    assert camera.read() is None
    camera.close()


def test_replay_reports_the_recorded_rate(clip: Path) -> None:
    with ReplayCamera(clip) as camera:
        assert camera.fps == pytest.approx(30)
        assert camera.name == "replay clip.avi"


def test_realtime_replay_keeps_the_recorded_pace(clip: Path) -> None:
    with ReplayCamera(clip, realtime=True) as camera:
        start = time.monotonic()
        frames = read_all(camera)
        elapsed = time.monotonic() - start
    assert len(frames) == 10
    assert elapsed >= 9 / 30 * 0.9  # ten frames at 30 fps span nine intervals


def test_loop_starts_over(clip: Path) -> None:
    with ReplayCamera(clip, realtime=False, loop=True) as camera:
        numbers = [frame_number(camera.read()) for _ in range(25)]
    assert numbers == list(range(10)) * 2 + list(range(5))


def test_close_from_another_thread_wakes_a_waiting_read(tmp_path: Path) -> None:
    slow = write_video(tmp_path / "slow.avi", numbered_frames(3), fps=1)
    camera = ReplayCamera(slow, realtime=True)
    camera.open()
    assert camera.read() is not None  # the first frame is due at once
    threading.Timer(0.1, camera.close).start()
    start = time.monotonic()
    assert camera.read() is None  # would otherwise wait a whole second
    assert time.monotonic() - start < 0.6


def test_read_before_open_and_after_close_is_none(clip: Path) -> None:
    camera = ReplayCamera(clip, realtime=False)
    assert camera.read() is None
    camera.open()
    assert camera.read() is not None
    camera.close()
    camera.close()
    assert camera.read() is None


def test_reopen_starts_from_the_beginning(clip: Path) -> None:
    camera = ReplayCamera(clip, realtime=False)
    camera.open()
    read_all(camera)
    camera.open()
    assert frame_number(camera.read()) == 0
    camera.close()


def test_missing_recording(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="no recording"):
        ReplayCamera(tmp_path / "none.avi").open()


def test_corrupt_recording(tmp_path: Path) -> None:
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(CameraError, match="cannot open"):
        ReplayCamera(bad).open()


def test_replaying_a_committed_fixture_shows_its_qr() -> None:
    video = FIXTURES / "videos" / "eligible-cccd.avi"
    expected = (FIXTURES / "payloads" / "eligible-cccd.txt").read_bytes()
    decoder = make_decoder()
    with make_camera(f"replay:{video}", realtime=False) as camera:
        assert camera.fps == pytest.approx(15)
        frames = read_all(camera)
    assert len(frames) == 8 + 18 + 5 and frames[0].shape == (480, 640, 3)
    found = {d.raw for frame in frames for d in decoder.decode(frame)}
    assert found == {expected}


# --- OpenCvCamera ------------------------------------------------------------------------


def test_opencv_camera_reads_a_file(clip: Path) -> None:
    with OpenCvCamera(clip) as camera:
        assert camera.name == str(clip)
        assert [frame_number(f) for f in read_all(camera)] == list(range(10))
        assert camera.fps == pytest.approx(30)
    assert camera.read() is None


def test_missing_device_is_a_camera_error() -> None:
    camera = OpenCvCamera(97)
    with pytest.raises(CameraError, match="camera 97"):
        camera.open()
    assert camera.read() is None
    assert camera.fps == DEFAULT_FPS
