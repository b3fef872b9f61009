"""The TOML configuration: defaults, validation with clear messages, secrets from the env."""

from __future__ import annotations

import os
from dataclasses import fields as dataclass_fields
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from checkin import config as cfg
from checkin.config import (
    Config,
    ConfigError,
    DeskConfig,
    GatewayConfig,
    KeyringUnavailable,
    PcscConfig,
    ScannerConfig,
    SerialConfig,
    StoreConfig,
    escape_text,
    load_config,
    missing_gateway_settings,
    problems,
    unescape_text,
    write_config,
)

GOOD = """
[gateway]
url = "https://egw.example.test"
username = "01001_BV"
password = "secret"
officer_name = "Nguyễn Văn Tiếp"
officer_id = "001090000001"
facility_code = "01001"
timeout_s = 8

[store]
path = "desk.db"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "checkin.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_loads(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert config.gateway.timeout_s == 8.0
    assert config.gateway.officer.citizen_id == "001090000001"
    assert config.store_path == tmp_path / "desk.db"  # next to the configuration file
    assert missing_gateway_settings(config) == []


def test_no_file_means_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("CHECKIN_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    config = load_config()
    assert config.store_path == tmp_path / "data" / "checkin" / "checkin.db"
    assert "gateway.officer_id" in missing_gateway_settings(config)


def test_env_variable_names_the_file_and_the_password(tmp_path, monkeypatch):
    monkeypatch.setenv("CHECKIN_CONFIG", str(write(tmp_path, GOOD)))
    monkeypatch.setenv("CHECKIN_GATEWAY_PASSWORD", "from-env")
    assert load_config().gateway.password == "from-env"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[gateway]\nurl = "http://egw.example.test"', "https"),
        ('[gateway]\nurl = "https://u:p@egw.example.test"', "credentials"),
        ('[gateway]\nofficer_id = "123"', "12-digit"),
        ('[gateway]\nfacility_code = "1"', "5 characters"),
        ('[gateway]\ntimeout_s = "slow"', "gateway.timeout_s must be a number"),
        ("[gateway]\nnope = 1", "unknown key gateway.nope"),
        ("[printer]\nx = 1", "unknown configuration section"),
        ("[gateway\n", "not valid TOML"),
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path, text, words):
    with pytest.raises(ConfigError, match=words):
        load_config(write(tmp_path, text))


def test_missing_named_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_loopback_http_is_allowed_for_the_sandbox(tmp_path):
    config = load_config(write(tmp_path, '[gateway]\nurl = "http://127.0.0.1:8765"'))
    assert config.gateway.url.startswith("http://127.0.0.1")


def test_write_then_load_round_trips(tmp_path):
    config = Config(
        gateway=GatewayConfig(
            url="http://127.0.0.1:9",
            username="u",
            password='p"w',
            officer_name="Tên",
            officer_id="001090000001",
        ),
        store=StoreConfig(path=str(tmp_path / "x.db")),
    )
    path = tmp_path / "out.toml"
    write_config(path, config)
    again = load_config(path)
    assert again.gateway == config.gateway and again.store == config.store


# -- the new sections, the declarations, the password ------------------------------------------

NEW_SECTIONS = """
[scanner]
wedge_max_gap_ms = 25
wedge_min_length = 8
prefix = "\\u0002"
suffix = "\\r\\n"

[serial]
url = "hwgrep://0c2e:0b61"
baudrate = 115200
terminator = "\\n"
encoding = "cp1258"

[pcsc]
reader = "ACS ACR1252"

