"""A distinct short sound per scan outcome, never failing for lack of audio.

QtMultimedia is not part of PySide6-Essentials, so the tones are written once as small WAV
files with the standard library (:mod:`wave`) and played by whatever the machine has:
``winsound`` on Windows, ``afplay`` on macOS, ``paplay`` or ``aplay`` on Linux, each started
without waiting. With none of them (or on Qt's offscreen platform, where nobody listens)
``QApplication.beep()`` is the fallback; every failure is logged and swallowed.

Outcomes: ``eligible`` (two rising notes), ``warning`` (two equal middle notes),
``not_eligible`` (a falling low pair), ``error`` (three short low buzzes), ``duplicate``
(a quick high double blip).
"""

from __future__ import annotations

import logging
import math
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

RATE = 22_050
VOLUME = 0.35
# (frequency Hz, milliseconds) per note; 0 Hz is a rest.
TONES: dict[str, tuple[tuple[int, int], ...]] = {
    "eligible": ((880, 90), (0, 30), (1320, 120)),
    "warning": ((660, 110), (0, 60), (660, 110)),
    "not_eligible": ((440, 160), (0, 40), (294, 260)),
    "error": ((220, 70), (0, 50), (220, 70), (0, 50), (220, 70)),
    "duplicate": ((1568, 50), (0, 40), (1568, 50)),
}
OUTCOMES = tuple(TONES)


def write_tone(path: Path, notes: tuple[tuple[int, int], ...]) -> Path:
    """A mono 16-bit WAV of ``notes``, each with a 5 ms fade in and out (no clicks)."""
    frames = bytearray()
    fade = int(RATE * 0.005)
    for frequency, ms in notes:
        count = int(RATE * ms / 1000)
        for i in range(count):
            if frequency == 0:
                sample = 0.0
            else:
                envelope = min(1.0, i / fade, (count - i) / fade)
                sample = VOLUME * envelope * math.sin(2 * math.pi * frequency * i / RATE)
            frames += struct.pack("<h", int(sample * 32767))
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return path


def find_player() -> Callable[[Path], None] | None:
    """A function that starts playing a WAV file without waiting, or None."""
    if sys.platform == "win32":
        try:
            import winsound
        except ImportError:
            return None
        flags = winsound.SND_FILENAME | winsound.SND_ASYNC | winsound.SND_NODEFAULT
        return lambda path: winsound.PlaySound(str(path), flags)
    for command in (("afplay",), ("paplay",), ("aplay", "-q")):
        program = shutil.which(command[0])
        if program:
            args = (program, *command[1:])
            return lambda path, args=args: _spawn([*args, str(path)])
    return None


def _spawn(args: list[str]) -> None:
    subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


class Sounds:
    """``play(outcome)``; ``played`` lists what was asked (for tests and diagnostics).

    ``player``: a function playing a WAV path; by default one is looked for, except on the
    offscreen platform. ``enabled=False`` keeps the list but makes no sound at all."""

    def __init__(
        self,
        *,
        player: Callable[[Path], None] | None = None,
        folder: Path | None = None,
        enabled: bool = True,
        beep: Callable[[], None] | None = None,
    ) -> None:
        self.enabled = enabled
        self.played: list[str] = []
        self._folder = folder or Path(tempfile.gettempdir()) / "checkin-sounds"
        self._player = player
        self._looked = player is not None
        self._beep = beep
        self._files: dict[str, Path] = {}

    def play(self, outcome: str) -> None:
        if outcome not in TONES:
            outcome = "error"
        self.played.append(outcome)
        if not self.enabled:
            return
        try:
            player = self._find()
            if player is None:
                self._fallback()
            else:
                player(self._file(outcome))
        except Exception:
            log.debug("no sound for %s", outcome, exc_info=True)
            self._fallback()

    def _find(self) -> Callable[[Path], None] | None:
        if not self._looked:
            self._looked = True
            if not _offscreen():
                self._player = find_player()
        return self._player

    def _file(self, outcome: str) -> Path:
        path = self._files.get(outcome)
        if path is None or not path.is_file():
            path = write_tone(self._folder / f"{outcome}.wav", TONES[outcome])
            self._files[outcome] = path
        return path

    def _fallback(self) -> None:
        try:
            if self._beep is not None:
                self._beep()
                return
            from PySide6.QtWidgets import QApplication

            QApplication.beep()
        except Exception:
            log.debug("no beep either", exc_info=True)


def _offscreen() -> bool:
    try:
        from PySide6.QtGui import QGuiApplication

        return QGuiApplication.platformName() in ("offscreen", "minimal")
    except Exception:
        return True
