"""Hex-of-UTF-8 text fields of the BHYT QR, and repair of keyboard-IME corruption (§3.4).

A keyboard-wedge scanner types the QR as key presses. With a Vietnamese input method on, key
sequences inside the hex get composed into letters: Telex turns ``aa``/``ee``/``dd`` into
``â``/``ê``/``đ`` and ``f`` after a vowel into the grave tone (``af`` → ``à``); VNI turns a digit
after a vowel into a mark (``e1`` → ``é``, ``a6`` → ``â``, ``d9`` → ``đ``). Only the keys a–f and
0–9 occur in hex, so only those compositions can happen.

The IME model used here (and by :func:`simulate_ime`, which tests and fixtures use to build
corrupted text) is Unikey-like:

- a shape key (Telex ``a``/``e``/``d``; VNI ``6``/``8``/``9``) changes the letter just typed;
- a tone key (Telex ``f``; VNI ``1``–``5``) changes the letter just typed, or, with "free
  marking", the nearest vowel before it in the same word (only consonants in between);
- pressing the same key again undoes the mark and types the key itself (``aaa`` → ``aa``);
  repair considers this only in text that also shows composed letters;
- another key of the same kind replaces the mark (VNI ``a12`` → ``à``). The first key is lost,
  so such text cannot be repaired (VNI hits this often: ``ạ`` followed by a space is
  ``e1baa120``); everything else above can.

Repair maps every composed letter back to the keys that made it and searches, depth first with
the direct reading first, the possible positions of displaced tone keys and of undone keys; a
branch dies as soon as its hex stops being UTF-8 made of Latin/Vietnamese letters,
digits and punctuation. A repair is accepted only when exactly one reading looks Vietnamese
(Vietnamese letters, every accented word a possible syllable); otherwise the field is refused.

VNI repairs are best effort: a replaced tone can hide keys and still leave readable text
(``ợA`` = ``e1bba341`` types as ``ébbá``, which reads back as ``ỡ``). Callers should say so.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

TELEX, VNI = "Telex", "VNI"
METHODS = (TELEX, VNI)

GRAVE, ACUTE, HOOK, TILDE, DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
CIRCUMFLEX, BREVE, HORN = "\u0302", "\u0306", "\u031b"
STROKE = "stroke"  # đ has no decomposition
TONES = frozenset((GRAVE, ACUTE, HOOK, TILDE, DOT))
SHAPES = frozenset((CIRCUMFLEX, BREVE, HORN))

_VNI_KEYS = {ACUTE: "1", GRAVE: "2", HOOK: "3", TILDE: "4", DOT: "5", CIRCUMFLEX: "6"}
_VNI_KEYS |= {HORN: "7", BREVE: "8", STROKE: "9"}
_VNI_MARKS = {key: mark for mark, key in _VNI_KEYS.items()}
_VNI_FITS = {CIRCUMFLEX: "aeo", HORN: "ou", BREVE: "a", STROKE: "d"}
# Telex keys other than the doubled letter (â = aa, ê = ee, ô = oo, đ = dd)
_TELEX_KEYS = {GRAVE: "f", ACUTE: "s", HOOK: "r", TILDE: "x", DOT: "j", BREVE: "w", HORN: "w"}
_HEX_KEYS = "0123456789abcdef"
_HEX = re.compile(r"[0-9a-fA-F]*")
MAX_READINGS = 3  # distinct readable readings looked for before choosing
MAX_STEPS = 50_000  # search budget per field and method


NO_REPAIR = "keyboard IME repair (Telex/VNI) found no readable Vietnamese text"


class HexTextError(ValueError):
    """A hex field that is not hex of UTF-8 text and could not be repaired."""


@dataclass(frozen=True)
class HexText:
    text: str
    repair: str | None = None  # "Telex" or "VNI" when keyboard-IME corruption was undone


# -- plain text helpers -------------------------------------------------------------------


def clean_text(text: str) -> str:
    """NFC, with runs of whitespace collapsed to one space and the ends trimmed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def quote(raw: str, limit: int = 24) -> str:
    """``raw`` as a short, one-line quoted string for a failure reason."""
    return repr(raw if len(raw) <= limit else raw[:limit] + "…")


