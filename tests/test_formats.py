"""BHYT / CCCD payload parsing, hex UTF-8 decoding with IME repair, and encoding: by example.

All people here are invented; the BHYT and CCCD payloads are the ones in formats.md §3.7 and §4.
"""

from __future__ import annotations

import dataclasses
import unicodedata

import pytest

from checkin.formats import (
    ParseFailure,
    PayloadError,
    bhyt_payload,
    cccd_payload,
    decode_hex_text,
    parse_bhyt_qr,
    parse_or_raise,
    parse_payload,
    strip_payload,
)
from checkin.formats.dates import format_date, parse_birth_date, parse_date
from checkin.formats.hexutf8 import (
    TELEX,
    VNI,
    HexText,
    HexTextError,
    decode_hex_field,
    encode_hex_text,
    ime_hint,
    reverse_ime,
    simulate_ime,
    unmark_keys,
)
from checkin.model import Gender, Identity, PayloadKind

# -- formats.md §3.7 and §4 ---------------------------------------------------------------

NAME_MAI = "5472e1baa76e205468e1bb8b204d6169"
ADDRESS_MAI = (
    "53e1bb912031205068e1bb912056c3ad2044e1bba52c205068c6b0e1bb9d6e67204de1baab752c205175e1baad"
    "6e205468e1bbad2c205468c3a06e68207068e1bb912048c3a0204ee1bb9969"
)
OLD_DN = (
    f"DN4010123456789|{NAME_MAI}|12/05/1985|2|{ADDRESS_MAI}|01 - 001|01/01/2020|-|01/01/2020"
    "|01010123456789|-|4| 01/01/2025|0123456789abcdef-0000|$"
)
NEW_VSSID = (
    "7912345678|5068e1baa16d2056c4836e2048c3b96e67|03/09/1979|1|-|79 - 012|01/07/2023|-"
    "|15/07/2023|79017912345678|-|4| 01/07/2028|0123456789abcdef-0000|4"
    "|5175e1baad6e204de1baab752c205468c3a06e68207068e1bb912048e1bb93204368c3ad204d696e68|$"
)
OLD_HT = (
    "HT3480198765432|486fc3a06e672056c4836e204ce1bb9963|1948|1"
    "|5468c3b46e2056c3ad2044e1bba52c2058c3a3204de1baab752c20487579e1bb876e205468e1bbad2c2054"
    "e1bb896e68205175e1baa36e67204e67c3a369|51 - 025|01/01/2024|31/12/2024|01/01/2024"
    "|51030198765432|-|6| 01/01/2010|0123456789abcdef-0000|$"
)
CCCD_AN = (
    "001085012345|012345678|Nguyễn Văn An|15081985|Nam"
    "|Số 10 Ngõ Ví Dụ, Phường Mẫu, Quận Thử, Hà Nội|20042021"
)
CCCD_BINH = "079303001234||Lê Thị Bình|02022003|Nữ|Tổ 5, Phường Mẫu, Thành phố Hồ Chí Minh|10102024"


def parsed(text: str) -> Identity:
    result = parse_payload(text)
    assert isinstance(result, Identity), result
    return result


def failure(text: str) -> str:
    result = parse_payload(text)
    assert isinstance(result, ParseFailure), result
    with pytest.raises(PayloadError):
        parse_or_raise(text)
    return result.reason


def fields(payload: str) -> list[str]:
    return payload.split("|")


def with_field(payload: str, index: int, value: str) -> str:
    parts = fields(payload)
    parts[index] = value
    return "|".join(parts)


def test_old_template_employer_card_example():
    assert parsed(OLD_DN) == Identity(
        kind=PayloadKind.BHYT,
        full_name="Trần Thị Mai",
        template="old",
        card_number="DN4010123456789",
        social_insurance_number="0123456789",
        date_of_birth="1985-05-12",
        gender=Gender.FEMALE,
        address="Số 1 Phố Ví Dụ, Phường Mẫu, Quận Thử, Thành phố Hà Nội",
        registered_facility="01001",
        valid_from="2020-01-01",
        valid_to=None,
        issue_date="2020-01-01",
        five_year_date="2025-01-01",
        area_code=None,
    )


