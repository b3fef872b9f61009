"""BER-TLV as ICAO 9303 and ISO/IEC 7816-4 use it: parse, walk, encode.

Tags are kept as integers of their full encoding (``0x5F1F``, ``0x7F61``). Lengths use the
definite forms only (short, and ``81``..``84`` long forms). Anything truncated or malformed
raises :class:`~checkin.chip.errors.TlvError` with the offset and what was expected; no other
exception leaves this module for any input.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from checkin.chip.errors import TlvError

MAX_TAG_BYTES = 4
MAX_LENGTH_BYTES = 4
MAX_DEPTH = 32


@dataclass(frozen=True)
class Tlv:
    """One data object: its tag, its value bytes, and where it sat in the parsed buffer."""

    tag: int
    value: bytes
    header_length: int = 0

    @property
    def constructed(self) -> bool:
        return bool(_first_tag_byte(self.tag) & 0x20)

    @property
    def encoded(self) -> bytes:
        return encode(self.tag, self.value)

    def children(self) -> list[Tlv]:
        """The data objects inside a constructed object (TlvError if it is primitive)."""
        if not self.constructed:
            raise TlvError(f"tag {self.tag:X} is primitive; it holds no data objects")
        return parse_all(self.value, context=f"inside tag {self.tag:X}")

    def find(self, tag: int) -> Tlv | None:
        """The first direct child with ``tag``, or None."""
        return next((child for child in self.children() if child.tag == tag), None)

    def require(self, tag: int, what: str = "") -> Tlv:
        found = self.find(tag)
        if found is None:
            label = f" ({what})" if what else ""
            raise TlvError(f"tag {self.tag:X} has no tag {tag:X}{label}")
        return found


def _first_tag_byte(tag: int) -> int:
    while tag > 0xFF:
        tag >>= 8
    return tag


def parse_tag(data: bytes, offset: int = 0) -> tuple[int, int]:
    """The tag starting at ``offset`` and the offset after it."""
    if offset >= len(data):
        raise TlvError(f"truncated TLV: a tag was expected at offset {offset}, data ends there")
    first = data[offset]
    tag, pos = first, offset + 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= len(data):
                raise TlvError(f"truncated TLV: multi-byte tag at offset {offset} is cut short")
            byte = data[pos]
            tag = (tag << 8) | byte
            pos += 1
            if not byte & 0x80:
                break
            if pos - offset >= MAX_TAG_BYTES:
                raise TlvError(f"malformed TLV: tag at offset {offset} is longer than 4 bytes")
    return tag, pos


def parse_length(data: bytes, offset: int) -> tuple[int, int]:
    """The length field starting at ``offset`` and the offset after it."""
    if offset >= len(data):
        raise TlvError(f"truncated TLV: a length was expected at offset {offset}, data ends there")
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    count = first & 0x7F
    if count == 0:
        raise TlvError(f"malformed TLV: indefinite length at offset {offset} is not allowed")
    if count > MAX_LENGTH_BYTES:
        raise TlvError(f"malformed TLV: length at offset {offset} uses {count} bytes (max 4)")
    end = offset + 1 + count
    if end > len(data):
        raise TlvError(f"truncated TLV: length field at offset {offset} is cut short")
    return int.from_bytes(data[offset + 1 : end], "big"), end


def read_header(data: bytes) -> tuple[int, int, int]:
    """``(tag, header_length, value_length)`` of the object at the start of ``data``.

    Used on the first chunk of a file to learn its total size: ``header_length + value_length``.
    """
    tag, pos = parse_tag(data, 0)
    length, pos = parse_length(data, pos)
    return tag, pos, length


def parse_one(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """The data object starting at ``offset`` and the offset after it."""
    tag, pos = parse_tag(data, offset)
    length, pos = parse_length(data, pos)
    end = pos + length
    if end > len(data):
        raise TlvError(
            f"truncated TLV: tag {tag:X} at offset {offset} declares {length} bytes,"
            f" only {len(data) - pos} follow"
        )
    return Tlv(tag, bytes(data[pos:end]), pos - offset), end


def parse_all(data: bytes, *, context: str = "", padding: bool = False) -> list[Tlv]:
    """Every data object in ``data``, back to back. ``padding`` skips ``00``/``FF`` filler."""
    out: list[Tlv] = []
    pos = 0
    try:
        while pos < len(data):
            if padding and data[pos] in (0x00, 0xFF):
                pos += 1
                continue
            item, pos = parse_one(data, pos)
            out.append(item)
    except TlvError as exc:
        if context:
            raise TlvError(f"{exc} ({context})") from None
        raise
    return out


def parse(data: bytes, *, expect: int | None = None, trailing: bool = False) -> Tlv:
    """Exactly one data object (with ``expect``, of that tag). ``trailing`` allows bytes after it
    (files read to the card's block boundary may carry filler)."""
    item, end = parse_one(data, 0)
    if expect is not None and item.tag != expect:
        raise TlvError(f"expected tag {expect:X}, found tag {item.tag:X}")
    if end != len(data) and not trailing:
        raise TlvError(f"{len(data) - end} unexpected bytes after tag {item.tag:X}")
    return item


def walk(item: Tlv, depth: int = 0) -> Iterator[Tlv]:
    """``item`` and every object nested in it, depth first (TlvError beyond 32 levels)."""
    if depth > MAX_DEPTH:
        raise TlvError(f"malformed TLV: nested more than {MAX_DEPTH} levels deep")
    yield item
    if item.constructed:
        for child in item.children():
            yield from walk(child, depth + 1)


def encode_tag(tag: int) -> bytes:
    if tag < 0:
        raise ValueError("tag must not be negative")
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(length: int) -> bytes:
    if length < 0:
        raise ValueError("length must not be negative")
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    if len(body) > MAX_LENGTH_BYTES:
        raise ValueError("length too large for BER-TLV")
    return bytes([0x80 | len(body)]) + body


def encode(tag: int, value: bytes | bytearray | list[bytes] | tuple[bytes, ...]) -> bytes:
    """One data object; a list or tuple of encoded objects is concatenated as the value."""
    if isinstance(value, list | tuple):
        value = b"".join(value)
    return encode_tag(tag) + encode_length(len(value)) + bytes(value)


# -- ASN.1 helpers used by the LDS files (DER subset) ------------------------------------------


def decode_oid(value: bytes) -> str:
    """The dotted form of an OBJECT IDENTIFIER's content bytes."""
    if not value:
        raise TlvError("malformed OID: empty")
    if value[-1] & 0x80:
        raise TlvError("malformed OID: last byte has the continuation bit set")
    arcs: list[int] = []
    current = 0
    for byte in value:
        current = (current << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(current)
            current = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


def encode_oid(dotted: str) -> bytes:
    """The content bytes of an OBJECT IDENTIFIER (without tag and length)."""
    arcs = [int(part) for part in dotted.split(".")]
    if len(arcs) < 2:
        raise ValueError(f"OID needs at least two arcs: {dotted}")
    numbers = [arcs[0] * 40 + arcs[1], *arcs[2:]]
    out = bytearray()
    for number in numbers:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def decode_int(value: bytes) -> int:
    if not value:
        raise TlvError("malformed INTEGER: empty")
    return int.from_bytes(value, "big", signed=True)


def encode_int(number: int) -> bytes:
    """DER INTEGER content bytes (two's complement, minimal)."""
    length = max(1, (number.bit_length() + 8) // 8)
    return number.to_bytes(length, "big", signed=True)


def der_int(number: int) -> bytes:
    return encode(0x02, encode_int(number))


def der_oid(dotted: str) -> bytes:
    return encode(0x06, encode_oid(dotted))


def der_seq(*items: bytes) -> bytes:
    return encode(0x30, list(items))


def der_set(*items: bytes, sort: bool = True) -> bytes:
    """A DER SET OF: members sorted by their encoding, as DER requires."""
    members = sorted(items) if sort else list(items)
    return encode(0x31, members)