def encode_hex_text(text: str) -> str:
    """Lowercase hex of the UTF-8 bytes, as the cards print it."""
    return text.encode("utf-8").hex()


# -- letters as base + marks --------------------------------------------------------------


@dataclass(frozen=True)
class _Letter:
    base: str  # one ASCII letter, case kept
    shape: str = ""  # CIRCUMFLEX, BREVE, STROKE or ""
    tone: str = ""  # one of TONES or ""

    def compose(self) -> str:
        if self.shape == STROKE:
            return "đ" if self.base == "d" else "Đ"
        return unicodedata.normalize("NFC", self.base + self.shape + self.tone)

    @property
    def is_vowel(self) -> bool:
        return self.base.lower() in "aeiouy"


def _letter(ch: str) -> _Letter | None:
    """``ch`` as base letter + Vietnamese marks, or None when it is not such a letter."""
    if ch in "đĐ":
        return _Letter("d" if ch == "đ" else "D", STROKE)
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    if not ("a" <= base.lower() <= "z") or len(marks) > 2:
        return None
    shapes = [m for m in marks if m in SHAPES]
    tones = [m for m in marks if m in TONES]
    if len(shapes) > 1 or len(tones) > 1 or len(shapes) + len(tones) != len(marks):
        return None
    return _Letter(base, "".join(shapes), "".join(tones))


def _mark_for_key(method: str, key: str, base: str) -> tuple[str, str] | None:
    """``("shape"|"tone", mark)`` that ``key`` puts on a letter with ``base``, if any."""
    base, lower = base.lower(), key.lower()
    if method == TELEX:
        if lower in "ae" and base == lower:
            return "shape", CIRCUMFLEX
        if lower == "d" and base == "d":
            return "shape", STROKE
        if lower == "f" and base in "aeiouy":
            return "tone", GRAVE
        return None
    mark = _VNI_MARKS.get(key)
    if mark in TONES and base in "aeiouy":
        return "tone", mark
    if mark in _VNI_FITS and base in _VNI_FITS[mark]:
        return "shape", mark
    return None


def _key_for_mark(method: str, base: str, mark: str, *, hex_only: bool = True) -> str | None:
    """The key that puts ``mark`` on ``base`` when typed right after it (within the hex keys
    a–f and 0–9 unless ``hex_only`` is false)."""
    if method == VNI:
        key = _VNI_KEYS.get(mark)
    elif mark in (CIRCUMFLEX, STROKE):
        key = base.lower()
    else:
        key = _TELEX_KEYS.get(mark)
    if key is None or not hex_only:
        return key
    if key not in _HEX_KEYS or base.lower() not in "abcdef":
        return None
    return key if _mark_for_key(method, key, base) else None


def unmark_keys(text: str, method: str) -> str | None:
    """Plain text (a card code, a facility code) with each composed letter turned back into its
    letter and ``method`` keys, in the letter's case (``CẠ`` → ``CA5`` in VNI, ``Ì`` → ``IF`` in
    Telex); None when a letter cannot come from that method."""
    keys: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        letter = _letter(ch)
        if letter is None or not (letter.shape or letter.tone):
            keys.append(ch)
            continue
        marks = [m for m in (letter.shape, letter.tone) if m]
        found = [_key_for_mark(method, letter.base, m, hex_only=False) for m in marks]
        if None in found:
            return None
        typed = "".join(k for k in found if k)
        keys.append(letter.base + (typed.upper() if letter.base.isupper() else typed))
    return "".join(keys)


def tone_may_have_moved(text: str) -> bool:
    """True when a toned letter is followed by a consonant letter in the same word: with free
    marking the tone key may have been typed after that consonant (``EBF`` shows as ``ÈB``),
    so :func:`unmark_keys`, which puts it right after the vowel, may misplace it."""
    chars = unicodedata.normalize("NFC", text)
    for ch, after in itertools.pairwise(chars):
        letter, next_letter = _letter(ch), _letter(after)
        if letter and letter.tone and next_letter and not next_letter.is_vowel:
            return True
    return False


# -- the IME model ------------------------------------------------------------------------