def test_new_template_vssid_example():
    assert parsed(NEW_VSSID) == Identity(
        kind=PayloadKind.BHYT,
        full_name="Phạm Văn Hùng",
        template="new",
        card_number=None,
        social_insurance_number="7912345678",
        date_of_birth="1979-09-03",
        gender=Gender.MALE,
        address=None,
        registered_facility="79012",
        valid_from="2023-07-01",
        issue_date="2023-07-15",
        five_year_date="2028-07-01",
        issuing_office="Quận Mẫu, Thành phố Hồ Chí Minh",
    )


def test_old_template_retiree_example_year_only_birth_and_area_k2():
    identity = parsed(OLD_HT)
    assert identity.full_name == "Hoàng Văn Lộc"
    assert identity.address == "Thôn Ví Dụ, Xã Mẫu, Huyện Thử, Tỉnh Quảng Ngãi"
    assert identity.date_of_birth == "1948"
    assert identity.area_code == "K2"
    assert identity.valid_to == "2024-12-31"
    assert identity.card_number == "HT3480198765432"
    assert identity.social_insurance_number == "0198765432"
    assert identity.warnings == ()


def test_cccd_examples():
    an = parsed(CCCD_AN)
    assert an == Identity(
        kind=PayloadKind.CCCD,
        full_name="Nguyễn Văn An",
        citizen_id="001085012345",
        old_id_number="012345678",
        date_of_birth="1985-08-15",
        gender=Gender.MALE,
        address="Số 10 Ngõ Ví Dụ, Phường Mẫu, Quận Thử, Hà Nội",
        issue_date="2021-04-20",
    )
    binh = parsed(CCCD_BINH)
    assert (binh.full_name, binh.old_id_number, binh.gender) == ("Lê Thị Bình", None, Gender.FEMALE)
    assert binh.address == "Tổ 5, Phường Mẫu, Thành phố Hồ Chí Minh"
    assert (binh.date_of_birth, binh.issue_date) == ("2003-02-02", "2024-10-10")


def test_json_follows_the_contract():
    data = parsed(OLD_DN).to_json()
    assert data["kind"] == "bhyt" and data["template"] == "old" and data["gender"] == "female"
    assert data["registered_facility"] == "01001" and data["warnings"] == []


# -- scanner noise and dispatch -----------------------------------------------------------


@pytest.mark.parametrize(
    "noisy",
    [
        OLD_DN + "\r\n",
        "\ufeff" + OLD_DN,
        OLD_DN + "\x00",
        "  \ufeff\x00" + OLD_DN + "\n\x00 ",
        "\t" + OLD_DN,
    ],
)
def test_scanner_noise_around_the_payload_is_stripped(noisy: str):
    assert parsed(noisy) == parsed(OLD_DN)
    assert strip_payload(noisy) == OLD_DN


def test_cccd_with_trailing_crlf():
    assert parsed(CCCD_AN + "\r\n") == parsed(CCCD_AN)


@pytest.mark.parametrize(
    ("typed", "card", "social"),
    [
        ("DN4010123456789", "DN4010123456789", "0123456789"),
        ("dn4010123456789", "DN4010123456789", "0123456789"),
        ("DN4 01 0123456789", "DN4010123456789", "0123456789"),
        ("7912345678", None, "7912345678"),
    ],
)
def test_a_bare_card_number_gives_a_nameless_bhyt_identity(typed, card, social):
    identity = parsed(typed)
    assert identity.kind is PayloadKind.BHYT
    assert (identity.card_number, identity.social_insurance_number) == (card, social)
    assert identity.full_name == "" and identity.template is None
    assert any("number only" in w for w in identity.warnings)


def test_a_bare_citizen_id_gives_a_nameless_cccd_identity():
    identity = parsed("001085012345\r\n")
    assert (identity.kind, identity.citizen_id, identity.full_name) == (
        PayloadKind.CCCD,
        "001085012345",
        "",
    )


def test_a_card_code_with_the_facility_appended_is_cut_to_15_with_a_warning():
    identity = parsed("DN401012345678901001")
    assert identity.card_number == "DN4010123456789"
    assert any("20 characters" in w and "01001" in w for w in identity.warnings)
    qr = parsed(with_field(OLD_DN, 0, "DN401012345678901001"))
    assert qr.card_number == "DN4010123456789"
    assert any("20 characters" in w for w in qr.warnings)


