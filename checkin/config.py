"""The TOML configuration file (see README and docs/cli-contract.md).

Found, in order: ``--config FILE``, the ``CHECKIN_CONFIG`` environment variable, then the
platform's user config folder (``~/.config/checkin/checkin.toml``). A missing default file
means defaults; a named file that is missing or wrong is a :class:`ConfigError` with one line
that says which key is wrong and why.

The gateway password may also come from ``CHECKIN_GATEWAY_PASSWORD`` so that no secret has to
sit in a file.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from checkin.model import Officer

ENV_CONFIG = "CHECKIN_CONFIG"
ENV_PASSWORD = "CHECKIN_GATEWAY_PASSWORD"


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key and the fix."""


@dataclass(frozen=True)
class GatewayConfig:
    url: str = "http://127.0.0.1:8765"
    username: str = ""
    password: str = ""
    officer_name: str = ""
    officer_id: str = ""
    facility_code: str = ""
    timeout_s: float = 5.0
    connect_timeout_s: float = 3.0
    ca_bundle: str | None = None  # PEM file to trust instead of the system store

    @property
    def officer(self) -> Officer:
        return Officer(name=self.officer_name, citizen_id=self.officer_id)

    @property
    def verify(self) -> bool | str:
        """What ``requests`` gets as ``verify=`` on every call (never False)."""
        return self.ca_bundle or True


@dataclass(frozen=True)
class StoreConfig:
    path: str = ""
    cache_max_age_h: float = 72.0  # older cached answers are not shown
    retention_days: int = 90  # cached answers older than this are purged


@dataclass(frozen=True)
class ChipConfig:
    csca_dir: str | None = None


@dataclass(frozen=True)
class CameraConfig:
    source: str = "0"  # device index, file, URL, or "replay:PATH"


@dataclass(frozen=True)
class Config:
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    chip: ChipConfig = field(default_factory=ChipConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    source_path: Path | None = None

    @property
    def store_path(self) -> Path:
        return Path(self.store.path) if self.store.path else default_data_dir() / "checkin.db"


def default_config_path() -> Path:
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home()))
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / "checkin" / "checkin.toml"


def default_data_dir() -> Path:
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home()))
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "checkin"


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate the configuration; see the module docstring for the search order."""
    named = path or os.environ.get(ENV_CONFIG)
    if named:
        file = Path(named)
        if not file.is_file():
            raise ConfigError(f"configuration file not found: {file}")
    else:
        file = default_config_path()
        if not file.is_file():
            return _with_env(Config())
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read configuration {file}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration {file} is not valid TOML: {exc}") from None
    config = config_from_dict(data)
    return _with_env(replace(config, source_path=file))


def config_from_dict(data: dict) -> Config:
    sections = {
        "gateway": GatewayConfig,
        "store": StoreConfig,
        "chip": ChipConfig,
        "camera": CameraConfig,
    }
    unknown = set(data) - set(sections)
    if unknown:
        raise ConfigError(f"unknown configuration section [{sorted(unknown)[0]}]")
    built = {name: _section(name, cls, data.get(name, {})) for name, cls in sections.items()}
    config = Config(**built)
    validate(config)
    return config


def _section(name: str, cls: type, values: object) -> object:
    if not isinstance(values, dict):
        raise ConfigError(f"[{name}] must be a table")
    fields = cls.__dataclass_fields__
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"unknown key {name}.{key}")
        expected = fields[key].type
        if not _type_ok(value, str(expected)):
            raise ConfigError(f"{name}.{key} must be {_describe(str(expected))}, got {value!r}")
    return cls(**{k: (float(v) if _is_float(fields[k].type) else v) for k, v in values.items()})


def _is_float(annotation: object) -> bool:
    return str(annotation) == "float"


def _type_ok(value: object, expected: str) -> bool:
    if isinstance(value, bool):
        return expected == "bool"
    if expected == "float":
        return isinstance(value, int | float)
    if expected == "int":
        return isinstance(value, int)
    if expected == "str":
        return isinstance(value, str)
    if expected == "str | None":
        return value is None or isinstance(value, str)
    return True


def _describe(expected: str) -> str:
    return {"float": "a number", "int": "a whole number", "str": "text"}.get(expected, "text")


def validate(config: Config) -> None:
    gw = config.gateway
    parts = urlsplit(gw.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"gateway.url must be an http(s) URL, got {gw.url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError("gateway.url must use https (plain http is allowed only on loopback)")
    if parts.query or parts.username or parts.password:
        raise ConfigError("gateway.url must not carry credentials or a query string")
    if gw.officer_id and not (gw.officer_id.isdigit() and len(gw.officer_id) == 12):
        raise ConfigError("gateway.officer_id must be the officer's 12-digit citizen ID")
    if gw.facility_code and len(gw.facility_code) != 5:
        raise ConfigError("gateway.facility_code must have 5 characters, e.g. 01001")
    if gw.timeout_s <= 0 or gw.connect_timeout_s <= 0:
        raise ConfigError("gateway.timeout_s and connect_timeout_s must be positive")
    if gw.ca_bundle and not Path(gw.ca_bundle).is_file():
        raise ConfigError(f"gateway.ca_bundle file not found: {gw.ca_bundle}")
    if config.store.cache_max_age_h <= 0 or config.store.retention_days <= 0:
        raise ConfigError("store.cache_max_age_h and store.retention_days must be positive")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _with_env(config: Config) -> Config:
    password = os.environ.get(ENV_PASSWORD)
    if password:
        return replace(config, gateway=replace(config.gateway, password=password))
    return config


def missing_gateway_settings(config: Config) -> list[str]:
    """Names of the settings a lookup cannot do without (the gateway rejects lookups without
    the officer's name and citizen ID)."""
    gw = config.gateway
    wanted = {
        "gateway.username": gw.username,
        "gateway.password": gw.password,
        "gateway.officer_name": gw.officer_name,
        "gateway.officer_id": gw.officer_id,
    }
    return [name for name, value in wanted.items() if not value]


def write_config(path: Path, config: Config) -> None:
    """Write a configuration file (used by the demo; IT edits the file by hand or in Settings)."""
    lines = []
    for section in ("gateway", "store", "chip", "camera"):
        values = getattr(config, section)
        lines.append(f"[{section}]")
        for key in values.__dataclass_fields__:
            value = getattr(values, key)
            if value is None:
                continue
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
