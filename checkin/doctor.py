"""What works on this desk and what does not, in words IT can act on. No Qt here.

:func:`run_checks` looks at the configuration, the cameras, the PC/SC service and chip reader,
the serial ports, the system keyring, the gateway, the store, the outbox and recent errors, and
returns one :class:`Check` per item: whether it works (``ok``: True, False, or None when it is
not used here or could not be looked at), a one-line summary, the detail, and the fix. Every
check runs on its own daemon thread with its own time limit, all at once, so a hung camera or a
black-holed gateway costs its limit and nothing more: the whole run stays under about 5 s.

:func:`list_devices` is the ``checkin readers`` inventory: cameras, PC/SC readers, serial ports.

Texts are :class:`~checkin.config.Phrase` pairs: ``Check.summary`` and ``Check.fix`` are English
(command line, JSON); the diagnostics panel shows the Vietnamese through ``ui.i18n.tr`` using
``Check.phrases`` and ``Check.values``. Numbers that could identify a person (6 digits or more)
are masked in everything a check reports.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from checkin import store_path
from checkin.config import (
    CameraConfig,
    Config,
    GatewayConfig,
    Phrase,
    default_data_dir,
    keyring_backend,
    missing_gateway_settings,
    password_source,
)
from checkin.store_path import check_store_path

TIME_LIMIT_S = 4.5  # the whole run
CAMERA_INDEXES = range(4)
ERROR_LOG = "checkin-errors.log"  # the command line's tracebacks (checkin/cli.py)
DESK_LOG = "desk.log"  # the desk's log (ui/app.py)
STUCK_OUTBOX = timedelta(hours=1)
RECENT_ERRORS = timedelta(hours=24)


@dataclass(frozen=True)
class Check:
    """One diagnostic result.

    ``ok``: True works, False does not, None not used here or not looked at (shown "–").
    ``required``: a False here makes the report's ``ok`` false and ``checkin doctor --strict``
    exit 1. ``phrases`` (summary, fix) and ``values`` give the same texts for translation.
    """

    name: str
    ok: bool | None
    summary: str
    detail: str = ""
    fix: str = ""
    required: bool = True
    seconds: float = 0.0
    phrases: tuple[Phrase, Phrase | None] | None = None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> Phrase:
        return TITLES.get(self.name, Phrase(self.name, self.name))

    @property
    def failed(self) -> bool:
        """A required check that does not pass."""
        return self.required and self.ok is False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title.en,
            "ok": self.ok,
            "required": self.required,
            "summary": self.summary,
            "detail": self.detail,
            "fix": self.fix,
            "seconds": round(self.seconds, 3),
        }


TITLES = {
    "config": Phrase("Configuration", "Cấu hình"),
    "camera": Phrase("Camera", "Camera"),
    "pcscd": Phrase("PC/SC service", "Dịch vụ PC/SC"),
    "chip_reader": Phrase("Chip reader", "Đầu đọc thẻ chip"),
    "serial": Phrase("Serial scanner", "Máy quét cổng COM"),
    "keyring": Phrase("System keyring", "Kho khóa hệ thống"),
    "gateway": Phrase("Gateway", "Cổng BHXH"),
    "store": Phrase("Database", "Cơ sở dữ liệu"),
    "outbox": Phrase("Re-check queue", "Hàng đợi tra cứu lại"),
    "errors": Phrase("Recent errors", "Lỗi gần đây"),
}


class T:
    """Every text a check can say (English, Vietnamese)."""

    CONFIG_FILE = Phrase("settings from {path}", "Cấu hình từ {path}")
    CONFIG_DEFAULTS = Phrase(
        "no configuration file at {path}: defaults are used",
        "Chưa có tệp cấu hình {path}: đang dùng giá trị mặc định",
    )
    CONFIG_BAD = Phrase("{error}", "Cấu hình sai: {error}")
    CONFIG_BAD_FIX = Phrase(
        "correct it in Settings or in the file {path}",
        "Sửa trong Cài đặt hoặc trong tệp {path}",
    )
    SKIPPED = Phrase("not checked: see the line above", "Chưa kiểm tra: xem dòng bên trên")
    SKIPPED_STORE = Phrase(
        "not checked: see the Database line", "Chưa kiểm tra: xem dòng Cơ sở dữ liệu"
    )
    SKIPPED_CONFIG = Phrase(
        "not checked: the configuration is invalid", "Chưa kiểm tra: cấu hình đang sai"
    )
    TIMED_OUT = Phrase(
        "no answer within {seconds:g} s (the check was abandoned)",
        "Không có kết quả sau {seconds:g} giây (đã bỏ qua)",
    )
    CRASHED = Phrase("the check itself failed: {error}", "Bản thân việc kiểm tra bị lỗi: {error}")
    CRASHED_FIX = Phrase(
        "send this report to the developers", "Gửi báo cáo này cho bộ phận phát triển"
    )

    CAMERA_OK = Phrase("{camera} works ({width}×{height})", "{camera} hoạt động ({width}×{height})")
    CAMERA_DEAD = Phrase("{camera} does not open", "Không mở được {camera}")
    CAMERA_NO_FRAME = Phrase(
        "{camera} opens but gives no picture", "{camera} mở được nhưng không có hình"
    )
    CAMERA_FIX_OTHERS = Phrase(
        "plug the camera in or choose another in Settings → Camera (working: {found}); a"
        " camera the desk or another program is using cannot be opened a second time",
        "Cắm lại camera hoặc chọn camera khác trong Cài đặt → Camera (đang có: {found});"
        " camera đang được màn hình tiếp đón hay chương trình khác dùng thì không mở thêm được",
    )
    CAMERA_FIX_NONE = Phrase(
        "no camera answers on this computer: plug one in (USB), then check it in Settings; a"
        " camera the desk or another program is using cannot be opened a second time",
        "Máy tính không nhận camera nào: cắm camera (USB) rồi thử lại trong Cài đặt; camera"
        " đang được màn hình tiếp đón hay chương trình khác dùng thì không mở thêm được",
    )
    CAMERA_FIX_FILE = Phrase(
        "check the file or address in Settings → Camera",
        "Kiểm tra tệp hoặc địa chỉ trong Cài đặt → Camera",
    )
    CAMERA_TIMEOUT_FIX = Phrase(
        "the camera or stream does not answer: replug it, or check the stream address",
        "Camera hoặc luồng video không trả lời: cắm lại, hoặc kiểm tra địa chỉ luồng",
    )

    PCSCD_OK = Phrase(
        "pcscd is running; {count} reader(s) connected",
        "Dịch vụ pcscd đang chạy; {count} đầu đọc đang kết nối",
    )
    PCSCD_DOWN = Phrase("pcscd is not running", "Dịch vụ pcscd không chạy")
    PCSCD_FIX_LINUX = Phrase(
        "start it: sudo systemctl start pcscd.socket (install with: sudo apt install pcscd)",
        "Khởi động: sudo systemctl start pcscd.socket (cài đặt: sudo apt install pcscd)",
    )
    PCSCD_FIX_WINDOWS = Phrase(
        "start the Smart Card service: sc start SCardSvr (or services.msc → Smart Card)",
        "Bật dịch vụ Smart Card: sc start SCardSvr (hoặc services.msc → Smart Card)",
    )
    PCSCD_FIX_MAC = Phrase(
        "macOS runs the smart card service itself: replug the reader",
        "macOS tự chạy dịch vụ thẻ: hãy cắm lại đầu đọc",
    )
    PYSCARD_MISSING = Phrase(
        "pyscard is not installed ({error})", "Chưa cài thư viện pyscard ({error})"
    )
    PYSCARD_FIX = Phrase(
        "run make deps (pyscard needs gcc and libpcsclite-dev to build on Linux)",
        "Chạy make deps (trên Linux pyscard cần gcc và libpcsclite-dev)",
    )
    READER_OK = Phrase("reader {reader!r} is connected", "Đầu đọc {reader!r} đang kết nối")
    READER_MISSING = Phrase("reader {reader!r} is not connected", "Không thấy đầu đọc {reader!r}")
    READER_AMBIGUOUS = Phrase(
        "{reader!r} matches several readers", "{reader!r} trùng với nhiều đầu đọc"
    )
    READER_FIX = Phrase(
        "plug the reader in, or choose one in Settings → Chip reader (connected: {found})",
        "Cắm đầu đọc, hoặc chọn đầu đọc trong Cài đặt → Đầu đọc thẻ chip (đang có: {found})",
    )
    READER_FIRST = Phrase(
        "no reader named: the first one holding a card is used ({count} connected)",
        "Chưa chọn đầu đọc: dùng đầu đọc đầu tiên có thẻ ({count} đầu đọc)",
    )
    READER_NONE = Phrase("no chip reader connected", "Không có đầu đọc thẻ chip nào")
    READER_SKIPPED = Phrase(
        "not checked: pcscd is not running", "Chưa kiểm tra: dịch vụ pcscd không chạy"
    )

    SERIAL_OK = Phrase("{url} opens at {baudrate} baud", "Mở được {url} ở tốc độ {baudrate} baud")
    SERIAL_DEAD = Phrase("cannot open {url}: {error}", "Không mở được {url}: {error}")
    SERIAL_FIX = Phrase(
        "check the cable and the port name (ports: {found}); close any other program using"
        " the port (a running desk holds it too)",
        "Kiểm tra cáp và tên cổng (đang có: {found}); đóng chương trình khác đang dùng cổng"
        " (kể cả màn hình tiếp đón đang chạy)",
    )
    SERIAL_UNUSED = Phrase(
        "no serial scanner configured ({count} port(s) on this computer)",
        "Không dùng máy quét cổng COM (máy có {count} cổng)",
    )
    PYSERIAL_MISSING = Phrase("pyserial is not installed", "Chưa cài thư viện pyserial")

    KEYRING_OK = Phrase("passwords are kept in {backend}", "Mật khẩu được giữ trong {backend}")
    KEYRING_NONE_ENV = Phrase(
        "no system keyring ({backend}); the gateway password comes from CHECKIN_GATEWAY_PASSWORD",
        "Không có kho khóa hệ thống ({backend}); mật khẩu cổng lấy từ biến môi trường"
        " CHECKIN_GATEWAY_PASSWORD",
    )
    KEYRING_NONE_FILE = Phrase(
        "no system keyring ({backend}); the gateway password sits in the configuration file",
        "Không có kho khóa hệ thống ({backend}); mật khẩu cổng nằm trong tệp cấu hình",
    )
    KEYRING_MISSING = Phrase(
        "no system keyring ({backend}): the gateway password cannot be kept safely",
        "Không có kho khóa hệ thống ({backend}): không lưu được mật khẩu cổng an toàn",
    )
    KEYRING_FIX = Phrase(
        "Linux: install and unlock a Secret Service keyring (gnome-keyring), or set"
        " CHECKIN_GATEWAY_PASSWORD for the desk",
        "Linux: cài và mở khóa gnome-keyring (Secret Service), hoặc đặt biến môi trường"
        " CHECKIN_GATEWAY_PASSWORD",
    )

    GATEWAY_OK = Phrase(
        "{host} gave a token to {username} in {seconds:.2f} s",
        "{host} đã cấp token cho {username} sau {seconds:.2f} giây",
    )
    GATEWAY_OK_NO_OFFICER = Phrase(
        "{host} gave a token to {username} in {seconds:.2f} s; no default officer (each"
        " officer signs in at the desk)",
        "{host} đã cấp token cho {username} sau {seconds:.2f} giây; chưa có cán bộ mặc định"
        " (cán bộ đăng nhập tại quầy)",
    )
    GATEWAY_UNSET = Phrase("not configured: {missing} missing", "Chưa cấu hình: thiếu {missing}")
    GATEWAY_UNSET_FIX = Phrase(
        "fill them in Settings → Gateway (the password goes to the system keyring)",
        "Nhập trong Cài đặt → Cổng BHXH (mật khẩu được lưu trong kho khóa hệ thống)",
    )
    GATEWAY_DNS = Phrase("cannot resolve {host}", "Không phân giải được tên máy {host}")
    GATEWAY_DNS_FIX = Phrase(
        "check the spelling of the gateway URL and this computer's DNS",
        "Kiểm tra địa chỉ cổng BHXH và DNS của máy",
    )
    GATEWAY_REFUSED = Phrase(
        "{host}:{port} refused the connection", "{host}:{port} từ chối kết nối"
    )
    GATEWAY_REFUSED_FIX = Phrase(
        "nothing listens there: check the URL and port (the sandbox: checkin sandbox)",
        "Không có dịch vụ ở địa chỉ này: kiểm tra URL và cổng (sandbox: checkin sandbox)",
    )
    GATEWAY_SLOW = Phrase(
        "no connection to {host}:{port} within {seconds:g} s",
        "Không kết nối được {host}:{port} sau {seconds:g} giây",
    )
    GATEWAY_NET_FIX = Phrase(
        "check the network cable, the proxy and the firewall towards {host}:{port}",
        "Kiểm tra mạng, proxy và tường lửa tới {host}:{port}",
    )
    GATEWAY_NET = Phrase(
        "cannot connect to {host}:{port}: {error}", "Không kết nối được {host}:{port}: {error}"
    )
    GATEWAY_AUTH = Phrase(
        "the gateway refused the account {username} (code {code})",
        "Cổng BHXH từ chối tài khoản {username} (mã {code})",
    )
    GATEWAY_AUTH_FIX = Phrase(
        "check gateway.username and the password in Settings → Gateway",
        "Kiểm tra tên đăng nhập và mật khẩu trong Cài đặt → Cổng BHXH",
    )
    GATEWAY_BAD = Phrase("the gateway gave no token: {error}", "Cổng BHXH không cấp token: {error}")
    GATEWAY_BAD_FIX = Phrase(
        "the gateway is reachable but not answering: try again in a few minutes; if it lasts,"
        " ask BHXH or the hospital network team",
        "Kết nối được nhưng cổng không trả lời đúng: thử lại sau vài phút; nếu còn lỗi, liên hệ"
        " BHXH hoặc bộ phận mạng của bệnh viện",
    )

    STORE_OK = Phrase(
        "{path}: {size}, {journal}, integrity {integrity}, {visits} visit(s) today",
        "{path}: {size}, {journal}, toàn vẹn: {integrity}, {visits} lượt hôm nay",
    )
    STORE_NEW = Phrase(
        "no database yet at {path}: it is created at the first check-in",
        "Chưa có dữ liệu tại {path}: sẽ tạo khi tiếp nhận lượt đầu tiên",
    )
    STORE_UNWRITABLE = Phrase(
        "{path} cannot be written by this user", "Người dùng này không ghi được {path}"
    )
    STORE_UNWRITABLE_FIX = Phrase(
        "give this user write access to {folder}, or choose another file in Settings → Store",
        "Cấp quyền ghi thư mục {folder} cho người dùng này, hoặc chọn tệp khác trong Cài đặt",
    )
    STORE_IS_FOLDER = Phrase(
        "{path} is a folder, not a database file", "{path} là thư mục, không phải tệp dữ liệu"
    )
    STORE_UNDER_FILE = Phrase(
        "{path} cannot be made: {blocker} is a file, not a folder",
        "Không tạo được {path}: {blocker} là tệp, không phải thư mục",
    )
    STORE_PATH_FIX = Phrase(
        "choose a file name in Settings → Store (e.g. {example})",
        "Chọn tên tệp trong Cài đặt → Dữ liệu (ví dụ {example})",
    )
    STORE_NOT_DB = Phrase(
        "{path} is not a checkin database ({error})",
        "{path} không phải cơ sở dữ liệu checkin ({error})",
    )
    STORE_NOT_DB_FIX = Phrase(
        "point Settings → Store at the right file", "Chọn đúng tệp dữ liệu trong Cài đặt"
    )
    STORE_DAMAGED = Phrase("{path} is damaged: {error}", "{path} bị hỏng: {error}")
    STORE_DAMAGED_FIX = Phrase(
        "close the desk, copy the file aside, then restore a backup (sqlite3 FILE .recover"
        " saves what it can)",
        "Đóng màn hình tiếp đón, sao chép tệp ra chỗ khác rồi khôi phục bản sao lưu"
        " (sqlite3 TỆP .recover cứu được phần còn lại)",
    )

    OUTBOX_EMPTY = Phrase("nothing waits for a re-check", "Không có lượt nào chờ tra cứu lại")
    OUTBOX_WAITING = Phrase(
        "{count} visit(s) wait for a re-check; oldest {age} ago",
        "{count} lượt chờ tra cứu lại; lâu nhất {age} trước",
    )
    OUTBOX_WAITING_ERROR = Phrase(
        "{count} visit(s) wait for a re-check; oldest {age} ago; last error: {error}",
        "{count} lượt chờ tra cứu lại; lâu nhất {age} trước; lỗi gần nhất: {error}",
    )
    OUTBOX_FIX = Phrase(
        "they clear once the gateway answers (see Gateway); checkin sync retries now",
        "Hàng đợi tự giải quyết khi cổng BHXH trả lời (xem dòng Cổng BHXH); checkin sync"
        " để thử lại ngay",
    )
    NO_STORE = Phrase("no database yet", "Chưa có cơ sở dữ liệu")

    ERRORS_NONE = Phrase("no errors in the last 24 hours", "Không có lỗi trong 24 giờ qua")
    ERRORS_SOME = Phrase(
        "{count} error(s) in the last 24 hours; latest at {at}: {error}",
        "{count} lỗi trong 24 giờ qua; gần nhất lúc {at}: {error}",
    )
    ERRORS_FIX = Phrase(
        "read the lines below; gateway errors clear by themselves once it answers",
        "Xem chi tiết bên dưới; lỗi cổng BHXH tự hết khi cổng trả lời lại",
    )


def phrases() -> list[Phrase]:
    """Every text this module can show (for the English catalog and its test)."""
    found = list(TITLES.values())
    found += [v for v in vars(T).values() if isinstance(v, Phrase)]
    return found


# -- masking ---------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d{6,}")


def mask_text(text: str) -> str:
    """Mask runs of 6+ digits (citizen IDs, card and BHXH numbers, CANs): runs of 10 or more
    keep their last 4 digits, shorter ones are masked whole."""

    def one(match: re.Match[str]) -> str:
        digits = match.group()
        keep = 4 if len(digits) >= 10 else 0
        return "*" * (len(digits) - keep) + digits[len(digits) - keep :]

    return _DIGITS.sub(one, text)


# -- running ---------------------------------------------------------------------------------


_UNMASKED = frozenset({"path", "folder", "host", "url"})  # places, not people


def _check(
    name: str,
    ok: bool | None,
    summary: Phrase,
    fix: Phrase | None = None,
    *,
    detail: str = "",
    required: bool = True,
    **values: Any,
) -> Check:
    masked = {
        k: mask_text(v) if isinstance(v, str) and k not in _UNMASKED else v
        for k, v in values.items()
    }
    return Check(
        name=name,
        ok=ok,
        summary=summary.format(**masked),
        detail=mask_text(detail),
        fix=fix.format(**masked) if fix else "",
        required=required,
        phrases=(summary, fix),
        values=masked,
    )


@dataclass
class _Job:
    name: str
    fn: Callable[[], Check | list[Check]]
    limit_s: float
    fix: Phrase = T.CRASHED_FIX
    required: bool = True
    also: tuple[str, ...] = ()  # further checks the job reports (skipped if it fails)
    result: list[Check] | None = None
    error: BaseException | None = None
    started: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        self.started = time.monotonic()
        try:
            out = self.fn()
            self.result = out if isinstance(out, list) else [out]
        except BaseException as exc:  # a check must never take the run down
            self.error = exc
        finally:
            self.done.set()


def _start(jobs: list[_Job]) -> None:
    for job in jobs:
        threading.Thread(target=job.run, name=f"doctor-{job.name}", daemon=True).start()


def _collect(jobs: list[_Job], start: float, deadline: float) -> list[Check]:
    checks: list[Check] = []
    for job in jobs:
        job_deadline = min(deadline, start + job.limit_s)
        job.done.wait(max(0.0, job_deadline - time.monotonic()))
        if not job.done.is_set():
            checks.append(
                _check(
                    job.name,
                    False,
                    T.TIMED_OUT,
                    job.fix,
                    required=job.required,
                    seconds=job.limit_s,
                )
            )
        elif job.error is not None:
            error = f"{type(job.error).__name__}: {job.error}"
            checks.append(
                _check(
                    job.name, False, T.CRASHED, T.CRASHED_FIX, required=job.required, error=error
                )
            )
        if not job.done.is_set() or job.error is not None:
            checks += [_check(name, None, T.SKIPPED, required=False) for name in job.also]
        else:
            spent = time.monotonic() - job.started
            checks += [_with_seconds(c, spent) for c in job.result or []]
    return checks


def _with_seconds(check: Check, seconds: float) -> Check:
    from dataclasses import replace

    return replace(check, seconds=check.seconds or seconds)


def run_checks(
    config: Config | None,
    *,
    config_error: str | None = None,
    config_path: Path | None = None,
    time_limit_s: float = TIME_LIMIT_S,
) -> list[Check]:
    """Every check, in a fixed order. ``config`` None (with ``config_error``, the one-line
    ConfigError) still checks the devices, with default settings, and skips the rest."""
    start = time.monotonic()
    deadline = start + time_limit_s
    usable = config if config is not None else Config()
    budget = max(0.5, time_limit_s - 0.3)
    reader_required = bool(usable.pcsc.reader)
    camera_needed = camera_required(usable)

    def camera() -> Check:
        check = with_decoder(check_camera(usable, min(3.0, budget)), usable)
        return check if camera_needed else _optional_camera(check)

    jobs = [
        _Job("camera", camera, min(3.0, budget), T.CAMERA_TIMEOUT_FIX, required=camera_needed),
        _Job(
            "pcscd",
            lambda: check_pcsc(usable),
            min(2.5, budget),
            _pcscd_fix(),
            required=reader_required,
            also=("chip_reader",),
        ),
        _Job(
            "serial",
            lambda: check_serial(usable),
            min(2.5, budget),
            required=bool(usable.serial.url),
        ),
        _Job("keyring", lambda: check_keyring(usable), min(2.0, budget), required=False),
    ]
    if config is not None:
        jobs += [
            _Job(
                "gateway",
                lambda: check_gateway(config.gateway, budget - 0.2),
                budget,
                T.GATEWAY_NET_FIX,
            ),
            _Job("store", lambda: check_store(config.store_path, min(2.0, budget)), budget),
            _Job("outbox", lambda: check_outbox(config.store_path), budget, required=False),
        ]
    jobs.append(
        _Job(
            "errors",
            lambda: check_errors(config.store_path if config else None),
            budget,
            required=False,
        )
    )
    _start(jobs)
    head = [check_config(config, config_error, config_path)]
    checks = _collect(jobs, start, deadline)
    if config is None:
        skipped = [
            _check(name, None, T.SKIPPED_CONFIG, required=False)
            for name in ("gateway", "store", "outbox")
        ]
        checks = checks[:-1] + skipped + checks[-1:]
    return head + checks


def all_passed(checks: list[Check]) -> bool:
    """True when no required check failed (the exit status of ``checkin doctor``)."""
    return not any(c.failed for c in checks)


# -- configuration ---------------------------------------------------------------------------


def check_config(config: Config | None, error: str | None, path: Path | None) -> Check:
    shown = str(path or (config.source_path if config else None) or "")
    if config is None:
        return _check(
            "config", False, T.CONFIG_BAD, T.CONFIG_BAD_FIX, error=error or "?", path=shown
        )
    if config.source_path is None:
        from checkin.config import default_config_path

        return _check("config", True, T.CONFIG_DEFAULTS, path=str(path or default_config_path()))
    return _check("config", True, T.CONFIG_FILE, path=str(config.source_path))


# -- cameras ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CameraInfo:
    index: int
    name: str
    width: int
    height: int

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "width": self.width, "height": self.height}


def _camera_name(index: int) -> str:
    path = Path(f"/sys/class/video4linux/video{index}/name")
    with contextlib.suppress(OSError):
        return path.read_text(encoding="utf-8", errors="replace").strip()
    return f"camera {index}"


@contextlib.contextmanager
def _quiet_opencv():
    """OpenCV prints a warning per index that does not open; IT reads our words instead."""
    import cv2

    logging_api = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging_api is None:
        yield
        return
    before = logging_api.getLogLevel()
    logging_api.setLogLevel(logging_api.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging_api.setLogLevel(before)


def _open_frame(source: int | str) -> tuple[bool, int, int]:
    """(opened, width, height) of one frame from ``source``; (True, 0, 0): opened, no frame."""
    import cv2

    capture = cv2.VideoCapture(source)
    try:
        if not capture.isOpened():
            return False, 0, 0
        ok, frame = capture.read()
        if not ok or frame is None:
            return True, 0, 0
        return True, int(frame.shape[1]), int(frame.shape[0])
    finally:
        capture.release()


def probe_cameras(indexes: range | list[int] = CAMERA_INDEXES) -> list[CameraInfo]:
    """The cameras that open and give a picture, by OpenCV index (slow ones: call from a
    thread with a time limit, as :func:`list_devices` does)."""
    found = []
    with _quiet_opencv():
        for index in indexes:
            if sys.platform.startswith("linux") and not Path(f"/dev/video{index}").exists():
                continue
            opened, width, height = _open_frame(index)
            if opened and width:
                found.append(CameraInfo(index, _camera_name(index), width, height))
    return found


def camera_required(config: Config) -> bool:
    """Whether the desk counts on its camera: yes, unless a serial scanner is configured and
    the camera was never chosen (``[camera] source`` left at its default); the desk still
    tries that camera, but scans arrive without it."""
    default = CameraConfig().source
    return not (config.serial.url.strip() and config.camera.source.strip() == default)


def _optional_camera(check: Check) -> Check:
    from dataclasses import replace

    note = "optional: a serial scanner is configured and no camera was chosen"
    detail = "; ".join(part for part in (note, check.detail) if part)
    return replace(check, required=False, detail=detail)


def check_camera(config: Config, limit_s: float = 3.0) -> Check:
    source = config.camera.source.strip()
    if source.isascii() and source.isdigit():
        index = int(source)
        indexes = sorted({index, *CAMERA_INDEXES})
        found = probe_cameras(indexes)
        listed = ", ".join(f"{c.index} ({c.name})" for c in found)
        detail = f"cameras that work: {listed or 'none'}"
        mine = next((c for c in found if c.index == index), None)
        camera = f"camera {index}"
        if mine is not None:
            return _check(
                "camera",
                True,
                T.CAMERA_OK,
                detail=detail,
                camera=f"{camera} ({mine.name})",
                width=mine.width,
                height=mine.height,
            )
        others = [c for c in found if c.index != index]
        fix = T.CAMERA_FIX_OTHERS if others else T.CAMERA_FIX_NONE
        return _check(
            "camera",
            False,
            T.CAMERA_DEAD,
            fix,
            detail=detail,
            camera=camera,
            found=", ".join(str(c.index) for c in others),
        )
    from drivers.camera import REPLAY_PREFIX

    target = source[len(REPLAY_PREFIX) :] if source.startswith(REPLAY_PREFIX) else source
    shown = source if "://" in source else target
    with _quiet_opencv():
        opened, width, height = _open_frame(target)
    if not opened:
        return _check("camera", False, T.CAMERA_DEAD, T.CAMERA_FIX_FILE, camera=shown)
    if not width:
        return _check("camera", False, T.CAMERA_NO_FRAME, T.CAMERA_FIX_FILE, camera=shown)
    return _check("camera", True, T.CAMERA_OK, camera=shown, width=width, height=height)


def decoder_detail(config: Config) -> str:
    """Which QR decoder the camera will use (``[camera] decoder``, or the fallback)."""
    from checkin.qr import available_decoders

    status = available_decoders()
    wanted = config.camera.decoder
    usable = [name for name, why in status.items() if why is None]
    if not usable:
        return "no QR decoder: install zxing-cpp or pyzbar (with libzbar0)"
    if wanted in usable:
        return f"QR decoder: {wanted}"
    return f"QR decoder: {usable[0]} ({wanted} is not available: {status.get(wanted)})"


def with_decoder(check: Check, config: Config) -> Check:
    """The camera check with :func:`decoder_detail` added to its detail."""
    from dataclasses import replace

    detail = "; ".join(part for part in (check.detail, decoder_detail(config)) if part)
    return replace(check, detail=detail)


# -- PC/SC -----------------------------------------------------------------------------------


def _pcscd_fix() -> Phrase:
    if sys.platform == "win32":
        return T.PCSCD_FIX_WINDOWS
    if sys.platform == "darwin":
        return T.PCSCD_FIX_MAC
    return T.PCSCD_FIX_LINUX


def pcsc_readers() -> tuple[list[str] | None, str | None]:
    """(reader names, None), or (None, why not: "pyscard" or "pcscd")."""
    from checkin.chip.errors import ReaderError
    from drivers import pcsc

    if pcsc.PYSCARD_ERROR is not None:
        return None, "pyscard"
    try:
        return pcsc.list_readers(), None
    except ReaderError:
        return None, "pcscd"


def match_reader(wanted: str, readers: list[str]) -> list[str]:
    """The readers ``wanted`` names, as the chip driver picks them: the exact name, else every
    reader whose name contains it (case-insensitive)."""
    exact = [r for r in readers if r == wanted]
    return exact or [r for r in readers if wanted.casefold() in r.casefold()]


def check_pcsc(config: Config) -> list[Check]:
    """Two checks: the PC/SC service, and the configured chip reader."""
    wanted = config.pcsc.reader
    required = bool(wanted)
    readers, why = pcsc_readers()
    if readers is None:
        if why == "pyscard":
            from drivers import pcsc

            service = _check(
                "pcscd",
                False,
                T.PYSCARD_MISSING,
                T.PYSCARD_FIX,
                required=required,
                error=pcsc.PYSCARD_ERROR,
            )
        else:
            service = _check("pcscd", False, T.PCSCD_DOWN, _pcscd_fix(), required=required)
        reader = _check("chip_reader", None, T.READER_SKIPPED, required=False)
        return [service, reader]
    detail = "readers: " + (", ".join(readers) or "none")
    service = _check(
        "pcscd", True, T.PCSCD_OK, detail=detail, required=required, count=len(readers)
    )
    found = ", ".join(readers) or "-"
    if not wanted:
        if readers:
            reader = _check("chip_reader", True, T.READER_FIRST, required=False, count=len(readers))
        else:
            reader = _check("chip_reader", None, T.READER_NONE, required=False)
        return [service, reader]
    matches = match_reader(wanted, readers)
    if len(matches) == 1:
        reader = _check("chip_reader", True, T.READER_OK, reader=matches[0])
    elif matches:
        reader = _check(
            "chip_reader", False, T.READER_AMBIGUOUS, T.READER_FIX, reader=wanted, found=found
        )
    else:
        reader = _check(
            "chip_reader", False, T.READER_MISSING, T.READER_FIX, reader=wanted, found=found
        )
    return [service, reader]


# -- serial ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SerialPort:
    device: str
    description: str
    hwid: str

    def to_json(self) -> dict[str, str]:
        return {"device": self.device, "description": self.description, "hwid": self.hwid}


def serial_ports() -> list[SerialPort]:
    """The serial ports the OS reports (through the scanner driver when it is there)."""
    try:
        from drivers.serial_scanner import list_serial_ports
    except ImportError:
        list_serial_ports = None
    if list_serial_ports is not None:
        return [SerialPort(p.device, p.description, p.hwid) for p in list_serial_ports()]
    try:
        from serial.tools import list_ports
    except ImportError:
        return []
    return [SerialPort(p.device, p.description, p.hwid) for p in sorted(list_ports.comports())]


def open_serial(url: str, baudrate: int, timeout_s: float = 0.2) -> Any:
    """Open a pyserial URL (the caller closes it); raises OSError/ValueError with the reason."""
    import serial

    return serial.serial_for_url(url, baudrate=baudrate, timeout=timeout_s, write_timeout=timeout_s)


def check_serial(config: Config) -> Check:
    try:
        import serial  # noqa: F401 - only whether it is there
    except ImportError:
        return _check(
            "serial",
            False if config.serial.url else None,
            T.PYSERIAL_MISSING,
            T.PYSCARD_FIX,
            required=bool(config.serial.url),
        )
    ports = serial_ports()
    detail = "ports: " + (", ".join(f"{p.device} ({p.description})" for p in ports) or "none")
    url = config.serial.url
    if not url:
        return _check(
            "serial", None, T.SERIAL_UNUSED, detail=detail, required=False, count=len(ports)
        )
    found = ", ".join(p.device for p in ports) or "-"
    try:
        port = open_serial(url, config.serial.baudrate)
    except Exception as exc:  # SerialException, ValueError (bad URL), OSError
        return _check(
            "serial",
            False,
            T.SERIAL_DEAD,
            T.SERIAL_FIX,
            detail=detail,
            url=url,
            error=_one_line(exc),
            found=found,
        )
    port.close()
    return _check(
        "serial", True, T.SERIAL_OK, detail=detail, url=url, baudrate=config.serial.baudrate
    )


def _one_line(exc: BaseException | str) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


# -- keyring ---------------------------------------------------------------------------------


def check_keyring(config: Config) -> Check:
    backend, name = keyring_backend()
    if backend is not None:
        return _check("keyring", True, T.KEYRING_OK, required=False, backend=name)
    source = password_source(config)
    if source in ("environment", "file"):
        phrase = T.KEYRING_NONE_ENV if source == "environment" else T.KEYRING_NONE_FILE
        return _check("keyring", None, phrase, T.KEYRING_FIX, required=False, backend=name)
    return _check("keyring", False, T.KEYRING_MISSING, T.KEYRING_FIX, required=False, backend=name)


# -- gateway ---------------------------------------------------------------------------------


def check_gateway(gw: GatewayConfig, limit_s: float = 4.0) -> Check:
    """URL, TCP connection, then a token with the configured account; within ``limit_s``."""
    start = time.monotonic()
    parts = urlsplit(gw.url)
    host = parts.hostname or "?"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    missing = [
        m
        for m in missing_gateway_settings(Config(gateway=gw))
        if m in ("gateway.username", "gateway.password")
    ]
    if missing:
        return _check(
            "gateway", False, T.GATEWAY_UNSET, T.GATEWAY_UNSET_FIX, missing=", ".join(missing)
        )
    connect_s = max(0.1, min(gw.connect_timeout_s, limit_s / 2))
    try:
        socket.create_connection((host, port), timeout=connect_s).close()
    except socket.gaierror:
        return _check("gateway", False, T.GATEWAY_DNS, T.GATEWAY_DNS_FIX, host=host)
    except ConnectionRefusedError:
        return _check(
            "gateway", False, T.GATEWAY_REFUSED, T.GATEWAY_REFUSED_FIX, host=host, port=port
        )
    except TimeoutError:
        return _check(
            "gateway",
            False,
            T.GATEWAY_SLOW,
            T.GATEWAY_NET_FIX,
            host=host,
            port=port,
            seconds=connect_s,
        )
    except OSError as exc:
        return _check(
            "gateway",
            False,
            T.GATEWAY_NET,
            T.GATEWAY_NET_FIX,
            host=host,
            port=port,
            error=_one_line(exc),
        )

    from checkin.gateway import GatewayClient
    from checkin.gateway.client import GatewayAuthError, GatewayError

    left = max(0.2, limit_s - (time.monotonic() - start))
    client = GatewayClient(
        gw.url,
        gw.username,
        gw.password,
        gw.officer,
        timeout_s=max(0.1, min(gw.timeout_s, left - connect_s / 2)),
        connect_timeout_s=connect_s / 2 if left < gw.timeout_s else connect_s,
        verify=gw.verify,
    )
    took = time.monotonic()
    try:
        client.take_token()
    except GatewayAuthError as exc:
        code = re.search(r"code (\w+)", str(exc))
        return _check(
            "gateway",
            False,
            T.GATEWAY_AUTH,
            T.GATEWAY_AUTH_FIX,
            username=gw.username,
            code=code.group(1) if code else "?",
        )
    except GatewayError as exc:
        return _check("gateway", False, T.GATEWAY_BAD, T.GATEWAY_BAD_FIX, error=str(exc))
    finally:
        client.close()
    seconds = time.monotonic() - took
    phrase = T.GATEWAY_OK if gw.officer_name and gw.officer_id else T.GATEWAY_OK_NO_OFFICER
    return _check(
        "gateway", True, phrase, host=f"{host}:{port}", username=gw.username, seconds=seconds
    )


# -- store and outbox ------------------------------------------------------------------------


def _open_read_only(path: Path, timeout_s: float = 1.0) -> sqlite3.Connection:
    uri = path.resolve().as_uri() + "?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=timeout_s, check_same_thread=False)


def _size_text(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} bytes"  # pragma: no cover


def _path_check(path: Path) -> Check | None:
    """A failed check when ``path`` cannot be the store at all, as checkin.store_path judges
    it (a folder, under a file, a folder this user cannot write); what opening the file tells
    (not SQLite, damaged) is left to :func:`check_store`."""
    problem = check_store_path(path)
    if problem is None:
        return None
    shown, values = str(path), problem.values
    if problem.phrase is store_path.IS_FOLDER:
        example = str(path / "checkin.db")
        return _check(
            "store", False, T.STORE_IS_FOLDER, T.STORE_PATH_FIX, path=shown, example=example
        )
    if problem.phrase is store_path.UNDER_FILE:
        blocker = Path(values["blocker"])
        return _check(
            "store",
            False,
            T.STORE_UNDER_FILE,
            T.STORE_PATH_FIX,
            path=shown,
            blocker=str(blocker),
            example=str(blocker.parent / "checkin.db"),
        )
    if problem.phrase is store_path.NO_WRITE:
        return _check(
            "store",
            False,
            T.STORE_UNWRITABLE,
            T.STORE_UNWRITABLE_FIX,
            path=shown,
            folder=values["folder"],
        )
    return None


def check_store(path: Path, limit_s: float = 2.0) -> Check:
    path = Path(path)
    shown = str(path)
    bad_path = _path_check(path)
    if bad_path is not None:
        return bad_path
    if not path.exists():
        return _check("store", True, T.STORE_NEW, path=shown)
    if not os.access(path, os.R_OK | os.W_OK) or not os.access(path.parent, os.W_OK):
        return _check(
            "store",
            False,
            T.STORE_UNWRITABLE,
            T.STORE_UNWRITABLE_FIX,
            path=shown,
            folder=str(path.parent),
        )
    deadline = time.monotonic() + limit_s
    try:
        conn = _open_read_only(path)
    except sqlite3.Error as exc:
        return _check(
            "store", False, T.STORE_NOT_DB, T.STORE_NOT_DB_FIX, path=shown, error=_one_line(exc)
        )
    try:
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
            integrity = "ok" if rows == [("ok",)] else "; ".join(r[0] for r in rows[:3])
        except sqlite3.OperationalError as exc:
            if "interrupt" not in str(exc):
                raise
            integrity = f"not finished within {limit_s:g} s"
        conn.set_progress_handler(None, 0)
        if integrity not in ("ok",) and not integrity.startswith("not finished"):
            return _check(
                "store", False, T.STORE_DAMAGED, T.STORE_DAMAGED_FIX, path=shown, error=integrity
            )
        visits = conn.execute(
            "SELECT count(*) FROM visits WHERE visit_date = ?", [date.today().isoformat()]
        ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        text = _one_line(exc)
        if "malformed" in text or "corrupt" in text:
            return _check(
                "store", False, T.STORE_DAMAGED, T.STORE_DAMAGED_FIX, path=shown, error=text
            )
        return _check("store", False, T.STORE_NOT_DB, T.STORE_NOT_DB_FIX, path=shown, error=text)
    finally:
        conn.close()
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    mode = "WAL" if journal.lower() == "wal" else f"journal {journal} (the desk sets WAL)"
    return _check(
        "store",
        True,
        T.STORE_OK,
        path=shown,
        size=_size_text(size),
        journal=mode,
        integrity=integrity,
        visits=visits,
    )


def _age_text(since: datetime, now: datetime) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.astimezone()


def check_outbox(path: Path) -> Check:
    """The visits waiting for a re-check. A store the Database line finds wrong (a folder, not
    a checkin database, damaged) is not checked again here: that line says what to do."""
    if check_store_path(path) is not None:
        return _check("outbox", None, T.SKIPPED_STORE, required=False)
    if not Path(path).exists():
        return _check("outbox", None, T.NO_STORE, required=False)
    try:
        conn = _open_read_only(Path(path))
        try:
            count, oldest = conn.execute(
                "SELECT count(*), min(created_at) FROM outbox WHERE state = 'pending'"
            ).fetchone()
            row = conn.execute(
                "SELECT last_error FROM outbox WHERE state = 'pending' AND last_error IS NOT NULL"
                " ORDER BY updated_at DESC LIMIT 1"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:  # damaged, locked: the Database line says so
        if "no such table" in str(exc):
            raise
        return _check("outbox", None, T.SKIPPED_STORE, detail=_one_line(exc), required=False)
    if not count:
        return _check("outbox", True, T.OUTBOX_EMPTY, required=False)
    now = datetime.now().astimezone()
    since = _parse_time(oldest) or now
    age = _age_text(since, now)
    stuck = now - since > STUCK_OUTBOX
    if row and row[0]:
        return _check(
            "outbox",
            not stuck,
            T.OUTBOX_WAITING_ERROR,
            T.OUTBOX_FIX,
            required=False,
            count=count,
            age=age,
            error=_one_line(row[0]),
        )
    return _check(
        "outbox", not stuck, T.OUTBOX_WAITING, T.OUTBOX_FIX, required=False, count=count, age=age
    )


# -- recent errors ---------------------------------------------------------------------------


LOG_TAIL_BYTES = 256 * 1024  # how much of the end of a log is read
# checkin/cli.py starts each entry of its error log with ``=== <ISO time> checkin <command>``.
_CLI_HEADER = re.compile(r"^=== (\S+) checkin (\S+)\s*$")
# ui/app.py's desk log: ``2025-05-01 08:30:00,123 ERROR ui.workers: intake failed``.
_DESK_HEADER = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}),\d+ ([A-Z]+) (\S+): (.*)$")
_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?::.*)?$")  # KeyError: 'x'


@dataclass(frozen=True)
class LogEntry:
    """One error from a log: when (None: unknown), what ran, and its final exception line."""

    at: datetime | None
    source: str  # "checkin visits", "desk ui.workers"
    error: str


def _read_tail(path: Path, size: int = LOG_TAIL_BYTES) -> list[str]:
    """The lines of the last ``size`` bytes of a (possibly big) text file; the first one may
    be cut."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - size))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return text.splitlines()