def test_a_facility_code_garbled_by_an_ime_is_repaired():
    typed = simulate_ime(with_field(OLD_DN, 5, "01 - IF0"), TELEX)
    assert fields(typed)[5] == "01 - Ì0"
    identity = parsed(typed)
    assert identity.registered_facility == "01IF0"
    assert "registered facility repaired from keyboard IME corruption (Telex)" in identity.warnings


def test_a_card_code_garbled_by_vni_is_repaired():
    typed = simulate_ime("CA5010123456789", VNI)
    assert typed == "CẠ010123456789"
    identity = parsed(typed)
    assert identity.card_number == "CA5010123456789"
    assert any("card number repaired" in w and "VNI" in w for w in identity.warnings)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty payload"),
        (" \r\n\x00\ufeff", "empty payload"),
        ("hello", "not a QR or number we know"),
        ("12345", "not a QR or number we know"),
        ("a|b|c", "unrecognised payload (3 fields)"),
        ("123456789|Tên|01011990|Nam|Hà Nội|01012020|x", "unrecognised payload (7 fields)"),
    ],
)
def test_unrecognised_input(text: str, reason: str):
    assert reason in failure(text)


def test_non_text_input_is_a_failure_not_a_crash():
    assert "not text" in failure(b"DN4010123456789")  # type: ignore[arg-type]


# -- BHYT field rules ---------------------------------------------------------------------


@pytest.mark.parametrize("count", [14, 16, 18, 2])
def test_bhyt_field_count_is_checked(count: int):
    body = (fields(OLD_DN)[:-1] + ["-"] * count)[: count - 1]
    parts = [*body, "$"]
    assert failure("|".join(parts)) == f"BHYT QR has {count} fields, expected 15 or 17"


def test_bhyt_without_terminator_is_rejected():
    assert "does not end with '|$'" in failure(OLD_DN[:-1] + "X")


@pytest.mark.parametrize("head", ["DN401012345678", "D14010123456789", "791234567", "ABC"])
def test_bhyt_element_0_shape_is_checked(head: str):
    reason = failure(with_field(OLD_DN, 0, head))
    assert reason.startswith("BHYT card number: is not a 15-character card code")


def test_templates_accept_the_other_number_shape_with_a_warning():
    old = parsed(with_field(OLD_DN, 0, "0123456789"))
    assert (old.card_number, old.social_insurance_number) == (None, "0123456789")
    assert any("10-digit number" in w for w in old.warnings)
    new = parsed(with_field(NEW_VSSID, 0, "DN4797912345678"))
    assert (new.card_number, new.social_insurance_number) == ("DN4797912345678", "7912345678")
    assert any("15-character card code" in w for w in new.warnings)


def test_uppercase_hex_decodes():
    assert parsed(with_field(OLD_DN, 1, NAME_MAI.upper())).full_name == "Trần Thị Mai"


@pytest.mark.parametrize(
    ("raw", "expected", "warned"),
    [
        ("12/05/1985", "1985-05-12", False),
        ("2/5/1985", "1985-05-02", False),
        ("1948", "1948", False),
        ("05/1985", "1985", True),
        ("-", None, True),
    ],
)
def test_bhyt_birth_date_shapes(raw: str, expected: str | None, warned: bool):
    identity = parsed(with_field(OLD_DN, 2, raw))
    assert identity.date_of_birth == expected
    assert any("birth date" in w for w in identity.warnings) == warned


@pytest.mark.parametrize(
    ("index", "raw", "reason"),
    [
        (2, "31/02/2000", "BHYT birth date: impossible date '31/02/2000'"),
        (2, "13/2000", "BHYT birth date: impossible date '13/2000'"),
        (2, "1985-05-12", "BHYT birth date: unrecognised date '1985-05-12'"),
        (2, "12/05/0985", "BHYT birth date: year out of range"),
        (6, "32/01/2020", "BHYT valid-from date: impossible date '32/01/2020'"),
        (7, "29/02/2023", "BHYT valid-to date: impossible date '29/02/2023'"),
        (8, "01/13/2020", "BHYT issue date: impossible date '01/13/2020'"),
        (12, " 00/01/2025", "BHYT five-year date: impossible date ' 00/01/2025'"),
        (12, "soon", "BHYT five-year date: unrecognised date 'soon'"),
    ],
)
def test_bhyt_bad_dates_are_rejected(index: int, raw: str, reason: str):
    assert failure(with_field(OLD_DN, index, raw)).startswith(reason)


