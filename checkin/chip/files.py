"""The LDS files and reading them: READ BINARY by short file identifier, largest chunks.

The first READ BINARY names the file by its SFI (P1 = 0x80 | SFI, offset 0) and asks for as
much as one response can carry; the TLV header in that chunk gives the file's size, and the
rest follows at offsets (P1-P2, or INS B1 with DO'54' beyond 32767) in chunks as large as the
channel allows: extended length when both the reader and the card offer it. A file of N bytes
costs ceil(N / chunk) commands, which is the minimum the card allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from checkin.chip import tlv
from checkin.chip.apdu import (
    SW_END_OF_FILE,
    SW_FILE_NOT_FOUND,
    SW_OK,
    SW_SECURITY_STATUS,
    SW_WRONG_P1P2,
    Command,
    Response,
    sw_text,
)
from checkin.chip.channel import Channel
from checkin.chip.errors import AccessDenied, CardStatusError, FileNotFound, TlvError

EMRTD_AID = bytes.fromhex("A0000002471001")


@dataclass(frozen=True)
class EF:
    name: str
    fid: int
    sfi: int
    tag: int | None  # the outer tag of its content
    dg: int | None = None


CARD_ACCESS = EF("EF.CardAccess", 0x011C, 0x1C, 0x31)
COM = EF("EF.COM", 0x011E, 0x1E, 0x60)
SOD = EF("EF.SOD", 0x011D, 0x1D, 0x77)
DG_TAGS = {
    1: 0x61, 2: 0x75, 3: 0x63, 4: 0x76, 5: 0x65, 6: 0x66, 7: 0x67, 8: 0x68,
    9: 0x69, 10: 0x6A, 11: 0x6B, 12: 0x6C, 13: 0x6D, 14: 0x6E, 15: 0x6F, 16: 0x70,
}  # fmt: skip
DATA_GROUPS = {n: EF(f"DG{n}", 0x0100 + n, n, tag, n) for n, tag in DG_TAGS.items()}
DG1, DG2, DG13, DG14, DG15 = (DATA_GROUPS[n] for n in (1, 2, 13, 14, 15))
BY_NAME = {ef.name: ef for ef in (CARD_ACCESS, COM, SOD, *DATA_GROUPS.values())}


def select_application(channel: Channel, *, protected: bool) -> Response:
    command = Command(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)
    return channel.send(command) if protected else channel.send_plain(command)


def _read_command(offset: int, ne: int, sfi: int | None) -> Command:
    if sfi is not None:
        return Command(0x00, 0xB0, 0x80 | sfi, 0x00, ne=ne)
    if offset <= 0x7FFF:
        return Command(0x00, 0xB0, offset >> 8, offset & 0xFF, ne=ne)
    return Command(0x00, 0xB1, 0x00, 0x00, tlv.encode(0x54, offset.to_bytes(3, "big")), ne=ne)


def _check(response: Response, ef: EF) -> None:
    if response.sw in (SW_OK, SW_END_OF_FILE):
        return
    if response.sw == SW_FILE_NOT_FOUND:
        raise FileNotFound(f"the card has no {ef.name}", response.sw)
    if response.sw == SW_SECURITY_STATUS:
        raise AccessDenied(
            f"the card protects {ef.name} (security status not satisfied, 6982): it needs"
            " authentication this read does not have",
            response.sw,
        )
    raise CardStatusError(
        f"reading {ef.name} failed: the card answered {sw_text(response.sw)}", response.sw
    )


def _body(response: Response, odd: bool) -> bytes:
    if not odd:
        return response.data
    item = tlv.parse(response.data, expect=0x53)
    return item.value


def read_file(channel: Channel, ef: EF, *, use_sfi: bool = True) -> bytes:
    """The whole file ``ef`` (its TLV object). SFI addressing unless ``use_sfi`` is False, in
    which case the file is selected by FID first."""
    chunk = channel.max_chunk()
    if use_sfi:
        first_command = _read_command(0, chunk, ef.sfi)
    else:
        selected = channel.send(Command(0x00, 0xA4, 0x02, 0x0C, ef.fid.to_bytes(2, "big")))
        _check(selected, ef)
        first_command = _read_command(0, chunk, None)
    response = channel.send(first_command)
    _check(response, ef)
    data = bytearray(response.data)
    if not data:
        raise TlvError(f"{ef.name} is empty")
    try:
        tag, header, length = tlv.read_header(bytes(data))
    except TlvError:
        if len(data) >= 6:
            raise
        tag, header, length = None, 0, 0  # header cut short: read a little more first
        data += _read_more(channel, ef, len(data), 8, chunk)
        tag, header, length = tlv.read_header(bytes(data))
    if ef.tag is not None and tag != ef.tag:
        raise TlvError(f"{ef.name} starts with tag {tag:X}, expected {ef.tag:X}")
    total = header + length
    while len(data) < total:
        data += _read_more(channel, ef, len(data), min(chunk, total - len(data)), chunk)
    return bytes(data[:total])


def _read_more(channel: Channel, ef: EF, offset: int, ne: int, chunk: int) -> bytes:
    command = _read_command(offset, ne, None)
    odd = command.ins == 0xB1
    if odd:  # DO'53' wrapping costs up to 4 bytes of the response
        command = command.with_ne(min(ne + 4, chunk))
    response = channel.send(command)
    if response.sw == SW_WRONG_P1P2:
        raise TlvError(f"{ef.name} is shorter than its header declares (offset {offset})")
    _check(response, ef)
    body = _body(response, odd)
    if not body:
        raise TlvError(f"{ef.name} is shorter than its header declares (offset {offset})")
    return body
