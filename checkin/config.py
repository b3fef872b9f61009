"""The TOML configuration file (see README and docs/cli-contract.md).

Found, in order: ``--config FILE``, the ``CHECKIN_CONFIG`` environment variable, then the
platform's user config folder (``~/.config/checkin/checkin.toml``). A missing default file
means defaults; a named file that is missing or wrong is a :class:`ConfigError` with one line
that says which key is wrong and why.

Every setting is declared once, as a dataclass field made by :func:`setting`: its default, its
label and help text (Vietnamese and English, see :class:`Phrase`), its range or choices and its
rules. That one declaration drives loading (types), validation (:func:`problems`, one line per
problem naming the key), the IT settings dialog (``ui/settings.py`` builds its editors from
:func:`settings`) and the dialog's English catalog (:func:`phrases`).

The gateway password, in order: the ``CHECKIN_GATEWAY_PASSWORD`` environment variable, the
``password`` key of the file, then the system keyring (service ``checkin``, the gateway username
as the key), so that no secret has to sit in a file. Without a usable keyring (a Linux box with
no Secret Service gets keyring's ``fail`` backend) the password is simply not found there;
:func:`save_password` then raises :class:`KeyringUnavailable` with a message saying what to do.
"""

from __future__ import annotations

import codecs
import contextlib
import ipaddress
import os
import re
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from checkin.model import Officer

ENV_CONFIG = "CHECKIN_CONFIG"
ENV_PASSWORD = "CHECKIN_GATEWAY_PASSWORD"
KEYRING_SERVICE = "checkin"
WINDOWS_CREDENTIAL_MAX_BYTES = 2560  # Credential Locker's limit (platform.md §8), UTF-16


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key and the fix.

    ``key`` is the setting at fault (``"gateway.url"``), or None for the file as a whole.
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Phrase:
    """One text in both languages: ``en`` for the command line and logs, ``vi`` for the desk.

    The desk shows ``ui.i18n.tr(phrase.vi, **values)``; the English catalog of the settings
    and diagnostics screens is built from every declared phrase (``ui/lang_en_it.py``), so the
    two languages are written side by side, once. ``{name}`` fields are filled by ``format``.
    """

    en: str
    vi: str

    def format(self, **values: object) -> str:
        """The English text with its fields filled."""
        return self.en.format(**values) if values else self.en


@dataclass(frozen=True)
class Rule:
    """A condition a value must meet, and what to say when it does not (after the key)."""

    ok: Callable[[Any], bool]
    says: Phrase