def test_leap_day_is_a_real_date():
    assert parsed(with_field(OLD_DN, 6, "29/02/2024")).valid_from == "2024-02-29"


@pytest.mark.parametrize(("raw", "gender"), [("1", Gender.MALE), ("2", Gender.FEMALE), ("-", None)])
def test_bhyt_gender_codes(raw: str, gender: Gender | None):
    assert parsed(with_field(OLD_DN, 3, raw)).gender == gender


@pytest.mark.parametrize("raw", ["0", "3", "Nam", "M"])
def test_bhyt_unknown_gender_is_rejected(raw: str):
    assert failure(with_field(OLD_DN, 3, raw)).startswith("BHYT gender: unknown gender code")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("01 - 001", "01001"),
        ("01 – 001", "01001"),
        ("01-001", "01001"),
        ("01 -001", "01001"),
        ("01001", "01001"),
        ("01 - C54", "01C54"),
        ("01 - c54", "01C54"),
        ("-", None),
    ],
)
def test_registered_facility_shapes(raw: str, code: str | None):
    assert parsed(with_field(OLD_DN, 5, raw)).registered_facility == code


@pytest.mark.parametrize("raw", ["1 - 001", "01 - 0011", "01 + 001", "AB - 001"])
def test_bad_registered_facility_is_rejected(raw: str):
    assert failure(with_field(OLD_DN, 5, raw)).startswith("BHYT registered facility:")


@pytest.mark.parametrize(
    ("raw", "area"), [("4", None), ("5", "K1"), ("6", "K2"), ("7", "K3"), ("-", None)]
)
def test_living_area_codes(raw: str, area: str | None):
    assert parsed(with_field(OLD_DN, 11, raw)).area_code == area


def test_unknown_living_area_code_is_rejected():
    assert "BHYT living-area code: unknown code '8'" in failure(with_field(OLD_DN, 11, "8"))


@pytest.mark.parametrize(("raw", "value"), [(" 01/01/2025", "2025-01-01"), ("-", None)])
def test_five_year_date_with_its_leading_space(raw: str, value: str | None):
    assert parsed(with_field(OLD_DN, 12, raw)).five_year_date == value


def test_dash_means_empty():
    identity = parsed(with_field(with_field(OLD_DN, 4, "-"), 6, "-"))
    assert identity.address is None and identity.valid_from is None


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (encode_hex_text("Trần Văn Bố"), "Trần Văn Bố"),
        ("Trần Văn Bố", "Trần Văn Bố"),
        ("-", None),
    ],
)
def test_guardian_name_is_hex_or_plain(raw: str, name: str | None):
    assert parsed(with_field(OLD_DN, 10, raw)).guardian_name == name


def test_damaged_hex_guardian_name_is_refused_not_shown_as_a_name():
    assert failure(with_field(OLD_DN, 10, "5472e1b")).startswith("BHYT guardian name has an odd")


def test_management_code_and_check_string_are_kept_but_not_checked():
    qr = parse_bhyt_qr(with_field(OLD_DN, 13, "not-a-check-string"))
    assert qr.management_code == "01010123456789"
    assert qr.check_string == "not-a-check-string"
    assert qr.identity.full_name == "Trần Thị Mai"
    new = parse_bhyt_qr(NEW_VSSID)
    assert (new.benefit_digit, new.check_string) == ("4", "0123456789abcdef-0000")


def test_parse_bhyt_qr_refuses_other_payloads():
    with pytest.raises(PayloadError):
        parse_bhyt_qr(CCCD_AN)
    with pytest.raises(PayloadError, match="15 or 17"):
        parse_bhyt_qr("DN4010123456789|x|$")


