"""drivers.camera_feed: real OpenCV on real MJPG files, and a camera that goes away and back."""

from __future__ import annotations

import itertools
import json
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno

from checkin.qr import Decoded, make_decoder
from drivers.camera import Camera, CameraError, ReplayCamera
from drivers.camera_feed import (
    ENDED,
    FAILED,
    LOST,
    OPENING,
    RUNNING,
    STOPPED,
    WAITING,
    CameraFeed,
    Confirmer,
    Scan,
    Status,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VIDEO = FIXTURES / "videos" / "eligible-cccd.avi"  # 8 empty frames, 18 with the QR, 5 empty
PAYLOAD = (FIXTURES / "payloads" / "eligible-cccd.txt").read_bytes()
DECODER = make_decoder()


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ClockedReplay(ReplayCamera):
    """A replay read as fast as it decodes, whose every frame moves a manual clock on by one
    frame interval: rates and time windows then follow the recording, not the machine."""

    def __init__(self, path: Path, clock: ManualClock, **kwargs: object) -> None:
        super().__init__(path, realtime=False, **kwargs)  # type: ignore[arg-type]
        self.clock = clock

    def read(self) -> np.ndarray | None:
        frame = super().read()
        if frame is not None:
            self.clock.now += 1 / self.fps
        return frame


class Recorder:
    def __init__(self) -> None:
        self.scans: list[Scan] = []
        self.statuses: list[Status] = []
        self.frames = 0
        self.scanned = threading.Event()

    def on_scan(self, scan: Scan) -> None:
        self.scans.append(scan)
        self.scanned.set()

    def on_status(self, status: Status) -> None:
        self.statuses.append(status)

    def on_frame(self, frame: np.ndarray) -> None:
        self.frames += 1

    @property
    def states(self) -> list[str]:
        return [s.state for s in self.statuses]

    def callbacks(self) -> dict:
        return {"on_scan": self.on_scan, "on_status": self.on_status, "on_frame": self.on_frame}


def qr_frame(text: str, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    code = segno.make(text, error="m", mode="byte", encoding="utf-8", eci=False, micro=False)
    rows = [list(row) for row in code.matrix_iter(scale=4, border=4)]
    tile = np.where(np.array(rows, dtype=np.uint8) == 1, 0, 255).astype(np.uint8)
    frame = np.full((size[1], size[0], 3), 120, np.uint8)
    frame[10 : 10 + tile.shape[0], 10 : 10 + tile.shape[1]] = tile[..., None]
    return frame


def blank_frame(size: tuple[int, int] = (320, 240)) -> np.ndarray:
    return np.full((size[1], size[0], 3), 120, np.uint8)


def write_video(path: Path, frames: list[np.ndarray], fps: float = 15.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


# --- real video files ------------------------------------------------------------------


def test_fixture_video_gives_one_confirmed_scan_and_statistics() -> None:
    clock, seen = ManualClock(), Recorder()
    feed = CameraFeed(
        ClockedReplay(VIDEO, clock), DECODER, decode_fps=5, clock=clock, **seen.callbacks()
    )
    feed.run(threading.Event())
    assert [(s.raw, s.text) for s in seen.scans] == [(PAYLOAD, PAYLOAD.decode())]
    scan = seen.scans[0]
    assert 8 <= scan.frame_index < 26 and scan.frame.shape == (480, 640, 3)
    assert scan.camera == "replay eligible-cccd.avi" and len(scan.points) == 4
    assert seen.states == [OPENING, RUNNING, ENDED]
    assert seen.frames == 31  # every frame previewed (no preview limit)
    stats = feed.stats()
    assert stats.frames == 31 and stats.scans == 1 and stats.reopens == 0
    # 5 of the recording's 15 frames a second (11 slots in 2 s), and the confirming frame
    assert 11 <= stats.decoded <= 12
    assert stats.capture_fps == pytest.approx(15, rel=0.01)
    assert stats.decode_fps == pytest.approx(5.5, rel=0.1)
    assert 0 < stats.decode_ms_median <= stats.decode_ms_p95


@pytest.mark.parametrize("clip", ["dark-glare.avi", "focus-hunt.avi", "motion-settle.avi"])
def test_hard_clips_give_one_scan(clip: str) -> None:
    manifest = json.loads((FIXTURES / "hard" / "manifest.json").read_text("utf-8"))
    payload = next(c["payload"] for c in manifest["clips"] if c["file"] == clip)
    clock, seen = ManualClock(), Recorder()
    feed = CameraFeed(ClockedReplay(FIXTURES / "hard" / clip, clock), DECODER, decode_fps=10,
                      clock=clock, **seen.callbacks())  # fmt: skip
    feed.run(threading.Event())
    assert [s.text for s in seen.scans] == [payload]


def test_preview_rate_is_bounded_separately() -> None:
    clock, seen = ManualClock(), Recorder()
    feed = CameraFeed(ClockedReplay(VIDEO, clock), DECODER, preview_fps=7.5, decode_fps=0,
                      clock=clock, **seen.callbacks())  # fmt: skip
    feed.run(threading.Event())
    assert seen.frames == 16  # every other frame
    assert feed.stats().decoded == 31  # decode_fps=0: every frame


@pytest.mark.parametrize(("hold_off", "expected"), [(10.0, 1), (0.5, 3)])
def test_held_phone_is_one_scan_and_comes_back_after_the_hold_off(
    hold_off: float, expected: int
) -> None:
    # The clip loops: the QR is in view 1.2 s, then out of view 0.87 s, then back.
    clock, seen, stop = ManualClock(), Recorder(), threading.Event()
    shown = [0]

    def stop_after_three_loops(frame: np.ndarray) -> None:
        shown[0] += 1
        if shown[0] >= 3 * 31:
            stop.set()

    feed = CameraFeed(ClockedReplay(VIDEO, clock, loop=True), DECODER, decode_fps=0,
                      hold_off_s=hold_off, clock=clock, on_scan=seen.on_scan,
                      on_frame=stop_after_three_loops)  # fmt: skip
    feed.run(stop)
    assert [s.raw for s in seen.scans] == [PAYLOAD] * expected


def test_a_code_seen_once_is_not_confirmed(tmp_path: Path) -> None:
    frames = [blank_frame()] * 4 + [qr_frame("Đỗ Thị Hằng")] + [blank_frame()] * 4
    video = write_video(tmp_path / "glimpse.avi", frames)
    for confirm, expected in ((2, []), (1, ["Đỗ Thị Hằng"])):
        clock, seen = ManualClock(), Recorder()
        feed = CameraFeed(ClockedReplay(video, clock), DECODER, decode_fps=0,
                          confirm_frames=confirm, clock=clock, **seen.callbacks())  # fmt: skip
        feed.run(threading.Event())
        assert [s.text for s in seen.scans] == expected


def test_playlist_plays_each_file_in_turn(tmp_path: Path) -> None:
    first = write_video(tmp_path / "a.avi", [qr_frame("Lê Văn Tám")] * 3)
    second = write_video(tmp_path / "b.avi", [qr_frame("Hồ Thị Lan")] * 3)
    clock, seen = ManualClock(), Recorder()
    feed = CameraFeed([ClockedReplay(first, clock), lambda: ClockedReplay(second, clock)],
                      DECODER, clock=clock, **seen.callbacks())  # fmt: skip
    feed.run(threading.Event())
    assert [(s.camera, s.text) for s in seen.scans] == [
        ("replay a.avi", "Lê Văn Tám"),
        ("replay b.avi", "Hồ Thị Lan"),
    ]
    assert seen.states == [OPENING, RUNNING, ENDED] * 2


def test_missing_file_fails_at_once(tmp_path: Path) -> None:
    seen = Recorder()
    feed = CameraFeed(ReplayCamera(tmp_path / "none.avi"), DECODER, reopen_s=30,
                      **seen.callbacks())  # fmt: skip
    start = time.monotonic()
    feed.run(threading.Event())
    assert time.monotonic() - start < 5
    assert seen.states == [OPENING, FAILED] and "no recording" in seen.statuses[-1].message


def test_stop_from_another_thread_wakes_a_waiting_replay(tmp_path: Path) -> None:
    slow = write_video(tmp_path / "slow.avi", [blank_frame()] * 5, fps=1)
    seen = Recorder()
    feed = CameraFeed(ReplayCamera(slow, realtime=True), DECODER, **seen.callbacks())
    thread = threading.Thread(target=feed.run, args=(threading.Event(),))
    thread.start()
    time.sleep(0.3)
    start = time.monotonic()
    feed.stop()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - start < 1.0
    assert seen.states[-1] == STOPPED


class FailingDecoder:
    name = "failing"

    def __init__(self) -> None:
        self.calls = 0

    def decode(self, image: np.ndarray) -> list[Decoded]:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("decoder bug")
        return DECODER.decode(image)


def test_a_decoder_error_does_not_stop_the_feed() -> None:
    clock, seen = ManualClock(), Recorder()
    decoder = FailingDecoder()
    feed = CameraFeed(ClockedReplay(VIDEO, clock), decoder, decode_fps=0, clock=clock,
                      **seen.callbacks())  # fmt: skip
    feed.run(threading.Event())
    assert decoder.calls == 31 and [s.raw for s in seen.scans] == [PAYLOAD]


# --- the decode rate and the confirming frame ------------------------------------------------


class ScriptedCamera(Camera):
    """Given frames at 30 fps on a manual clock, each up to ``jitter_s`` early or late. Every
    frame but the first is 1 ms late besides, so that none ties with a decode slot (the sum of
    tenths of a second and the frame time differ in the last bit)."""

    name = "scripted"
    live = False

    def __init__(self, frames: list[np.ndarray], clock: ManualClock, jitter_s: float = 0.0):
        self.frames, self.clock, self.jitter_s = frames, clock, jitter_s
        self.rng = np.random.default_rng(7)
        self.start, self.next = clock.now, 0

    @property
    def fps(self) -> float:
        return 30.0

    def open(self) -> None:
        self.next = 0

    def read(self) -> np.ndarray | None:
        if self.next >= len(self.frames):
            return None
        jitter = self.rng.uniform(-self.jitter_s, self.jitter_s)
        late = 0.001 if self.next else 0.0
        self.clock.now = self.start + self.next / self.fps + late + jitter
        self.next += 1
        return self.frames[self.next - 1]

    def close(self) -> None:
        pass


def decoded_frames(frames: list[np.ndarray], burst: bool = True, **kwargs: object):
    """Play ``frames`` at 30 fps, 10 decodes a second, 2 confirming frames: the indices of the
    frames given to the decoder, and the scans."""
    clock, seen, shown, decoded = ManualClock(), Recorder(), [-1], []

    class Decoder:
        name = "recording"

        def decode(self, image: np.ndarray) -> list[Decoded]:
            decoded.append(shown[0])
            return DECODER.decode(image)

    def on_frame(frame: np.ndarray) -> None:
        shown[0] += 1

    camera = ScriptedCamera(frames, clock, **kwargs)  # type: ignore[arg-type]
    feed = CameraFeed(camera, Decoder(), decode_fps=10, confirm_frames=2, clock=clock,
                      on_scan=seen.on_scan, on_frame=on_frame)  # fmt: skip
    feed.confirm_burst = burst
    feed.run(threading.Event())
    return decoded, seen.scans


@pytest.mark.parametrize("first", [30, 31, 32])  # the QR appears at each phase of the rate
def test_the_frame_after_a_first_sighting_confirms_it(first: int) -> None:
    frames = [blank_frame()] * first + [qr_frame("Trịnh Công Sơn")] * 30
    frames += [blank_frame()] * (90 - len(frames))
    decoded, scans = decoded_frames(frames)
    sighted = min(i for i in decoded if i >= first)
    assert sighted - first <= 2  # the next decode slot (every third frame at 30 fps)
    assert [(s.text, s.frame_index) for s in scans] == [("Trịnh Công Sơn", sighted + 1)]
    # Only the confirming frame comes out of turn: empty frames before, and the held phone
    # after, go to the decoder at 10 a second (one frame in three), never two frames running.
    others = [i for i in decoded if i != sighted + 1]
    assert all(b - a >= 2 for a, b in itertools.pairwise(others))
    assert len(decoded) == len(others) + 1 == 30 + 1  # 3 s of frames: 30 slots, 1 extra
    # Before: the confirming frame waited for the next slot.
    decoded, scans = decoded_frames(frames, burst=False)
    assert [s.frame_index for s in scans] == [sighted + 3] and len(decoded) == 30


def test_a_glimpse_costs_one_extra_decode_and_is_not_confirmed() -> None:
    frames = [blank_frame()] * 30 + [qr_frame("Lý Tự Trọng")] + [blank_frame()] * 29
    decoded, scans = decoded_frames(frames)
    assert scans == [] and 30 in decoded and 31 in decoded and len(decoded) == 20 + 1


def test_the_decode_rate_holds_with_a_jittery_camera() -> None:
    # Frames up to 3 ms early or late: one landing just before its slot must not push every
    # later decode back a frame (that gave 7.5-9 decodes a second instead of 10).
    decoded, _ = decoded_frames([blank_frame()] * 300, jitter_s=0.003)
    assert 99 <= len(decoded) <= 101  # 10 s of frames
    assert all(2 <= b - a <= 4 for a, b in itertools.pairwise(decoded))


# --- a camera that goes away -------------------------------------------------------------


class FlakyCamera(Camera):
    """A live camera test backend: gives ``before`` frames, then None (unplugged); the next
    ``refusals`` opens raise CameraError; after that it opens and shows a QR."""

    name = "flaky"
    live = True

    def __init__(self, before: int, refusals: int, text: str) -> None:
        self.before, self.refusals = before, refusals
        self.qr, self.blank = qr_frame(text), blank_frame()
        self.opens = self.reads = 0
        self.generation = -1
        self.closed = True

    @property
    def fps(self) -> float:
        return 30.0

    def open(self) -> None:
        self.opens += 1
        if self.generation == 0 and self.refusals > 0:
            self.refusals -= 1
            raise CameraError("no such device")
        self.generation += 1
        self.closed = False
        self.reads = 0

    def read(self) -> np.ndarray | None:
        if self.closed:
            return None
        self.reads += 1
        time.sleep(0.002)
        if self.generation == 0:
            return self.blank if self.reads <= self.before else None
        return self.qr

    def close(self) -> None:
        self.closed = True


def run_until_scan(feed: CameraFeed, seen: Recorder, timeout: float = 10) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=feed.run, args=(stop,))
    thread.start()
    try:
        assert seen.scanned.wait(timeout), seen.states
    finally:
        stop.set()
        feed.stop()
        thread.join(5)
    assert not thread.is_alive()


def test_lost_camera_is_reopened_with_status_until_it_works() -> None:
    camera, seen = FlakyCamera(before=5, refusals=2, text="Vũ Minh Khôi"), Recorder()
    feed = CameraFeed(camera, DECODER, decode_fps=0, reopen_s=0.05, **seen.callbacks())
    run_until_scan(feed, seen)
    assert [s.text for s in seen.scans] == ["Vũ Minh Khôi"]
    states = seen.states
    assert states[:3] == [OPENING, RUNNING, LOST]
    assert states.count(WAITING) == 2 and states[-1] == STOPPED
    assert [s.attempt for s in seen.statuses if s.state == WAITING] == [1, 2]
    assert "no such device" in next(s.message for s in seen.statuses if s.state == WAITING)
    assert states.count(RUNNING) == 2
    assert camera.opens == 4 and feed.stats().reopens == 1


def test_camera_absent_at_start_is_retried() -> None:
    opened: list[FlakyCamera] = []

    def factory() -> Camera:
        if len(opened) < 2:
            opened.append(FlakyCamera(0, 0, "x"))
            raise CameraError("camera 0 not found")
        camera = FlakyCamera(before=10**6, refusals=0, text="Ngô Bảo Châu")
        camera.generation = 0  # the first open shows the QR
        opened.append(camera)
        return camera

    seen = Recorder()
    feed = CameraFeed(factory, DECODER, decode_fps=0, reopen_s=0.05, **seen.callbacks())
    run_until_scan(feed, seen)
    assert [s.text for s in seen.scans] == ["Ngô Bảo Châu"]
    assert seen.states[:3] == [WAITING, WAITING, OPENING]
    assert all("not found" in s.message for s in seen.statuses[:2])


def test_stop_while_waiting_to_reopen() -> None:
    seen = Recorder()

    def never() -> Camera:
        raise CameraError("gone")

    feed = CameraFeed(never, DECODER, reopen_s=30, **seen.callbacks())
    stop = threading.Event()
    thread = threading.Thread(target=feed.run, args=(stop,))
    thread.start()
    time.sleep(0.1)
    stop.set()
    thread.join(2)
    assert not thread.is_alive()
    assert seen.states == [WAITING, STOPPED]


# --- the confirmer alone -----------------------------------------------------------------


def test_confirmer_needs_two_sightings_within_the_window() -> None:
    confirm = Confirmer(confirm_frames=2, window_s=1.0, hold_off_s=10.0)
    assert confirm.feed([b"a"], 0.0) == []
    assert confirm.feed([b"a"], 1.5) == []  # the first sighting is too old by now
    assert confirm.feed([b"a", b"a"], 2.0) == [b"a"]  # seen at 1.5 and 2.0 (once per frame)
    assert confirm.feed([b"b"], 2.1) == []


def test_confirmer_hold_off_runs_from_the_last_sighting() -> None:
    confirm = Confirmer(confirm_frames=1, window_s=1.0, hold_off_s=5.0)
    assert confirm.feed([b"a"], 0.0) == [b"a"]
    assert confirm.feed([b"a"], 4.0) == []  # still in view: held
    assert confirm.feed([b"a"], 8.5) == []  # 4.5 s after the last sighting: still held
    assert confirm.feed([], 14.0) == []
    assert confirm.feed([b"a"], 14.0) == [b"a"]  # 5.5 s after it was last seen
    assert confirm.holding(b"a")
