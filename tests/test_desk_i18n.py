"""Languages: every ``tr("…")`` literal in ui/*.py has an English entry (with the same
``{fields}``), the core's verdict sentences are translated, and the window re-labels itself
when the language changes."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from checkin.eligibility import RULES, UNKNOWN_CODE
from checkin.model import Status
from tests import test_desk
from tests.test_desk import check_in
from ui import i18n, text

# Fixtures shared with tests/test_desk.py (pytest finds them under these names).
english, make_desk, session = test_desk.english, test_desk.make_desk, test_desk.session


UI = Path(__file__).resolve().parents[1] / "ui"


def tr_literals() -> dict[str, str]:
    """Every string literal passed as the first argument of a call to ``tr`` in ui/*.py,
    with the file it is in."""
    found: dict[str, str] = {}
    for path in sorted(UI.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            first = node.args[0]
            if name == "tr" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.setdefault(first.value, path.name)
    return found


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_tr_literal_has_an_english_entry():
    """Covers every file in ui/, the settings and diagnostics screens included (their
    entries live in ui/lang_en_it.py): no allow-list."""
    literals = tr_literals()
    assert len(literals) > 150
    english_catalog = i18n.catalog(i18n.ENGLISH)
    missing = sorted(f"{where}: {key!r}" for key, where in literals.items()
                     if key not in english_catalog)  # fmt: skip
    assert missing == []


def test_english_entries_keep_the_same_fields():
    english_catalog = i18n.catalog(i18n.ENGLISH)
    wrong = [
        key
        for key in tr_literals()
        if key in english_catalog and fields(key) != fields(english_catalog[key])
    ]
    assert wrong == []


def test_core_verdict_texts_have_english():
    english_catalog = i18n.catalog(i18n.ENGLISH)
    texts = {t for rule in [*RULES.values(), UNKNOWN_CODE] for t in (rule.message, rule.action)}
    assert sorted(t for t in texts if t not in english_catalog) == []


@pytest.mark.parametrize(
    ("vietnamese", "english_text"),
    [
        ("Thẻ còn giá trị sử dụng đến 01/11/2027", "Card valid until 01/11/2027"),
        (
            "Thẻ còn giá trị sử dụng đến 01/06/2026 (còn 12 ngày) · ĐKBĐ nơi khác: 79012",
            "Card valid until 01/06/2026 (12 days left) · registered elsewhere: 79012",
        ),
        ("Thẻ chưa đến hạn sử dụng (từ 01/07/2026)", "Card not valid yet (from 01/07/2026)"),
        (
            "Chưa xác minh (cổng BHXH không trả lời). Lần tra cứu lúc 09:12 14/05/2026"
            " (3 giờ trước): Thẻ hết hạn sử dụng",
            "Not verified (the BHXH gateway did not answer). Lookup at 09:12 14/05/2026"
            " (3 h ago): Card expired",
        ),
        ("Sai họ tên", "Wrong name"),
        ("Một câu chưa có trong danh mục", "Một câu chưa có trong danh mục"),
    ],
)
def test_core_sentences_in_english(english, vietnamese, english_text):
    assert text.core_words(vietnamese) == english_text


def test_core_sentences_stay_vietnamese_by_default():
    assert i18n.language() == i18n.VIETNAMESE
    assert text.core_words("Sai họ tên") == "Sai họ tên"


def test_the_window_relabels_itself_from_the_menu_and_back(qtbot, make_desk, session):
    """GIVEN a desk showing an eligible patient in Vietnamese
    WHEN English is chosen from the language menu (then Ctrl+Shift+L)
    THEN banner, panel, list, filter, footer, menus and sign-in form are in English (then
    Vietnamese again)."""
    window = make_desk(session, start=True)
    check_in(qtbot, window, "eligible-old")
    try:
        window.language_actions[i18n.ENGLISH].trigger()
        assert i18n.language() == i18n.ENGLISH
        assert window.windowTitle() == "Patient check-in — health insurance"
        assert window.banner.title.text() == "COVERED BY HEALTH INSURANCE"
        assert window.banner.message.text().startswith("Card valid until ")
        assert window.banner.action.text() == "Next: Check in as usual"
        assert window.banner.detail.text() == "Online lookup at the BHXH gateway · Result code 000"
        assert window.queue.caption.text() == "QUEUE NUMBER"
        assert window.patient.title() == "Patient"
        assert window.patient.value("gender") == "Female"
        assert window.visits.horizontalHeaderItem(0).text() == "No."
        assert window.visits.item(0, 2).text() == "Covered"
        assert window.filter.combo.itemText(0) == "All"
        assert window.visits_title.text() == "Patients checked in today (1)"
        assert window.hint.text().startswith("F2 type in")
        assert window.menus["desk"].title() == "&Check-in"
        assert window.actions_by_key["print"].text() == "Print queue ticket"
        assert window.sign_in.button.text() == "Sign in (Enter)"
        assert window.language_actions[i18n.ENGLISH].isChecked()

        with qtbot.waitActive(window):
            window.activateWindow()
        both = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        qtbot.keyClick(window, Qt.Key.Key_L, both)
        assert i18n.language() == i18n.VIETNAMESE
        assert window.banner.title.text() == text.status_title(Status.ELIGIBLE)
        assert window.visits.item(0, 2).text() == "Đủ điều kiện"
        assert window.language_actions[i18n.VIETNAMESE].isChecked()
    finally:
        i18n.set_language(i18n.VIETNAMESE)


def test_a_closed_window_no_longer_listens(make_desk, session):
    window = make_desk(session)
    window.close()
    i18n.set_language(i18n.ENGLISH)  # must not touch the closed window's widgets
    i18n.set_language(i18n.VIETNAMESE)


def test_the_printed_card_warning_is_translated(english):
    from ui.text import core_words

    words = core_words(
        "Chưa xác minh: cổng BHXH không trả lời"
        " · Mã QR ghi thẻ hết hạn 31/12/2024: kiểm tra thẻ mới"
    )
    assert "expired on 31/12/2024" in words and "Mã QR" not in words and "Chưa" not in words