def simulate_ime(keys: str, method: str = TELEX, *, free_marks: bool = False) -> str:
    """The text a Unikey-like ``method`` produces when ``keys`` are typed (see module doc).

    With ``free_marks`` a tone key may land on the nearest vowel across consonants.
    """
    out: list[str] = []
    word_start = 0
    for key in keys:
        target = _ime_target(out, word_start, method, key, free_marks)
        if target is None:
            out.append(key)
            if not key.isalpha():
                word_start = len(out)
            continue
        index, kind, mark = target
        if _apply_mark(out, index, kind, mark):
            out.append(key)  # undo: the key is typed as itself
            if not key.isalpha():
                word_start = len(out)
    return "".join(out)


def _ime_target(
    out: list[str], word_start: int, method: str, key: str, free: bool
) -> tuple[int, str, str] | None:
    for index in range(len(out) - 1, word_start - 1, -1):
        letter = _letter(out[index])
        if letter is None:
            return None
        found = _mark_for_key(method, key, letter.base)
        if found:
            return (index, *found)
        if letter.is_vowel or not (free and _is_tone_key(method, key)):
            return None  # only a tone key, with free marking, reaches back over consonants
    return None


def _is_tone_key(method: str, key: str) -> bool:
    return key.lower() == "f" if method == TELEX else key in "12345"


def _apply_mark(out: list[str], index: int, kind: str, mark: str) -> bool:
    """Put ``mark`` on ``out[index]``; True when that undid an identical mark instead."""
    letter = _letter(out[index])
    assert letter is not None
    current = letter.shape if kind == "shape" else letter.tone
    new = "" if current == mark else mark
    if kind == "shape":
        letter = _Letter(letter.base, new, letter.tone)
    else:
        letter = _Letter(letter.base, letter.shape, new)
    out[index] = letter.compose()
    return current == mark


# -- decoding and repair ------------------------------------------------------------------


def decode_hex_text(s: str) -> tuple[str, bool]:
    """Hex of UTF-8 to text, and whether keyboard-IME corruption had to be repaired.

    Raises :class:`HexTextError` (a ValueError) when no reading gives valid text.
    """
    decoded = decode_hex_field(s)
    return decoded.text, decoded.repair is not None


def decode_hex_field(s: str, ime: str | None = None) -> HexText:
    """Like :func:`decode_hex_text`, also telling which IME (Telex or VNI) was undone.

    ``ime`` is the input method the whole payload shows (see :func:`ime_hint`); without it the
    field's own letters decide. Text showing VNI is read as VNI only; otherwise Telex (the
    common one) is tried, then VNI. A repair is accepted only when exactly one reading is
    Vietnamese-looking: a wrongly "repaired" name is worse than none.
    """
    raw = unicodedata.normalize("NFC", s.strip())
    text = _strict_decode(raw)
    if text is not None:
        return HexText(text)
    if _HEX.fullmatch(raw):
        # No composed letter, so no sign of an IME: damaged hex is refused, not guessed at
        # (an undo alone, as in "Ẫ" = e1baaa typed as e1baa, is given up for this).
        raise HexTextError(_problem(raw))
    methods = (VNI,) if (ime or ime_hint(raw)) == VNI else (TELEX, VNI)
    for method in methods:
        readings = [text for text in _repairs(raw, method) if _looks_vietnamese(text)]
        if len(readings) == 1:
            return HexText(readings[0], method)
        if readings:
            raise HexTextError(
                f"{_problem(raw)}; it looks typed through a {method} keyboard input method and"
                " can be read more than one way (turn the input method off or use the"
                " scanner's serial mode)"
            )
    raise HexTextError(f"{_problem(raw)}; {NO_REPAIR}")


def ime_hint(text: str) -> str | None:
    """VNI when ``text`` has a letter only VNI makes from hex keys (``é``, ``á``, ``ạ``, …),
    Telex when it has other composed letters (``â``, ``đ``, ``à``, …), else None."""
    composed = [ch for ch in unicodedata.normalize("NFC", text) if not ch.isascii()]
    if any(_made_by(ch, VNI) and not _made_by(ch, TELEX) for ch in composed):
        return VNI
    return TELEX if composed else None


