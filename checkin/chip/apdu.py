"""Command and response APDUs (ISO/IEC 7816-3/-4), short and extended length, and status words.

The wire format follows the four cases of ISO 7816-3:

- case 1: ``CLA INS P1 P2``
- case 2: ``... Le``  (short: one byte, ``00`` = 256; extended: ``00 Le1 Le2``, ``0000`` = 65536)
- case 3: ``... Lc data`` (extended: ``00 Lc1 Lc2 data``)
- case 4: ``... Lc data Le`` (extended: ``00 Lc1 Lc2 data Le1 Le2``)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from checkin.chip.errors import ChipError

SHORT_MAX_NE = 256
EXTENDED_MAX_NE = 65536

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282  # end of file reached before reading Ne bytes
SW_WRONG_LENGTH = 0x6700
SW_SECURITY_STATUS = 0x6982
SW_AUTH_METHOD_BLOCKED = 0x6983
SW_CONDITIONS = 0x6985
SW_SM_MISSING = 0x6987
SW_SM_INCORRECT = 0x6988
SW_WRONG_DATA = 0x6A80
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_AUTH_FAILED = 0x6300

STATUS_TEXT = {
    0x9000: "success",
    0x6282: "end of file reached before the requested length",
    0x6300: "authentication failed",
    0x6700: "wrong length",
    0x6881: "logical channel not supported",
    0x6882: "secure messaging not supported",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6984: "reference data not usable",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6987: "expected secure messaging data objects missing",
    0x6988: "incorrect secure messaging data objects",
    0x6A80: "incorrect data",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A86: "incorrect P1-P2",
    0x6A88: "referenced data not found",
    0x6B00: "wrong parameters (offset outside the file)",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}


def sw_text(sw: int) -> str:
    """``'6A82 (file or application not found)'``."""
    if sw >> 8 == 0x61:
        return f"{sw:04X} ({sw & 0xFF} more bytes available)"
    if sw >> 8 == 0x6C:
        return f"{sw:04X} (wrong Le; {sw & 0xFF} bytes available)"
    if sw >> 4 == 0x63C:
        return f"{sw:04X} (verification failed, {sw & 0xF} tries left)"
    return f"{sw:04X} ({STATUS_TEXT.get(sw, 'unknown status')})"


@runtime_checkable
class Transport(Protocol):
    """What the protocol code needs from a reader: one exchange, and a size hint.

    ``transmit`` sends a whole command APDU and returns the whole response (data ‖ SW1 SW2).
    ``max_response_length`` is the largest response *data* length one exchange can carry
    through this reader (256 for short APDUs only; up to 65536 with extended length).
    Optional attributes read with ``getattr``: ``atr`` (bytes) and ``random(n)`` (the source of
    terminal randomness, used by transcript replay).
    """

    max_response_length: int

    def transmit(self, apdu: bytes) -> bytes: ...


@dataclass(frozen=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None  # expected response length; None = no Le field

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise ValueError(f"{name} must be one byte, got {value}")
        if len(self.data) > 65535:
            raise ValueError("command data longer than 65535 bytes")
        if self.ne is not None and not 1 <= self.ne <= EXTENDED_MAX_NE:
            raise ValueError(f"Ne must be 1..65536, got {self.ne}")

    @property
    def needs_extended(self) -> bool:
        return len(self.data) > 255 or (self.ne is not None and self.ne > SHORT_MAX_NE)

    def with_ne(self, ne: int | None) -> Command:
        return replace(self, ne=ne)

    def encode(self, *, extended: bool | None = None) -> bytes:
        """The wire bytes; extended length when needed, or forced with ``extended=True``."""
        ext = self.needs_extended if extended is None else extended or self.needs_extended
        if ext and not self.data and self.ne is None:
            ext = False  # case 1 has no length fields
        out = bytearray((self.cla, self.ins, self.p1, self.p2))
        if ext:
            if self.data:
                out += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.ne is not None:
                le = (self.ne % EXTENDED_MAX_NE).to_bytes(2, "big")
                out += le if self.data else b"\x00" + le
        else:
            if self.data:
                out += bytes([len(self.data)]) + self.data
            if self.ne is not None:
                out.append(self.ne % SHORT_MAX_NE)
        return bytes(out)

    @property
    def header(self) -> bytes:
        return bytes((self.cla, self.ins, self.p1, self.p2))

    @classmethod
    def decode(cls, raw: bytes) -> Command:
        """Parse wire bytes (used by the emulator and the replay backend)."""
        if len(raw) < 4:
            raise ValueError("command APDU shorter than 4 bytes")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, ne=body[0] or SHORT_MAX_NE)
        if body[0] == 0 and len(body) >= 3:  # extended
            if len(body) == 3:
                return cls(cla, ins, p1, p2, ne=int.from_bytes(body[1:3], "big") or 65536)
            lc = int.from_bytes(body[1:3], "big")
            data = body[3 : 3 + lc]
            rest = body[3 + lc :]
            if lc == 0 or len(data) != lc or len(rest) not in (0, 2):
                raise ValueError("malformed extended APDU")
            ne = (int.from_bytes(rest, "big") or 65536) if rest else None
            return cls(cla, ins, p1, p2, data, ne)
        lc = body[0]
        data = body[1 : 1 + lc]
        rest = body[1 + lc :]
        if len(data) != lc or len(rest) > 1:
            raise ValueError("malformed short APDU")
        ne = (rest[0] or SHORT_MAX_NE) if rest else None
        return cls(cla, ins, p1, p2, data, ne)


@dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw in (SW_OK, SW_END_OF_FILE)

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Response:
        if len(raw) < 2:
            raise ChipError(
                f"the card sent a {len(raw)}-byte answer, shorter than a status word;"
                " place the card again and read again"
            )
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))


def exchange(transport: Transport, command: bytes) -> Response:
    """Send wire bytes; follow ``61xx`` with GET RESPONSE and ``6Cxx`` with a corrected Le."""
    response = Response.from_bytes(transport.transmit(command))
    if response.sw1 == 0x6C:
        try:
            parsed = Command.decode(command)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.ne is not None:
            corrected = parsed.with_ne(response.sw2 or SHORT_MAX_NE).encode()
            response = Response.from_bytes(transport.transmit(corrected))
    data = response.data
    rounds = 0
    while response.sw1 == 0x61 and rounds < 64:
        rounds += 1
        response = Response.from_bytes(
            transport.transmit(bytes((0x00, 0xC0, 0x00, 0x00, response.sw2)))
        )
        data += response.data
    return Response(data, response.sw) if rounds else response