[desk]
idle_lock_min = 0
language = "en"
hold_off_s = 4.5
"""


class MemoryKeyring(KeyringBackend):
    """A keyring that works, in memory (the test machine has only keyring's fail backend)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        self.entries.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(before)


@pytest.fixture
def no_keyring():
    """keyring's fail backend, as on a Linux box without Secret Service."""
    from keyring.backends import fail

    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


def test_new_sections_load_with_escapes(tmp_path):
    """GIVEN every new section with non-default values and TOML escapes
    WHEN the file loads THEN each value arrives typed, control characters included."""
    config = load_config(write(tmp_path, GOOD + NEW_SECTIONS))
    assert config.scanner == ScannerConfig(25.0, 8, "\x02", "\r\n")
    assert config.serial == SerialConfig("hwgrep://0c2e:0b61", 115200, "\n", "cp1258")
    assert config.pcsc == PcscConfig("ACS ACR1252")
    assert config.desk == DeskConfig(0, "en", 4.5)


def test_new_sections_have_the_documented_defaults(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert config.scanner == ScannerConfig(30.0, 6, "", "\r")
    assert config.serial == SerialConfig("", 9600, "\r", "utf-8")
    assert config.pcsc.reader == ""
    assert config.desk == DeskConfig(10, "vi", 10.0)


def test_every_section_round_trips_through_write_config(tmp_path):
    """GIVEN a configuration with every setting away from its default, control characters
    and Vietnamese text WHEN written and loaded again THEN it is equal, section by section."""
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    original = Config(
        gateway=GatewayConfig(
            url="https://egw.example.test:8443/api",
            username="01001_BV",
            password='p"\\w',
            officer_name="Nguyễn Thị Ánh",
            officer_id="001090000001",
            facility_code="79001",
            timeout_s=7.5,
            connect_timeout_s=1.5,
            ca_bundle=str(ca),
        ),
        store=StoreConfig(path=str(tmp_path / "d.db"), cache_max_age_h=12.0, retention_days=30),
        chip=cfg.ChipConfig(csca_dir=str(tmp_path)),
        camera=cfg.CameraConfig(source="replay:fixtures/videos/eligible-new.avi"),
        scanner=ScannerConfig(12.5, 10, "\x02", "\t\r\n"),
        serial=SerialConfig("loop://", 19200, "\r\n", "cp1258"),
        pcsc=PcscConfig("Virtual PCD"),
        desk=DeskConfig(30, "en", 0.0),
    )
    path = tmp_path / "out.toml"
    write_config(path, original)
    again = load_config(path)
    for section in cfg.SECTIONS:
        assert getattr(again, section) == getattr(original, section), section
    assert "\t" not in path.read_text(encoding="utf-8")  # written as \t, never raw


def test_write_config_replaces_the_file_whole_and_hides_a_password(tmp_path):
    path = tmp_path / "checkin.toml"
    write_config(path, Config(gateway=GatewayConfig(username="u", password="secret")))
    assert path.stat().st_mode & 0o077 == 0  # owner only: it holds a password
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[scanner]\nwedge_max_gap_ms = 0", "scanner.wedge_max_gap_ms", "between 1 and 500"),
        ("[scanner]\nwedge_min_length = 2.5", "scanner.wedge_min_length", "whole number"),
        ('[serial]\nurl = "ftp://x"', "serial.url", "pyserial URL"),
        ("[serial]\nbaudrate = 10", "serial.baudrate", "between 300"),
        ('[serial]\nterminator = "x"', "serial.terminator", "must be one of"),
        ('[serial]\nencoding = "klingon"', "serial.encoding", "known text encoding"),
        ("[pcsc]\nreader = 3", "pcsc.reader", "must be text"),
        ("[desk]\nidle_lock_min = -1", "desk.idle_lock_min", "between 0 and 480"),
        ('[desk]\nlanguage = "fr"', "desk.language", "'vi', 'en'"),
        ('[camera]\nsource = " "', "camera.source", "camera index"),
        ("[store]\nretention_days = 0", "store.retention_days", "between 1"),
        ('[gateway]\nca_bundle = "/nope.pem"', "gateway.ca_bundle", "file not found"),
    ],
)
def test_new_validation_messages_name_the_key(tmp_path, text, key, words):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    message = str(caught.value)
    assert message.startswith(key) and words in message
    assert "\n" not in message and caught.value.key == key