@pytest.mark.parametrize(
    ("name_hex", "reason"),
    [
        ("-", "BHYT QR has an empty name"),
        ("", "BHYT QR has an empty name"),
        ("2020", "BHYT QR has an empty name"),
        ("3132", "BHYT name has no letters"),
        ("5472e1baa76", "BHYT name has an odd number of hex digits (11)"),
        ("54zz", "BHYT name is not hex (unexpected 'z' at position 3)"),
        ("ff54", "BHYT name is not valid UTF-8 once hex-decoded"),
        ("c328", "BHYT name is not valid UTF-8 once hex-decoded"),
        ("5400", "BHYT name decodes to control characters"),
    ],
)
def test_bad_names_are_rejected(name_hex: str, reason: str):
    assert failure(with_field(OLD_DN, 1, name_hex)).startswith(reason)


def test_bad_address_and_office_hex_are_rejected():
    assert failure(with_field(OLD_DN, 4, "abc")).startswith("BHYT address has an odd number")
    assert failure(with_field(NEW_VSSID, 15, "zz")).startswith("BHYT issuing office is not hex")


def test_decoded_text_is_nfc_and_whitespace_is_collapsed():
    decomposed = unicodedata.normalize("NFD", "  Trần   Thị Mai ")
    identity = parsed(with_field(OLD_DN, 1, encode_hex_text(decomposed)))
    assert identity.full_name == "Trần Thị Mai"
    assert unicodedata.is_normalized("NFC", identity.full_name)


# -- CCCD field rules ---------------------------------------------------------------------


def test_cccd_six_field_variant_with_slashed_dates():
    identity = parsed("079303001234|Lê Thị Bình|02/02/2003|Nữ|Tổ 5, Phường Mẫu|10/10/2024")
    assert (identity.citizen_id, identity.old_id_number) == ("079303001234", None)
    assert (identity.full_name, identity.date_of_birth) == ("Lê Thị Bình", "2003-02-02")
    assert (identity.issue_date, identity.address) == ("2024-10-10", "Tổ 5, Phường Mẫu")


def test_cccd_eleven_field_variant_reads_the_first_seven():
    identity = parsed(CCCD_AN + "||||")
    assert identity == parsed(CCCD_AN)
    assert parsed(CCCD_AN + "|x|y|z|w").warnings == ()


def test_cccd_with_other_extra_fields_warns():
    assert parsed(CCCD_AN + "|").warnings == ()
    identity = parsed(CCCD_AN + "|extra")
    assert identity.full_name == "Nguyễn Văn An"
    assert identity.warnings == ("CCCD QR has 8 fields; read the first 7",)


@pytest.mark.parametrize(
    ("raw", "gender"),
    [
        ("Nam", Gender.MALE),
        ("NAM", Gender.MALE),
        ("nam", Gender.MALE),
        ("Nữ", Gender.FEMALE),
        ("NỮ", Gender.FEMALE),
        (unicodedata.normalize("NFD", "Nữ"), Gender.FEMALE),
        ("Nu", Gender.FEMALE),
        (" nữ ", Gender.FEMALE),
        ("", None),
    ],
)
def test_cccd_gender_words(raw: str, gender: Gender | None):
    assert parsed(with_field(CCCD_AN, 4, raw)).gender == gender


def test_cccd_unknown_gender_is_rejected():
    reason = failure(with_field(CCCD_AN, 4, "Khác"))
    assert reason == "CCCD gender: unknown gender 'Khác' (expected Nam or Nữ)"


@pytest.mark.parametrize(
    ("raw", "expected", "warned"),
    [
        ("15081985", "1985-08-15", False),
        ("15/08/1985", "1985-08-15", False),
        ("1985", "1985", False),
        ("081985", "1985", True),
    ],
)
def test_cccd_birth_date_shapes(raw: str, expected: str, warned: bool):
    identity = parsed(with_field(CCCD_AN, 3, raw))
    assert identity.date_of_birth == expected
    assert bool(identity.warnings) == warned


@pytest.mark.parametrize(
    ("index", "raw", "reason"),
    [
        (3, "31022000", "CCCD birth date: impossible date '31022000'"),
        (3, "1985081", "CCCD birth date: unrecognised date '1985081'"),
        (6, "30022021", "CCCD issue date: impossible date '30022021'"),
        (2, "", "CCCD QR has an empty name"),
        (2, "   ", "CCCD QR has an empty name"),
        (2, "012345678", "CCCD name has no letters"),
        (1, "CMND", "CCCD old ID number (CMND) must be digits"),
    ],
)
def test_cccd_bad_fields_are_rejected(index: int, raw: str, reason: str):
    assert failure(with_field(CCCD_AN, index, raw)).startswith(reason)