def final_exception(lines: list[str]) -> str | None:
    """The exception a traceback ends with (``RecursionError: maximum recursion depth
    exceeded``): the first unindented line after its last frame, else the last line that
    looks like one; never a source line or a ``^^^^`` marker."""
    last_frame = max((i for i, line in enumerate(lines) if line[:1].isspace()), default=-1)
    for line in lines[last_frame + 1 :]:
        if _EXCEPTION_LINE.match(line.strip()):
            return line.strip()
    for line in reversed(lines):
        if not line[:1].isspace() and _EXCEPTION_LINE.match(line.strip()):
            return line.strip()
    return None


def cli_log_entries(path: Path) -> list[LogEntry]:
    """The entries of the command line's error log, oldest first. A log written before
    entries had headers gives one entry dated by the file's modification time."""
    lines = _read_tail(path)
    heads = [(i, _CLI_HEADER.match(line)) for i, line in enumerate(lines)]
    heads = [(i, m) for i, m in heads if m]
    if not heads:
        error = final_exception(lines)
        if error is None:
            return []
        try:
            modified = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        except OSError:
            modified = None
        return [LogEntry(modified, "checkin", error)]
    entries = []
    ends = [i for i, _ in heads[1:]] + [len(lines)]
    for (i, match), end in zip(heads, ends, strict=False):
        error = final_exception(lines[i + 1 : end]) or "(no traceback)"
        stamp = _parse_time(match.group(1))
        entries.append(LogEntry(stamp, f"checkin {match.group(2)}", error))
    return entries


