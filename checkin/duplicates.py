"""Possible duplicate patients at the desk: same name and birth date, a different number.

The store already reopens today's visit when the same person comes back under any number
it has seen for them today: the card code, the BHXH number, the citizen ID, or the card the
gateway named for a CCCD (``store.person_numbers``). What it cannot see is one person under
numbers nothing links: a CCCD the gateway could not look up (offline, or not yet linked to a
card) after a BHYT card scanned in the morning. Such visits are *flagged*, never merged: twins
and namesakes exist, so the desk checks the papers.

Names are compared after Unicode NFC, case folding and collapsing whitespace (so ``"TRẦN  thị
Mai"`` matches ``"Trần Thị Mai"``) but keep their diacritics: ``Mai`` and ``Mài`` are different
names. Birth dates match when equal, or when one is known only by its year and the years agree.
Pure Python; no Qt.
"""

from __future__ import annotations

import unicodedata
from typing import Protocol

from checkin.model import Identity
from checkin.store import Visit, patient_key


class _VisitSource(Protocol):
    def visits_on(self, day: str) -> list[Visit]: ...


def normalize_name(name: str | None) -> str:
    """NFC, case-folded, with runs of whitespace collapsed to one space."""
    if not name:
        return ""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def same_birth_date(a: str | None, b: str | None) -> bool:
    """Equal ISO dates, or a bare year (``YYYY``) agreeing with the other's year."""
    if not a or not b:
        return False
    a, b = a.strip(), b.strip()
    if a == b:
        return True
    if len(a) == 4 or len(b) == 4:
        return a[:4] == b[:4]
    return False


def _numbers(identity: Identity) -> set[str]:
    found = {identity.card_number, identity.social_insurance_number, identity.citizen_id}
    if identity.card_number and len(identity.card_number) == 15:
        found.add(identity.card_number[-10:])
    return {n for n in found if n}


def is_possible_duplicate(identity: Identity, other: Identity) -> bool:
    """Same person by name and birth date, but not recognisably by number."""
    name = normalize_name(identity.full_name)
    if not name or name != normalize_name(other.full_name):
        return False
    if not same_birth_date(identity.date_of_birth, other.date_of_birth):
        return False
    if patient_key(identity) == patient_key(other):
        return False  # the same record: the store reopens that visit
    return not (_numbers(identity) & _numbers(other))


def possible_duplicates(
    store: _VisitSource, identity: Identity, day: str, *, exclude_visit: int | None = None
) -> list[Visit]:
    """Visits of ``day`` that may be this identity under another number (see the module doc).

    ``exclude_visit``: the identity's own visit, when it has just been registered. Uses
    ``store.visits_born`` (one indexed day, one birth year) when the store has it."""
    if not normalize_name(identity.full_name) or not identity.date_of_birth:
        return []
    narrowed = getattr(store, "visits_born", None)
    if narrowed is not None:
        candidates = narrowed(day, identity.date_of_birth[:4])
    else:
        candidates = store.visits_on(day)
    return [
        visit
        for visit in candidates
        if visit.id != exclude_visit and is_possible_duplicate(identity, visit.identity)
    ]


def duplicates_among(visits: list[Visit]) -> dict[int, list[Visit]]:
    """For each visit, the others of the list that may be the same person under another
    number (see the module doc): grouped by name and birth year first, so a day of a few
    hundred visits costs one pass, not every pair."""
    groups: dict[tuple[str, str], list[Visit]] = {}
    for visit in visits:
        name, born = normalize_name(visit.identity.full_name), visit.identity.date_of_birth
        if name and born:
            groups.setdefault((name, born[:4]), []).append(visit)
    found: dict[int, list[Visit]] = {}
    for group in groups.values():
        for visit in group:
            others = [
                other
                for other in group
                if other.id != visit.id and is_possible_duplicate(visit.identity, other.identity)
            ]
            if others:
                found[visit.id] = others
    return found