def test_cccd_field_count_is_checked():
    assert failure("001085012345|012345678|Nguyễn Văn An|15081985|Nam") == (
        "CCCD QR has 5 fields, expected 7 (or 6 or 11)"
    )


def test_cccd_name_is_nfc_with_collapsed_spaces_and_printed_case():
    raw = unicodedata.normalize("NFD", "NGUYỄN  VĂN   AN ")
    identity = parsed(with_field(CCCD_AN, 2, raw))
    assert identity.full_name == "NGUYỄN VĂN AN"
    assert unicodedata.is_normalized("NFC", identity.full_name)


def test_cccd_empty_issue_date_and_address_are_none():
    identity = parsed(with_field(with_field(CCCD_AN, 6, ""), 5, " "))
    assert identity.issue_date is None and identity.address is None


# -- hex UTF-8 and keyboard-IME repair ----------------------------------------------------


def test_plain_hex_decodes_without_repair():
    assert decode_hex_text("4e677579e1bb856e") == ("Nguyễn", False)
    assert decode_hex_text("4E677579E1BB856E") == ("Nguyễn", False)
    assert decode_hex_text("") == ("", False)


@pytest.mark.parametrize(
    ("keys", "method", "typed"),
    [
        ("aa", TELEX, "â"),
        ("ee", TELEX, "ê"),
        ("dd", TELEX, "đ"),
        ("DD", TELEX, "Đ"),
        ("af", TELEX, "à"),
        ("ef", TELEX, "è"),
        ("aaf", TELEX, "ầ"),
        ("eef", TELEX, "ề"),
        ("AAF", TELEX, "Ầ"),
        ("aaa", TELEX, "aa"),
        ("aff", TELEX, "af"),
        ("a1f", TELEX, "a1f"),
        ("bf", TELEX, "bf"),
        ("a1", VNI, "á"),
        ("a2", VNI, "à"),
        ("a3", VNI, "ả"),
        ("a4", VNI, "ã"),
        ("a5", VNI, "ạ"),
        ("a6", VNI, "â"),
        ("e6", VNI, "ê"),
        ("a8", VNI, "ă"),
        ("d9", VNI, "đ"),
        ("a61", VNI, "ấ"),
        ("a16", VNI, "ấ"),
        ("a12", VNI, "à"),
        ("a11", VNI, "a1"),
        ("e8", VNI, "e8"),
    ],
)
def test_ime_model(keys: str, method: str, typed: str):
    assert simulate_ime(keys, method) == typed


def test_free_marking_moves_the_tone_across_consonants():
    assert simulate_ime("babf", TELEX) == "babf"
    assert simulate_ime("babf", TELEX, free_marks=True) == "bàb"
    assert simulate_ime("ab1", VNI, free_marks=True) == "áb"


@pytest.mark.parametrize(
    "name", ["Trần Thị Mai", "TRẦN ẪN", "Đặng Thị Thu Hà", "Ngô Tiến Quyết", "Lê Thị Bình"]
)
@pytest.mark.parametrize("free", [False, True])
def test_telex_corrupted_hex_is_repaired(name: str, free: bool):
    corrupted = simulate_ime(encode_hex_text(name), TELEX, free_marks=free)
    text, repaired = decode_hex_text(corrupted)
    assert text == name
    assert repaired == (corrupted != encode_hex_text(name))


def test_real_telex_damage_examples():
    assert simulate_ime("5472e1baa76e", TELEX) == "5472e1bâ76e"
    assert decode_hex_field("5472e1bâ76e").text == "Trần"
    assert decode_hex_field("5472e1bâ76e").repair == TELEX
    # "Ẫ" is e1 ba aa: Telex composes "aa" and the third "a" undoes it, leaving odd hex;
    # repaired next to composed letters ("Ầ" is e1 ba a6), refused when it is the only damage
    assert simulate_ime("e1baaa", TELEX) == "e1baa"
    typed = simulate_ime(encode_hex_text("ẦN ẪN"), TELEX)
    assert typed == "e1bâ64e20e1baa4e"
    assert decode_hex_text(typed) == ("ẦN ẪN", True)
    with pytest.raises(HexTextError, match="odd number"):
        decode_hex_text("e1baa")
    # "ế" is e1 ba bf: with free marking the "f" lands on the "a" two keys back
    assert decode_hex_text("5469e1bàb6e") == ("Tiến", True)