def desk_log_entries(path: Path) -> list[LogEntry]:
    """The ERROR and CRITICAL entries of the desk's log, oldest first: the logged message and,
    when a traceback follows it, the exception it ends with."""
    lines = _read_tail(path)
    heads = [(i, m) for i, line in enumerate(lines) if (m := _DESK_HEADER.match(line))]
    entries = []
    ends = [i for i, _ in heads[1:]] + [len(lines)]
    for (i, match), end in zip(heads, ends, strict=False):
        if match.group(2) not in ("ERROR", "CRITICAL"):
            continue
        message = match.group(4).strip()
        error = final_exception(lines[i + 1 : end]) if end > i + 1 else None
        text = f"{message}: {error}" if error else message
        entries.append(LogEntry(_parse_time(match.group(1)), f"desk {match.group(3)}", text))
    return entries


def _when(stamp: datetime | None) -> str:
    return stamp.astimezone().strftime("%Y-%m-%d %H:%M:%S") if stamp else "(time unknown)"


def check_errors(store_path: Path | None, data_dir: Path | None = None) -> Check:
    data_dir = data_dir or default_data_dir()
    lines: list[str] = []
    recent: list[tuple[datetime, str]] = []
    now = datetime.now().astimezone()
    if store_path is not None and Path(store_path).exists():
        with contextlib.suppress(sqlite3.Error):
            conn = _open_read_only(Path(store_path))
            try:
                rows = conn.execute(
                    "SELECT at, error FROM audit WHERE error IS NOT NULL AND error != ''"
                    " ORDER BY id DESC LIMIT 5"
                ).fetchall()
            finally:
                conn.close()
            for at, error in rows:
                stamp = _parse_time(at)
                lines.append(f"lookup {at}: {error}")
                if stamp is not None and now - stamp < RECENT_ERRORS:
                    recent.append((stamp, f"lookup: {error}"))
    for log_file, entries in (
        (data_dir / ERROR_LOG, cli_log_entries(data_dir / ERROR_LOG)),
        (data_dir / DESK_LOG, desk_log_entries(data_dir / DESK_LOG)),
    ):
        if entries:
            lines.append(f"{log_file}:")
            lines += [f"  {_when(e.at)}  {e.source}: {e.error}" for e in entries[-5:]]
        recent += [
            (e.at, f"{e.source}: {e.error}")
            for e in entries
            if e.at is not None and now - e.at < RECENT_ERRORS
        ]
    detail = "\n".join(lines)
    if not recent:
        return _check("errors", True, T.ERRORS_NONE, detail=detail, required=False)
    at, error = max(recent, key=lambda item: item[0])
    return _check(
        "errors",
        False,
        T.ERRORS_SOME,
        T.ERRORS_FIX,
        detail=detail,
        required=False,
        count=len(recent),
        at=_when(at),
        error=_one_line(error),
    )


