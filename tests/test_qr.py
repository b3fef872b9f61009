"""checkin.qr: both backends on real renders, scan_file on real image and MJPG video files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from checkin import qr
from checkin.qr import (
    DECODERS,
    Decoded,
    DecoderUnavailable,
    ScanError,
    ScanHit,
    make_decoder,
    scan_file,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# "Huỳnh" and "Bình" are what plain pyzbar turns into Shift-JIS mojibake (platform.md §3).
VIETNAMESE = [
    "Huỳnh",
    "Bình",
    "Nguyễn Văn An",
    "079303001234||Lê Thị Bình|02022003|Nữ|Tổ 5, Phường Mẫu, Thành phố Hồ Chí Minh|10102024",
    "001085012345|012345678|Đặng Quốc Việt|15081985|Nam|Số 10 Ngõ Ví Dụ, Hà Nội|20042021",
]
VIETNAMESE_LETTERS = "".join(
    (
        "aăâbcdđeêghiklmnoôơpqrstuưvxy ĐƯ",
        "àảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíị",
        "òỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ",
    )
)


def qr_image(data: str | bytes, *, scale: int = 4, eci: bool = False) -> np.ndarray:
    """A BGR render of ``data`` in byte mode, EC level M, with no ECI header by default."""
    code = segno.make(data, error="m", mode="byte", encoding="utf-8" if isinstance(data, str)
                      else None, eci=eci, micro=False, boost_error=False)  # fmt: skip
    rows = [list(row) for row in code.matrix_iter(scale=scale, border=4)]
    gray = np.where(np.array(rows, dtype=np.uint8) == 1, 0, 255).astype(np.uint8)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def on_canvas(*tiles: np.ndarray, size: tuple[int, int] = (480, 640)) -> np.ndarray:
    """Tiles side by side on a mid-grey BGR canvas."""
    canvas = np.full((*size, 3), 128, np.uint8)
    x = 10
    for tile in tiles:
        h, w = tile.shape[:2]
        canvas[10 : 10 + h, x : x + w] = tile
        x += w + 10
    return canvas


def write_video(path: Path, frames: list[np.ndarray], fps: float = 15.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(params=DECODERS)
def decoder(request: pytest.FixtureRequest) -> qr.QrDecoder:
    return make_decoder(request.param)


# --- decoders ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", VIETNAMESE)
def test_vietnamese_utf8_without_eci_is_not_garbled(decoder: qr.QrDecoder, text: str) -> None:
    found = decoder.decode(qr_image(text))
    assert [(d.raw, d.text) for d in found] == [(text.encode("utf-8"), text)]


def test_utf8_with_eci_header_decodes_too(decoder: qr.QrDecoder) -> None:
    found = decoder.decode(qr_image("Trần Thị Mai", eci=True))
    assert [d.text for d in found] == ["Trần Thị Mai"]


def test_invalid_utf8_keeps_raw_bytes_and_no_text(decoder: qr.QrDecoder) -> None:
    raw = "Bình".encode("latin-1") + b" \xff\xfe\x80"  # a legacy 8-bit encoding, not UTF-8
    found = decoder.decode(qr_image(raw))
    assert found == [Decoded(raw=raw, text=None, points=found[0].points)]


def test_gray_bgr_and_bgra_inputs_agree(decoder: qr.QrDecoder) -> None:
    bgr = on_canvas(qr_image("Phạm Văn Hùng"))
    images = [bgr, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)]
    assert [[d.text for d in decoder.decode(image)] for image in images] == [["Phạm Văn Hùng"]] * 3


def test_points_are_four_corners_around_the_code(decoder: qr.QrDecoder) -> None:
    tile = qr_image("Lý Thị Hoa")
    (found,) = decoder.decode(on_canvas(tile))
    assert len(found.points) == 4
    xs, ys = zip(*found.points, strict=True)
    quiet = 4 * 4
    assert min(xs) >= 10 + quiet - 2 and max(xs) <= 10 + tile.shape[1] - quiet + 2
    assert min(ys) >= 10 + quiet - 2 and max(ys) <= 10 + tile.shape[0] - quiet + 2


def test_two_codes_in_one_frame(decoder: qr.QrDecoder) -> None:
    found = decoder.decode(on_canvas(qr_image("Võ Thị Sáu"), qr_image("Đỗ Văn Tư")))
    assert sorted(d.text for d in found) == ["Võ Thị Sáu", "Đỗ Văn Tư"]


BLANKS = [np.zeros((240, 320), np.uint8), np.full((240, 320, 3), 255, np.uint8)]


@pytest.mark.parametrize("image", BLANKS)
def test_blank_frames_give_nothing(decoder: qr.QrDecoder, image: np.ndarray) -> None:
    assert decoder.decode(image) == []


def test_non_8bit_or_odd_shapes_are_rejected() -> None:
    decoder = make_decoder()
    with pytest.raises(ValueError, match="8-bit"):
        decoder.decode(np.zeros((10, 10), np.float32))
    with pytest.raises(ValueError, match="shape"):
        decoder.decode(np.zeros((10, 10, 2), np.uint8))


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet=VIETNAMESE_LETTERS, min_size=1, max_size=120))
def test_any_vietnamese_text_round_trips_through_zxing(text: str) -> None:
    found = make_decoder("zxing").decode(qr_image(text, scale=3))
    assert [d.text for d in found] == [text]


def test_factory_names() -> None:
    assert isinstance(make_decoder(), qr.ZxingDecoder)
    assert isinstance(make_decoder("zbar"), qr.ZbarDecoder)
    with pytest.raises(ValueError, match="unknown QR decoder 'wechat'"):
        make_decoder("wechat")
    assert qr.available_decoders() == {"zxing": None, "zbar": None}


def test_missing_pyzbar_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyzbar.wrapper", None)  # import now raises ImportError
    with pytest.raises(DecoderUnavailable, match="ZBar is not available"):
        make_decoder("zbar", fallback=False)
    assert qr.available_decoders()["zbar"]


def test_missing_zxing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zxingcpp", None)
    with pytest.raises(DecoderUnavailable, match="zxing-cpp"):
        make_decoder("zxing", fallback=False)


# --- scan_file: images -------------------------------------------------------------------


def test_image_gives_one_hit_with_no_frame(tmp_path: Path, decoder: qr.QrDecoder) -> None:
    path = tmp_path / "card.png"
    cv2.imwrite(str(path), on_canvas(qr_image(VIETNAMESE[3])))
    assert list(scan_file(path, decoder)) == [
        ScanHit(file=str(path), frame=None, payload=VIETNAMESE[3], raw=VIETNAMESE[3].encode())
    ]


def test_image_repeats_a_payload_once(tmp_path: Path) -> None:
    path = tmp_path / "twice.jpg"
    tile = qr_image("Hồ Văn Nam")
    cv2.imwrite(str(path), on_canvas(tile, tile))
    assert [hit.payload for hit in scan_file(path)] == ["Hồ Văn Nam"]


def test_non_ascii_file_name(tmp_path: Path) -> None:
    path = tmp_path / "thẻ bảo hiểm.png"
    _, data = cv2.imencode(".png", on_canvas(qr_image("Bùi Thị Xuân")))
    path.write_bytes(data.tobytes())
    assert [hit.payload for hit in scan_file(path)] == ["Bùi Thị Xuân"]


def test_images_without_qr_give_no_hits(tmp_path: Path) -> None:
    board = (np.indices((12, 16)).sum(axis=0) % 2 * 255).astype(np.uint8)
    path = tmp_path / "board.png"
    cv2.imwrite(str(path), cv2.resize(board, (640, 480), interpolation=cv2.INTER_NEAREST))
    assert list(scan_file(path)) == []


@pytest.mark.parametrize("name", ["empty-checkerboard.png", "empty-barcode.png"])
def test_committed_distractors_give_no_hits(name: str, decoder: qr.QrDecoder) -> None:
    assert list(scan_file(FIXTURES / "images" / name, decoder)) == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.png", b"", "not an image"),
        ("corrupt.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not an image"),
        ("notes.jpg", "Nguyễn Văn An".encode(), "not an image"),
        ("empty.avi", b"", "video"),
        ("corrupt.avi", b"RIFF\x10\x00\x00\x00AVI LIST" + bytes(100), "video"),
        ("notes.txt", b"hello", "video"),
    ],
)
def test_unreadable_files_raise_scan_error(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ScanError, match=message) as caught:
        list(scan_file(path))
    assert name in str(caught.value)


def test_missing_file_and_directory_raise_scan_error(tmp_path: Path) -> None:
    for path in (tmp_path / "nope.png", tmp_path):
        with pytest.raises(ScanError, match="no such file"):
            list(scan_file(path))


# --- scan_file: videos -------------------------------------------------------------------


def test_video_gives_each_distinct_payload_once_at_its_first_frame(
    tmp_path: Path, decoder: qr.QrDecoder
) -> None:
    blank = on_canvas()
    first, second = on_canvas(qr_image("Lê Văn Tám")), on_canvas(qr_image("Huỳnh Thị Ngọc"))
    frames = [blank] * 3 + [first] * 4 + [blank] * 2 + [second] * 3 + [first] * 2
    path = write_video(tmp_path / "clip.avi", frames)
    hits = list(scan_file(path, decoder))
    assert [(h.frame, h.payload) for h in hits] == [(3, "Lê Văn Tám"), (9, "Huỳnh Thị Ngọc")]
    assert hits[1].raw == "Huỳnh Thị Ngọc".encode()


def test_video_without_qr_gives_no_hits(tmp_path: Path) -> None:
    path = write_video(tmp_path / "desk.avi", [on_canvas()] * 5)
    assert list(scan_file(path)) == []


class CountingDecoder:
    name = "counting"

    def __init__(self) -> None:
        self.inner = make_decoder()
        self.calls = 0

    def decode(self, image: np.ndarray) -> list[Decoded]:
        self.calls += 1
        return self.inner.decode(image)


def test_each_video_frame_is_decoded_once(tmp_path: Path) -> None:
    frames = [on_canvas()] * 2 + [on_canvas(qr_image("Mai Anh"))] * 6
    path = write_video(tmp_path / "clip.avi", frames)
    counting = CountingDecoder()
    assert len(list(scan_file(path, counting))) == 1
    assert counting.calls == len(frames)


# --- committed fixtures ------------------------------------------------------------------

FIXTURE_VIDEOS = sorted((FIXTURES / "videos").glob("*.avi"))


def test_fixtures_are_present() -> None:
    assert len(FIXTURE_VIDEOS) >= 6
    assert (FIXTURES / "demo.txt").is_file()


@pytest.mark.parametrize("video", FIXTURE_VIDEOS, ids=lambda p: p.stem)
def test_fixture_video_and_still_decode_to_exactly_their_payload(video: Path) -> None:
    expected = (FIXTURES / "payloads" / f"{video.stem}.txt").read_bytes()
    hits = list(scan_file(video))
    assert [h.raw for h in hits] == [expected]
    assert hits[0].payload == expected.decode("utf-8")
    assert 8 <= hits[0].frame < 16  # the desk is empty for the first 8 frames
    still = FIXTURES / "images" / f"{video.stem}.png"
    assert [h.raw for h in scan_file(still)] == [expected]


def test_demo_keys_have_fixtures() -> None:
    keys = (FIXTURES / "demo.txt").read_text("utf-8").split()
    assert keys
    for key in keys:
        assert (FIXTURES / "videos" / f"{key}.avi").is_file()
        assert (FIXTURES / "payloads" / f"{key}.txt").is_file()


# --- the pipeline's retries --------------------------------------------------------------

HARD = FIXTURES / "hard"
MANIFEST = json.loads((HARD / "manifest.json").read_text("utf-8"))
HARD_FRAMES = MANIFEST["frames"]


def read_gray(name: str) -> np.ndarray:
    return qr.read_image(HARD / name)


@pytest.mark.parametrize("entry", HARD_FRAMES, ids=lambda e: e["file"])
def test_hard_samples_give_their_payload_or_nothing(entry: dict) -> None:
    raws = [hit.raw for hit in scan_file(HARD / entry["file"])]
    expected = [entry["payload"].encode("utf-8")] if entry["payload"] else []
    if entry["pipeline"]:
        assert raws == expected  # read at generation: still read
    else:
        assert raws in ([], expected)  # never anything else


def test_retries_read_samples_the_direct_pass_misses() -> None:
    ours, direct = make_decoder(), qr.ZxingDecoder(retries=False)
    stages = {}
    for entry in HARD_FRAMES:
        if not entry["payload"] or not entry["pipeline"]:
            continue
        gray = read_gray(entry["file"])
        if not direct.decode(gray):
            (found,) = ours.decode(gray)
            assert found.raw == entry["payload"].encode("utf-8")
            stages[entry["file"]] = found.stage
            # corners of a retried read are mapped back into the frame
            truth = np.array(entry["corners"])
            assert np.abs(np.array(found.points) - truth).max() < 0.08 * np.ptp(truth[:, 0])
    assert len(stages) >= 5, stages
    assert {"sharpened", "motion", "fixed"} <= set(stages.values()), stages


@pytest.mark.parametrize("clip", MANIFEST["clips"], ids=lambda c: c["file"])
def test_hard_clips_scan_to_one_payload_and_beat_the_direct_pass(clip: dict) -> None:
    path = HARD / clip["file"]
    assert [h.payload for h in scan_file(path)] == [clip["payload"]]
    ours, direct = make_decoder(), qr.ZxingDecoder(retries=False)
    capture = cv2.VideoCapture(str(path))
    counts = [0, 0]
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        counts[0] += bool(ours.decode(frame))
        counts[1] += bool(direct.decode(frame))
    capture.release()
    assert counts[0] == clip["pipeline_frames"] >= counts[1]


class SpyZxing:
    """Records every read_barcodes call the decoder makes (the real zxing-cpp answers)."""

    def __init__(self) -> None:
        import zxingcpp

        self.real = zxingcpp
        self.calls: list[dict] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)

    def read_barcodes(self, image: np.ndarray, **options: object) -> list:
        self.calls.append({"shape": image.shape, **options})
        return self.real.read_barcodes(image, **options)


@pytest.mark.parametrize(
    "name", [e["file"] for e in HARD_FRAMES if e["stress"] == "empty"] + ["blank"]
)
def test_no_retries_on_frames_without_a_symbol(name: str) -> None:
    decoder = make_decoder()
    spy = SpyZxing()
    decoder._zx = spy  # type: ignore[attr-defined]
    image = np.full((720, 1280), 128, np.uint8) if name == "blank" else read_gray(name)
    assert decoder.decode(image) == []
    # the direct pass, then the cheap fixed-threshold pass; nothing on crops
    assert [c["shape"] for c in spy.calls] == [image.shape] * 2
    assert spy.calls[1]["binarizer"] == spy.real.Binarizer.FixedThreshold


def test_a_read_frame_costs_one_pass() -> None:
    decoder = make_decoder()
    spy = SpyZxing()
    decoder._zx = spy  # type: ignore[attr-defined]
    assert [d.stage for d in decoder.decode(on_canvas(qr_image("Trịnh Công Sơn")))] == ["direct"]
    assert len(spy.calls) == 1


def streaked(text: str, length_modules: float, angle: float) -> np.ndarray:
    tile = cv2.cvtColor(qr_image(text, scale=4), cv2.COLOR_BGR2GRAY)
    canvas = np.full((tile.shape[0] + 80, tile.shape[1] + 80), 200, np.uint8)
    canvas[40:-40, 40:-40] = tile
    return cv2.filter2D(canvas, -1, qr.motion_psf(4 * length_modules, angle))


def test_motion_deblur_reads_what_sharpening_cannot() -> None:
    text = "079303001234||Lê Thị Bình|02022003|Nữ|Tổ 5, Phường Mẫu, Thành phố Hồ Chí Minh|x"
    image = streaked(text, 2.4, 135)
    assert qr.ZxingDecoder(retries=False).decode(image) == []
    crop_only = qr.ZxingDecoder(stages=("fixed", "rectified", "sharpened"))
    assert crop_only.decode(image) == []
    found = make_decoder().decode(image)
    assert [(d.text, d.stage) for d in found] == [(text, "motion")]


def test_streak_direction_and_psf() -> None:
    psf = qr.motion_psf(7.0, 30.0)
    assert psf.sum() == pytest.approx(1.0) and psf.shape == (7, 7)
    angle, anisotropy = qr.streak_direction(streaked("Hà Nội", 2.0, 120))
    assert abs((angle - 120 + 90) % 180 - 90) < 15 and anisotropy < qr.MOTION_ANISOTROPY
    _, even = qr.streak_direction(cv2.cvtColor(qr_image("Hà Nội"), cv2.COLOR_BGR2GRAY))
    assert even > 0.8


def test_unknown_retry_stage_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown retry stages"):
        qr.ZxingDecoder(stages=("wiener2",))


@settings(max_examples=25, deadline=None)
@given(
    st.text(alphabet=VIETNAMESE_LETTERS, min_size=20, max_size=140),
    st.floats(0.0, 3.0),
    st.floats(0.0, 180.0),
    st.floats(0.0, 2.5),
)
def test_blurred_codes_give_their_text_or_nothing(
    text: str, streak: float, angle: float, defocus: float
) -> None:
    image = streaked(text, streak, angle) if streak > 0.3 else streaked(text, 0.0, 0.0)
    if defocus > 0.3:
        image = cv2.GaussianBlur(image, (0, 0), defocus)
    assert [d.text for d in make_decoder().decode(image)] in ([], [text])
