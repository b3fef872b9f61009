"""The TOML configuration: defaults, validation with clear messages, secrets from the env."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkin.config import (
    Config,
    ConfigError,
    GatewayConfig,
    StoreConfig,
    load_config,
    missing_gateway_settings,
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
    assert config.store_path == Path("desk.db")
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
