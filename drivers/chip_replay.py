"""A Transport that replays a recorded APDU transcript (see ``drivers.pcsc.TranscriptRecorder``).

Each command sent must equal the next recorded one; otherwise :class:`TranscriptDivergence`
says where and how they differ. The terminal's random bytes come from the transcript too
(``random(n)``), so a recorded PACE or BAC session replays byte for byte. Only transcripts
recorded in test mode (unmasked, with random bytes) can be replayed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from checkin.chip import errors
from checkin.chip.errors import ChipError


class TranscriptDivergence(ChipError):
    """The code under replay did something other than what the transcript recorded."""


class ReplayTransport:
    def __init__(self, source: str | Path | Iterable[str] | Iterable[dict]) -> None:
        if isinstance(source, str | Path):
            lines: Iterable = Path(source).read_text(encoding="utf-8").splitlines()
        else:
            lines = source
        records = []
        for number, line in enumerate(lines, 1):
            if isinstance(line, dict):
                records.append(line)
                continue
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                raise ChipError(f"transcript line {number} is not JSON") from None
        header = records[0] if records and "transcript" in records[0] else {}
        if header.get("masked"):
            raise ChipError(
                "this transcript was recorded with ID masking and cannot be replayed:"
                " record it in test mode"
            )
        self.atr = bytes.fromhex(header.get("atr", ""))
        self.max_response_length = int(header.get("max_response_length", 256))
        self.reader_name = header.get("reader", "replay")
        self._records = [r for r in records if "transcript" not in r]
        self._pos = 0

    @property
    def finished(self) -> bool:
        return self._pos >= len(self._records)

    def assert_finished(self) -> None:
        if not self.finished:
            left = len(self._records) - self._pos
            raise TranscriptDivergence(f"the replay stopped with {left} transcript entries unused")

    def _next(self, want: str) -> dict:
        if self.finished:
            raise TranscriptDivergence(
                f"transcript exhausted: the code asked for {want} after entry {self._pos}"
            )
        record = self._records[self._pos]
        self._pos += 1
        return record

    def transmit(self, apdu: bytes) -> bytes:
        record = self._next(f"command {apdu.hex()}")
        if "c" not in record:
            raise TranscriptDivergence(
                f"entry {self._pos}: the code sent {apdu.hex()} where the transcript recorded"
                f" {'random bytes' if 'random' in record else record}"
            )
        expected = bytes.fromhex(record["c"])
        if expected != apdu:
            at = next((i for i, (a, b) in enumerate(zip(expected, apdu, strict=False)) if a != b),
                      min(len(expected), len(apdu)))  # fmt: skip
            raise TranscriptDivergence(
                f"command {record.get('n', self._pos)} diverges at byte {at}: recorded"
                f" {expected.hex()}, sent {apdu.hex()}"
            )
        if "error" in record:
            kind = getattr(errors, record["error"], ChipError)
            if not (isinstance(kind, type) and issubclass(kind, ChipError)):
                kind = ChipError
            raise kind(record.get("message"))
        return bytes.fromhex(record["r"])

    def random(self, count: int) -> bytes:
        record = self._next(f"{count} random bytes")
        if "random" not in record:
            raise TranscriptDivergence(
                f"entry {self._pos}: the code asked for random bytes where the transcript"
                f" recorded command {record.get('c')}"
            )
        data = bytes.fromhex(record["random"])
        if len(data) != count:
            raise TranscriptDivergence(
                f"entry {self._pos}: {count} random bytes asked, {len(data)} recorded"
            )
        return data