@dataclass(frozen=True)
class Meta:
    """What :func:`setting` records about a field besides its type and default."""

    label: Phrase
    help: Phrase | None = None
    rules: tuple[Rule, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[tuple[str, Phrase], ...] = ()  # (value, label)
    secret: bool = False  # a password: masked in the dialog, kept in the keyring
    escapes: bool = False  # may hold control characters, shown and typed as \r \n \t \xNN
    path: str | None = None  # "file" | "folder" | "save": the dialog offers a file picker


_SETTING = "checkin.setting"


def setting(
    default: Any,
    *,
    label: Phrase,
    help: Phrase | None = None,
    rules: tuple[Rule, ...] = (),
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[tuple[str, Phrase], ...] = (),
    secret: bool = False,
    escapes: bool = False,
    path: str | None = None,
) -> Any:
    """A dataclass field carrying its declaration (see :class:`Meta`)."""
    meta = Meta(label, help, rules, minimum, maximum, choices, secret, escapes, path)
    return field(default=default, metadata={_SETTING: meta})


@dataclass(frozen=True)
class Setting:
    """One declared setting, as the validator and the settings dialog see it."""

    section: str
    name: str
    type_name: str  # "str", "int", "float" or "str | None"
    default: Any
    meta: Meta

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def optional(self) -> bool:
        return self.type_name.endswith("| None")


@dataclass(frozen=True)
class Problem:
    """A setting that does not meet a rule: ``message`` for the command line (one line naming
    the key), ``phrase.vi`` with ``values`` for the field in the settings dialog."""

    key: str
    phrase: Phrase
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return f"{self.key} {self.phrase.format(**self.values)}"


# -- rules used by the declarations ----------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _http_url(url: str) -> bool:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _https_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return not _http_url(url) or parts.scheme == "https" or _is_loopback(parts.hostname or "")


def _no_credentials(url: str) -> bool:
    parts = urlsplit(url)
    return not (parts.query or parts.username or parts.password)


def _known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


# pyserial's URL handlers (serial/urlhandler/protocol_*.py) and the scanner driver's replay.
SERIAL_URL_SCHEMES = ("loop", "spy", "hwgrep", "socket", "rfc2217", "alt", "cp2110")


def _serial_url(url: str) -> bool:
    if "://" not in url:
        return not url or url == url.strip()
    return url.split("://", 1)[0] in SERIAL_URL_SCHEMES


# -- the sections ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayConfig:
    url: str = setting(
        "http://127.0.0.1:8765",
        label=Phrase("Gateway URL", "Địa chỉ cổng BHXH (URL)"),
        help=Phrase(
            "https://… of the insurance gateway; plain http only to this machine (sandbox)",
            "https://… của cổng giám định BHYT; http chỉ dùng cho máy này (sandbox)",
        ),
        rules=(
            Rule(
                _http_url,
                Phrase("must be an http(s) URL, got {value!r}", "Phải là địa chỉ http(s)://…"),
            ),
            Rule(
                _https_or_loopback,
                Phrase(
                    "must use https (plain http is allowed only on loopback)",
                    "Phải dùng https (http chỉ dùng được với 127.0.0.1 hoặc localhost)",
                ),
            ),
            Rule(
                _no_credentials,
                Phrase(
                    "must not carry credentials or a query string",
                    "Không được chứa tên đăng nhập, mật khẩu hay chuỗi truy vấn (?…)",
                ),
            ),
        ),
    )
    username: str = setting(
        "",
        label=Phrase("Gateway username", "Tên đăng nhập cổng"),
        help=Phrase(
            "the hospital's gateway account issued by BHXH, e.g. 01001_BV",
            "Tài khoản cổng giám định do BHXH cấp, ví dụ 01001_BV",
        ),
    )
    password: str = setting(
        "",
        label=Phrase("Gateway password", "Mật khẩu cổng"),
        help=Phrase(
            "kept in the system keyring, not in this file",
            "Được giữ trong kho khóa của hệ thống, không ghi vào tệp cấu hình",
        ),
        secret=True,
    )
    officer_name: str = setting(
        "",
        label=Phrase("Default officer name", "Họ tên cán bộ (mặc định)"),
        help=Phrase(
            "sent with every lookup (hoTenCb) until an officer signs in",
            "Gửi kèm mỗi lần tra cứu (hoTenCb) khi chưa có cán bộ đăng nhập",
        ),
    )
    officer_id: str = setting(
        "",
        label=Phrase("Default officer citizen ID", "Số CCCD cán bộ (mặc định)"),
        help=Phrase("12 digits (cccdCb)", "12 chữ số (cccdCb)"),
        rules=(
            Rule(
                lambda v: not v or (v.isascii() and v.isdigit() and len(v) == 12),
                Phrase(
                    "must be the officer's 12-digit citizen ID",
                    "Phải là số CCCD 12 chữ số của cán bộ",
                ),
            ),
        ),
    )
    facility_code: str = setting(
        "",
        label=Phrase("Facility code", "Mã cơ sở KCB"),
        help=Phrase(
            "this hospital's 5-character code (maCSKCB)", "Mã 5 ký tự của bệnh viện (maCSKCB)"
        ),
        rules=(
            Rule(
                lambda v: not v or len(v) == 5,
                Phrase("must have 5 characters, e.g. 01001", "Phải có 5 ký tự, ví dụ 01001"),
            ),
        ),
    )
    timeout_s: float = setting(
        5.0,
        label=Phrase("Answer timeout (s)", "Thời gian chờ trả lời (giây)"),
        minimum=0.1,
        maximum=600,
    )
    connect_timeout_s: float = setting(
        3.0,
        label=Phrase("Connect timeout (s)", "Thời gian chờ kết nối (giây)"),
        minimum=0.1,
        maximum=600,
    )
    ca_bundle: str | None = setting(  # PEM file to trust instead of the system store
        None,
        label=Phrase("Private CA certificate (PEM)", "Chứng chỉ CA riêng (tệp PEM)"),
        help=Phrase(
            "empty: the system's trusted certificates",
            "Để trống: dùng chứng chỉ tin cậy của hệ thống",
        ),
        rules=(
            Rule(
                lambda v: not v or Path(v).is_file(),
                Phrase("file not found: {value}", "Không tìm thấy tệp: {value}"),
            ),
        ),
        path="file",
    )

    @property
    def officer(self) -> Officer:
        return Officer(name=self.officer_name, citizen_id=self.officer_id)

    @property
    def verify(self) -> bool | str:
        """What ``requests`` gets as ``verify=`` on every call (never False)."""
        return self.ca_bundle or True


@dataclass(frozen=True)
class StoreConfig:
    path: str = setting(
        "",
        label=Phrase("Database file", "Tệp dữ liệu (SQLite)"),
        help=Phrase(
            "empty: checkin.db in the user's data folder",
            "Để trống: checkin.db trong thư mục dữ liệu của người dùng",
        ),
        path="save",
    )
    cache_max_age_h: float = setting(  # older cached answers are not shown
        72.0,
        label=Phrase("Use saved answers up to (hours)", "Dùng kết quả đã lưu tối đa (giờ)"),
        help=Phrase(
            "when the gateway is down, older answers are not used",
            "Khi cổng BHXH không trả lời, kết quả cũ hơn sẽ không được dùng",
        ),
        minimum=0.1,
        maximum=8760,
    )
    retention_days: int = setting(  # cached answers older than this are purged
        90,
        label=Phrase("Keep saved answers (days)", "Giữ kết quả tra cứu (ngày)"),
        help=Phrase(
            "older answers are deleted; the audit log stays",
            "Kết quả cũ hơn sẽ bị xóa; nhật ký tra cứu được giữ lại",
        ),
        minimum=1,
        maximum=3650,
    )


@dataclass(frozen=True)
class ChipConfig:
    csca_dir: str | None = setting(
        None,
        label=Phrase("CSCA certificates folder", "Thư mục chứng chỉ CSCA"),
        help=Phrase(
            "trusted country-signing certificates, to verify the chip",
            "Chứng chỉ gốc để xác thực chip CCCD (không bắt buộc)",
        ),
        path="folder",
    )


@dataclass(frozen=True)
class CameraConfig:
    source: str = setting(  # device index, file, URL, or "replay:PATH"
        "0",
        label=Phrase("Camera", "Camera"),
        help=Phrase(
            "a camera number (0, 1…), a video file, a stream URL or replay:FILE",
            "Số thứ tự camera (0, 1…), tệp video, địa chỉ luồng hoặc replay:TỆP",
        ),
        rules=(
            Rule(
                lambda v: bool(v.strip()),
                Phrase(
                    "must name a camera index, a file, a URL or replay:FILE",
                    "Hãy chọn một camera, một tệp hoặc một địa chỉ",
                ),
            ),
        ),
    )
    decode_fps: float = setting(
        10.0,
        label=Phrase("QR reads per second", "Số lần đọc mã QR mỗi giây"),
        help=Phrase(
            "frames given to the QR decoder each second; lower it on a slow computer",
            "Số khung hình đưa vào đọc mã mỗi giây; giảm xuống nếu máy tính chậm",
        ),
        minimum=1,
        maximum=60,
    )
    decoder: str = setting(  # checkin.qr.DECODERS; the other one is used if this cannot load
        "zxing",
        label=Phrase("QR decoder", "Bộ giải mã QR"),
        help=Phrase(
            "zxing-cpp reads more codes; ZBar is the fallback (used anyway if zxing-cpp is"
            " missing)",
            "zxing-cpp đọc được nhiều mã hơn; ZBar là phương án dự phòng (tự dùng khi máy"
            " không có zxing-cpp)",
        ),
        choices=(
            ("zxing", Phrase("zxing-cpp (recommended)", "zxing-cpp (khuyên dùng)")),
            ("zbar", Phrase("ZBar (fallback)", "ZBar (dự phòng)")),
        ),
    )


@dataclass(frozen=True)
class ScannerConfig:
    """The keyboard-wedge scanner (a scanner that types like a keyboard)."""

    wedge_max_gap_ms: float = setting(
        30.0,
        label=Phrase(
            "Longest gap between scanner keys (ms)",
            "Khoảng cách tối đa giữa hai phím của máy quét (ms)",
        ),
        help=Phrase(
            "keys closer than this are one scan; people type slower",
            "Các phím cách nhau ít hơn mức này được coi là một lần quét",
        ),
        minimum=1,
        maximum=500,
    )
    wedge_min_length: int = setting(
        6,
        label=Phrase("Shortest scan (characters)", "Độ dài tối thiểu một lần quét (ký tự)"),
        minimum=1,
        maximum=200,
    )
    prefix: str = setting(
        "",
        label=Phrase("Prefix", "Tiền tố"),
        help=Phrase(
            "characters the scanner sends before each code (\\x02 …)",
            "Ký tự máy quét gửi trước mỗi mã (\\x02 …)",
        ),
        escapes=True,
    )
    suffix: str = setting(
        "\r",
        label=Phrase("Suffix", "Hậu tố"),
        help=Phrase(
            "what ends each code: \\r is Enter, \\t is Tab",
            "Ký tự kết thúc mỗi mã: \\r là Enter, \\t là Tab",
        ),
        escapes=True,
    )


_TERMINATORS = (
    ("\r", Phrase("CR (\\r, Enter)", "CR (\\r, Enter)")),
    ("\n", Phrase("LF (\\n)", "LF (\\n)")),
    ("\r\n", Phrase("CR LF (\\r\\n)", "CR LF (\\r\\n)")),
    ("", Phrase("none: a pause ends the code", "Không có: mã kết thúc khi ngừng gửi")),
)


@dataclass(frozen=True)
class SerialConfig:
    """A scanner on a serial or USB virtual COM port (pyserial URL)."""

    url: str = setting(
        "",
        label=Phrase("Port", "Cổng COM"),
        help=Phrase(
            "empty: no serial scanner. COM3, /dev/ttyACM0, hwgrep://0c2e:0b61 …",
            "Để trống nếu không dùng. Ví dụ COM3, /dev/ttyACM0, hwgrep://0c2e:0b61",
        ),
        rules=(
            Rule(
                _serial_url,
                Phrase(
                    "must be a port name or a pyserial URL (loop://, spy://, hwgrep://,"
                    " socket://, rfc2217://), got {value!r}",
                    "Phải là tên cổng hoặc URL pyserial (hwgrep://, spy://, socket://…)",
                ),
            ),
        ),
    )
    baudrate: int = setting(
        9600,
        label=Phrase("Baud rate", "Tốc độ (baud)"),
        minimum=300,
        maximum=4_000_000,
    )
    terminator: str = setting(
        "\r",
        label=Phrase("Terminator", "Ký tự kết thúc"),
        choices=_TERMINATORS,
        escapes=True,
    )
    encoding: str = setting(
        "utf-8",
        label=Phrase("Encoding", "Bảng mã"),
        help=Phrase("utf-8 for CCCD and BHYT codes", "utf-8 cho mã CCCD và BHYT"),
        rules=(
            Rule(
                _known_codec,
                Phrase(
                    "must be a known text encoding such as utf-8, got {value!r}",
                    "Bảng mã không tồn tại",
                ),
            ),
        ),
    )


@dataclass(frozen=True)
class PcscConfig:
    reader: str = setting(
        "",
        label=Phrase("Chip reader", "Đầu đọc thẻ chip"),
        help=Phrase(
            "a reader name or part of it; empty: the first reader holding a card",
            "Tên đầu đọc hoặc một phần tên; để trống: đầu đọc đầu tiên có thẻ",
        ),
    )


@dataclass(frozen=True)
class DeskConfig:
    idle_lock_min: int = setting(
        10,
        label=Phrase("Lock after idle (minutes)", "Tự khóa sau (phút không thao tác)"),
        help=Phrase("0: never lock", "0: không tự khóa"),
        minimum=0,
        maximum=480,
    )
    language: str = setting(
        "vi",
        label=Phrase("Language", "Ngôn ngữ"),
        choices=(("vi", Phrase("Tiếng Việt", "Tiếng Việt")), ("en", Phrase("English", "English"))),
    )
    hold_off_s: float = setting(
        10.0,
        label=Phrase("Ignore the same code again for (s)", "Bỏ qua mã vừa quét trong (giây)"),
        help=Phrase(
            "a code held in front of the camera is taken once",
            "Mã để lâu trước camera chỉ được nhận một lần",
        ),
        minimum=0,
        maximum=600,
    )


@dataclass(frozen=True)
class Config:
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    chip: ChipConfig = field(default_factory=ChipConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    scanner: ScannerConfig = field(default_factory=ScannerConfig)
    serial: SerialConfig = field(default_factory=SerialConfig)
    pcsc: PcscConfig = field(default_factory=PcscConfig)
    desk: DeskConfig = field(default_factory=DeskConfig)
    source_path: Path | None = None

    @property
    def store_path(self) -> Path:
        """``[store] path``; a relative one is taken from the configuration file's folder (the
        desk may be started from anywhere: a shortcut, a service, a terminal)."""
        if not self.store.path:
            return default_data_dir() / "checkin.db"
        path = Path(self.store.path).expanduser()
        if not path.is_absolute() and self.source_path is not None:
            return Path(self.source_path).parent / path
        return path


SECTIONS: dict[str, type] = {
    "gateway": GatewayConfig,
    "store": StoreConfig,
    "chip": ChipConfig,
    "camera": CameraConfig,
    "scanner": ScannerConfig,
    "serial": SerialConfig,
    "pcsc": PcscConfig,
    "desk": DeskConfig,
}

_TYPE_PHRASES = {
    "float": Phrase("must be a number, got {value!r}", "Phải là một số"),
    "int": Phrase("must be a whole number, got {value!r}", "Phải là một số nguyên"),
    "str": Phrase("must be text, got {value!r}", "Phải là văn bản"),
    "str | None": Phrase("must be text, got {value!r}", "Phải là văn bản"),
}
_RANGE = Phrase(
    "must be between {minimum:g} and {maximum:g}, got {value!r}",
    "Phải từ {minimum:g} đến {maximum:g}",
)
_CHOICE = Phrase("must be one of {choices}, got {value!r}", "Phải là một trong: {choices}")


def _declare() -> tuple[Setting, ...]:
    found = []
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            meta = f.metadata.get(_SETTING)
            if meta is None:  # pragma: no cover - every section field is declared
                raise TypeError(f"{section}.{f.name} is not declared with setting()")
            default = f.default if f.default is not MISSING else None
            found.append(Setting(section, f.name, str(f.type), default, meta))
    return tuple(found)


SETTINGS: tuple[Setting, ...] = _declare()
_BY_KEY = {s.key: s for s in SETTINGS}


def settings(section: str | None = None) -> list[Setting]:
    """The declared settings, in file order (of one section when named)."""
    return [s for s in SETTINGS if section is None or s.section == section]


def setting_for(key: str) -> Setting:
    """The declaration of ``"section.name"`` (KeyError when there is none)."""
    return _BY_KEY[key]


def phrases() -> list[Phrase]:
    """Every text this module can show: labels, help, choices and problem messages."""
    from checkin.store_path import PHRASES as STORE_PATH_PHRASES

    found: list[Phrase] = [*_TYPE_PHRASES.values(), _RANGE, _CHOICE, *_KEYRING_PHRASES]
    found += [_GATEWAY_UNSET, _NO_PASSWORD]
    found += STORE_PATH_PHRASES
    for s in SETTINGS:
        found.append(s.meta.label)
        if s.meta.help:
            found.append(s.meta.help)
        found += [r.says for r in s.meta.rules]
        found += [label for _, label in s.meta.choices]
    return list(dict.fromkeys(found))


# -- loading ---------------------------------------------------------------------------------


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


def config_file(path: str | Path | None = None) -> Path:
    """The file :func:`load_config` reads for ``path`` (which may not exist yet)."""
    named = path or os.environ.get(ENV_CONFIG)
    return Path(named) if named else default_config_path()


def load_config(path: str | Path | None = None, *, secrets: bool = True) -> Config:
    """Load and validate the configuration; see the module docstring for the search order.

    ``secrets=False`` gives the file as written: no password from the environment or the
    keyring (the settings dialog edits that, and must not copy a secret into the file).
    """
    named = path or os.environ.get(ENV_CONFIG)
    file = config_file(path)
    if not file.is_file():
        if named:
            raise ConfigError(f"configuration file not found: {file}")
        config = Config()
    else:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read configuration {file}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration {file} is not valid TOML: {exc}") from None
        config = replace(config_from_dict(data), source_path=file)
    return _with_secrets(config) if secrets else config


def config_from_dict(data: dict) -> Config:
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise ConfigError(f"unknown configuration section [{sorted(unknown)[0]}]")
    built = {name: _section(name, cls, data.get(name, {})) for name, cls in SECTIONS.items()}
    config = Config(**built)
    validate(config)
    return config


def _section(name: str, cls: type, values: object) -> object:
    if not isinstance(values, dict):
        raise ConfigError(f"[{name}] must be a table", key=name)
    declared = {f.name: str(f.type) for f in fields(cls)}
    for key, value in values.items():
        if key not in declared:
            raise ConfigError(f"unknown key {name}.{key}", key=f"{name}.{key}")
        if not _type_ok(value, declared[key]):
            secret = any(s.meta.secret for s in SETTINGS if s.key == f"{name}.{key}")
            shown = _Hidden() if secret else value  # a password never reaches a message
            problem = Problem(f"{name}.{key}", _TYPE_PHRASES[declared[key]], {"value": shown})
            raise ConfigError(problem.message, key=problem.key)
    return cls(**{k: (float(v) if declared[k] == "float" else v) for k, v in values.items()})


class _Hidden:
    """Stands for a secret value in a message: ``{value!r}`` shows ``<hidden>``."""

    def __repr__(self) -> str:
        return "<hidden>"


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


# -- validation ------------------------------------------------------------------------------


def problems(config: Config) -> list[Problem]:
    """Every rule the configuration breaks, in declaration order (empty when it is good)."""
    found = []
    for s in SETTINGS:
        value = getattr(getattr(config, s.section), s.name)
        problem = check_value(s, value)
        if problem is not None:
            found.append(problem)
    return found


def check_value(s: Setting, value: Any) -> Problem | None:
    """The first rule ``value`` breaks as setting ``s``, or None."""
    if value is None:
        return None if s.optional else Problem(s.key, _TYPE_PHRASES[s.type_name], {"value": None})
    if not _type_ok(value, s.type_name):
        return Problem(s.key, _TYPE_PHRASES[s.type_name], {"value": value})
    meta = s.meta
    if isinstance(value, int | float) and (
        (meta.minimum is not None and value < meta.minimum)
        or (meta.maximum is not None and value > meta.maximum)
    ):
        bounds = {"minimum": meta.minimum, "maximum": meta.maximum}
        return Problem(s.key, _RANGE, {**bounds, "value": value})
    if meta.choices and value not in [v for v, _ in meta.choices]:
        listed = ", ".join(repr(v) for v, _ in meta.choices)
        return Problem(s.key, _CHOICE, {"choices": listed, "value": value})
    for rule in meta.rules:
        if not rule.ok(value):
            return Problem(s.key, rule.says, {"value": value})
    return None


def store_problems(config: Config) -> list[Problem]:
    """What makes the store path unusable on this machine: a folder, a path under a regular
    file or in a folder this user cannot write, a file that is not a checkin database (one
    :class:`Problem` on ``store.path`` whose message names the path), else empty.

    Checked by the settings dialog before saving and by the desk before opening, not by
    :func:`load_config`: a store path that went bad (a disk unplugged, a file replaced) must
    not stop the other commands from loading the file, and ``checkin doctor`` says what is
    wrong with it."""
    from checkin.store_path import check_store_path

    found = check_store_path(config.store_path)
    return [] if found is None else [Problem("store.path", found.phrase, found.values)]


def validate(config: Config) -> None:
    """Raise :class:`ConfigError` for the first problem (one line naming the key)."""
    found = problems(config)
    if found:
        raise ConfigError(found[0].message, key=found[0].key)


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


_GATEWAY_UNSET = Phrase(
    "gateway not configured: set {names} in Settings → Gateway or in {path}",
    "Chưa cấu hình cổng BHXH: nhập {names} trong Cài đặt → Cổng BHXH hoặc trong tệp {path}",
)
_NO_PASSWORD = Phrase(
    "no gateway password: set it in Settings → Gateway (kept in the system keyring), or"
    " CHECKIN_GATEWAY_PASSWORD, or gateway.password in {path}",
    "Chưa có mật khẩu cổng BHXH: nhập trong Cài đặt → Cổng BHXH (lưu trong kho khóa hệ thống),"
    " hoặc biến môi trường CHECKIN_GATEWAY_PASSWORD, hoặc gateway.password trong tệp {path}",
)


def gateway_settings_message(config: Config, missing: list[str] | None = None) -> str:
    """One line saying where to set the ``missing`` gateway settings (default: those
    :func:`missing_gateway_settings` finds), naming the configuration file; the password
    with its safer places first. Empty when nothing is missing."""
    missing = missing_gateway_settings(config) if missing is None else missing
    path = config.source_path or config_file()
    others = [name for name in missing if name != "gateway.password"]
    parts = [_GATEWAY_UNSET.format(names=", ".join(others), path=path)] if others else []
    if "gateway.password" in missing:
        parts.append(_NO_PASSWORD.format(path=path))
    return "; ".join(parts)


# -- the password: environment, file, keyring ------------------------------------------------

_NO_KEYRING = Phrase(
    "no system keyring is available ({backend}): the password was not saved. Set"
    " CHECKIN_GATEWAY_PASSWORD for the desk, or choose to keep it in the configuration file",
    "Máy này không có kho khóa hệ thống ({backend}) nên chưa lưu được mật khẩu. Hãy đặt biến"
    " môi trường CHECKIN_GATEWAY_PASSWORD, hoặc chọn lưu mật khẩu vào tệp cấu hình",
)
_KEYRING_FAILED = Phrase(
    "the system keyring refused the password: {reason}",
    "Kho khóa hệ thống không nhận mật khẩu: {reason}",
)
_KEYRING_TOO_LONG = Phrase(
    "the password is too long for the Windows Credential Locker (at most {limit} bytes)",
    "Mật khẩu quá dài đối với kho khóa Windows (tối đa {limit} byte)",
)
_KEYRING_NO_USER = Phrase(
    "set the gateway username first: the keyring keeps the password under it",
    "Hãy nhập tên đăng nhập cổng trước: mật khẩu được lưu theo tên đăng nhập",
)
_KEYRING_PHRASES = (_NO_KEYRING, _KEYRING_FAILED, _KEYRING_TOO_LONG, _KEYRING_NO_USER)


class KeyringUnavailable(RuntimeError):
    """The password could not be kept in the system keyring; ``problem`` says why, in both
    languages (the settings dialog shows it next to the password field)."""

    def __init__(self, phrase: Phrase, **values: object) -> None:
        self.problem = Problem("gateway.password", phrase, dict(values))
        super().__init__(phrase.format(**values))


def keyring_backend() -> tuple[Any | None, str]:
    """The usable keyring backend, or None, and a name for it (for messages)."""
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception as exc:  # import errors, broken backend configuration
        return None, type(exc).__name__
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
        return None, name
    chained = getattr(backend, "backends", None)
    if chained is not None and not chained:
        return None, name
    return backend, name


def keyring_available() -> bool:
    return keyring_backend()[0] is not None


def password_from_keyring(username: str) -> str | None:
    """The gateway password kept for ``username``, or None (no keyring, nothing kept, or the
    keyring failed: a missing password is reported later, never a crash here)."""
    backend, _ = keyring_backend()
    if backend is None or not username:
        return None
    try:
        return backend.get_password(KEYRING_SERVICE, username) or None
    except Exception:
        return None


def save_password(username: str, password: str) -> None:
    """Keep ``password`` in the system keyring under ``username``; KeyringUnavailable else."""
    if not username:
        raise KeyringUnavailable(_KEYRING_NO_USER)
    backend, name = keyring_backend()
    if backend is None:
        raise KeyringUnavailable(_NO_KEYRING, backend=name)
    limit = WINDOWS_CREDENTIAL_MAX_BYTES
    if sys.platform == "win32" and len(password.encode("utf-16-le")) > limit:
        raise KeyringUnavailable(_KEYRING_TOO_LONG, limit=limit)
    try:
        backend.set_password(KEYRING_SERVICE, username, password)
    except Exception as exc:  # PasswordSetError, "The stub received bad data", D-Bus errors
        raise KeyringUnavailable(_KEYRING_FAILED, reason=str(exc) or type(exc).__name__) from None


def password_source(config: Config) -> str:
    """Where the gateway password of a loaded config came from: ``"environment"``, ``"file"``,
    ``"keyring"`` or ``"none"`` (for diagnostics)."""
    if os.environ.get(ENV_PASSWORD):
        return "environment"
    if not config.gateway.password:
        return "none"
    if config.source_path is not None:
        with contextlib.suppress(ConfigError):
            if load_config(config.source_path, secrets=False).gateway.password:
                return "file"
    return "keyring"


def _with_secrets(config: Config) -> Config:
    password = os.environ.get(ENV_PASSWORD)
    if not password and not config.gateway.password:
        password = password_from_keyring(config.gateway.username)
    if password:
        return replace(config, gateway=replace(config.gateway, password=password))
    return config


# -- writing ---------------------------------------------------------------------------------


def write_config(path: Path, config: Config) -> None:
    """Write a configuration file (the demo and the settings dialog do; IT may edit by hand).

    The file is replaced whole and at once (never half-written); comments are not kept. A file
    holding a password is made readable by its owner only (POSIX).
    """
    path = Path(path)
    lines = []
    for section, cls in SECTIONS.items():
        values = getattr(config, section)
        lines.append(f"[{section}]")
        for f in fields(cls):
            value = getattr(values, f.name)
            if value is None:
                continue
            lines.append(f"{f.name} = {_toml_value(value)}")
        lines.append("")
    text = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        if config.gateway.password and os.name == "posix":
            os.chmod(tmp, 0o600)
        elif path.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_TOML_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    out = []
    for ch in str(value):
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


# -- control characters as text, for the dialog ----------------------------------------------

_SHOWN = {"\r": "\\r", "\n": "\\n", "\t": "\\t", "\\": "\\\\"}
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|[rnt\\]|.|$)")


def escape_text(text: str) -> str:
    """``"\\r"`` (a carriage return) as the four characters ``\\r`` and so on."""
    return "".join(
        _SHOWN.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch)
        for ch in text
    )


def unescape_text(text: str) -> str:
    """The reverse of :func:`escape_text`; ValueError for an unknown escape."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code in ("r", "n", "t", "\\"):
            return {"r": "\r", "n": "\n", "t": "\t", "\\": "\\"}[code]
        if len(code) > 1 and code[0] in "xu":
            return chr(int(code[1:], 16))
        raise ValueError(f"unknown escape \\{code}")

    return _ESCAPE.sub(one, text)


def iter_values(config: Config) -> Iterator[tuple[Setting, Any]]:
    """Each declared setting with its value in ``config``."""
    for s in SETTINGS:
        yield s, getattr(getattr(config, s.section), s.name)


def with_value(config: Config, key: str, value: Any) -> Config:
    """A copy of ``config`` with one setting changed (not validated)."""
    s = setting_for(key)
    section = getattr(config, s.section)
    return replace(config, **{s.section: replace(section, **{s.name: value})})