def test_vni_corrupted_hex_is_repaired():
    name = "Phạm Văn Hùng"
    corrupted = simulate_ime(encode_hex_text(name), VNI)
    assert corrupted == "5068ébaấd2056c4836è048c3b96ê7"
    assert decode_hex_field(corrupted).text == name
    assert decode_hex_field(corrupted).repair == VNI


def test_vni_damage_that_lost_keys_is_refused():
    # "ạ " is e1 ba a1 20: VNI turns "a1" into "á", then "2" replaces the tone: "1" is lost
    corrupted = simulate_ime(encode_hex_text("Hạ Long"), VNI)
    with pytest.raises(HexTextError, match="no readable Vietnamese text"):
        decode_hex_text(corrupted)


def test_vni_is_tried_when_the_telex_reading_is_not_vietnamese():
    typed = simulate_ime(encode_hex_text("A Bâ"), VNI)
    assert typed == "41204 2c3à".replace(" ", "")  # Telex would read "à" as "af": "A Bï"
    assert decode_hex_field(typed) == HexText("A Bâ", VNI)


def test_a_field_with_two_vietnamese_readings_is_refused():
    typed = simulate_ime(encode_hex_text("ÊC Êc"), VNI)
    with pytest.raises(HexTextError, match="VNI keyboard input method and can be read more"):
        decode_hex_text(typed)


def test_a_repair_must_look_vietnamese():
    typed = simulate_ime(encode_hex_text("Bïa"), TELEX)  # ï is c3 af: Telex makes "c3à"
    assert typed != encode_hex_text("Bïa")
    with pytest.raises(HexTextError, match="no readable Vietnamese text"):
        decode_hex_text(typed)


def test_ime_hint():
    assert ime_hint("5472e1bâ76e") == TELEX
    assert ime_hint("5472ébaa76è0") == VNI
    assert ime_hint("5472e1baa76e") is None


def test_unmark_keys_for_plain_codes():
    assert unmark_keys("CẠ010123456789", VNI) == "CA5010123456789"
    assert unmark_keys("01 - Ì0", TELEX) == "01 - IF0"
    assert unmark_keys("NƠ7", VNI) == "NO77"
    assert unmark_keys("Ô", VNI) == "O6" and unmark_keys("Ô", TELEX) == "OO"


def test_reverse_ime_gives_the_direct_keys():
    assert reverse_ime("5472e1bâ76e", TELEX) == "5472e1baa76e"
    assert reverse_ime("ébb", VNI) == "e1bb"
    assert reverse_ime("ô", TELEX) is None  # "oo" cannot come from hex keys


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("4e6", "has an odd number of hex digits (3)"),
        ("4g", "is not hex (unexpected 'g' at position 2)"),
        ("4ô", "is not hex (unexpected 'ô' at position 2)"),
        ("c3", "is not valid UTF-8 once hex-decoded"),
    ],
)
def test_unrepairable_hex_is_refused(raw: str, reason: str):
    with pytest.raises(HexTextError, match=r"^" + reason.replace("(", r"\(").replace(")", r"\)")):
        decode_hex_text(raw)


def test_whole_bhyt_payload_typed_through_telex_parses_with_warnings():
    for payload in (OLD_DN, NEW_VSSID, OLD_HT):
        for free in (False, True):
            typed = simulate_ime(payload, TELEX, free_marks=free)
            assert typed != payload
            identity = parsed(typed)
            assert dataclasses.replace(identity, warnings=()) == parsed(payload)
            assert any(
                "repaired from keyboard IME corruption (Telex)" in w for w in identity.warnings
            )


def test_whole_bhyt_payload_typed_through_vni_parses_or_fails_cleanly():
    identity = parsed(simulate_ime(NEW_VSSID, VNI))
    assert dataclasses.replace(identity, warnings=()) == parsed(NEW_VSSID)
    assert "name repaired from keyboard IME corruption (VNI); may be wrong, check it" in (
        identity.warnings
    )
    reason = failure(simulate_ime(OLD_DN, VNI))
    assert reason.startswith("BHYT address is not hex")


