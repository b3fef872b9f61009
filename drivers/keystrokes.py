"""Keyboard-wedge recordings: key presses and their times, as JSON lines. Pure Python, no Qt.

A recording (``fixtures/keystrokes/*.jsonl``) is a header line, then one line per key press::

    {"format": "checkin-keystrokes", "version": 1, "device": "keyboard-wedge scanner", ...}
    {"t_ms": 0.0, "key": "Key_7", "text": "7"}
    {"t_ms": 3.1, "key": null, "text": "ễ"}
    {"t_ms": 6.0, "key": "Key_Return", "text": "\\r"}

``t_ms`` is the time of the press in milliseconds since the recording started; ``key`` the Qt
key name (a ``Qt.Key`` member name) or null for a character no key of a US layout types (the
player sends it as ``Key_unknown`` with the text, as a Vietnamese layout does: platform.md §5);
``text`` what the key types: ``"\\r"`` for Enter, ``"\\b"`` for Backspace. Each line is a
press; the player adds its release. The header says what was recorded (``device``, scanner
``model``), whether it is ``synthetic`` (every committed one is: made-up people only), and how
it was made.

:func:`burst` (a scanner typing a payload every few milliseconds), :func:`typing` (a person,
~120 ms a key) and :func:`telex_burst` (a scanner under a Unikey-style Telex input method,
which rewrites keys with Backspaces) make recordings; :func:`schedule` is when a player sends
each key and with which timestamp. ``ui.wedge_replay.WedgeReplay`` plays one into the running
desk, ``fixtures/generate_keystrokes.py`` writes the committed ones.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from checkin.formats.hexutf8 import TELEX, simulate_ime

FORMAT = "checkin-keystrokes"
VERSION = 1
SCANNER = "keyboard-wedge scanner"
KEYBOARD = "keyboard"
SYNTHETIC_SCANNER = "synthetic 2D imager in USB HID keyboard mode (no real device)"

MAX_LEAD_MS = 2000.0  # compressed replay: key timestamps run at most this far ahead of the clock
LONG_GAP_MS = 1000.0  # compressed replay: longer pauses shrink to this (any wedge gap is ≤ 500)

# Qt's names for the keys that type printable ASCII (their codes are the upper-case characters).
_PUNCTUATION_KEYS = {
    " ": "Space", "!": "Exclam", '"': "QuoteDbl", "#": "NumberSign", "$": "Dollar",
    "%": "Percent", "&": "Ampersand", "'": "Apostrophe", "(": "ParenLeft", ")": "ParenRight",
    "*": "Asterisk", "+": "Plus", ",": "Comma", "-": "Minus", ".": "Period", "/": "Slash",
    ":": "Colon", ";": "Semicolon", "<": "Less", "=": "Equal", ">": "Greater", "?": "Question",
    "@": "At", "[": "BracketLeft", "\\": "Backslash", "]": "BracketRight", "^": "AsciiCircum",
    "_": "Underscore", "`": "QuoteLeft", "{": "BraceLeft", "|": "Bar", "}": "BraceRight",
    "~": "AsciiTilde",
}  # fmt: skip
_CONTROL_KEYS = {"\r": "Return", "\n": "Enter", "\b": "Backspace", "\t": "Tab", "\x1b": "Escape"}


class RecordingError(ValueError):
    """A file that is not a keystroke recording, or a line of it that is wrong (says which)."""


def key_name(text: str) -> str | None:
    """The Qt key name that types ``text`` on a US layout; None for anything else."""
    if text in _CONTROL_KEYS:
        return f"Key_{_CONTROL_KEYS[text]}"
    if text in _PUNCTUATION_KEYS:
        return f"Key_{_PUNCTUATION_KEYS[text]}"
    if len(text) == 1 and text.isascii() and text.isalnum():
        return f"Key_{text.upper()}"
    return None


@dataclass(frozen=True)
class Keystroke:
    """One key press: when (ms since the start), which Qt key (None: Key_unknown), what text."""

    t_ms: float
    key: str | None
    text: str


@dataclass(frozen=True)
class Recording:
    header: dict
    keys: tuple[Keystroke, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        """Every key's text in order (Backspaces included, not applied)."""
        return "".join(k.text for k in self.keys)

    @property
    def duration_ms(self) -> float:
        return self.keys[-1].t_ms - self.keys[0].t_ms if self.keys else 0.0


