"""PC/SC readers through pyscard: reader list, card events, an exclusive connection that is a
:class:`checkin.chip.apdu.Transport`, and a transcript recorder for every APDU.

Failures leave here as :class:`checkin.chip.errors.ChipError` subclasses with one actionable
line: ``ReaderError`` (no pcscd, no reader, no card, reader busy), ``CardRemoved`` (the card
left during a command). pyscard exceptions never reach callers.

Transcripts are JSON lines: a header, then one line per command and response, (in test mode)
the terminal's random bytes, and errors. Outside tests, runs of 9 or more ASCII digits in the
recorded bytes (ID-like numbers in clear-text APDUs) are masked but for the last 4 digits, and
no random bytes are written (with them, a recorded secure session could be decrypted).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from checkin.chip.errors import CardRemoved, ChipError, ReaderError

try:  # dependency guard: the rest of checkin works without pyscard
    from smartcard.CardConnectionObserver import CardConnectionObserver
    from smartcard.Exceptions import (
        CardConnectionException,
        NoCardException,
        SmartcardException,
    )
    from smartcard.pcsc.PCSCExceptions import BaseSCardException
    from smartcard.scard import (
        SCARD_ATTR_MAXINPUT,
        SCARD_LEAVE_CARD,
        SCARD_RESET_CARD,
        SCARD_SHARE_EXCLUSIVE,
        SCARD_SHARE_SHARED,
    )
    from smartcard.System import readers as _pcsc_readers

    PYSCARD_ERROR: str | None = None
except ImportError as exc:  # pragma: no cover - exercised only without pyscard
    PYSCARD_ERROR = str(exc)
    CardConnectionObserver = object  # type: ignore[assignment,misc]

SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_E_SHARING_VIOLATION = 0x8010000B
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_E_SERVICE_STOPPED = 0x8010001E
SCARD_E_READER_UNAVAILABLE = 0x80100017
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
SCARD_W_REMOVED_CARD = 0x80100069
SCARD_W_RESET_CARD = 0x80100068
SCARD_W_UNPOWERED_CARD = 0x80100067
SCARD_F_COMM_ERROR = 0x80100013
SCARD_E_NOT_TRANSACTED = 0x80100016

CARD_GONE = {SCARD_W_REMOVED_CARD, SCARD_E_NO_SMARTCARD, SCARD_E_READER_UNAVAILABLE,
             SCARD_W_UNPOWERED_CARD, SCARD_W_RESET_CARD}  # fmt: skip
NO_SERVICE = {SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED}
SHORT_LIMIT = 256
REMOVAL_GRACE_S = 1.5
# Readers known to carry extended-length APDUs whatever SCARD_ATTR_MAXINPUT says.
# vpcd frames are 2-byte lengths: at most 65535 bytes including the status word.
KNOWN_EXTENDED = {"Virtual PCD": 65533}

PCSCD_HINT = (
    "the PC/SC service (pcscd) is not running: start it (sudo systemctl start pcscd.socket)"
    " and check that the reader is plugged in"
)


def _require_pyscard() -> None:
    if PYSCARD_ERROR is not None:
        raise ReaderError(f"pyscard is not installed ({PYSCARD_ERROR}): run `make deps`")


def _hresult(exc: BaseException) -> int:
    value = getattr(exc, "hresult", -1)
    return value & 0xFFFFFFFF if isinstance(value, int) and value != -1 else -1


def list_readers() -> list[str]:
    """Names of the PC/SC readers this machine has (ReaderError when pcscd is down)."""
    _require_pyscard()
    try:
        return [str(r) for r in _pcsc_readers()]
    except (BaseSCardException, SmartcardException) as exc:
        if _hresult(exc) == SCARD_E_NO_READERS_AVAILABLE:
            return []
        raise ReaderError(PCSCD_HINT) from None


def pcscd_available() -> bool:
    try:
        list_readers()
    except ReaderError:
        return False
    return True


def _has_card(reader: object) -> bool:  # a pyscard reader
    connection = reader.createConnection()
    try:
        connection.connect(mode=SCARD_SHARE_SHARED, disposition=SCARD_LEAVE_CARD)
        connection.disconnect()
        return True
    except (NoCardException, CardConnectionException, BaseSCardException):
        return False
    finally:
        with contextlib.suppress(CardConnectionException, BaseSCardException):
            connection.release()


def _find_reader(name: str | None):
    _require_pyscard()
    try:
        found = _pcsc_readers()
    except (BaseSCardException, SmartcardException) as exc:
        if _hresult(exc) == SCARD_E_NO_READERS_AVAILABLE:
            found = []
        else:
            raise ReaderError(PCSCD_HINT) from None
    if not found:
        raise ReaderError("no PC/SC card reader found: plug in the contactless reader")
    if name is None:  # the first reader holding a card, else the first reader
        return next((r for r in found if _has_card(r)), found[0])
    exact = [r for r in found if str(r) == name]
    partial = [r for r in found if name.casefold() in str(r).casefold()]
    if exact or len(partial) == 1:
        return (exact or partial)[0]
    listed = ", ".join(repr(str(r)) for r in found)
    what = "matches several readers" if partial else "is not connected"
    raise ReaderError(f"reader {name!r} {what}; readers: {listed}")


def wait_for_card(reader: str | None = None, timeout: float = 5.0, *, present: bool = True) -> bool:
    """Wait until a card is on ``reader`` (or, with ``present=False``, until it is gone)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            there = _has_card(_find_reader(reader))
        except ReaderError:
            there = False
        if there == present:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