# -- dates --------------------------------------------------------------------------------


def test_date_helpers():
    assert parse_date("1/2/2003") == "2003-02-01"
    assert parse_date("01022003") == "2003-02-01"
    assert parse_birth_date("2003") == ("2003", None)
    assert format_date("2003-02-01") == "01/02/2003"
    assert format_date("2003-02-01", compact=True) == "01022003"
    assert format_date("1948") == "1948"
    assert format_date(None) == "-" and format_date(None, compact=True) == ""
    with pytest.raises(ValueError, match="not an ISO date"):
        format_date("01/02/2003")


# -- encoding -----------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [OLD_DN, NEW_VSSID, OLD_HT])
def test_encoding_a_parsed_example_gives_it_back(payload: str):
    qr = parse_bhyt_qr(payload)
    template = qr.identity.template
    assert template is not None
    again = bhyt_payload(
        qr.identity, template=template, check=qr.check_string, management_code=qr.management_code
    )
    assert again == payload


def test_default_management_code_and_check_string():
    payload = bhyt_payload(parsed(OLD_DN), template="old")
    assert payload == OLD_DN
    assert fields(bhyt_payload(parsed(NEW_VSSID), template="new"))[9] == "79017912345678"


@pytest.mark.parametrize("payload", [CCCD_AN, CCCD_BINH])
def test_encoding_a_parsed_cccd_gives_it_back(payload: str):
    assert cccd_payload(parsed(payload)) == payload


def test_cccd_variants_round_trip():
    identity = parsed(CCCD_AN)
    six = cccd_payload(identity, variant=6)
    assert six == (
        "001085012345|Nguyễn Văn An|15/08/1985|Nam"
        "|Số 10 Ngõ Ví Dụ, Phường Mẫu, Quận Thử, Hà Nội|20/04/2021"
    )
    assert parsed(six) == dataclasses.replace(identity, old_id_number=None)
    eleven = cccd_payload(identity, variant=11)
    assert eleven == CCCD_AN + "||||"
    assert parsed(eleven) == identity


def test_new_template_encodes_element_14_and_the_office():
    identity = parsed(NEW_VSSID)
    parts = fields(bhyt_payload(identity, template="new"))
    assert len(parts) == 17 and parts[14] == "4" and parts[16] == "$"
    assert parts[15] == encode_hex_text("Quận Mẫu, Thành phố Hồ Chí Minh")


def test_old_template_encodes_area_and_guardian():
    identity = dataclasses.replace(parsed(OLD_DN), area_code="K3", guardian_name="Trần Văn Bố")
    parts = fields(bhyt_payload(identity, template="old"))
    assert parts[11] == "7" and parts[10] == encode_hex_text("Trần Văn Bố")
    assert parsed("|".join(parts)) == identity


@pytest.mark.parametrize(
    ("change", "template", "message"),
    [
        ({}, "newest", "unknown BHYT template"),
        ({"card_number": None}, "old", "needs a card number"),
        ({"social_insurance_number": None}, "new", "needs a social insurance number"),
        ({"area_code": "K4"}, "old", "unknown living-area code"),
        ({"full_name": ""}, "old", "needs a name"),
        ({"registered_facility": "0100"}, "old", "is not 5 characters"),
    ],
)
def test_bhyt_encoding_refuses_what_it_cannot_write(change: dict, template: str, message: str):
    identity = dataclasses.replace(parsed(OLD_DN), **change)
    with pytest.raises(ValueError, match=message):
        bhyt_payload(identity, template=template)


def test_bhyt_encoding_refuses_a_separator_inside_a_field():
    with pytest.raises(ValueError, match="cannot contain"):
        bhyt_payload(parsed(OLD_DN), template="old", check="0123|4567")


def test_cccd_encoding_refuses_what_it_cannot_write():
    identity = parsed(CCCD_AN)
    with pytest.raises(ValueError, match="variant"):
        cccd_payload(identity, variant=8)
    with pytest.raises(ValueError, match="citizen ID"):
        cccd_payload(dataclasses.replace(identity, citizen_id=None))
    with pytest.raises(ValueError, match="cannot contain"):
        cccd_payload(dataclasses.replace(identity, address="Tổ 5 | Phường"))
