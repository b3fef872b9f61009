"""Find and decode QR codes in frames, images and video files. No Qt, no hardware.

Every backend returns the QR's **raw bytes**; we decode UTF-8 ourselves. Vietnamese cards carry
UTF-8 without an ECI header and ZBar's own text conversion guesses Shift-JIS for it
(``Huỳnh`` → ``Hu盻ｳnh``), so no decoder's text output is trusted (docs: platform.md §3).

zxing-cpp is the default backend (fastest, best hit rate); ZBar is a fallback used in binary
mode through pyzbar's ctypes bindings.
"""

from __future__ import annotations

import ctypes
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

Point = tuple[int, int]

DECODERS = ("zxing", "zbar")

# Files with these suffixes are read as one still image; anything else goes to VideoCapture.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm"})


class DecoderUnavailable(RuntimeError):
    """The library a decoder backend needs is not installed or cannot be loaded."""


class ScanError(Exception):
    """A file could not be read as an image or a video; the message says why."""


@dataclass(frozen=True)
class Decoded:
    """One QR code found in one frame."""

    raw: bytes
    text: str | None  # strict UTF-8 decoding of ``raw``; None when it is not valid UTF-8
    points: tuple[Point, ...] = ()  # corners in image pixels, as the backend reports them


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


def _decoded(raw: bytes, points: tuple[Point, ...]) -> Decoded:
    return Decoded(raw=bytes(raw), text=utf8_or_none(bytes(raw)), points=points)


class ZxingDecoder:
    """zxing-cpp with default options, QR Code only (it handles inverted dark-mode screens)."""

    name = "zxing"

    def __init__(self) -> None:
        try:
            self._zx = importlib.import_module("zxingcpp")
        except ImportError as exc:
            raise DecoderUnavailable(f"zxing-cpp is not installed ({exc})") from exc

    def decode(self, image: np.ndarray) -> list[Decoded]:
        gray = to_gray(image)
        found = self._zx.read_barcodes(gray, formats=self._zx.BarcodeFormat.QRCode)
        return [_decoded(code.bytes, _zxing_points(code.position)) for code in found]


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


def make_decoder(name: str = "zxing") -> QrDecoder:
    """Build a decoder by name; DecoderUnavailable when its library is missing."""
    try:
        backend = _BACKENDS[name]
    except KeyError:
        choices = ", ".join(DECODERS)
        raise ValueError(f"unknown QR decoder {name!r}; choose from {choices}") from None
    return backend()


def available_decoders() -> dict[str, str | None]:
    """Each backend name → None when usable, else why not (for ``checkin doctor``)."""
    status: dict[str, str | None] = {}
    for name in DECODERS:
        try:
            make_decoder(name)
            status[name] = None
        except DecoderUnavailable as exc:
            status[name] = str(exc)
    return status


# --- files -------------------------------------------------------------------------------


def scan_file(path: str | Path, decoder: QrDecoder | None = None) -> Iterator[ScanHit]:
    """QR payloads in an image or a video file; ScanError when the file cannot be read.

    An image gives one hit per distinct payload in it (``frame`` None). A video gives one hit
    per distinct payload over the whole file, at the first frame (0-based) where it was seen.
    Each frame is decoded exactly once.
    """
    file = Path(path)
    if not file.is_file():
        raise ScanError(f"{path}: no such file")
    decoder = decoder or make_decoder()
    if file.suffix.lower() in IMAGE_SUFFIXES:
        yield from _scan_image(file, str(path), decoder)
    else:
        yield from _scan_video(file, str(path), decoder)


def read_image(file: Path) -> np.ndarray:
    """The image as 8-bit gray. Reads bytes first: cv2.imread fails on non-ASCII Windows paths."""
    try:
        data = np.fromfile(file, dtype=np.uint8)
    except OSError as exc:
        raise ScanError(f"{file}: cannot read ({exc.strerror or exc})") from exc
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    if image is None:
        raise ScanError(f"{file}: not an image OpenCV can decode (empty, corrupt or unknown)")
    return image


def _scan_image(file: Path, label: str, decoder: QrDecoder) -> Iterator[ScanHit]:
    seen: set[bytes] = set()
    for found in decoder.decode(read_image(file)):
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