def test_a_store_path_that_cannot_be_the_store_still_loads_but_is_a_store_problem(tmp_path):
    """GIVEN a store path naming a folder WHEN the file is loaded THEN it loads (every other
    command, ``checkin doctor`` first, still works) and store_problems names the path, in
    both languages; a path not made yet, in a folder that can be written, is fine."""
    folder = tmp_path / "data"
    folder.mkdir()
    config = load_config(write(tmp_path, f'[store]\npath = "{folder}"\n'))
    assert problems(config) == []
    (found,) = cfg.store_problems(config)
    assert found.key == "store.path"
    assert found.message == f"store.path {folder} is a folder, not a file"
    assert found.phrase.vi.format(**found.values) == f"{folder} là thư mục, không phải tệp"
    fine = replace_store(config, tmp_path / "new" / "desk.db")
    assert cfg.store_problems(fine) == []
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda d: (d / "notes.txt").write_text("x") and d / "notes.txt" / "desk.db", "is under"),
        (lambda d: (d / "notes.txt").write_text("plain text") and d / "notes.txt", "not an SQLite"),
    ],
)
def test_store_problems_name_what_is_wrong(tmp_path, make, words):
    config = replace_store(Config(), make(tmp_path))
    (found,) = cfg.store_problems(config)
    assert words in found.message and str(config.store_path) in found.message


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_a_store_path_in_a_folder_this_user_cannot_write_is_a_store_problem(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        (found,) = cfg.store_problems(replace_store(Config(), folder / "sub" / "desk.db"))
    finally:
        folder.chmod(0o700)
    assert found.message.endswith(f"cannot be created: this user cannot write in {folder}")


def replace_store(config: Config, path: Path) -> Config:
    from dataclasses import replace

    return replace(config, store=replace(config.store, path=str(path)))


def test_problems_lists_every_bad_field_with_both_languages():
    """GIVEN three bad fields WHEN validated THEN each is named once, with Vietnamese for the
    dialog and English for the command line."""
    bad = Config(
        gateway=GatewayConfig(officer_id="123", url="http://egw.example.test"),
        desk=DeskConfig(idle_lock_min=999),
    )
    found = {p.key: p for p in problems(bad)}
    assert set(found) == {"gateway.url", "gateway.officer_id", "desk.idle_lock_min"}
    assert found["gateway.officer_id"].phrase.vi.startswith("Phải là số CCCD")
    assert found["desk.idle_lock_min"].message == (
        "desk.idle_lock_min must be between 0 and 480, got 999"
    )
    assert problems(Config()) == []


def test_every_field_is_declared_with_labels_in_both_languages():
    for section, cls in cfg.SECTIONS.items():
        for f in dataclass_fields(cls):
            s = cfg.setting_for(f"{section}.{f.name}")
            assert s.meta.label.en and s.meta.label.vi, s.key
            assert s.default == f.default
    assert len({p.vi for p in cfg.phrases()}) == len(cfg.phrases())  # one English per key


@pytest.mark.parametrize("raw", ["\r", "\r\n", "\t", "\x02AB\x03", "a\\b", "Tiếp", ""])
def test_escapes_round_trip(raw):
    assert unescape_text(escape_text(raw)) == raw


def test_escape_text_shows_control_characters():
    assert escape_text("\x02X\r\n") == "\\x02X\\r\\n"
    with pytest.raises(ValueError, match="unknown escape"):
        unescape_text("\\q")


def test_password_comes_from_the_keyring_when_the_file_has_none(
    tmp_path, monkeypatch, memory_keyring
):
    monkeypatch.delenv("CHECKIN_GATEWAY_PASSWORD", raising=False)
    text = GOOD.replace('password = "secret"\n', "")
    memory_keyring.set_password("checkin", "01001_BV", "from-keyring")
    path = write(tmp_path, text)
    assert load_config(path).gateway.password == "from-keyring"
    assert load_config(path, secrets=False).gateway.password == ""
    assert cfg.password_source(load_config(path)) == "keyring"
    monkeypatch.setenv("CHECKIN_GATEWAY_PASSWORD", "from-env")
    assert load_config(path).gateway.password == "from-env"  # the environment wins


def test_a_password_in_the_file_wins_over_the_keyring(tmp_path, monkeypatch, memory_keyring):
    monkeypatch.delenv("CHECKIN_GATEWAY_PASSWORD", raising=False)
    memory_keyring.set_password("checkin", "01001_BV", "from-keyring")
    config = load_config(write(tmp_path, GOOD))
    assert config.gateway.password == "secret"
    assert cfg.password_source(config) == "file"


def test_save_password_keeps_it_in_the_keyring(memory_keyring):
    cfg.save_password("01001_BV", "s3cret")
    assert memory_keyring.entries == {("checkin", "01001_BV"): "s3cret"}


def test_no_keyring_degrades_with_a_clear_message(tmp_path, monkeypatch, no_keyring):
    """GIVEN keyring's fail backend WHEN loading a file without a password THEN no crash and
    no password; WHEN saving one THEN KeyringUnavailable says what to do instead."""
    monkeypatch.delenv("CHECKIN_GATEWAY_PASSWORD", raising=False)
    config = load_config(write(tmp_path, GOOD.replace('password = "secret"\n', "")))
    assert config.gateway.password == ""
    assert "gateway.password" in missing_gateway_settings(config)
    assert not cfg.keyring_available()
    with pytest.raises(KeyringUnavailable) as caught:
        cfg.save_password("01001_BV", "s3cret")
    assert "CHECKIN_GATEWAY_PASSWORD" in str(caught.value)
    assert caught.value.problem.key == "gateway.password"
    with pytest.raises(KeyringUnavailable, match="username"):
        cfg.save_password("", "s3cret")


def test_a_relative_store_path_is_taken_from_the_configuration_files_folder(tmp_path):
    """The desk may be started from a shortcut, a service or any terminal: ``path =
    "desk.db"`` means next to the configuration file, whatever the current folder."""
    folder = tmp_path / "etc"
    folder.mkdir()
    path = folder / "checkin.toml"
    path.write_text('[store]\npath = "data/desk.db"\n', encoding="utf-8")
    assert load_config(path, secrets=False).store_path == folder / "data" / "desk.db"
    path.write_text(f'[store]\npath = "{tmp_path / "abs.db"}"\n', encoding="utf-8")
    assert load_config(path, secrets=False).store_path == tmp_path / "abs.db"
    path.write_text('[store]\npath = "~/desk.db"\n', encoding="utf-8")
    assert load_config(path, secrets=False).store_path == Path.home() / "desk.db"