# -- the inventory (checkin readers) ---------------------------------------------------------


def _bounded(fn: Callable[[], Any], limit_s: float) -> tuple[Any, str | None]:
    """``fn()`` on a daemon thread: (result, None), or (None, why) on error or timeout."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except Exception as exc:
            box["error"] = _one_line(exc)

    thread = threading.Thread(target=run, daemon=True, name="doctor-probe")
    thread.start()
    thread.join(limit_s)
    if thread.is_alive():
        return None, f"no answer within {limit_s:g} s"
    return box.get("value"), box.get("error")


def list_devices(time_limit_s: float = 3.0) -> dict[str, Any]:
    """``{"cameras": [...], "pcsc": [...], "serial": [...], "errors": {...}}`` for
    ``checkin readers`` and the settings pickers; each list is probed with a time limit."""
    out: dict[str, Any] = {"cameras": [], "pcsc": [], "serial": [], "errors": {}}
    results: dict[str, tuple[Any, str | None]] = {}

    def pcsc() -> list[str]:
        readers, why = pcsc_readers()
        if readers is None:
            raise RuntimeError(
                "pyscard is not installed" if why == "pyscard" else "pcscd is not running"
            )
        return readers

    probes = {
        "cameras": lambda: [c.to_json() for c in probe_cameras()],
        "pcsc": pcsc,
        "serial": lambda: [p.to_json() for p in serial_ports()],
    }
    threads = []
    for key, fn in probes.items():

        def run(key: str = key, fn: Callable[[], Any] = fn) -> None:
            results[key] = _bounded(fn, time_limit_s)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(time_limit_s + 0.5)
    for key in probes:
        value, error = results.get(key, (None, f"no answer within {time_limit_s:g} s"))
        if value is not None:
            out[key] = value
        if error:
            out["errors"][key] = error
    return out


# -- text report -----------------------------------------------------------------------------

MARKS = {True: "✓", False: "✗", None: "–"}
PLAIN_MARKS = {True: "OK", False: "FAIL", None: "-"}


def report_lines(checks: list[Check], *, details: bool = False, plain: bool = False) -> list[str]:
    """One line per check: mark, title, summary, and the fix after a dash when it failed."""
    marks = PLAIN_MARKS if plain else MARKS
    width = max(len(c.title.en) for c in checks) if checks else 0
    lines = []
    for c in checks:
        line = f"{marks[c.ok]:<4} {c.title.en:<{width}}  {c.summary}"
        if c.ok is False and not c.required:
            line += " (optional)"
        if c.fix and c.ok is not True:
            line += f" — fix: {c.fix}"
        lines.append(line)
        if details and c.detail:
            lines += [f"{'':<5}{row}" for row in c.detail.splitlines()]
    return lines
