"""Find and decode QR codes in frames, images and video files. No Qt, no hardware.

Every backend returns the QR's **raw bytes**; we decode UTF-8 ourselves. Vietnamese cards carry
UTF-8 without an ECI header and ZBar's own text conversion guesses Shift-JIS for it
(``Huỳnh`` → ``Hu盻ｳnh``), so no decoder's text output is trusted (docs: platform.md §3).

zxing-cpp is the default backend (fastest, best hit rate), with retries of our own where it
locates a symbol but cannot read it (``ZxingDecoder``); ZBar is a fallback used in binary mode
through pyzbar's ctypes bindings. ZBar can be chosen (``[camera] decoder``, ``checkin scan
--decoder zbar``), and :func:`make_decoder` falls back to whichever backend loads when the one
asked for does not. ``benchmarks/qr_decode.py`` compares them on the seeded hard set of
``fixtures/generate.py``.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

Point = tuple[int, int]

log = logging.getLogger(__name__)

DECODERS = ("zxing", "zbar")
DEFAULT_DECODER = "zxing"

# A file is read as a still image when OpenCV's image readers decode it (whatever its name),
# else as a video. Files with these suffixes are always tried as images, and when neither
# reader can use them the error says "not an image"; other files bigger than IMAGE_MAX_BYTES
# go straight to VideoCapture (a long video is not read into memory just to be refused).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm"})
IMAGE_MAX_BYTES = 64 * 1024 * 1024


class DecoderUnavailable(RuntimeError):
    """The library a decoder backend needs is not installed or cannot be loaded."""


class NoDecoder(DecoderUnavailable):
    """Neither backend can be loaded: nothing can decode a QR code on this machine."""


class ScanError(Exception):
    """A file could not be read as an image or a video; the message says why."""


@dataclass(frozen=True)
class Decoded:
    """One QR code found in one frame."""

    raw: bytes
    text: str | None  # strict UTF-8 decoding of ``raw``; None when it is not valid UTF-8
    points: tuple[Point, ...] = ()  # corners in image pixels, as the backend reports them
    stage: str = field(default="direct", compare=False)  # which pass or retry read it


@dataclass(frozen=True)
class ScanHit:
    """One QR payload found in a file: ``frame`` is None for an image, else the first frame."""

    file: str
    frame: int | None
    payload: str | None
    raw: bytes


class QrDecoder(Protocol):
    name: str

    def decode(self, image: np.ndarray) -> list[Decoded]:
        """Decode every QR code in a gray, BGR or BGRA 8-bit image."""
        ...


def utf8_or_none(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        return None


def to_gray(image: np.ndarray) -> np.ndarray:
    """A C-contiguous 8-bit single-channel view of ``image`` (gray, BGR or BGRA)."""
    if image.dtype != np.uint8:
        raise ValueError(f"expected an 8-bit image, got dtype {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    elif image.ndim != 2:
        raise ValueError(f"expected a gray, BGR or BGRA image, got shape {image.shape}")
    return np.ascontiguousarray(image)


def _decoded(raw: bytes, points: tuple[Point, ...], stage: str = "direct") -> Decoded:
    return Decoded(raw=bytes(raw), text=utf8_or_none(bytes(raw)), points=points, stage=stage)


class ZxingDecoder:
    """zxing-cpp, QR Code Model 2 only, with retries where a symbol was seen but not read.

    1. **Direct**: zxing-cpp on the gray frame (its default local-average binarizer, also
       trying the inverted image for dark-mode phone screens), asking it to return the
       symbols it located but could not decode (``return_errors``) as well.
    2. **Fixed threshold**: only when pass 1 returned nothing at all, zxing-cpp again with its
       global fixed-threshold binarizer. It costs a fifth of pass 1 and locates small, blurred
       modules that the local binarizer dissolves (on the 300 no-QR frames of the benchmark
       seeds it located nothing, so it triggers no retries there).
    3. **Retries on the symbol**: for each located but unread symbol (at most
       ``max_candidates``), its quadrilateral (zxing-cpp reports it, and the version, for
       symbols that fail Reed-Solomon) is warped to an upright crop at RECTIFIED_PX per
       module (upscaling small modules 1.5-2x), then read as it is, after an unsharp mask
       and, when the crop is streaked, after Wiener deconvolution of a motion streak along
       the direction of least gradient energy, and after Wiener deconvolution of a Gaussian
       defocus. The first that decodes wins. ``stages`` picks from RETRY_STAGES; see
       DEFAULT_STAGES for what each earns.

    Frames without a QR cost passes 1 and 2 only, together no more than bare zxing-cpp with
    its defaults, which also search for Micro QR and rMQR (no card uses them) and scan a
    downscaled copy of the frame. Dropping that copy is the one loss: of 1,150 hard frames,
    2 (dark-mode phones under noise and blur) are read by bare zxing-cpp and not by this
    pipeline, against 90 read by this pipeline only. Every result has passed zxing-cpp's
    format and Reed-Solomon checks on whichever image it was read from: a retry changes how
    well the modules are seen, not what they are checked against (0 garbled on the 1,150
    frames measured). ``Decoded.stage`` says which pass or retry read a code.
    ``retries=False`` keeps pass 1 only. Instances hold no state between calls: safe to share.
    """

    name = "zxing"

    def __init__(
        self,
        *,
        retries: bool = True,
        stages: tuple[str, ...] | None = None,
        max_candidates: int = 2,
    ) -> None:
        try:
            self._zx = importlib.import_module("zxingcpp")
        except ImportError as exc:
            raise DecoderUnavailable(f"zxing-cpp is not installed ({exc})") from exc
        self.retries = retries
        self.stages = DEFAULT_STAGES if stages is None else tuple(stages)
        unknown = set(self.stages) - set(RETRY_STAGES)
        if unknown:
            raise ValueError(f"unknown retry stages {sorted(unknown)}; choose from {RETRY_STAGES}")
        self.max_candidates = max_candidates
        zx = self._zx
        self._direct = {
            "formats": zx.BarcodeFormat.QRCodeModel2,
            "try_downscale": False,
            "return_errors": retries,
        }
        self._fixed = {
            **self._direct,
            "binarizer": zx.Binarizer.FixedThreshold,
            "try_invert": False,
            "return_errors": True,
        }

    def decode(self, image: np.ndarray) -> list[Decoded]:
        gray = to_gray(image)
        zx = self._zx
        found = zx.read_barcodes(gray, **self._direct)
        read = [code for code in found if code.valid]
        if read or not self.retries:
            return _unique(_zxing_decoded(code, "direct") for code in read)
        located = [code for code in found if not code.valid]
        if not located and "fixed" in self.stages:
            found = zx.read_barcodes(gray, **self._fixed)
            read = [code for code in found if code.valid]
            if read:
                return _unique(_zxing_decoded(code, "fixed") for code in read)
            located = [code for code in found if not code.valid]
        out: list[Decoded] = []
        for candidate in _distinct_symbols(located)[: self.max_candidates]:
            out.extend(self._retry(gray, candidate))
        return _unique(out)

    def _retry(self, gray: np.ndarray, code: object) -> list[Decoded]:
        """Read one located symbol from enhanced, rectified crops; [] when none decodes."""
        version = _version(code)
        if version is None:
            return []
        modules = 17 + 4 * version
        corners = np.array(_zxing_points(code.position), np.float32)  # type: ignore[attr-defined]
        crop, to_frame = rectify(gray, corners, modules, RECTIFIED_PX)
        for stage, variant in enhanced(crop, self.stages):
            found = self._zx.read_barcodes(variant, formats=self._zx.BarcodeFormat.QRCodeModel2)
            if found:
                return [_zxing_decoded(code, stage, to_frame) for code in found if code.valid]
        return []


RETRY_STAGES = ("fixed", "rectified", "sharpened", "motion", "defocus")  # in the order tried
# What earns its cost (benchmarks/qr_decode.py; 1,150 hard frames, 167 missed by the direct
# pass): the fixed-threshold pass reads 16 and locates 26 more for the crop retries; the plain
# rectified crop reads 17, the sharpened one 56 more (on stills it reads all the plain crop
# does, but not on the hard clips: 4 of their frames only the plain crop reads); the motion
# deconvolution 1 (it only runs on streaked crops); the Gaussian deconvolution none of the
# stills but 3 of the 16 frames of the focus-hunt clip (defocus up to 0.55 module), which
# nothing else reads. Every stage after "fixed" runs only on a located, unread symbol.
DEFAULT_STAGES = RETRY_STAGES
RECTIFIED_PX = 4.0  # pixels per module of the rectified crop the retries read
QUIET_MODULES = 4


def _version(code: object) -> int | None:
    extra = getattr(code, "extra", None)
    version = extra.get("Version") if isinstance(extra, dict) else None
    try:
        number = int(version) if version is not None else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and 1 <= number <= 40 else None


def _distinct_symbols(codes: list) -> list:
    """Located symbols, one per place (zxing-cpp may report one twice), largest first."""
    kept: list = []
    centres: list[np.ndarray] = []
    for code in sorted(codes, key=lambda c: -_area(_zxing_points(c.position))):
        points = np.array(_zxing_points(code.position), np.float32)
        centre, size = points.mean(axis=0), float(np.ptp(points, axis=0).max())
        if all(np.linalg.norm(centre - other) > size / 4 for other in centres):
            kept.append(code)
            centres.append(centre)
    return kept


def _area(points: tuple[Point, ...]) -> float:
    return abs(float(cv2.contourArea(np.array(points, np.float32))))


def _unique(found: Iterable[Decoded]) -> list[Decoded]:
    """One result per payload (the direct pass and its inverted try may both read a code)."""
    seen: dict[bytes, Decoded] = {}
    for item in found:
        seen.setdefault(item.raw, item)
    return list(seen.values())


def rectify(
    gray: np.ndarray, corners: np.ndarray, modules: int, px: float
) -> tuple[np.ndarray, np.ndarray]:
    """The symbol inside ``corners`` warped upright at ``px`` per module with a quiet zone,
    and the homography back to frame coordinates."""
    low = QUIET_MODULES * px
    high = low + modules * px
    size = round((modules + 2 * QUIET_MODULES) * px)
    target = np.array([(low, low), (high, low), (high, high), (low, high)], np.float32)
    matrix = cv2.getPerspectiveTransform(corners, target)
    crop = cv2.warpPerspective(
        gray, matrix, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    return crop, np.linalg.inv(matrix)


def enhanced(crop: np.ndarray, stages: tuple[str, ...]) -> Iterator[tuple[str, np.ndarray]]:
    """The retry images for one rectified crop, cheapest and most productive first."""
    px = RECTIFIED_PX
    if "rectified" in stages:
        yield "rectified", crop
    if "sharpened" in stages:
        yield "sharpened", unsharp_mask(crop, sigma=0.5 * px, amount=1.5)
    if not {"motion", "defocus"} & set(stages):
        return
    spectrum = _Spectrum(crop)
    if "motion" in stages:
        angle, anisotropy = streak_direction(crop)
        if anisotropy < MOTION_ANISOTROPY:
            for length in MOTION_LENGTHS:
                yield "motion", spectrum.wiener(motion_psf(length * px, angle), 0.01)
    if "defocus" in stages:
        yield "defocus", spectrum.wiener(gaussian_psf(0.45 * px), 0.01)


MOTION_ANISOTROPY = 0.5  # eigenvalue ratio of the gradient structure tensor below which
MOTION_LENGTHS = (2.0, 1.5, 2.5)  # a crop is treated as streaked; streaks tried, in modules


def unsharp_mask(gray: np.ndarray, *, sigma: float, amount: float) -> np.ndarray:
    blurred = cv2.GaussianBlur(gray, (0, 0), sigma)
    return cv2.addWeighted(gray, 1 + amount, blurred, -amount, 0)


def streak_direction(gray: np.ndarray) -> tuple[float, float]:
    """Direction (degrees) of least gradient energy, and the tensor's eigenvalue ratio:
    near 1 for a sharp or evenly blurred QR, well below for a motion streak."""
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    a, b, c = float((gx * gx).mean()), float((gy * gy).mean()), float((gx * gy).mean())
    spread = math.sqrt((a - b) ** 2 + 4 * c * c)
    ratio = (a + b - spread) / (a + b + spread) if a + b > 0 else 1.0
    return math.degrees(0.5 * math.atan2(2 * c, a - b)) + 90.0, ratio


def motion_psf(length: float, angle: float) -> np.ndarray:
    """A normalised straight streak of ``length`` px at ``angle`` degrees."""
    size = math.ceil(length) | 1
    psf = np.zeros((size, size), np.float32)
    centre = size // 2
    dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    for t in np.linspace(-length / 2, length / 2, max(2, int(length * 4))):
        x, y = centre + dx * t, centre + dy * t
        x0, y0 = math.floor(x), math.floor(y)
        fx, fy = x - x0, y - y0
        for xx, yy, weight in (
            (x0, y0, (1 - fx) * (1 - fy)),
            (x0 + 1, y0, fx * (1 - fy)),
            (x0, y0 + 1, (1 - fx) * fy),
            (x0 + 1, y0 + 1, fx * fy),
        ):
            if 0 <= xx < size and 0 <= yy < size:
                psf[yy, xx] += weight
    return psf / psf.sum()


def gaussian_psf(sigma: float) -> np.ndarray:
    size = math.ceil(3 * sigma) * 2 + 1
    kernel = cv2.getGaussianKernel(size, sigma)
    return (kernel @ kernel.T).astype(np.float32)


class _Spectrum:
    """One crop's Fourier transform, reused for several Wiener deconvolutions."""

    def __init__(self, gray: np.ndarray) -> None:
        self.shape = gray.shape
        self.spectrum = np.fft.rfft2(gray.astype(np.float32))

    def wiener(self, psf: np.ndarray, noise_to_signal: float) -> np.ndarray:
        padded = np.zeros(self.shape, np.float32)
        ph, pw = psf.shape
        padded[:ph, :pw] = psf
        padded = np.roll(padded, (-(ph // 2), -(pw // 2)), axis=(0, 1))
        transfer = np.fft.rfft2(padded)
        gain = np.conj(transfer) / (np.abs(transfer) ** 2 + noise_to_signal)
        restored = np.fft.irfft2(self.spectrum * gain, s=self.shape)
        return np.clip(restored, 0, 255).astype(np.uint8)


def _zxing_decoded(code: object, stage: str, to_frame: np.ndarray | None = None) -> Decoded:
    points = _zxing_points(code.position)  # type: ignore[attr-defined]
    if to_frame is not None:
        mapped = cv2.perspectiveTransform(np.array([points], np.float32), to_frame)[0]
        points = tuple((round(float(x)), round(float(y))) for x, y in mapped)
    return _decoded(code.bytes, points, stage)  # type: ignore[attr-defined]


def _zxing_points(position: object) -> tuple[Point, ...]:
    corners = ("top_left", "top_right", "bottom_right", "bottom_left")
    return tuple((getattr(position, c).x, getattr(position, c).y) for c in corners)


# zbar.h: ZBAR_CFG_ENABLE = 0, ADD_CHECK, EMIT_CHECK, ASCII, BINARY (= 4, since zbar 0.23).
# pyzbar 0.1.9 does not name BINARY.
_ZBAR_CFG_ENABLE = 0
_ZBAR_CFG_BINARY = 4
_ZBAR_NONE = 0
_ZBAR_QRCODE = 64
_ZBAR_Y800 = 0x30303859  # fourcc "Y800": 8-bit gray


class ZbarDecoder:
    """ZBar (through pyzbar's ctypes bindings) in binary mode, so bytes come back unconverted.

    pyzbar's own ``decode()`` cannot switch binary mode on, hence the small loop below. A new
    scanner per call keeps one instance safe to share between threads.
    """

    name = "zbar"

    def __init__(self) -> None:
        try:  # ImportError both when pyzbar is missing and when it cannot find libzbar
            self._zb = importlib.import_module("pyzbar.wrapper")
        except ImportError as exc:
            raise DecoderUnavailable(f"ZBar is not available ({exc}); install libzbar0") from exc
        self._check_binary_mode()

    def _check_binary_mode(self) -> None:
        scanner = self._zb.zbar_image_scanner_create()
        try:
            if self._zb.zbar_image_scanner_set_config(scanner, _ZBAR_QRCODE, _ZBAR_CFG_BINARY, 1):
                raise DecoderUnavailable("libzbar is older than 0.23: no binary mode")
        finally:
            self._zb.zbar_image_scanner_destroy(scanner)

    def decode(self, image: np.ndarray) -> list[Decoded]:
        gray = to_gray(image)
        zb = self._zb
        scanner = zb.zbar_image_scanner_create()
        zimage = zb.zbar_image_create()
        try:
            zb.zbar_image_scanner_set_config(scanner, _ZBAR_NONE, _ZBAR_CFG_ENABLE, 0)
            zb.zbar_image_scanner_set_config(scanner, _ZBAR_QRCODE, _ZBAR_CFG_ENABLE, 1)
            zb.zbar_image_scanner_set_config(scanner, _ZBAR_QRCODE, _ZBAR_CFG_BINARY, 1)
            zb.zbar_image_set_format(zimage, _ZBAR_Y800)
            zb.zbar_image_set_size(zimage, gray.shape[1], gray.shape[0])
            # ZBar does not copy: ``gray`` must stay alive until the scan is done (it does).
            zb.zbar_image_set_data(zimage, gray.ctypes.data_as(ctypes.c_void_p), gray.size, None)
            if zb.zbar_scan_image(scanner, zimage) < 0:
                raise RuntimeError("zbar_scan_image failed")
            return list(self._symbols(zimage))
        finally:
            zb.zbar_image_destroy(zimage)
            zb.zbar_image_scanner_destroy(scanner)

    def _symbols(self, zimage: object) -> Iterator[Decoded]:
        zb = self._zb
        symbol = zb.zbar_image_first_symbol(zimage)
        while symbol:
            raw = ctypes.string_at(
                zb.zbar_symbol_get_data(symbol), zb.zbar_symbol_get_data_length(symbol)
            )
            points = tuple(
                (zb.zbar_symbol_get_loc_x(symbol, i), zb.zbar_symbol_get_loc_y(symbol, i))
                for i in range(zb.zbar_symbol_get_loc_size(symbol))
            )
            yield _decoded(raw, points)
            symbol = zb.zbar_symbol_next(symbol)


_BACKENDS: dict[str, type[ZxingDecoder] | type[ZbarDecoder]] = {
    "zxing": ZxingDecoder,
    "zbar": ZbarDecoder,
}


def make_decoder(name: str = DEFAULT_DECODER, *, fallback: bool = True) -> QrDecoder:
    """Build the decoder called ``name`` (ValueError for an unknown name).

    When its library cannot be loaded, the other backend is used instead, with one warning in
    the log (``fallback=False``: DecoderUnavailable instead). :class:`NoDecoder` when neither
    loads; its message says what to install.
    """
    if name not in _BACKENDS:
        choices = ", ".join(DECODERS)
        raise ValueError(f"unknown QR decoder {name!r}; choose from {choices}")
    try:
        return _BACKENDS[name]()
    except DecoderUnavailable as exc:
        if not fallback:
            raise
        wanted = exc
    other = next(n for n in DECODERS if n != name)
    try:
        decoder = _BACKENDS[other]()
    except DecoderUnavailable as exc:
        raise NoDecoder(
            f"no QR decoder: install zxing-cpp or pyzbar (with libzbar0) ({name}: {wanted};"
            f" {other}: {exc})"
        ) from None
    log.warning("QR decoder %s is not available (%s); using %s instead", name, wanted, other)
    return decoder


def available_decoders() -> dict[str, str | None]:
    """Each backend name → None when usable, else why not (for ``checkin doctor``)."""
    status: dict[str, str | None] = {}
    for name in DECODERS:
        try:
            make_decoder(name, fallback=False)
            status[name] = None
        except DecoderUnavailable as exc:
            status[name] = str(exc)
    return status


# --- files -------------------------------------------------------------------------------


def scan_file(path: str | Path, decoder: QrDecoder | None = None) -> Iterator[ScanHit]:
    """QR payloads in an image or a video file; ScanError when the file cannot be read.

    An image gives one hit per distinct payload in it (``frame`` None). A video gives one hit
    per distinct payload over the whole file, at the first frame (0-based) where it was seen.
    Each frame is decoded exactly once. Which of the two a file is goes by its content, not its
    name: whatever OpenCV's image readers decode is an image (``scan.bak``, ``photo.jfif``, a
    file with no suffix), anything else is tried as a video (see IMAGE_SUFFIXES).
    """
    file = Path(path)
    if not file.is_file():
        raise ScanError(f"{path}: no such file")
    decoder = decoder or make_decoder()
    named_image = file.suffix.lower() in IMAGE_SUFFIXES
    image = None
    if named_image or _size(file) <= IMAGE_MAX_BYTES:
        image = _try_image(file)
    if image is not None:
        yield from _scan_image(image, str(path), decoder)
        return
    try:
        yield from _scan_video(file, str(path), decoder)
    except ScanError:
        if named_image:  # a .png that is not one: say so, not that it is no video
            raise ScanError(_NOT_AN_IMAGE.format(file=file)) from None
        raise


_NOT_AN_IMAGE = "{file}: not an image OpenCV can decode (empty, corrupt or unknown)"


def read_image(file: Path) -> np.ndarray:
    """The image as 8-bit gray. Reads bytes first: cv2.imread fails on non-ASCII Windows paths."""
    image = _try_image(file)
    if image is None:
        raise ScanError(_NOT_AN_IMAGE.format(file=file))
    return image


def _try_image(file: Path) -> np.ndarray | None:
    """The file as an 8-bit gray image, or None when OpenCV's image readers cannot decode it."""
    try:
        data = np.fromfile(file, dtype=np.uint8)
    except OSError as exc:
        raise ScanError(f"{file}: cannot read ({exc.strerror or exc})") from exc
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError as exc:
        raise ScanError(f"{file}: cannot read ({exc.strerror or exc})") from exc


def _scan_image(image: np.ndarray, label: str, decoder: QrDecoder) -> Iterator[ScanHit]:
    seen: set[bytes] = set()
    for found in decoder.decode(image):
        if found.raw not in seen:
            seen.add(found.raw)
            yield ScanHit(file=label, frame=None, payload=found.text, raw=found.raw)


def _scan_video(file: Path, label: str, decoder: QrDecoder) -> Iterator[ScanHit]:
    capture = cv2.VideoCapture(str(file))
    try:
        if not capture.isOpened():
            raise ScanError(f"{label}: not an image or a video OpenCV can open")
        seen: set[bytes] = set()
        index = -1
        for index, frame in enumerate(_frames(capture)):
            for found in decoder.decode(frame):
                if found.raw not in seen:
                    seen.add(found.raw)
                    yield ScanHit(file=label, frame=index, payload=found.text, raw=found.raw)
        if index < 0:
            raise ScanError(f"{label}: video has no readable frames (empty or corrupt)")
    finally:
        capture.release()


def _frames(capture: cv2.VideoCapture) -> Iterator[np.ndarray]:
    while True:
        ok, frame = capture.read()
        if not ok or frame is None:
            return
        yield frame
