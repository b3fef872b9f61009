"""Chip protocol without a reader: TLV (with a fuzz), APDUs, DG1/DG2/DG13 parsing, BAC keys
from the QR, and whole reads against the emulated card driven in-process."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkin.chip import bac, crypto, datagroups, files, pace, tlv
from checkin.chip.apdu import Command, Response
from checkin.chip.errors import (
    AccessNotSupported,
    CardRemoved,
    ChipError,
    SecureMessagingError,
    TlvError,
    UnknownCard,
    WrongAccessKey,
)
from checkin.chip.passive_auth import passive_authentication
from checkin.chip.reader import READ_CARD_KEYS, access_keys, read_card
from checkin.model import Gender, PayloadKind
from tests.chip_emulator.card import Card, Person, build_dg2, build_dg13, make_pki

H = bytes.fromhex
PERSON = Person()
QR = "001185012345|012345678|Nguyễn Thị Mai Anh|15031985|Nữ|Số 12 ngõ 34 Hàng Bông, Hà Nội|01062023"
MRZ_KEY = "185012345,850315,450315"


@pytest.fixture(scope="module")
def pki():
    return make_pki()


@pytest.fixture
def card(pki):
    return Card(pki=pki)


# -- TLV -----------------------------------------------------------------------------------------


def test_tlv_round_trip_and_nesting():
    inner = tlv.encode(0x5F1F, b"X" * 200)
    outer = tlv.encode(0x61, inner)
    item = tlv.parse(outer, expect=0x61)
    assert item.constructed and item.header_length == 3
    assert item.require(0x5F1F).value == b"X" * 200
    assert tlv.read_header(outer) == (0x61, 3, len(inner))
    assert [t.tag for t in tlv.walk(item)] == [0x61, 0x5F1F]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (H("6D05300302"), "declares 5 bytes, only 3 follow"),
        (H("6D"), "length was expected"),
        (H("5F"), "multi-byte tag"),
        (H("6D80"), "indefinite length"),
        (H("6D85FFFFFFFFFF"), "uses 5 bytes"),
        (H("6D8201"), "cut short"),
    ],
)
def test_tlv_truncated_or_malformed_says_why(data, message):
    with pytest.raises(TlvError, match=message):
        tlv.parse(data)


def test_tlv_deep_nesting_is_an_error_not_a_recursion_crash():
    data = b""
    for _ in range(200):
        data = tlv.encode(0x30, data)
    with pytest.raises(TlvError, match="nested"):
        list(tlv.walk(tlv.parse(data)))


def test_oid_round_trip():
    for oid in ("0.4.0.127.0.7.2.2.4.2.2", "2.23.136.1.1.1", "1.2.840.113549.1.7.2"):
        assert tlv.decode_oid(tlv.encode_oid(oid)) == oid


PARSERS = [
    tlv.parse,
    tlv.parse_all,
    tlv.read_header,
    lambda d: list(tlv.walk(tlv.parse(d, trailing=True))),
    datagroups.parse_com,
    datagroups.parse_dg1,
    datagroups.parse_dg2,
    datagroups.parse_dg13,
    datagroups.parse_dg14,
    datagroups.parse_sod,
    pace.parse_security_infos,
]

# Valid files mutated a little reach much deeper than random bytes alone.
SEEDS = [
    build_dg13(PERSON),
    build_dg13(PERSON, parents_layout="nested"),
    build_dg2(b"\xff\xd8\xff\xe0" + bytes(40)),
    tlv.encode(0x61, tlv.encode(0x5F1F, "".join(PERSON.mrz_lines).encode())),
    H("3134300d060804007f0007020202020101300f060a04007f000702020302020201013012060a04007f0007"
      "0202040202020102020" "10d"),
]  # fmt: skip


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:]
        else:
            data[at:at] = draw(st.binary(max_size=4))
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=300), mutated()), which=st.integers(0, len(PARSERS) - 1))
def test_fuzz_parsers_raise_only_tlv_error(data, which):
    try:
        PARSERS[which](data)
    except TlvError as exc:
        assert str(exc)


# -- APDUs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "wire"),
    [
        (Command(0x00, 0x84, 0x00, 0x00, ne=8), "0084000008"),
        (Command(0x00, 0xB0, 0x9D, 0x00, ne=256), "00B09D0000"),
        (Command(0x00, 0xB0, 0x9D, 0x00, ne=65536), "00B09D00000000"),
        (Command(0x00, 0xB0, 0x00, 0x10, ne=1000), "00B0001000 03E8".replace(" ", "")),
        (Command(0x00, 0xA4, 0x02, 0x0C, H("011E")), "00A4020C02011E"),
        (Command(0x00, 0xD6, 0x00, 0x00, bytes(300)), "00D6000000012C" + "00" * 300),
        (
            Command(0x00, 0x2A, 0x00, 0x00, bytes(300), 65536),
            "002A000000012C" + "00" * 300 + "0000",
        ),
        (Command(0x00, 0xA4, 0x00, 0x00), "00A40000"),
    ],
)
def test_apdu_cases_short_and_extended(command, wire):
    assert command.encode().hex().upper() == wire.upper()
    assert Command.decode(H(wire)) == command


def test_response_shorter_than_status_word_is_clear():
    with pytest.raises(ChipError, match="shorter than a status word"):
        Response.from_bytes(b"\x90")


# -- DG1 / DG13 / DG2 ----------------------------------------------------------------------------


def test_dg1_td1_mrz_of_the_synthetic_person():
    mrz = datagroups.parse_dg1(
        tlv.encode(0x61, tlv.encode(0x5F1F, "".join(PERSON.mrz_lines).encode()))
    )
    assert mrz.lines == (
        "IDVNM1850123459001185012345<<0",
        "8503150F4503152VNM<<<<<<<<<<<8",
        "NGUYEN<<THI<MAI<ANH<<<<<<<<<<<",
    )  # chip.md §2.4, check digits valid
    assert mrz.checks_ok
    assert (mrz.document_number, mrz.citizen_id, mrz.sex) == ("185012345", "001185012345", "F")
    assert (mrz.surname, mrz.given_names) == ("NGUYEN", "THI MAI ANH")
    assert datagroups.mrz_date(mrz.date_of_birth, birth=True) == "1985-03-15"
    assert datagroups.mrz_date(mrz.date_of_expiry, birth=False) == "2045-03-15"


@pytest.mark.parametrize("layout", ["siblings", "nested"])
def test_dg13_every_field_both_parent_layouts(layout):
    dg = datagroups.parse_dg13(build_dg13(PERSON, parents_layout=layout))
    assert dg.citizen_id == "001185012345"
    assert dg.full_name == "Nguyễn Thị Mai Anh"
    assert dg.date_of_birth == "1985-03-15"
    assert dg.gender is Gender.FEMALE
    assert (dg.nationality, dg.ethnicity, dg.religion) == ("Việt Nam", "Kinh", "Không")
    assert dg.place_of_origin == PERSON.place_of_origin
    assert dg.residence == PERSON.residence
    assert dg.identifying_features == PERSON.identifying_features
    assert (dg.issue_date, dg.expiry_date) == ("2023-06-01", "2045-03-15")
    assert (dg.father_name, dg.mother_name) == ("Nguyễn Văn Hùng", "Trần Thị Lan")
    assert dg.spouse_name == "Lê Minh Tuấn"
    assert dg.old_id_number == "012345678"
    assert dg.field16 == "TESTONLY00000016"
    assert dg.warnings == ()


def test_dg13_empty_spouse_lifetime_card_and_nfd_text():
    person = dataclasses.replace(
        PERSON,
        spouse_name=None,
        expiry_date="Không thời hạn",
        full_name=unicodedata.normalize("NFD", "Nguyễn Thị Mai Anh"),
        gender="Nam",
    )
    data = build_dg13(person)
    assert H("300302010E") in data  # the empty field 14 of chip.md §3.2
    dg = datagroups.parse_dg13(data)
    assert dg.spouse_name is None
    assert dg.expiry_date is None and dg.expiry_text == "Không thời hạn"
    assert dg.full_name == "Nguyễn Thị Mai Anh"  # NFC
    assert dg.gender is Gender.MALE


@pytest.mark.parametrize(
    ("image", "kind"),
    [
        (b"\xff\xd8\xff\xe0" + bytes(64), "jpeg"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(64), "jp2"),
        (b"\xff\x4f\xff\x51" + bytes(64), "j2k"),
    ],
)
def test_dg2_face_image_formats(image, kind):
    face = datagroups.parse_dg2(build_dg2(image, image_type=0 if kind == "jpeg" else 1))
    assert (face.format, face.data, face.width, face.height) == (kind, image, 240, 320)


def test_dg2_without_image_is_a_tlv_error():
    with pytest.raises(TlvError, match="no JPEG"):
        datagroups.parse_dg2(build_dg2(b"not an image at all"))


# -- BAC keys from the QR (chip.md §2.6) --------------------------------------------------------


def test_expiry_worked_examples():
    born = date(1985, 3, 15)
    assert bac.expiry_candidates(born, date(2023, 6, 1))[0] == "450315"
    assert bac.expiry_candidates(born, date(2021, 5, 1))[0] == "250315"


def test_expiry_two_year_window_readings_and_laws():
    born = date(1985, 3, 15)
    # issued exactly 2 years before the 40th birthday: lenient first, strict next
    assert bac.expiry_candidates(born, date(2023, 3, 15))[:2] == ["450315", "250315"]
    # 2023 law adds the age of 14 for children
    child = date(2012, 9, 1)
    assert bac.expiry_candidates(child, date(2024, 8, 1))[0] == "260901"
    # issued on the 12th birthday, exactly 2 years before 14: lenient 25, strict 14
    assert bac.expiry_candidates(child, date(2024, 9, 1))[:2] == ["370901", "260901"]


def test_card_issued_at_58_or_later_has_no_bac_candidate():
    assert bac.expiry_candidates(date(1960, 1, 1), date(2019, 1, 1)) == []


def test_leap_day_birth_candidates():
    # 25th birthday in a common year: the literal 29 Feb first, then 28 Feb and 1 Mar
    candidates = bac.expiry_candidates(date(1984, 2, 29), date(2005, 1, 1))
    assert candidates[:3] == ["090229", "090228", "090301"]


def test_keys_from_qr():
    keys = bac.keys_from_qr(QR)
    assert keys[0] == bac.BacKey("185012345", "850315", "450315")
    assert all(k.document_number == "185012345" for k in keys)
    assert "185012345" not in repr(keys[0])  # never print the document number in full


def test_access_keys_validation():
    assert access_keys(can="012345").can == "012345"
    assert access_keys(can="001185012345").can == "012345"
    both = access_keys(qr=QR)
    assert both.can == "012345" and both.bac[0].date_of_expiry == "450315"
    with pytest.raises(ValueError, match="6 digits"):
        access_keys(can="12345")
    with pytest.raises(ValueError, match="DOCNO,YYMMDD,YYMMDD"):
        access_keys(mrz="185012345,850315")
    with pytest.raises(ValueError, match="YYMMDD"):
        access_keys(mrz="185012345,85-03-15,450315")
    with pytest.raises(ValueError, match=r"date of birth 851315 is not a real date \(month 13\)"):
        access_keys(mrz="185012345,851315,450315")
    with pytest.raises(ValueError, match=r"date of expiry 450230 .*day 30 of month 02"):
        access_keys(mrz="185012345,850315,450230")
    with pytest.raises(ValueError, match="day 00"):
        access_keys(mrz="185012345,850300,450315")
    with pytest.raises(ValueError, match=r"document number has characters .*'-'"):
        access_keys(mrz="18501-345,850315,450315")
    with pytest.raises(ValueError, match="1 to 9 characters"):
        access_keys(mrz="1850123456,850315,450315")
    assert access_keys(mrz="185012345,960229,450229").bac[0].date_of_expiry == "450229"
    with pytest.raises(ValueError, match="not a CCCD"):
        access_keys(qr="hello")
    with pytest.raises(ValueError, match="give a CAN"):
        access_keys()


# -- whole reads against the in-process emulator ------------------------------------------------


def test_read_with_pace_gives_the_contract_json(card):
    stages = []
    result = read_card(card, can=PERSON.can, progress=lambda stage, r: stages.append(stage))
    data = result.to_json()
    assert tuple(data) == READ_CARD_KEYS
    assert data["access"] == "PACE"
    assert data["citizen_id"] == "001185012345" and data["full_name"] == "Nguyễn Thị Mai Anh"
    assert data["mrz"][0] == "IDVNM1850123459001185012345<<0"
    assert data["photo"]["format"] == "jpeg" and data["photo"]["bytes"] > 5000
    assert data["passive_auth"] == {"hashes_ok": True, "signature_ok": True, "trusted": None}
    assert stages == ["authenticated", "identity", "mrz", "photo", "passive_auth", "done"]
    identity = result.identity()
    assert identity.kind is PayloadKind.CCCD and identity.citizen_id == "001185012345"
    assert identity.lookup_number == "001185012345"
    assert identity.address == PERSON.residence


def test_identity_is_ready_before_the_photo(card):
    seen = {}

    def progress(stage, result):
        if stage == "identity":
            seen["name"], seen["photo"] = result.full_name, result.photo

    read_card(card, can=PERSON.can, progress=progress)
    assert seen == {"name": "Nguyễn Thị Mai Anh", "photo": None}


def test_read_with_bac_from_mrz_and_from_qr(pki):
    card = Card(pki=pki, pace_enabled=False)
    assert read_card(card, mrz=MRZ_KEY).access == "BAC"
    result = read_card(card, qr=QR)  # PACE is not offered: falls back to BAC with QR keys
    assert result.access == "BAC" and result.citizen_id == "001185012345"


def test_bac_tries_expiry_candidates(pki):
    # issued 2023-03-15: the lenient reading says 2045, this card says 2025 (strict reading)
    person = dataclasses.replace(PERSON, issue_date="15/03/2023", expiry_date="15/03/2025")
    card = Card(person, pki=pki, pace_enabled=False)
    qr = QR.replace("01062023", "15032023")
    result = read_card(card, qr=qr, want_photo=False, verify=False)
    assert result.access == "BAC" and result.expiry_date == "2025-03-15"


def test_minimum_commands_short_apdus(pki):
    card = Card(pki=pki, extended=False)
    result = read_card(card, can=PERSON.can)
    sizes = {name: len(data) for name, data in result.files.items()}
    chunk = 223  # AES secure messaging, short APDUs (chip.md §4.3)
    minimum = 7 + sum(-(-size // chunk) for size in sizes.values())
    assert result.apdus == minimum
    result = read_card(Card(pki=pki, extended=False), mrz=MRZ_KEY)  # PACE with the MRZ
    assert result.access == "PACE"
    assert result.apdus == 7 + sum(-(-len(d) // chunk) for d in result.files.values())
    card_bac = Card(pki=pki, extended=False, pace_enabled=False)
    del card_bac.files["EF.CardAccess"]  # a BAC-only card: one READ BINARY finds no PACE
    result = read_card(card_bac, mrz=MRZ_KEY)
    assert result.access == "BAC"
    assert result.apdus == 1 + 3 + sum(-(-len(d) // 231) for d in result.files.values())


def test_extended_length_reads_each_file_in_one_command(card):
    result = read_card(card, can=PERSON.can)
    assert result.apdus == 7 + 4  # CardAccess, MSE, 4 x GA, SELECT + DG13, DG1, DG2, SOD


def test_wrong_can_and_wrong_mrz(card):
    with pytest.raises(WrongAccessKey, match="CAN"):
        read_card(card, can="999999")
    card.reset()  # each read is a fresh connection (PcscTransport resets the card on close)
    with pytest.raises(WrongAccessKey, match="MRZ key"):
        read_card(card, mrz="185012345,850315,440315")  # refused by PACE, not tried by BAC
    assert not any(apdu[1] == 0x84 for apdu, _ in card.log)  # no GET CHALLENGE
    card.reset()
    card.pace_enabled = False
    with pytest.raises(WrongAccessKey, match="BAC key"):
        read_card(card, mrz="185012345,850315,440315")
    card.pace_enabled = True
    card.reset()
    assert read_card(card, can=PERSON.can).access == "PACE"  # the card is usable again


def _pace_passwords(card: Card) -> list[int]:
    """The PACE password references of the MSE:SET AT commands the card saw (1 MRZ, 2 CAN)."""
    refs = []
    for apdu, _ in card.log:
        if apdu[1] == 0x22:
            items = {i.tag: i.value for i in tlv.parse_all(Command.decode(apdu).data)}
            refs.append(items[0x83][0])
    return refs


def test_wrong_can_falls_back_to_the_mrz_key_when_keys_are_given(card, pki):
    keys = access_keys(can="999999", mrz=MRZ_KEY)
    result = read_card(card, can=keys.can, mrz=keys.bac[0])
    assert result.access == "PACE" and _pace_passwords(card) == [2, 1]
    no_pace = Card(pki=pki, pace_enabled=False)
    assert read_card(no_pace, can=keys.can, mrz=keys.bac[0]).access == "BAC"


def test_mrz_opens_a_card_without_bac_by_pace(pki):
    card = Card(pki=pki, bac_enabled=False)
    result = read_card(card, mrz=MRZ_KEY)
    assert result.access == "PACE" and result.citizen_id == "001185012345"
    assert _pace_passwords(card) == [1]
    assert result.passive_auth.hashes_ok is True
    card.reset()
    assert read_card(card, qr=QR, want_photo=False).access == "PACE"  # the CAN, first
    assert _pace_passwords(card)[-1] == 2


def test_pace_with_the_mrz_matches_bac_seed_derivation():
    key = bac.BacKey.parse(MRZ_KEY)
    assert key.pace_secret[:16] == key.seed  # both SHA-1(MRZ_information) (ICAO 9303-11)
    k_pi = pace.password_key(key.pace_secret, crypto.AES, 128)
    assert k_pi == hashlib.sha1(key.pace_secret + H("00000003")).digest()[:16]


def test_a_dropped_session_reopens_with_the_mrz_key_by_pace(pki):
    from checkin.chip.channel import Channel
    from checkin.chip.reader import _Session

    card = Card(pki=pki, bac_enabled=False)
    channel = Channel(card)
    session = _Session(channel, access_keys(mrz=MRZ_KEY), os.urandom)
    assert session.authenticate() == "PACE"
    card.session = None  # the card forgets the secure channel
    channel.sm.open = False
    session.ensure()
    assert channel.sm.open and files.read_file(channel, files.DG1)
    assert _pace_passwords(card) == [1, 1]


def test_can_on_a_card_without_pace_says_use_the_mrz(pki):
    refused = Card(pki=pki, pace_enabled=False)  # EF.CardAccess offers PACE, MSE:SET AT 6D00
    with pytest.raises(AccessNotSupported, match=r"does not offer PACE.*--mrz or --qr \(BAC\)"):
        read_card(refused, can=PERSON.can)
    absent = Card(pki=pki, pace_enabled=False)
    del absent.files["EF.CardAccess"]
    with pytest.raises(AccessNotSupported, match=r"does not offer PACE: read it with --mrz"):
        read_card(absent, can=PERSON.can)


def test_mrz_on_a_card_without_bac_or_pace_says_use_the_can(pki):
    card = Card(pki=pki, pace_enabled=False, bac_enabled=False)
    with pytest.raises(AccessNotSupported, match=r"does not offer BAC.*--can or --qr \(PACE\)"):
        read_card(card, mrz=MRZ_KEY)


def test_damaged_card_access(pki):
    card = Card(pki=pki)
    card.faults.replace["EF.CardAccess"] = H("3103020100")
    with pytest.raises(AccessNotSupported, match=r"EF\.CardAccess\) is damaged: try --mrz or --qr"):
        read_card(card, can=PERSON.can)
    card.reset()
    assert read_card(card, qr=QR, want_photo=False).access == "BAC"  # the CAN cannot be used
    card.reset()
    assert read_card(card, mrz=MRZ_KEY, want_photo=False).access == "BAC"
    card.reset()
    card.faults.replace["EF.CardAccess"] = H("FFFF")  # not even a TLV header
    with pytest.raises(AccessNotSupported, match="damaged"):
        read_card(card, can=PERSON.can)


def test_no_expiry_card_gives_the_cards_words(pki):
    person = dataclasses.replace(PERSON, expiry_date="Không thời hạn", mrz_expiry="991231")
    result = read_card(Card(person, pki=pki), can=person.can, want_photo=False)
    data = result.to_json()
    assert data["expiry_date"] is None and data["expiry_text"] == "Không thời hạn"
    normal = read_card(Card(pki=pki), can=PERSON.can, want_photo=False).to_json()
    assert (normal["expiry_date"], normal["expiry_text"]) == ("2045-03-15", None)


def test_protected_files_need_authentication(card):
    from checkin.chip.channel import Channel
    from checkin.chip.errors import AccessDenied

    channel = Channel(card)
    files.select_application(channel, protected=False)
    with pytest.raises(AccessDenied, match="6982"):
        files.read_file(channel, files.DG13)
    with pytest.raises(AccessDenied):
        files.read_file(channel, files.DATA_GROUPS[3])


def test_failed_response_mac_is_secure_messaging_error(card):
    card.faults.corrupt_response_mac = True
    with pytest.raises(SecureMessagingError, match="integrity"):
        read_card(card, can=PERSON.can)


def test_card_rejecting_our_mac_is_secure_messaging_error(card):
    from checkin.chip.channel import Channel
    from checkin.chip.reader import _Session

    channel = Channel(card)
    _Session(channel, access_keys(can=PERSON.can), os.urandom).authenticate()
    card.session.ks_mac = bytes(16)  # the card now sees wrong MACs and answers a plain 6988
    with pytest.raises(SecureMessagingError, match="6988"):
        files.read_file(channel, files.DG1)
    assert not channel.sm.open


def test_truncated_dg13_falls_back_to_the_mrz_with_a_warning(card):
    card.faults.truncate["DG13"] = 40
    result = read_card(card, can=PERSON.can, want_mrz=False, want_photo=False)
    assert result.dg13 is None and result.citizen_id == "001185012345"
    assert result.full_name == "NGUYEN THI MAI ANH"  # the MRZ has no diacritics
    assert any("DG13 is shorter than its header declares" in w for w in result.warnings)


def test_truncated_identity_files_are_a_clear_tlv_error(card):
    card.faults.truncate.update({"DG13": 40, "DG1": 10})
    with pytest.raises(TlvError, match="DG13 is shorter than its header declares"):
        read_card(card, can=PERSON.can)


def test_malformed_dg13_is_a_clear_tlv_error(card):
    card.faults.replace["DG13"] = tlv.encode(0x6D, H("3005020101"))
    card.faults.replace["DG1"] = tlv.encode(0x61, tlv.encode(0x5F1F, b"SHORT"))
    with pytest.raises(TlvError, match="DG13") as caught:
        read_card(card, can=PERSON.can)
    assert "DG1" in str(caught.value)


def test_unknown_card():
    class NotAnEmrtd:
        max_response_length = 256

        def transmit(self, apdu: bytes) -> bytes:
            return H("6A82")

    with pytest.raises(UnknownCard, match="not a chip citizen ID"):
        read_card(NotAnEmrtd(), can="012345")
    with pytest.raises(UnknownCard):
        read_card(NotAnEmrtd(), mrz=MRZ_KEY)


def test_card_removed_propagates():
    class Gone:
        max_response_length = 256

        def transmit(self, apdu: bytes) -> bytes:
            raise CardRemoved()

    with pytest.raises(CardRemoved, match="taken off the reader"):
        read_card(Gone(), can="012345")


# -- passive authentication ---------------------------------------------------------------------


def test_passive_auth_trusted_with_the_right_csca(tmp_path, card, pki):
    (tmp_path / "csca.pem").write_bytes(pki.csca_pem)
    result = read_card(card, can=PERSON.can, csca_dir=tmp_path)
    assert result.passive_auth.to_json() == {
        "hashes_ok": True,
        "signature_ok": True,
        "trusted": True,
    }
    assert result.passive_auth.checked == (1, 2, 13)


def test_passive_auth_untrusted_with_another_csca(tmp_path, card):
    (tmp_path / "other.pem").write_bytes(make_pki(label="other").csca_pem)
    result = read_card(card, can=PERSON.can, csca_dir=tmp_path)
    assert result.passive_auth.trusted is False
    assert "NOT from a trusted CSCA" in result.passive_auth.summary


def test_passive_auth_with_no_usable_csca_certificate_is_unverified(tmp_path, pki, monkeypatch):
    (tmp_path / "README.txt").write_text("put the CSCA certificates here", encoding="utf-8")
    (tmp_path / "broken.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64\n")
    result = read_card(Card(pki=pki), can=PERSON.can, want_photo=False, csca_dir=tmp_path)
    assert result.passive_auth.to_json() == {
        "hashes_ok": True,
        "signature_ok": True,
        "trusted": None,  # nothing to trust: unverified, not a suspect card
    }
    assert "NOT" not in result.passive_auth.summary
    assert f"no trusted certificates found in {tmp_path}" in " ".join(result.warnings)

    def unreadable(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "iterdir", unreadable)
    result = read_card(Card(pki=pki), can=PERSON.can, want_photo=False, csca_dir=tmp_path)
    assert result.passive_auth.trusted is None
    assert any("no trusted certificates found" in w for w in result.warnings)


def test_passive_auth_detects_a_changed_data_group(card):
    card.faults.replace["DG13"] = build_dg13(dataclasses.replace(PERSON, full_name="Trần Văn B"))
    result = read_card(card, can=PERSON.can)
    assert result.passive_auth.hashes_ok is False
    assert result.passive_auth.mismatched == (13,)
    assert result.passive_auth.signature_ok is True


def test_passive_auth_rsa_signer(tmp_path):
    rsa_pki = make_pki(algorithm="rsa")
    (tmp_path / "csca.der").write_bytes(
        rsa_pki.csca_cert.public_bytes(
            __import__("cryptography").hazmat.primitives.serialization.Encoding.DER
        )
    )
    card = Card(pki=rsa_pki)
    result = read_card(card, mrz=MRZ_KEY, csca_dir=tmp_path)
    assert result.passive_auth.to_json() == {
        "hashes_ok": True,
        "signature_ok": True,
        "trusted": True,
    }


def test_passive_auth_tampered_signature(card):
    sod = bytearray(card.files["EF.SOD"])
    sod[-5] ^= 0x01  # inside the signature
    groups = {13: card.files["DG13"]}
    result = passive_authentication(bytes(sod), groups)
    assert result.hashes_ok is True and result.signature_ok is False


def test_com_and_dg14_of_the_emulated_card(card):
    com = datagroups.parse_com(card.files["EF.COM"])
    assert (com.lds_version, com.data_groups) == ("0107", (1, 2, 3, 13, 14))
    names = [info.name for info in datagroups.parse_dg14(card.files["DG14"])]
    assert "id-CA-ECDH-AES-CBC-CMAC-128" in names and "id-PK-ECDH" in names
    sod = datagroups.parse_sod(card.files["EF.SOD"])
    assert sorted(sod.hashes) == [1, 2, 13, 14] and sod.econtent_type == "2.23.136.1.1.1"


def test_card_access_of_vietnamese_apps_selects_brainpool_pace():
    raw = H(
        "3134300d060804007f0007020202020101300f060a04007f000702020302020201013012060a04007f0007"
        "0202040202020102020" + "10d"
    )
    infos = pace.parse_security_infos(raw)
    assert [i.name for i in infos] == [
        "TerminalAuthenticationInfo",
        "id-CA-ECDH-AES-CBC-CMAC-128",
        "id-PACE-ECDH-GM-AES-CBC-CMAC-128",
    ]
    assert pace.choose_pace_info(infos).parameter_id == 13