def make_header(device: str = SCANNER, *, model: str = SYNTHETIC_SCANNER, **info: object) -> dict:
    """A header line: what this is, the device and its model, synthetic, how it was made."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "device": device,
        "model": model,
        "synthetic": True,
        **info,
    }


def from_keys(keys: Sequence[str], gaps_ms: Sequence[float], header: dict) -> Recording:
    """A recording of ``keys`` (one text per press); ``gaps_ms[n]`` is the pause before key
    ``n + 1`` (the first key is at 0)."""
    if len(gaps_ms) != max(len(keys) - 1, 0):
        raise ValueError(f"{len(keys)} keys need {max(len(keys) - 1, 0)} gaps, not {len(gaps_ms)}")
    strokes, t = [], 0.0
    for n, text in enumerate(keys):
        if n:
            t += gaps_ms[n - 1]
        strokes.append(Keystroke(round(t, 1), key_name(text), text))
    return Recording(header, tuple(strokes))


def burst(
    payload: str,
    interval_ms: float = 3.0,
    *,
    suffix: str = "\r",
    jitter_ms: float = 1.0,
    seed: int = 0,
    **info: object,
) -> Recording:
    """A wedge scanner typing ``payload`` then ``suffix``, a key every ``interval_ms``
    (± ``jitter_ms``, at least 1 ms), from a seeded generator."""
    keys = [*payload, *suffix]
    header = make_header(interval_ms=interval_ms, suffix=suffix, seed=seed, **info)
    return from_keys(keys, _gaps(len(keys), interval_ms, jitter_ms, 1.0, seed), header)


def typing(
    text: str, interval_ms: float = 120.0, *, jitter_ms: float = 40.0, seed: int = 0, **info: object
) -> Recording:
    """A person typing ``text`` at about ``interval_ms`` a key (never faster than 60 ms)."""
    header = make_header(KEYBOARD, model="synthetic typist", interval_ms=interval_ms, seed=seed)
    header.update(info)
    return from_keys(list(text), _gaps(len(text), interval_ms, jitter_ms, 60.0, seed), header)


def telex_burst(
    payload: str,
    interval_ms: float = 3.0,
    *,
    method: str = TELEX,
    suffix: str = "\r",
    jitter_ms: float = 1.0,
    seed: int = 0,
    **info: object,
) -> Recording:
    """A wedge scanner typing ``payload`` while a Unikey-style ``method`` input method is on:
    letter pairs in the hex become Vietnamese letters through Backspace + the new letter
    (formats.md §3.4), as the keys reach the application."""
    keys = [*unikey_keys(payload, method), *suffix]
    header = make_header(
        interval_ms=interval_ms, suffix=suffix, seed=seed, ime=f"{method} (Unikey-style)", **info
    )
    return from_keys(keys, _gaps(len(keys), interval_ms, jitter_ms, 1.0, seed), header)


def unikey_keys(text: str, method: str = TELEX) -> list[str]:
    """The keys a Unikey-style ``method`` sends for ``text`` typed key by key: each key comes
    as itself, or as Backspaces erasing the part of the word that changes followed by the new
    letters (Telex ``aa`` → ``a``, ``\\b``, ``â``). Applied in a text field they leave
    ``simulate_ime(text, method)``."""
    keys: list[str] = []
    shown = ""
    for n in range(1, len(text) + 1):
        now = simulate_ime(text[:n], method)
        common = 0
        while common < min(len(shown), len(now)) and shown[common] == now[common]:
            common += 1
        keys += ["\b"] * (len(shown) - common) + list(now[common:])
        shown = now
    return keys


def _gaps(keys: int, interval: float, jitter: float, floor: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [max(floor, round(rng.uniform(interval - jitter, interval + jitter), 1))
            for _ in range(max(keys - 1, 0))]  # fmt: skip


# --- the file format --------------------------------------------------------------------------


def dumps(recording: Recording) -> str:
    lines = [json.dumps(recording.header, ensure_ascii=False)]
    for k in recording.keys:
        stroke = {"t_ms": k.t_ms, "key": k.key, "text": k.text}
        lines.append(json.dumps(stroke, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def loads(text: str, source: str = "<recording>") -> Recording:
    """A recording from its JSON lines; :class:`RecordingError` naming the line when wrong."""
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise RecordingError(f"{source}: empty, not a keystroke recording")
    header = _json(source, *lines[0])
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RecordingError(f"{source}:{lines[0][0]}: header is not {FORMAT!r}")
    if header.get("version") != VERSION:
        raise RecordingError(f"{source}: version {header.get('version')!r}, expected {VERSION}")
    strokes: list[Keystroke] = []
    for n, line in lines[1:]:
        item = _json(source, n, line)
        try:
            t_ms, key, text_ = float(item["t_ms"]), item.get("key"), item["text"]
        except (TypeError, KeyError, ValueError) as exc:
            raise RecordingError(f"{source}:{n}: needs t_ms and text ({exc})") from None
        if not isinstance(text_, str) or not text_ or not (key is None or isinstance(key, str)):
            raise RecordingError(f"{source}:{n}: text must be characters, key a name or null")
        if strokes and t_ms < strokes[-1].t_ms:
            raise RecordingError(f"{source}:{n}: t_ms goes back in time")
        strokes.append(Keystroke(t_ms, key, text_))
    return Recording(header, tuple(strokes))


def load(path: str | Path) -> Recording:
    path = Path(path)
    return loads(path.read_text(encoding="utf-8"), str(path))


def save(recording: Recording, path: str | Path) -> None:
    Path(path).write_text(dumps(recording), encoding="utf-8", newline="\n")


def _json(source: str, n: int, line: str) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise RecordingError(f"{source}:{n}: not JSON ({exc.msg})") from None


# --- playing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """When a player sends key ``n`` (ms after it starts) and the timestamp it gives the key
    (ms after the first key's)."""

    send_ms: float
    stamp_ms: float


def schedule(keys: Iterable[Keystroke], realtime: bool = True) -> list[Due]:
    """When to send each key, and the timestamp to give it.

    In real time both are the recorded times. Compressed, the timestamps keep every recorded
    gap up to ``LONG_GAP_MS`` (so a wedge detector, which measures gaps between key
    timestamps, tells a burst from typing exactly as in real time) while keys are sent as soon
    as their timestamp is at most ``MAX_LEAD_MS`` ahead of the clock: a short recording goes out
    at once, a long one stays close enough to the clock that the detector never re-anchors
    its time base in the middle of a burst.
    """
    keys = list(keys)
    if not keys:
        return []
    first = keys[0].t_ms
    if realtime:
        return [Due(k.t_ms - first, k.t_ms - first) for k in keys]
    dues, stamp, previous = [], 0.0, first
    for k in keys:
        stamp += min(k.t_ms - previous, LONG_GAP_MS)
        previous = k.t_ms
        dues.append(Due(max(0.0, stamp - MAX_LEAD_MS), stamp))
    return dues