def _made_by(ch: str, method: str) -> bool:
    return _composed_options([ch], 0, method) is not None


def _strict_decode(raw: str) -> str | None:
    if len(raw) % 2 or not _HEX.fullmatch(raw):
        return None
    try:
        text = bytes.fromhex(raw).decode("utf-8")
    except ValueError:
        return None
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        return None
    return unicodedata.normalize("NFC", text)


def _problem(raw: str) -> str:
    bad = next(((i, ch) for i, ch in enumerate(raw) if not _HEX.fullmatch(ch)), None)
    if bad is not None:
        what = f"is not hex (unexpected {bad[1]!r} at position {bad[0] + 1})"
    elif len(raw) % 2:
        what = f"has an odd number of hex digits ({len(raw)})"
    else:
        try:
            bytes.fromhex(raw).decode("utf-8")
            what = "decodes to control characters"
        except ValueError:
            what = "is not valid UTF-8 once hex-decoded"
    return what


def _repairs(raw: str, method: str) -> list[str]:
    """Up to :data:`MAX_READINGS` distinct readable texts the corrupted ``raw`` may have been."""
    options = _options(raw, method)
    if options is None:
        return []
    found: list[str] = []
    for text in _readings(options):
        if text not in found:
            found.append(text)
            if len(found) == MAX_READINGS:
                break
    return found


# One way a corrupted character may have been typed: ``emit`` in its place, then ``chunk``
# right after character number ``after`` (a displaced tone key lands there).
_Option = tuple[str, str, int]


def _options(raw: str, method: str) -> list[list[_Option]] | None:
    """Per character, the ways it may have been typed (the direct reading first)."""
    chars = list(raw)
    options: list[list[_Option]] = []
    for i, ch in enumerate(chars):
        own = [(ch, "", i)] if _HEX.fullmatch(ch) else _composed_options(chars, i, method)
        if own is None:
            return None
        options.append(own + _undo_options(chars, i, method, own))
    return options


def _undo_options(chars: list[str], i: int, method: str, own: list[_Option]) -> list[_Option]:
    """If this character's first key could mark the previous letter, that key may have been
    typed twice (mark, then undo): the same readings with one more copy of the key in front."""
    previous = _letter(chars[i - 1]) if i else None
    key = own[0][0][0]
    found = _mark_for_key(method, key, previous.base) if previous else None
    if previous is None or found is None:
        return []
    if (previous.shape if found[0] == "shape" else previous.tone) != "":
        return []
    return [(key + emit_, chunk, after) for emit_, chunk, after in own]


def _composed_options(chars: list[str], i: int, method: str) -> list[_Option] | None:
    letter = _letter(chars[i])
    if letter is None or letter.base.lower() not in "abcdef":
        return None
    shape_key = _key_for_mark(method, letter.base, letter.shape) if letter.shape else ""
    tone_key = _key_for_mark(method, letter.base, letter.tone) if letter.tone else ""
    if shape_key is None or tone_key is None:
        return None
    base = letter.base
    found = [(base, shape_key + tone_key, i)]
    if shape_key and tone_key:
        found.append((base, tone_key + shape_key, i))
    if tone_key:
        for j in range(i + 1, len(chars)):
            later = _letter(chars[j])
            if later is None or later.is_vowel:
                break
            found.append((base + shape_key, tone_key, j))
    return found


def reverse_ime(text: str, method: str) -> str | None:
    """The keys that most directly produce ``text`` under ``method``; None if none can."""
    options = _options(unicodedata.normalize("NFC", text), method)
    if options is None:
        return None
    return "".join(_typed(i, option, ()) for i, option in enumerate(o[0] for o in options))


def _typed(i: int, option: _Option, pending: tuple[tuple[int, str], ...]) -> str:
    """The keys for character ``i`` read as ``option``, then displaced keys that land there."""
    emit_, chunk, after = option
    own = chunk if chunk and after == i else ""
    return emit_ + own + "".join(c for target, c in pending if target == i)


_State = tuple[int, str, int, tuple[tuple[int, str], ...]]


