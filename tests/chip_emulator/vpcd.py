"""Connect an emulated card to pcscd through vsmartcard-vpcd's socket protocol (chip.md §8.2).

vpcd (loaded by pcscd from /etc/reader.conf.d/vpcd) listens on TCP 35963 for reader 0 and
35964 for reader 1; the card connects as a client. Every message, both ways, is a 2-byte
big-endian length and a body. A 1-byte body from vpcd is a control code: 0 power off, 1 power
on, 2 reset, 4 ATR request (answered with the ATR). Any other body is a command APDU, answered
with the response APDU.

``remove()`` closes the connection, which pcscd reports as the card leaving the reader;
``insert()`` connects again. ``remove_after(n)`` answers n more commands and then drops the
connection instead of answering: a card pulled away in the middle of a read.

TCP_QUICKACK: vpcd writes the length and the body of each message separately, and without a
quick ACK from this side Linux's delayed ACK holds the body back for about 40 ms (the 44 ms
per APDU of chip.md §9). Acknowledging at once brings an exchange through pcscd below 1 ms.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading

log = logging.getLogger("checkin.chip.emulator")

DEFAULT_PORT = 35963
POWER_OFF, POWER_ON, RESET, GET_ATR = 0, 1, 2, 4


class VirtualCard:
    def __init__(
        self,
        card,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        quickack: bool = True,
    ) -> None:
        self.card = card
        self.host, self.port = host, port
        self.quickack = quickack and hasattr(socket, "TCP_QUICKACK")
        self._inserted = threading.Event()
        self._inserted.set()
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._remove_after: int | None = None
        self._thread: threading.Thread | None = None

    # -- control -------------------------------------------------------------------------

    def start(self) -> VirtualCard:
        self._thread = threading.Thread(target=self._run, name="vpcd-card", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._inserted.set()
        self._drop()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> VirtualCard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def remove(self) -> None:
        """Take the card off the reader (until :meth:`insert`)."""
        self._inserted.clear()
        self._drop()

    def insert(self) -> None:
        with self._lock:
            self._remove_after = None
        self._inserted.set()

    def remove_after(self, commands: int) -> None:
        """Answer ``commands`` more APDUs, then vanish instead of answering the next one."""
        with self._lock:
            self._remove_after = commands

    # -- loop ----------------------------------------------------------------------------

    def _drop(self) -> None:
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._inserted.wait(0.2):
                continue
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
            except OSError:
                self._stop.wait(0.2)
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
            self._connected.set()
            try:
                self._serve(sock)
            except (OSError, EOFError):
                pass
            finally:
                self._connected.clear()
                self._sock = None
                sock.close()
                self.card.power_off()

    def _recv(self, sock: socket.socket, count: int) -> bytes:
        data = b""
        while len(data) < count:
            if self.quickack:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = sock.recv(count - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _send(self, sock: socket.socket, body: bytes) -> None:
        sock.sendall(struct.pack(">H", len(body)) + body)

    def _serve(self, sock: socket.socket) -> None:
        while not self._stop.is_set() and self._inserted.is_set():
            (length,) = struct.unpack(">H", self._recv(sock, 2))
            body = self._recv(sock, length)
            if length == 1:
                code = body[0]
                if code == GET_ATR:
                    self._send(sock, self.card.atr)
                elif code == POWER_ON:
                    self.card.power_on()
                elif code == RESET:
                    self.card.reset()
                elif code == POWER_OFF:
                    self.card.power_off()
                continue
            with self._lock:
                if self._remove_after is not None:
                    if self._remove_after <= 0:
                        self._remove_after = None
                        self._inserted.clear()
                        log.info("emulated card removed mid-read")
                        return
                    self._remove_after -= 1
            self._send(sock, self.card.transmit(body))