# -- transcripts ------------------------------------------------------------------------------

_DIGIT_RUN = re.compile(rb"[0-9]{9,}")


def mask_digits(data: bytes) -> bytes:
    """Replace runs of 9+ ASCII digits by '*' except their last 4 (ID-like numbers)."""
    return _DIGIT_RUN.sub(lambda m: b"*" * (len(m.group()) - 4) + m.group()[-4:], data)


class TranscriptRecorder(CardConnectionObserver):
    """A pyscard connection observer writing every command and response as JSON lines.

    ``test=True`` writes bytes as they are and also records the terminal's random bytes (so
    :class:`drivers.chip_replay.ReplayTransport` can replay the session); otherwise ID-like
    digit runs are masked and randomness is not recorded.
    """

    def __init__(self, target: str | Path | IO[str], *, test: bool = False) -> None:
        self.test = test
        self._own = not hasattr(target, "write")
        self._out: IO[str] = open(target, "a", encoding="utf-8") if self._own else target  # noqa: SIM115
        self._pending: bytes | None = None
        self._count = 0
        self._start = time.perf_counter()
        self._lock = threading.Lock()

    def _write(self, record: dict) -> None:
        with self._lock:
            self._out.write(json.dumps(record) + "\n")
            self._out.flush()

    def _hex(self, data: bytes) -> str:
        return (data if self.test else mask_digits(data)).hex()

    def header(self, *, reader: str, atr: bytes, max_response_length: int) -> None:
        self._write({"transcript": "checkin-chip", "version": 1, "reader": reader,
                     "atr": atr.hex(), "max_response_length": max_response_length,
                     "test": self.test, "masked": not self.test})  # fmt: skip

    def update(self, observable: object, event: object) -> None:  # pyscard observer hook
        kind = getattr(event, "type", None)
        args = getattr(event, "args", None) or []
        if kind == "command":
            self._pending = bytes(args[0])
        elif kind == "response" and self._pending is not None:
            data, sw1, sw2 = args
            self._count += 1
            self._write({"n": self._count, "t": round(time.perf_counter() - self._start, 4),
                         "c": self._hex(self._pending),
                         "r": self._hex(bytes(data) + bytes((sw1, sw2)))})  # fmt: skip
            self._pending = None

    def error(self, exc: ChipError) -> None:
        """A command that got no response (the observer never sees a 'response' event)."""
        self._count += 1
        self._write({"n": self._count, "t": round(time.perf_counter() - self._start, 4),
                     "c": self._hex(self._pending or b""), "error": type(exc).__name__,
                     "message": str(exc)})  # fmt: skip
        self._pending = None

    def random(self, count: int, source: Callable[[int], bytes] = os.urandom) -> bytes:
        data = source(count)
        if self.test:
            self._write({"random": data.hex()})
        return data

    def close(self) -> None:
        if self._own:
            self._out.close()