def _readings(options: list[list[_Option]]) -> Iterator[str]:
    """Texts the keys behind the corrupted characters may have been, depth first, the direct
    reading first; a branch is dropped as soon as its hex stops being readable UTF-8."""
    stack: list[_State] = [(0, "", 0, ())]
    steps = 0
    while stack and steps < MAX_STEPS:
        steps += 1
        i, hex_text, checked, pending = stack.pop()
        if i == len(options):
            if not pending and checked == len(hex_text):
                yield unicodedata.normalize("NFC", bytes.fromhex(hex_text).decode("utf-8"))
            continue
        for option in reversed(options[i]):
            _, chunk, after = option
            later = (*pending, (after, chunk)) if chunk and after > i else pending
            text = hex_text + _typed(i, option, later)
            boundary = _readable_prefix(text, checked)
            if boundary is not None:
                remaining = tuple(p for p in later if p[0] != i)
                stack.append((i + 1, text, boundary, remaining))


def _readable_prefix(hex_text: str, start: int) -> int | None:
    """Check the UTF-8 in ``hex_text`` from ``start`` (a character boundary): None when it is
    not readable text, else where the last complete character ends."""
    position, end = start, len(hex_text) - len(hex_text) % 2
    while position < end:
        lead = int(hex_text[position : position + 2], 16)
        size = _utf8_size(lead)
        if size == 0:
            return None
        stop = position + 2 * size
        if stop > end:
            tail = hex_text[position + 2 : end]
            pairs = (int(tail[k : k + 2], 16) for k in range(0, len(tail), 2))
            return position if all(0x80 <= b <= 0xBF for b in pairs) else None
        try:
            ch = bytes.fromhex(hex_text[position:stop]).decode("utf-8")
        except ValueError:
            return None
        if not _plausible_char(ch):
            return None
        position = stop
    return position


def _utf8_size(lead: int) -> int:
    if lead < 0x80:
        return 1
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    return 4 if 0xF0 <= lead <= 0xF4 else 0


# -- what readable text looks like --------------------------------------------------------


def _vietnamese_letters() -> frozenset[str]:
    letters = {"đ", "Đ"}
    for base in "aăâeêioôơuưy":
        for tone in ("", *TONES):
            small = unicodedata.normalize("NFC", base + tone)
            letters.update((small, small.upper()))
    return frozenset(letters)


VIETNAMESE_LETTERS = _vietnamese_letters()


def _plausible_char(ch: str) -> bool:
    """ASCII letters and digits, Vietnamese letters, combining marks, address punctuation."""
    if ch.isascii():
        return ch.isalnum() or ch in _PUNCTUATION
    return ch in VIETNAMESE_LETTERS or ch in _PUNCTUATION or "\u0300" <= ch <= "\u036f"


_ONSET = r"(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnpqrstvx])?"
_VOWELS = (  # the vowel clusters of Vietnamese spelling
    *("iêu", "oai", "oao", "oay", "oeo", "uây", "uôi", "ươi", "ươu", "uya", "uyê", "uyu", "yêu"),
    *("ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi"),
    *("ôi", "ơi", "oo", "ua", "uâ", "uê", "ui", "uô", "uơ", "uy", "ưa", "ưi", "ươ", "ưu", "yê"),
    *("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"),
)
_CODA = r"(ch|nh|ng|[cmnptk])?"
_SYLLABLE = re.compile(_ONSET + "(" + "|".join(_VOWELS) + ")" + _CODA)
_WORD = re.compile(r"[^\W\d_]+")
_PUNCTUATION = frozenset(" ,.-/()'&#:;\u00a0–—‘’“”")


def _looks_vietnamese(text: str) -> bool:
    """Vietnamese or ASCII letters, digits and address punctuation only, and every word with
    a non-ASCII letter a Vietnamese syllable (ASCII words may be abbreviations or foreign)."""
    if not all(_plausible_char(ch) for ch in text):
        return False
    return all(_is_syllable(w) for w in _WORD.findall(text) if not w.isascii())


def _is_syllable(word: str) -> bool:
    if not (word.islower() or word.isupper() or word.istitle()):
        return False
    marks = unicodedata.normalize("NFD", word.lower())
    if sum(1 for ch in marks if ch in TONES) > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(ch for ch in marks if ch not in TONES))
    return _SYLLABLE.fullmatch(bare) is not None
