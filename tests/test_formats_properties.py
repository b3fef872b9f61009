"""Properties of checkin.formats: never raises, round-trips, and undoes Telex damage.

Names are built from Vietnamese syllables (onset + toned vowel + coda), so they look like the
names on real cards; all of them are synthetic.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from datetime import date

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from checkin.formats import ParseFailure, bhyt_payload, cccd_payload, parse_payload
from checkin.formats.hexutf8 import (
    TELEX,
    VNI,
    HexTextError,
    decode_hex_field,
    decode_hex_text,
    encode_hex_text,
    simulate_ime,
)
from checkin.model import Gender, Identity, PayloadKind

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
ONSETS = ("", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "kh", "l", "m", "n", "ng", "ngh")
ONSETS += ("nh", "ph", "qu", "s", "t", "th", "tr", "v", "x")
OPEN_RHYMES = ("ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iu", "oi", "ôi", "ơi", "ua")
OPEN_RHYMES += ("ui", "ưa", "ưi", "ưu", "iêu", "oai", "oay", "uôi", "ươi", "ươu", "uya", "yêu")
NUCLEI = ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "iê", "oa", "oe", "uâ")
NUCLEI += ("uê", "uô", "ươ", "uy", "uyê")
CODAS = ("", "c", "ch", "m", "n", "ng", "nh", "p", "t")


def _syllable(onset: str, vowels: str, tone: str, coda: str) -> str:
    """Onset + vowels with the tone on their last letter + coda: close enough to spelling."""
    return onset + unicodedata.normalize("NFC", vowels + tone) + coda


rhymes = st.one_of(
    st.tuples(st.sampled_from(OPEN_RHYMES), st.just("")),
    st.tuples(st.sampled_from(NUCLEI), st.sampled_from(CODAS)),
)
syllables = st.builds(
    lambda onset, rhyme, tone: _syllable(onset, rhyme[0], tone, rhyme[1]),
    st.sampled_from(ONSETS),
    rhymes,
    st.sampled_from(TONES),
)
words = st.one_of(syllables.map(str.capitalize), syllables.map(str.upper))
names = st.lists(words, min_size=1, max_size=4).map(" ".join)
address_parts = st.one_of(
    st.lists(words, min_size=1, max_size=3).map(" ".join),
    st.integers(1, 999).map(lambda n: f"Số {n}"),
    st.from_regex(r"\A[0-9]{1,3}/[0-9]{1,2}\Z"),
)
addresses = st.lists(address_parts, min_size=1, max_size=4).map(", ".join)
days = st.dates(date(1900, 1, 1), date(2099, 12, 31)).map(date.isoformat)
birth_dates = st.one_of(days, st.integers(1900, 2099).map(str))
genders = st.sampled_from([Gender.MALE, Gender.FEMALE])
facilities = st.from_regex(r"\A[0-9]{2}[0-9A-Z]{3}\Z")
card_codes = st.from_regex(r"\A[A-Z]{2}[1-5][0-9]{12}\Z")
social_numbers = st.from_regex(r"\A[0-9]{10}\Z")
citizen_ids = st.from_regex(r"\A[0-9]{12}\Z")
areas = st.sampled_from([None, "K1", "K2", "K3"])


@st.composite
def bhyt_identities(draw: st.DrawFn, template: str) -> Identity:
    card = draw(card_codes) if template == "old" else None
    return Identity(
        kind=PayloadKind.BHYT,
        full_name=draw(names),
        template=template,
        card_number=card,
        social_insurance_number=card[-10:] if card else draw(social_numbers),
        date_of_birth=draw(birth_dates),
        gender=draw(genders),
        address=draw(st.none() | addresses),
        registered_facility=draw(st.none() | facilities),
        valid_from=draw(st.none() | days),
        valid_to=draw(st.none() | days),
        issue_date=draw(st.none() | days),
        five_year_date=draw(st.none() | days),
        area_code=draw(areas),
        issuing_office=draw(st.none() | addresses) if template == "new" else None,
        guardian_name=draw(st.none() | names),
    )


@st.composite
def cccd_identities(draw: st.DrawFn, variant: int) -> Identity:
    return Identity(
        kind=PayloadKind.CCCD,
        full_name=draw(names),
        citizen_id=draw(citizen_ids),
        old_id_number=None if variant == 6 else draw(st.none() | st.from_regex(r"\A[0-9]{9}\Z")),
        date_of_birth=draw(birth_dates),
        gender=draw(genders),
        address=draw(st.none() | addresses),
        issue_date=draw(st.none() | days),
    )


any_identity_and_payload = st.one_of(
    bhyt_identities("old").map(lambda i: (i, bhyt_payload(i, template="old"))),
    bhyt_identities("new").map(lambda i: (i, bhyt_payload(i, template="new"))),
    *(cccd_identities(v).map(lambda i, v=v: (i, cccd_payload(i, variant=v))) for v in (6, 7, 11)),
)
payloads = any_identity_and_payload.map(lambda pair: pair[1])

ISO_OR_YEAR = re.compile(r"[0-9]{4}(-[0-9]{2}-[0-9]{2})?")


def check_result(result: Identity | ParseFailure) -> None:
    """Whatever came in: a failure with a real reason, or an identity that keeps the contract."""
    if isinstance(result, ParseFailure):
        assert result.reason and "\n" not in result.reason
        assert not result.reason.startswith("unexpected parser error"), result.reason
        return
    assert isinstance(result, Identity)
    for value in (result.full_name, result.address, result.issuing_office, result.guardian_name):
        assert value is None or unicodedata.is_normalized("NFC", value)
    for value in (result.date_of_birth, result.valid_from, result.valid_to, result.issue_date):
        assert value is None or ISO_OR_YEAR.fullmatch(value)
    assert result.card_number is None or re.fullmatch(r"[A-Z]{2}[0-9]{13}", result.card_number)
    assert result.social_insurance_number is None or len(result.social_insurance_number) == 10
    assert result.citizen_id is None or re.fullmatch(r"[0-9]{12}", result.citizen_id)
    assert result.registered_facility is None or len(result.registered_facility) == 5
    assert result.area_code in (None, "K1", "K2", "K3")
    assert result.full_name or (result.date_of_birth is None and result.warnings)


# -- (a) never raises ---------------------------------------------------------------------


@FAST
@given(st.text())
def test_arbitrary_text_never_raises(text: str):
    check_result(parse_payload(text))


@FAST
@given(
    st.lists(st.text(alphabet="0123456789abcdefDNĐâ -/$\r\n\x00\ufeff", max_size=20), max_size=19)
)
def test_payload_like_text_never_raises(parts: list[str]):
    check_result(parse_payload("|".join(parts)))


@st.composite
def mutated_payloads(draw: st.DrawFn) -> str:
    text = draw(payloads)
    for _ in range(draw(st.integers(1, 4))):
        text = draw(_mutation(text))
    return text


def _mutation(text: str) -> st.SearchStrategy[str]:
    where = st.integers(0, len(text))
    pipes = [i for i, ch in enumerate(text) if ch == "|"] or [0]
    junk = st.sampled_from(["|", "||", "\r\n", "\n", "\x00", "\ufeff", "$", "â", "đ", " "])
    return st.one_of(
        st.sampled_from(pipes).map(lambda i: text[:i] + text[i + 1 :]),  # drop a separator
        st.sampled_from(pipes).map(lambda i: text[:i] + "|" + text[i:]),  # duplicate one
        st.tuples(where, junk).map(lambda p: text[: p[0]] + p[1] + text[p[0] :]),  # insert
        where.map(lambda i: text[:i]),  # truncate
        st.tuples(where, st.sampled_from("0123456789abcdefxyzZ/-")).map(
            lambda p: text[: p[0]] + p[1] + text[p[0] + 1 :]  # flip a character
        ),
        st.sampled_from([TELEX, VNI]).map(lambda method: simulate_ime(text, method)),
    )


@FAST
@given(mutated_payloads())
def test_mutated_payloads_never_raise(text: str):
    check_result(parse_payload(text))


# -- (b) round trip -----------------------------------------------------------------------


@FAST
@given(any_identity_and_payload)
def test_parse_of_encode_gives_the_identity_back(pair: tuple[Identity, str]):
    identity, payload = pair
    assert parse_payload(payload) == identity


@FAST
@given(any_identity_and_payload, st.sampled_from(["\r\n", "\n", "\x00", " "]))
def test_scanner_suffixes_do_not_change_the_result(pair: tuple[Identity, str], suffix: str):
    identity, payload = pair
    assert parse_payload("\ufeff" + payload + suffix) == identity


# -- (c) Telex damage is undone -----------------------------------------------------------


@FAST
@given(names, st.booleans(), st.booleans())
def test_telex_corrupted_hex_of_a_name_repairs_to_the_name(
    name: str, upper: bool, free_marks: bool
):
    clean = encode_hex_text(name).upper() if upper else encode_hex_text(name)
    typed = simulate_ime(clean, TELEX, free_marks=free_marks)
    if typed == clean:
        assert decode_hex_text(typed) == (name, False)
    elif re.fullmatch(r"[0-9a-fA-F]*", typed):
        # only an undo happened ("Ẫ" = e1baaa typed as e1baa): no sign of an IME, so refused
        try:
            decode_hex_text(typed)
        except HexTextError:
            return
        raise AssertionError("damaged plain hex must not be guessed at")
    else:
        assert decode_hex_text(typed) == (name, True)


@FAST
@given(bhyt_identities("old") | bhyt_identities("new"), st.booleans())
def test_a_bhyt_qr_typed_through_telex_parses_to_the_same_identity(
    identity: Identity, free_marks: bool
):
    assert identity.template is not None
    payload = bhyt_payload(identity, template=identity.template)
    typed = simulate_ime(payload, TELEX, free_marks=free_marks)
    result = parse_payload(typed)
    pairs = zip(payload.split("|"), typed.split("|"), strict=True)
    if any(a != b and b.isascii() for a, b in pairs):
        # a field damaged only by an undo (``aff`` → ``af``: a key lost, no Vietnamese letter
        # left) shows no sign of an IME: refused, not guessed
        assert isinstance(result, ParseFailure)
        return
    assert not isinstance(result, ParseFailure), result
    if result.registered_facility != identity.registered_facility:
        # free marking moved a tone key past a consonant (``EBF`` shows as ``ÈB``): both
        # orders fit a facility code, so the repair must say it may be wrong
        assert free_marks
        assert any("facility" in w and "may be wrong" in w for w in result.warnings)
        result = dataclasses.replace(result, registered_facility=identity.registered_facility)
    assert result.to_json() | {"warnings": []} == identity.to_json() | {"warnings": []}


@FAST
@given(names)
def test_vni_repair_is_right_when_no_key_was_lost(name: str):
    clean = encode_hex_text(name)
    # a vowel followed by two mark digits: VNI replaces the first mark and loses its key
    assume(not re.search(r"[ae][1-689][1-689]", clean))
    typed = simulate_ime(clean, VNI)
    decoded = decode_hex_field(typed)
    assert decoded.text == name
    assert decoded.repair == (VNI if typed != clean else None)
