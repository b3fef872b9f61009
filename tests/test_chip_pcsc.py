"""The chip reader through the real stack: pyscard → pcscd → vsmartcard-vpcd → the emulator.

A session fixture uses the running pcscd, or starts one (``pcscd --foreground``; root is needed
because pcscd 1.9 always binds /run/pcscd/pcscd.comm), connects the emulated CCCD to vpcd's
reader 0 (TCP 35963) and waits until pyscard sees the card. Tests are skipped only when pcscd
or vsmartcard-vpcd is not installed (``make deps`` installs both). A file lock serialises
concurrent test runs on one machine, since they would share vpcd's port.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checkin.chip import (
    CardRemoved,
    ReaderError,
    SecureMessagingError,
    UnknownCard,
    WrongAccessKey,
    read_card,
)
from checkin.chip.reader import READ_CARD_KEYS
from tests.chip_emulator import Card, Faults, Person, VirtualCard, make_pki

ROOT = Path(__file__).resolve().parents[1]
READER = "Virtual PCD 00 00"
PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_CONF = Path("/etc/reader.conf.d/vpcd")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
LOCK = Path("/tmp/checkin-chip-pcsc.lock")
PERSON = Person()
QR = "001185012345|012345678|Nguyễn Thị Mai Anh|15031985|Nữ|Số 12 ngõ 34 Hàng Bông, Hà Nội|01062023"
MRZ_KEY = "185012345,850315,450315"


def _pcscd_binary() -> str | None:
    return shutil.which("pcscd") or next(
        (p for p in ("/usr/sbin/pcscd", "/sbin/pcscd") if Path(p).exists()), None
    )


def _pcscd_running() -> bool:
    if not PCSCD_SOCKET.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        try:
            probe.connect(str(PCSCD_SOCKET))
        except OSError:
            return False
    return True


@pytest.fixture(scope="session")
def pcsc_stack(tmp_path_factory):
    """pcscd with vpcd, and the emulated card inserted in reader 0. Yields the VirtualCard."""
    binary = _pcscd_binary()
    if binary is None or not VPCD_DRIVER.exists() or not VPCD_CONF.exists():
        pytest.skip(
            "pcscd and vsmartcard-vpcd are not installed (Debian: apt-get install pcscd"
            " vsmartcard-vpcd; `make deps` does it)"
        )
    lock = LOCK.open("a")
    deadline = time.monotonic() + 180
    while True:  # one chip test session per machine at a time (they share vpcd's port)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                pytest.fail(f"another chip test run holds {LOCK} for over 3 minutes")
            time.sleep(0.5)
    daemon = None
    log_path = tmp_path_factory.mktemp("pcscd") / "pcscd.log"
    if not _pcscd_running():
        with contextlib.suppress(PermissionError):
            PCSCD_SOCKET.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(PCSCD_SOCKET.parent, os.W_OK):
            pytest.fail(
                "pcscd is installed but not running, and this user cannot start it (pcscd binds"
                " /run/pcscd/pcscd.comm): run `sudo install -d /run/pcscd && sudo pcscd`, or"
                " `make test`, which starts it"
            )
        with log_path.open("w") as log:
            daemon = subprocess.Popen([binary, "--foreground"], stdout=log, stderr=log)
        for _ in range(100):
            if _pcscd_running() or daemon.poll() is not None:
                break
            time.sleep(0.05)
        if not _pcscd_running():
            pytest.fail(f"pcscd did not start: {log_path.read_text()[-500:]}")
    card = Card(pki=make_pki())
    virtual = VirtualCard(card).start()
    try:
        if not virtual.wait_connected(15):
            pytest.fail("the emulated card could not connect to vpcd on 127.0.0.1:35963")
        from drivers.pcsc import wait_for_card

        if not wait_for_card(READER, timeout=10):
            pytest.fail(f"pyscard does not see the emulated card on {READER!r}")
        yield virtual
    finally:
        virtual.stop()
        if daemon is not None:
            daemon.terminate()
            try:
                daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daemon.kill()
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


@pytest.fixture
def vcard(pcsc_stack):
    """The inserted emulated card, healthy before and after each test."""
    from drivers.pcsc import wait_for_card

    virtual = pcsc_stack
    virtual.card.faults = Faults()
    virtual.card.pace_enabled = virtual.card.bac_enabled = True
    virtual.insert()
    assert virtual.wait_connected(10) and wait_for_card(READER, timeout=10)
    yield virtual
    virtual.card.faults = Faults()
    virtual.card.pace_enabled = virtual.card.bac_enabled = True
    virtual.insert()


def _read(**kwargs):
    from drivers.pcsc import PcscTransport

    options = {k: kwargs.pop(k) for k in ("recorder", "extended") if k in kwargs}
    with PcscTransport(READER, **options) as transport:
        return read_card(transport, **kwargs)


# -- the paths ----------------------------------------------------------------------------------


def test_readers_are_listed(vcard):
    from drivers.pcsc import list_readers

    assert READER in list_readers()


def test_pace_read_through_pcscd(vcard):
    result = _read(can=PERSON.can)
    data = result.to_json()
    assert tuple(data) == READ_CARD_KEYS
    assert data["access"] == "PACE"
    assert data["citizen_id"] == "001185012345"
    assert data["full_name"] == "Nguyễn Thị Mai Anh"
    assert data["residence"] == PERSON.residence
    assert (data["father_name"], data["mother_name"]) == (PERSON.father_name, PERSON.mother_name)
    assert data["photo"]["format"] == "jpeg"
    assert data["passive_auth"] == {"hashes_ok": True, "signature_ok": True, "trusted": None}
    assert data["apdus"] == 11  # extended length: every file in one command


def test_mrz_read_through_pcscd_uses_pace_with_the_mrz(vcard):
    vcard.card.bac_enabled = False  # the audit's card: PACE, no BAC
    result = _read(mrz=MRZ_KEY)
    assert result.access == "PACE"
    assert result.to_json()["mrz"][2] == "NGUYEN<<THI<MAI<ANH<<<<<<<<<<<"
    assert result.passive_auth.hashes_ok is True
    mse = [apdu for apdu, _ in vcard.card.log if apdu[1] == 0x22]
    assert mse and bytes.fromhex("830101") in mse[-1]  # password reference 01 = MRZ


def test_bac_read_through_pcscd(vcard):
    vcard.card.pace_enabled = False  # EF.CardAccess offers PACE, MSE:SET AT answers 6D00
    result = _read(mrz=MRZ_KEY)
    assert result.access == "BAC"
    assert result.to_json()["mrz"][2] == "NGUYEN<<THI<MAI<ANH<<<<<<<<<<<"
    assert result.passive_auth.hashes_ok is True


def test_qr_read_falls_back_to_bac_on_a_card_without_pace(vcard):
    vcard.card.pace_enabled = False
    result = _read(qr=QR)
    assert result.access == "BAC" and result.citizen_id == "001185012345"


def test_short_apdus_through_pcscd_use_the_fewest_commands(vcard):
    result = _read(can=PERSON.can, extended=False)
    minimum = 7 + sum(-(-len(data) // 223) for data in result.files.values())
    assert result.apdus == minimum


# -- failures -------------------------------------------------------------------------------------


def test_wrong_can_then_the_reader_is_usable_again(vcard):
    with pytest.raises(WrongAccessKey, match="CAN"):
        _read(can="999999")
    with pytest.raises(WrongAccessKey, match="document number, birth date or expiry date"):
        _read(mrz="185012345,850315,350315")
    assert _read(can=PERSON.can, want_photo=False).access == "PACE"


def test_card_removed_mid_read(vcard):
    from drivers.pcsc import wait_for_card

    vcard.remove_after(8)  # PACE (7) and the DG13 read answered, then the card is gone
    with pytest.raises(CardRemoved, match="taken off the reader"):
        _read(can=PERSON.can)
    vcard.insert()
    assert vcard.wait_connected(10) and wait_for_card(READER, timeout=10)
    assert _read(can=PERSON.can).access == "PACE"


def test_no_card_on_the_reader_is_a_reader_error(vcard):
    from drivers.pcsc import PcscTransport, wait_for_card

    vcard.remove()
    assert wait_for_card(READER, timeout=5, present=False)
    with pytest.raises(ReaderError, match="no card"), PcscTransport(READER, connect_timeout=0.3):
        pass


def test_failed_mac_is_secure_messaging_error(vcard):
    vcard.card.faults.corrupt_response_mac = True
    with pytest.raises(SecureMessagingError, match="integrity"):
        _read(can=PERSON.can)
    vcard.card.faults.corrupt_response_mac = False
    assert _read(can=PERSON.can).passive_auth.hashes_ok


def test_unknown_card(vcard):
    class Loyalty:
        atr = bytes.fromhex("3B8080010101")

        def transmit(self, apdu: bytes) -> bytes:
            return bytes.fromhex("6A82")

        def power_on(self) -> None: ...

        reset = power_off = power_on

    real, vcard.card = vcard.card, Loyalty()
    try:
        with pytest.raises(UnknownCard, match="not a chip citizen ID"):
            _read(can=PERSON.can)
    finally:
        vcard.card = real
    assert _read(can=PERSON.can).access == "PACE"


# -- passive authentication ----------------------------------------------------------------------


def test_passive_auth_with_and_without_csca_dir(vcard, tmp_path):
    assert _read(can=PERSON.can).passive_auth.trusted is None
    (tmp_path / "test-csca.pem").write_bytes(vcard.card.pki.csca_pem)
    trusted = _read(can=PERSON.can, csca_dir=tmp_path).passive_auth
    assert (trusted.hashes_ok, trusted.signature_ok, trusted.trusted) == (True, True, True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "csca.pem").write_bytes(make_pki(label="other").csca_pem)
    assert _read(can=PERSON.can, csca_dir=other).passive_auth.trusted is False


# -- driver features -----------------------------------------------------------------------------


def test_card_presented_and_removed_events(vcard):
    from drivers.pcsc import CardWatcher

    events: list[str] = []
    with CardWatcher(lambda r, atr: events.append("in"), lambda r: events.append("out"),
                     reader=READER):  # fmt: skip
        deadline = time.monotonic() + 5
        while "in" not in events and time.monotonic() < deadline:
            time.sleep(0.05)
        vcard.remove()
        while "out" not in events and time.monotonic() < deadline + 5:
            time.sleep(0.05)
        vcard.insert()
        while events.count("in") < 2 and time.monotonic() < deadline + 10:
            time.sleep(0.05)
    assert events[:3] == ["in", "out", "in"]


def test_transcript_record_and_replay(vcard):
    from drivers.chip_replay import ReplayTransport, TranscriptDivergence
    from drivers.pcsc import TranscriptRecorder

    buffer = io.StringIO()
    recorded = _read(can=PERSON.can, recorder=TranscriptRecorder(buffer, test=True))
    lines = buffer.getvalue().splitlines()
    assert json.loads(lines[0])["test"] is True
    assert sum(1 for line in lines if '"c"' in line) == recorded.apdus

    replay = ReplayTransport(lines)
    again = read_card(replay, can=PERSON.can)
    replay.assert_finished()
    assert {**again.to_json(), "seconds": 0} == {**recorded.to_json(), "seconds": 0}

    with pytest.raises(TranscriptDivergence, match="diverges"):
        read_card(ReplayTransport(lines), can="999999")


def test_transcript_outside_tests_is_masked_and_not_replayable(vcard):
    from drivers.chip_replay import ReplayTransport
    from drivers.pcsc import TranscriptRecorder, mask_digits

    assert mask_digits(b"ID 001185012345.") == b"ID ********2345."
    buffer = io.StringIO()
    _read(can=PERSON.can, want_photo=False, recorder=TranscriptRecorder(buffer))
    text = buffer.getvalue()
    assert '"random"' not in text and b"001185012345".hex() not in text
    assert json.loads(text.splitlines()[0])["masked"] is True
    with pytest.raises(Exception, match="masking"):
        ReplayTransport(text.splitlines())


# -- the command line ----------------------------------------------------------------------------


def _cli(*args: str, config: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CHECKIN_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "checkin", "read-card", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )


def test_cli_read_card_json(vcard, tmp_path):
    csca = tmp_path / "csca"
    csca.mkdir()
    (csca / "test-csca.pem").write_bytes(vcard.card.pki.csca_pem)
    config = tmp_path / "checkin.toml"
    config.write_text(f'[chip]\ncsca_dir = "{csca}"\n', encoding="utf-8")
    photo = tmp_path / "face.jpg"
    done = _cli("--reader", READER, "--can", PERSON.can, "--photo", str(photo), "--json",
                config=config)  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert tuple(data) == READ_CARD_KEYS
    assert data["citizen_id"] == "001185012345" and data["access"] == "PACE"
    assert data["passive_auth"] == {"hashes_ok": True, "signature_ok": True, "trusted": True}
    assert photo.read_bytes()[:3] == b"\xff\xd8\xff"
    assert data["photo"]["bytes"] == photo.stat().st_size

    human = _cli("--reader", READER, "--qr", QR, config=config)
    assert human.returncode == 0, human.stderr
    assert "********2345" in human.stdout and "001185012345" not in human.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--can", "999999"), 2, "refused the CAN"),
        (("--can", "12"), 2, "6 digits"),
        (("--mrz", "185012345,850315"), 2, "DOCNO,YYMMDD,YYMMDD"),
        (("--mrz", "185012345,851315,450315"), 2, "date of birth 851315 is not a real date"),
        (("--mrz", "185012345,850315,450431"), 2, "date of expiry 450431 is not a real date"),
        (("--mrz", "1850.2345,850315,450315"), 2, "document number has characters"),
        (("--reader", "No Such Reader", "--can", "012345"), 2, "not connected"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(vcard, tmp_path, args, code, message):
    config = tmp_path / "checkin.toml"
    config.write_text("", encoding="utf-8")
    if "--reader" not in args:
        args = ("--reader", READER, *args)
    done = _cli(*args, config=config)
    assert done.returncode == code
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_cli_bad_mrz_date_never_reaches_the_card(vcard, tmp_path):
    config = tmp_path / "checkin.toml"
    config.write_text("", encoding="utf-8")
    before = vcard.card.commands
    done = _cli("--reader", READER, "--mrz", "185012345,851315,450315", config=config)
    assert done.returncode == 2 and "month 13" in done.stderr
    assert vcard.card.commands == before


def test_cli_mrz_on_a_card_without_bac_reads_by_pace(vcard, tmp_path):
    config = tmp_path / "checkin.toml"
    config.write_text("", encoding="utf-8")
    vcard.card.bac_enabled = False
    done = _cli("--reader", READER, "--mrz", MRZ_KEY, "--json", config=config)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["access"] == "PACE"


@pytest.mark.parametrize(
    ("pace", "bac", "args", "message"),
    [
        (False, True, ("--can", PERSON.can), "does not offer PACE"),
        (False, False, ("--mrz", MRZ_KEY), "does not offer BAC"),
    ],
)
def test_cli_card_without_the_access_method_is_a_hint_exit_2(
    vcard, tmp_path, pace, bac, args, message
):
    config = tmp_path / "checkin.toml"
    config.write_text("", encoding="utf-8")
    vcard.card.pace_enabled, vcard.card.bac_enabled = pace, bac
    done = _cli("--reader", READER, *args, config=config)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    hint = "--mrz or --qr (BAC)" if "PACE" in message else "--can or --qr (PACE)"
    assert hint in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stdout == ""


def test_cli_damaged_card_access(vcard, tmp_path):
    config = tmp_path / "checkin.toml"
    config.write_text("", encoding="utf-8")
    vcard.card.faults.replace["EF.CardAccess"] = bytes.fromhex("3103020100")
    done = _cli("--reader", READER, "--can", PERSON.can, config=config)
    assert done.returncode == 2
    assert "(EF.CardAccess) is damaged: try --mrz or --qr (BAC)" in done.stderr
    assert "SEQUENCE" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    fallback = _cli("--reader", READER, "--qr", QR, "--json", config=config)
    assert fallback.returncode == 0, fallback.stderr
    assert json.loads(fallback.stdout)["access"] == "BAC"


def test_cli_empty_csca_dir_is_unverified_not_untrusted(vcard, tmp_path):
    csca = tmp_path / "csca"
    csca.mkdir()
    config = tmp_path / "checkin.toml"
    config.write_text(f'[chip]\ncsca_dir = "{csca}"\n', encoding="utf-8")
    done = _cli("--reader", READER, "--can", PERSON.can, "--json", config=config)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["passive_auth"]["trusted"] is None
    human = _cli("--reader", READER, "--can", PERSON.can, config=config)
    assert human.returncode == 0, human.stderr
    assert f"no trusted certificates found in {csca}" in human.stdout
    assert "NOT from a trusted CSCA" not in human.stdout


def test_cli_no_expiry_card(vcard, tmp_path):
    config = tmp_path / "checkin.toml"
    config.write_text("", encoding="utf-8")
    person = dataclasses.replace(PERSON, expiry_date="Không thời hạn", mrz_expiry="991231")
    real, vcard.card = vcard.card, Card(person, pki=vcard.card.pki)
    try:
        done = _cli("--reader", READER, "--can", person.can, "--json", config=config)
        human = _cli("--reader", READER, "--can", person.can, config=config)
    finally:
        vcard.card = real
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert tuple(data) == READ_CARD_KEYS
    assert (data["expiry_date"], data["expiry_text"]) == (None, "Không thời hạn")
    assert human.returncode == 0, human.stderr
    assert "expires: no expiry (Không thời hạn)" in human.stdout


def test_cli_photo_that_cannot_be_written_is_one_line_exit_2(vcard, tmp_path):
    # /sys takes no new files, even from root: as root the card is read and the write fails
    # after; otherwise the folder is refused before the read. Either way one line, no output.
    config = tmp_path / "checkin.toml"
    config.write_text("", encoding="utf-8")
    done = _cli("--reader", READER, "--can", PERSON.can, "--photo", "/sys/face.jpg", "--json",
                config=config)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "--photo" in done.stderr and "/sys" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stdout == "" and not Path("/sys/face.jpg").exists()


def test_cli_card_removed_is_one_line_exit_1(vcard, tmp_path):
    config = tmp_path / "checkin.toml"
    config.write_text("", encoding="utf-8")
    vcard.remove_after(8)
    done = _cli("--reader", READER, "--can", PERSON.can, "--json", config=config)
    assert done.returncode == 1
    assert "taken off the reader" in done.stderr and "Traceback" not in done.stderr


def test_emulated_person_is_synthetic():
    assert dataclasses.asdict(PERSON)["field16"].startswith("TESTONLY")
