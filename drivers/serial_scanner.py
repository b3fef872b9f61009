"""Serial and USB-CDC (virtual COM) barcode scanners through pyserial, and a replay backend.

Serial mode is the reliable way to read a QR: no keyboard layout or Vietnamese input method
sits between the scanner and the text (formats.md §3.4). Ports are pyserial URLs
(style.md §1.2 item 10): a device path (``/dev/ttyACM0``, ``COM3``), ``hwgrep://0c2e:0b61``
to pick a scanner by USB VID:PID, ``spy:///dev/ttyACM0`` to log the traffic for IT,
``socket://host:port`` for a networked scanner, ``loop://`` in tests.

:class:`SerialScanner` reads on its own thread, frames bytes with
:class:`~drivers.scan_framing.ScanFramer`, and reopens the port after an unplug. Its
callbacks run on that thread: a Qt front end re-emits them as signals.
:class:`ReplayScanner` plays a recorded byte stream (``fixtures/streams/*.bin``) through the
same framer: the virtual scanner of the demo and the tests. No Qt here.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from drivers.scan_framing import DuplicateGuard, Scan, ScanEvent, ScanFramer

try:
    import serial
    from serial.tools import list_ports
except ImportError:  # pragma: no cover - pyserial is a dependency; guard per style.md §1.2 #6
    serial = None
    list_ports = None

log = logging.getLogger(__name__)

REPLAY_PREFIX = "replay:"
READ_TIMEOUT_S = 0.05  # how long a read blocks: bounds idle-completion latency and stop()
VANISH_CHECK_S = 1.0  # how often an idle device path is checked for existence

ScanCallback = Callable[[ScanEvent], None]
StatusCallback = Callable[[str], None]


class ScannerUnavailable(RuntimeError):
    """The backend cannot work here (pyserial missing) or the scanner is not connected."""


def is_usable() -> bool:
    """pyserial is importable."""
    return serial is not None


@dataclass(frozen=True)
class SerialSettings:
    """What IT configures for one serial scanner."""

    url: str
    baudrate: int = 9600
    terminator: str | None = "\r"  # CR, LF or CRLF: all three end a scan; None: gaps only
    encoding: str = "utf-8"
    idle_complete_ms: float | None = 150.0  # for scanners that send no terminator
    reconnect_s: float = 2.0
    prefix: str = ""
    suffix: str = ""

    def framer(self) -> ScanFramer:
        return ScanFramer(
            self.terminator,
            prefix=self.prefix,
            suffix=self.suffix,
            idle_complete_ms=self.idle_complete_ms,
            encoding=self.encoding,
        )


@dataclass(frozen=True)
class PortInfo:
    device: str
    description: str
    hwid: str  # e.g. "USB VID:PID=0C2E:0B61 SER=..." (use with hwgrep://)


def list_serial_ports() -> list[PortInfo]:
    """The serial ports the OS reports, for the IT diagnostics page."""
    if list_ports is None:
        return []
    return [PortInfo(p.device, p.description, p.hwid) for p in sorted(list_ports.comports())]


def _now_ms() -> float:
    return time.monotonic() * 1000.0


class _Delivery:
    """Calls ``on_scan`` for each event, flagging duplicates; a failing callback is logged."""

    def __init__(self, on_scan: ScanCallback, guard: DuplicateGuard | None) -> None:
        self.on_scan = on_scan
        self.guard = guard

    def __call__(self, events: Sequence[ScanEvent]) -> None:
        for event in events:
            if self.guard is not None and isinstance(event, Scan):
                event = self.guard.mark(event)
            try:
                self.on_scan(event)
            except Exception:
                log.exception("scan callback failed")


class SerialScanner:
    """A scanner on a pyserial URL, read on a daemon thread between ``start()`` and ``stop()``.

    ``on_status`` hears each change: ``"connected"``, ``"disconnected: <reason>"`` (the port
    failed to open or was lost; it is retried every ``reconnect_s``) and ``"stopped"``.
    """

    def __init__(
        self,
        settings: SerialSettings,
        on_scan: ScanCallback,
        on_status: StatusCallback | None = None,
        *,
        guard: DuplicateGuard | None = None,
    ) -> None:
        if serial is None:
            raise ScannerUnavailable("pyserial is not installed (pip install pyserial)")
        self.settings = settings
        self._deliver = _Delivery(on_scan, guard)
        self._on_status = on_status
        self._status = "stopped"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: serial.SerialBase | None = None

    @property
    def status(self) -> str:
        return self._status

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        name = f"serial scanner {self.settings.url}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop reading and close the port; returns within about ``READ_TIMEOUT_S``."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
            self._thread = None

    def send(self, data: bytes) -> None:
        """Write to the scanner (a trigger or setup command; ``loop://`` echoes it back)."""
        port = self._port
        if port is None:
            raise ScannerUnavailable(f"{self.settings.url} is not connected")
        port.write(data)

    def _run(self) -> None:
        while not self._stop.is_set():
            port = self._open()
            if port is not None:
                try:
                    self._read_until_lost(port)
                finally:
                    self._port = None
                    port.close()
            self._stop.wait(self.settings.reconnect_s)
        self._set_status("stopped")

    def _open(self) -> serial.SerialBase | None:
        try:
            port = serial.serial_for_url(
                self.settings.url, baudrate=self.settings.baudrate, timeout=READ_TIMEOUT_S
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            self._set_status(f"disconnected: {exc}")
            return None
        self._port = port
        self._set_status("connected")
        return port

    def _read_until_lost(self, port: serial.SerialBase) -> None:
        framer = self.settings.framer()
        last_check = time.monotonic()
        while not self._stop.is_set():
            try:
                data = _read_available(port)
            except (serial.SerialException, OSError) as exc:
                self._set_status(f"disconnected: {exc}")
                return
            self._deliver(framer.feed(data, _now_ms()))
            if not data and time.monotonic() - last_check >= VANISH_CHECK_S:
                last_check = time.monotonic()
                if _device_vanished(self.settings.url):
                    self._set_status(f"disconnected: {self.settings.url} vanished")
                    return

    def _set_status(self, status: str) -> None:
        if status == self._status:
            return
        self._status = status
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:
                log.exception("status callback failed")


def _read_available(port: serial.SerialBase) -> bytes:
    """Block up to the port timeout for one byte, then take whatever else has arrived."""
    data = port.read(1)
    if data:
        waiting = port.in_waiting
        if waiting:
            data += port.read(waiting)
    return data


def _device_vanished(url: str) -> bool:
    """A device-path port whose node is gone: some drivers keep a dead fd quiet instead of
    failing the read."""
    return url.startswith("/") and not os.path.exists(url)


@dataclass(frozen=True, order=True)
class Pause:
    offset: int  # byte offset in the stream the pause comes before
    delay_ms: float


def load_pauses(stream: Path) -> list[Pause]:
    """The pauses of a recorded stream: ``<stream>.json`` = ``{"pauses": [[offset, ms], ...]}``."""
    sidecar = stream.with_suffix(".json")
    if not sidecar.exists():
        return []
    pairs = json.loads(sidecar.read_text(encoding="utf-8")).get("pauses", [])
    return sorted(Pause(int(offset), float(delay)) for offset, delay in pairs)


class ReplayScanner:
    """Plays a recorded scanner byte stream through a :class:`ScanFramer`.

    Time is virtual: the framer sees the recorded pauses, so scanners without a terminator
    replay exactly. ``realtime=True`` also waits out each pause (for the demo). ``play()`` runs
    the whole stream on the calling thread; ``start()``/``stop()`` run it on a thread.
    """

    def __init__(
        self,
        path: str | Path,
        on_scan: ScanCallback,
        realtime: bool = False,
        *,
        on_status: StatusCallback | None = None,
        settings: SerialSettings | None = None,
        guard: DuplicateGuard | None = None,
    ) -> None:
        self.path = Path(path)
        self.realtime = realtime
        self.settings = settings or SerialSettings(url=f"{REPLAY_PREFIX}{self.path}")
        self._deliver = _Delivery(on_scan, guard)
        self._on_status = on_status
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def play(self) -> None:
        data = self.path.read_bytes()
        framer = self.settings.framer()
        self._report("connected")
        now_ms, position = 0.0, 0
        for pause in [*load_pauses(self.path), Pause(len(data), 0.0)]:
            self._deliver(framer.feed(data[position : pause.offset], now_ms))
            position = max(position, pause.offset)
            if self.realtime and self._stop.wait(pause.delay_ms / 1000.0):
                break
            now_ms += pause.delay_ms
            self._deliver(framer.poll(now_ms))
        else:
            self._deliver(framer.flush())
        self._report("stopped")

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.play, name=f"replay {self.path}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
            self._thread = None

    def _report(self, status: str) -> None:
        if self._on_status is not None:
            self._on_status(status)


def make_scanner(
    spec: str,
    on_scan: ScanCallback,
    on_status: StatusCallback | None = None,
    *,
    guard: DuplicateGuard | None = None,
    **settings: object,
) -> SerialScanner | ReplayScanner:
    """A scanner from a configured port string: ``replay:<file>`` is the virtual scanner (it
    plays in real time), anything else a pyserial URL; ``settings`` are SerialSettings fields."""
    if spec.startswith(REPLAY_PREFIX):
        path = spec[len(REPLAY_PREFIX) :]
        config = SerialSettings(url=spec, **settings)  # type: ignore[arg-type]
        return ReplayScanner(
            path, on_scan, realtime=True, on_status=on_status, settings=config, guard=guard
        )
    config = SerialSettings(url=spec, **settings)  # type: ignore[arg-type]
    return SerialScanner(config, on_scan, on_status, guard=guard)