# -- the transport ---------------------------------------------------------------------------


class PcscTransport:
    """An exclusive connection to the card on one reader; a Transport for ``read_card``.

    ``with PcscTransport("ACS ACR1252") as t: read_card(t, can=...)``. The connection is
    released with a card reset, so a failed or aborted read leaves the reader usable at once.
    ``extended``: None decides from the reader (SCARD_ATTR_MAXINPUT, or known virtual readers).
    """

    def __init__(
        self,
        reader: str | None = None,
        *,
        exclusive: bool = True,
        recorder: TranscriptRecorder | None = None,
        extended: bool | None = None,
        connect_timeout: float = 3.0,
    ) -> None:
        self.reader_query = reader
        self.exclusive = exclusive
        self.recorder = recorder
        self.extended = extended
        self.connect_timeout = connect_timeout
        self.reader_name: str | None = None
        self.atr: bytes = b""
        self.max_response_length = SHORT_LIMIT
        self._connection = None

    @property
    def random(self) -> Callable[[int], bytes] | None:
        """Terminal randomness, recorded when the recorder is in test mode."""
        if self.recorder is not None and self.recorder.test:
            return self.recorder.random
        return None

    def __enter__(self) -> PcscTransport:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> PcscTransport:
        reader = _find_reader(self.reader_query)
        self.reader_name = str(reader)
        connection = reader.createConnection()
        mode = SCARD_SHARE_EXCLUSIVE if self.exclusive else SCARD_SHARE_SHARED
        deadline = time.monotonic() + self.connect_timeout
        while True:
            try:
                connection.connect(mode=mode, disposition=SCARD_RESET_CARD)
                break
            except NoCardException:
                # a card just placed may not be visible to pcscd yet (chip.md §4.4)
                if time.monotonic() >= deadline:
                    raise ReaderError(
                        f"no card on the reader {self.reader_name!r}: place the citizen ID card"
                        " flat on the reader and try again"
                    ) from None
                time.sleep(0.1)
            except (CardConnectionException, BaseSCardException) as exc:
                code = _hresult(exc)
                if code == SCARD_E_SHARING_VIOLATION:
                    raise ReaderError(
                        f"the reader {self.reader_name!r} is in use by another program:"
                        " close it and try again"
                    ) from None
                if code in NO_SERVICE:
                    raise ReaderError(PCSCD_HINT) from None
                if code in CARD_GONE and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise ReaderError(
                    f"cannot connect to the card on {self.reader_name!r}: {exc}"
                ) from None
        self._connection = connection
        try:
            self.atr = bytes(connection.getATR())
        except (CardConnectionException, BaseSCardException):
            self.atr = b""
        self.max_response_length = self._response_limit(connection)
        if self.recorder is not None:
            connection.addObserver(self.recorder)
            self.recorder.header(reader=self.reader_name, atr=self.atr,
                                 max_response_length=self.max_response_length)  # fmt: skip
        return self

    def _response_limit(self, connection: object) -> int:
        if self.extended is False:
            return SHORT_LIMIT
        for prefix, limit in KNOWN_EXTENDED.items():
            if self.reader_name and self.reader_name.startswith(prefix):
                return limit
        try:
            raw = connection.getAttrib(SCARD_ATTR_MAXINPUT)
            value = int.from_bytes(bytes(raw[:4]), "little") if raw else 0
        except (CardConnectionException, BaseSCardException, TypeError, ValueError):
            value = 0
        if value > SHORT_LIMIT + 5:
            return min(value - 5, 65536)  # room for the command header and status word
        return 65536 if self.extended else SHORT_LIMIT

    def transmit(self, apdu: bytes) -> bytes:
        if self._connection is None:
            raise ReaderError("the reader connection is closed")
        try:
            data, sw1, sw2 = self._connection.transmit(list(apdu))
        except (CardConnectionException, BaseSCardException) as exc:
            error = self._translate(exc)
            if self.recorder is not None:
                self.recorder.error(error)
            raise error from None
        return bytes(data) + bytes((sw1, sw2))

    def _translate(self, exc: BaseException) -> ChipError:
        code = _hresult(exc)
        if code in CARD_GONE:
            return CardRemoved()
        if code in NO_SERVICE:
            return ReaderError(PCSCD_HINT)
        # A broken exchange is most often a card leaving the field; pcscd notices on its next
        # presence poll (a few hundred ms), so look again for a moment before deciding.
        deadline = time.monotonic() + REMOVAL_GRACE_S
        while True:
            if not self.card_present():
                return CardRemoved()
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        return ChipError(
            f"communication with the card failed ({exc}): hold the card still on the reader and"
            " read again"
        )

    def card_present(self) -> bool:
        if self._connection is None:
            return False
        try:
            self._connection.getATR()
        except (CardConnectionException, BaseSCardException):
            return False
        return True

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self.recorder is not None:
            connection.deleteObserver(self.recorder)
        try:
            connection.disconnect()
        except (CardConnectionException, BaseSCardException):
            try:  # the card is gone: leave it, just drop the handle
                connection.disposition = SCARD_LEAVE_CARD
                connection.disconnect()
            except (CardConnectionException, BaseSCardException):
                pass
        with contextlib.suppress(CardConnectionException, BaseSCardException, AttributeError):
            connection.release()


