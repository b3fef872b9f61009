"""A channel to the card: a transport, optional secure messaging, and the command counters.

Everything above (BAC, PACE, file reads) sends :class:`~checkin.chip.apdu.Command` objects
through :meth:`Channel.send`, which protects them when a secure-messaging session is open.
"""

from __future__ import annotations

from checkin.chip.apdu import (
    EXTENDED_MAX_NE,
    SHORT_MAX_NE,
    Command,
    Response,
    Transport,
    exchange,
)
from checkin.chip.sm import SecureMessaging


class CountingTransport:
    """Wraps a transport to count commands and bytes (what the benchmark and ``apdus`` show)."""

    def __init__(self, transport: Transport) -> None:
        self.inner = transport
        self.commands = 0
        self.bytes_sent = 0
        self.bytes_received = 0

    @property
    def max_response_length(self) -> int:
        return int(getattr(self.inner, "max_response_length", SHORT_MAX_NE))

    def transmit(self, apdu: bytes) -> bytes:
        self.commands += 1
        self.bytes_sent += len(apdu)
        response = self.inner.transmit(apdu)
        self.bytes_received += len(response)
        return response


def atr_offers_extended_length(atr: bytes | None) -> bool:
    """True when the ATR's historical bytes carry card capabilities with extended Lc/Le.

    ISO/IEC 7816-4 §8.1.1.2.7: compact-TLV tag 7 (card capabilities), third byte, bit 7.
    """
    if not atr or len(atr) < 2:
        return False
    t0 = atr[1]
    count = t0 & 0x0F
    pos, indicator = 2, t0
    while True:
        for mask in (0x10, 0x20, 0x40):
            if indicator & mask:
                pos += 1
        if indicator & 0x80:
            if pos >= len(atr):
                return False
            indicator = atr[pos]
            pos += 1
        else:
            break
    historical = atr[pos : pos + count]
    if len(historical) != count or not historical or historical[0] not in (0x00, 0x80):
        return False
    body = historical[1:-3] if historical[0] == 0x00 else historical[1:]
    i = 0
    while i < len(body):
        tag, length = body[i] >> 4, body[i] & 0x0F
        value = body[i + 1 : i + 1 + length]
        if tag == 0x7 and len(value) >= 3:
            return bool(value[2] & 0x40)
        i += 1 + length
    return False


class Channel:
    def __init__(self, transport: Transport, *, extended: bool | None = None) -> None:
        self.counter = CountingTransport(transport)
        self.transport = transport
        self.sm: SecureMessaging | None = None
        reader_limit = self.counter.max_response_length
        if extended is None:
            extended = reader_limit > SHORT_MAX_NE and atr_offers_extended_length(
                getattr(transport, "atr", None)
            )
        self.extended = bool(extended) and reader_limit > SHORT_MAX_NE
        self.response_limit = min(reader_limit, EXTENDED_MAX_NE) if self.extended else SHORT_MAX_NE
        self.plain_bytes = 0  # response data after unwrapping, for the benchmark

    @property
    def commands(self) -> int:
        return self.counter.commands

    def max_chunk(self) -> int:
        """The largest READ BINARY length one command can return on this channel."""
        if self.sm is None:
            return self.response_limit
        return self.sm.max_plain_response(self.response_limit)

    def send(self, command: Command) -> Response:
        if self.sm is not None:
            raw = self.sm.wrap(command, extended=self.extended and command.ne is not None)
            response = self.sm.unwrap(exchange(self.counter, raw))
        else:
            response = exchange(self.counter, command.encode())
        self.plain_bytes += len(response.data)
        return response

    def send_plain(self, command: Command) -> Response:
        """Send without protection (ends any secure-messaging session on the card)."""
        self.sm = None
        response = exchange(self.counter, command.encode())
        self.plain_bytes += len(response.data)
        return response
