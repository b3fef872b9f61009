"""The desk's languages: Vietnamese by default, English selectable.

Every user-facing string is written in Vietnamese in the code and passed through :func:`tr`;
the Vietnamese text is the key. English catalogs are plain dicts registered by modules named
``ui/lang_en*.py`` (one per area of the UI, so that screens can be translated independently).
A string missing from the English catalog shows in Vietnamese (never an empty label); the test
suite checks that none is missing.

Why not Qt Linguist: .ts/.qm files need the lrelease tool at build time and hide the text
from the Python code; a dict catalog is reviewable in a diff and testable with pytest.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

VIETNAMESE = "vi"
ENGLISH = "en"
LANGUAGES = {VIETNAMESE: "Tiếng Việt", ENGLISH: "English"}

_catalogs: dict[str, dict[str, str]] = {ENGLISH: {}}
_language = VIETNAMESE
_listeners: list[Callable[[str], None]] = []
_loaded = False


def register(language: str, entries: dict[str, str]) -> None:
    """Add translations (Vietnamese text → translated text) for one language."""
    _catalogs.setdefault(language, {}).update(entries)


def tr(text: str, **values: object) -> str:
    """The text in the current language, with ``{name}`` fields filled from ``values``."""
    _load_catalogs()
    if _language != VIETNAMESE:
        text = _catalogs.get(_language, {}).get(text, text)
    return text.format(**values) if values else text


def language() -> str:
    return _language


def set_language(code: str) -> None:
    """Switch language; listeners (open windows) re-label themselves."""
    global _language
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}; choose one of {', '.join(LANGUAGES)}")
    _language = code
    for listener in list(_listeners):
        listener(code)


def on_language_changed(listener: Callable[[str], None]) -> Callable[[], None]:
    """Call ``listener(code)`` after each switch; returns a function that unsubscribes."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def catalog(code: str) -> dict[str, str]:
    _load_catalogs()
    return dict(_catalogs.get(code, {}))


def _load_catalogs() -> None:
    """Import every ``ui.lang_*`` module once; each registers its entries."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import ui

    for module in pkgutil.iter_modules(ui.__path__):
        if module.name.startswith("lang_"):
            importlib.import_module(f"ui.{module.name}")