# -- card events -----------------------------------------------------------------------------


class CardWatcher:
    """Card presented / removed events, for one reader (name or part of it) or all readers.

    ``on_inserted(reader_name, atr)`` and ``on_removed(reader_name)`` run on the watcher's own
    thread: a Qt caller must re-emit them as signals (style.md §1.3). Cards already present
    when the watcher starts are reported as inserted. Unlike pyscard's CardMonitor singleton
    (whose thread never stops and prints tracebacks when pcscd goes away), this watcher stops
    with :meth:`stop` and survives pcscd restarts quietly.
    """

    def __init__(
        self,
        on_inserted: Callable[[str, bytes], None],
        on_removed: Callable[[str], None],
        *,
        reader: str | None = None,
        poll_ms: int = 300,
    ) -> None:
        self.on_inserted = on_inserted
        self.on_removed = on_removed
        self.reader = reader
        self.poll_ms = poll_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._present: dict[str, bool] = {}

    def _wanted(self, name: str) -> bool:
        return self.reader is None or self.reader.casefold() in name.casefold()

    def start(self) -> CardWatcher:
        _require_pyscard()
        list_readers()  # fail early and clearly when pcscd is not running
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="pcsc-card-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> CardWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        from smartcard import scard

        context = None
        states: dict[str, int] = {}
        while not self._stop.is_set():
            if context is None:
                code, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
                if code != scard.SCARD_S_SUCCESS:
                    context = None
                    self._stop.wait(1.0)
                    continue
            code, names = scard.SCardListReaders(context, [])
            if code != scard.SCARD_S_SUCCESS:
                names = []
                if (code & 0xFFFFFFFF) in NO_SERVICE:
                    scard.SCardReleaseContext(context)
                    context = None
            names = [n for n in names if self._wanted(n)]
            for gone in set(self._present) - set(names):  # reader unplugged
                if self._present.pop(gone):
                    self.on_removed(gone)
                states.pop(gone, None)
            if context is None or not names:
                self._stop.wait(self.poll_ms / 1000)
                continue
            query = [(n, states.get(n, scard.SCARD_STATE_UNAWARE)) for n in names]
            code, result = scard.SCardGetStatusChange(context, self.poll_ms, query)
            if code != scard.SCARD_S_SUCCESS:
                if (code & 0xFFFFFFFF) in NO_SERVICE:
                    scard.SCardReleaseContext(context)
                    context = None
                continue
            for name, event, atr in result:
                states[name] = event & ~scard.SCARD_STATE_CHANGED
                present = bool(event & scard.SCARD_STATE_PRESENT) and not (
                    event & scard.SCARD_STATE_MUTE
                )
                if present != self._present.get(name, False):
                    self._present[name] = present
                    if present:
                        self.on_inserted(name, bytes(atr))
                    else:
                        self.on_removed(name)
        if context is not None:
            scard.SCardReleaseContext(context)
