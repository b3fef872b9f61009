"""The ``checkin`` command line (docs: ../shared/docs/cli-contract.md, kept exactly).

Exit codes: 0 done (whatever the verdict), 2 bad input or usage (one line on stderr, nothing
written), 1 anything unexpected (one line on stderr; the traceback goes to the log file); 141
(128 + SIGPIPE), silently, when the reader of stdout went away (``checkin doctor | head``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from checkin.config import (
    Config,
    ConfigError,
    default_data_dir,
    gateway_settings_message,
    load_config,
    missing_gateway_settings,
)
from checkin.formats import ParseFailure, parse_payload
from checkin.model import Identity, PayloadKind

if TYPE_CHECKING:
    from checkin.store import Store

log = logging.getLogger("checkin")

# A reader that closed our stdout early (``checkin doctor --json | head``): exit as a process
# killed by SIGPIPE would, 128 + 13, quietly.
EXIT_BROKEN_PIPE = 141
SQLITE_MAX_INT = 2**63 - 1  # the largest row id; a bigger one overflows the query


class UsageError(Exception):
    """Bad input or usage: exit 2 with this one line."""


# -- output helpers --------------------------------------------------------------------------


def emit(args: argparse.Namespace, data: object, human: Callable[[], Iterable[str]]) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        for line in human():
            print(line)


def _identity_lines(data: dict) -> list[str]:
    labels = {
        "kind": "kind",
        "template": "template",
        "card_number": "card number",
        "social_insurance_number": "BHXH number",
        "citizen_id": "citizen ID",
        "old_id_number": "old ID (CMND)",
        "full_name": "name",
        "date_of_birth": "birth date",
        "gender": "gender",
        "address": "address",
        "registered_facility": "registered facility",
        "valid_from": "valid from",
        "valid_to": "valid to",
        "issue_date": "issued",
        "five_year_date": "5 years on",
        "area_code": "area",
        "issuing_office": "issuing office",
        "guardian_name": "guardian",
    }
    lines = [f"{label:>20}: {data[key]}" for key, label in labels.items() if data.get(key)]
    lines += [f"{'warning':>20}: {w}" for w in data.get("warnings", [])]
    return lines


def _decision_lines(data: dict) -> list[str]:
    lines = [
        f"{'verdict':>20}: {data['status'].upper()} ({data['result_code'] or 'no code'},"
        f" {data['source']})",
        f"{'message':>20}: {data['message']}",
        f"{'next':>20}: {data['action']}",
    ]
    for key, label in (
        ("card_number", "card number"),
        ("valid_from", "valid from"),
        ("valid_to", "valid to"),
        ("registered_facility", "registered facility"),
        ("checked_at", "checked at"),
        ("error", "lookup error"),
    ):
        if data.get(key):
            lines.append(f"{label:>20}: {data[key]}")
    return lines


# -- commands --------------------------------------------------------------------------------


def cmd_parse(args: argparse.Namespace) -> int:
    result = parse_payload(_payload_arg(args.payload))
    if isinstance(result, ParseFailure):
        raise UsageError(f"not a patient QR: {result.reason}")
    data = result.to_json()
    emit(args, data, lambda: _identity_lines(data))
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from checkin.qr import NoDecoder, ScanError, ScanHit, make_decoder, scan_file

    for file in args.files:
        if Path(file).is_dir():
            raise UsageError(f"{file} is a folder, not a file")
        if not Path(file).is_file():
            raise UsageError(f"no such file: {file}")
    name = args.decoder or _scan_config(args).camera.decoder
    try:  # before stderr is silenced: a fallback to the other backend is logged there
        decoder = make_decoder(name)
    except NoDecoder as exc:  # not bad input, but nothing to fix in the command: exit 1
        print(f"checkin: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    hits: list[ScanHit] = []
    with _native_stderr_quiet():
        for file in args.files:  # every file read before anything is printed: all or nothing
            try:
                hits.extend(scan_file(file, decoder))
            except ScanError as exc:
                raise UsageError(str(exc)) from None
    for hit in hits:
        _print_scan_hit(args, hit)
    return 0


def _scan_config(args: argparse.Namespace) -> Config:
    """The configuration for ``scan`` (only ``[camera] decoder`` is used: no secrets)."""
    try:
        return load_config(args.config, secrets=False)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _print_scan_hit(args: argparse.Namespace, hit: object) -> None:
    payload = hit.payload
    parsed, error = None, None
    if payload is None:
        error = "QR content is not UTF-8 text"
    else:
        result = parse_payload(payload)
        if isinstance(result, ParseFailure):
            error = result.reason
        else:
            parsed = result.to_json()
    line = {
        "file": hit.file,
        "frame": hit.frame,
        "payload": payload,
        "parsed": parsed,
        "error": error,
    }
    if args.json:
        print(json.dumps(line, ensure_ascii=False))
        return
    where = hit.file if hit.frame is None else f"{hit.file} frame {hit.frame}"
    what = f"{parsed['kind']} {parsed['full_name']}" if parsed else f"unreadable: {error}"
    print(f"{where}: {what}")


def cmd_check(args: argparse.Namespace) -> int:
    identity = _identity_from_args(args)
    config = _config(args)
    with _open_intake(config, require_gateway=True) as intake:
        decision = intake.check(identity)
    data = decision.to_json()
    emit(args, data, lambda: _decision_lines(data))
    return 0


def cmd_intake(args: argparse.Namespace) -> int:
    from checkin.intake import why_not_admissible

    text = _payload_arg(args.payload)
    result = parse_payload(text)
    if isinstance(result, ParseFailure):
        raise UsageError(f"not a patient QR: {result.reason}")
    missing = why_not_admissible(result)
    if missing:  # refused before the store is opened: nothing is created or written
        raise UsageError(f"not a patient QR: {missing}")
    config = _config(args)
    with _open_intake(config, require_gateway=False) as intake:
        outcome = intake.admit(result)  # parsed and judged admissible above, once
    data = outcome.to_json()

    def human() -> list[str]:
        head = f"queue number {outcome.visit.queue_number}" + (
            " (already checked in today)" if outcome.reopened else ""
        )
        return [head, *_identity_lines(data["patient"]), *_decision_lines(data["decision"])]

    emit(args, data, human)
    return 0


def cmd_visits(args: argparse.Namespace) -> int:
    day = args.date or date.today().isoformat()
    # Only YYYY-MM-DD: date.fromisoformat alone also takes 20261122 and 2026-W47-7.
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", day):
            raise ValueError(day)
        date.fromisoformat(day)
    except ValueError:
        raise UsageError(f"--date must be YYYY-MM-DD, got {day!r}") from None
    config = _config(args)
    visits = _visits_on(config.store_path, day)

    def human() -> list[str]:
        if not visits:
            return [f"no visits on {day}"]
        return [_visit_line(v) for v in visits]

    emit(args, visits, human)
    return 0


def _visits_on(path: str | Path, day: str) -> list[dict]:
    """The day's visits; none, and nothing created, when there is no store there yet (a
    command that only reads leaves no empty database behind on a mistyped path)."""
    if not _store_exists(path):
        return []
    with _open_store(path) as store:
        return [v.to_json() for v in store.visits_on(day)]


def _store_exists(path: str | Path) -> bool:
    """Whether a command that only reads has a store to read: False (nothing to show, and
    nothing is created) when none is there yet; an unusable path is named on opening it."""
    from checkin.store_path import store_path_problem

    return Path(path).exists() or store_path_problem(path) is not None


def _visit_line(v: dict) -> str:
    return (
        f"{v['queue_number']:>4}  {v['status']:<13} {v['decision']['result_code'] or '---'}"
        f"  {v['patient']['full_name']}"
    )


def cmd_evidence(args: argparse.Namespace) -> int:
    """One visit and every lookup made for it: the bundle sent to BHXH when the gateway was
    still failing at discharge (formats.md §7, case (b))."""
    from checkin.model import mask_number

    if not 0 < args.visit_id <= SQLITE_MAX_INT:  # SQLite cannot even look such a number up
        raise UsageError(f"no visit {args.visit_id}")
    config = _config(args)
    if not _store_exists(config.store_path):  # a read creates no empty database
        raise UsageError(f"no visit {args.visit_id}")
    with _open_store(config.store_path) as store:
        try:
            visit = store.visit(args.visit_id).to_json()
        except KeyError:
            raise UsageError(f"no visit {args.visit_id}") from None
        attempts = store.lookup_attempts(args.visit_id)
    for attempt in attempts:  # the officer's citizen ID stays in the store
        attempt["officer_id"] = mask_number(attempt["officer_id"])
    data = {"visit": visit, "attempts": attempts}

    def human() -> list[str]:
        lines = [f"visit {visit['visit_id']} on {visit['visit_date']}", _visit_line(visit)]
        if not attempts:
            lines.append("no lookup recorded for this visit")
        for a in attempts:
            http = f"HTTP {a['http_status']}" if a["http_status"] else "no reply"
            http = http if a["sent"] else "not sent"
            outcome = a["error"] or "answered"
            lines.append(
                f"{a['at']}  {http:<8}  {a['result_code'] or '---'}  {a['number']}"
                f"  {outcome}  (officer {a['officer_name']})"
            )
        return lines

    emit(args, data, human)
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from checkin.outbox import sync_once

    config = _config(args)
    with _open_intake(config, require_gateway=True) as intake:
        counts = sync_once(intake)
    emit(args, counts, lambda: [f"{k}: {v}" for k, v in counts.items()])
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    config = _config(args)
    days = args.days if args.days is not None else config.store.retention_days
    if days <= 0:
        raise UsageError("--days must be a positive number of days")
    with _open_store(config.store_path) as store:
        purged = store.purge_answers(timedelta(days=days))
    data = {"purged": purged, "retention_days": days}
    emit(args, data, lambda: [f"removed {purged} cached answers older than {days} days"])
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from checkin.sandbox import PopulationError, Sandbox

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0-65535, got {args.port}")
    if args.population and not Path(args.population).is_file():
        raise UsageError(f"no such population file: {args.population}")
    try:
        sandbox = Sandbox(args.population, host=args.host, port=args.port).bind()
    except PopulationError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    from checkin.sandbox.server import FAULTS_PATH

    account = sandbox.population.accounts[0]
    if args.json:  # one line once listening: what a desk configuration needs, and the controls
        gw = sandbox.gateway_config()
        ready = {
            "url": gw.url,
            "username": gw.username,
            "password": gw.password,
            "officer_name": gw.officer_name,
            "officer_id": gw.officer_id,
            "facility_code": gw.facility_code,
            "admin": f"{sandbox.url}{FAULTS_PATH}",
        }
        print(json.dumps(ready, ensure_ascii=False), flush=True)
    else:
        print(
            f"sandbox gateway on {sandbox.url} (account {account.username}); Ctrl-C stops",
            flush=True,
        )
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


def cmd_desk(args: argparse.Namespace) -> int:
    from ui.app import run_desk

    return run_desk(config_path=args.config, demo=args.demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from ui.demo import run_demo

    return run_demo(screenshot=args.screenshot, realtime=not args.fast, as_json=args.json)


# -- argument helpers ------------------------------------------------------------------------


def _payload_arg(payload: str) -> str:
    if payload != "-":
        return payload  # arguments were checked to be UTF-8 in main()
    try:
        text = sys.stdin.read()
    except UnicodeDecodeError:
        text = "\udcff"  # a strict stdin: refused just the same
    if not _is_utf8(text):
        raise UsageError("standard input is not valid UTF-8 text")
    return text


def _config(args: argparse.Namespace) -> Config:
    try:
        return load_config(args.config)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _identity_from_args(args: argparse.Namespace) -> Identity:
    name = " ".join(args.name.split())
    if not name:
        raise UsageError("--name must not be empty")
    dob = _birth_date(args.dob)
    if args.card:
        card = args.card.strip().upper()
        if re.fullmatch(r"[A-Z]{2}\d{13}", card):
            return Identity(
                PayloadKind.BHYT,
                name,
                card_number=card,
                social_insurance_number=card[-10:],
                date_of_birth=dob,
            )
        if re.fullmatch(r"\d{10}", card):
            return Identity(PayloadKind.BHYT, name, social_insurance_number=card, date_of_birth=dob)
        raise UsageError("--card must be a 15-character code (e.g. DN4010123456789) or 10 digits")
    citizen = args.id.strip()
    if not re.fullmatch(r"\d{12}", citizen):
        raise UsageError("--id must be a 12-digit citizen ID")
    return Identity(PayloadKind.CCCD, name, citizen_id=citizen, date_of_birth=dob)


def _birth_date(text: str) -> str:
    text = text.strip()
    if re.fullmatch(r"\d{4}", text):
        return text
    for pattern, order in (
        (r"(\d{1,2})/(\d{1,2})/(\d{4})", "dmy"),
        (r"(\d{4})-(\d{2})-(\d{2})", "ymd"),
    ):
        match = re.fullmatch(pattern, text)
        if match:
            parts = [int(x) for x in match.groups()]
            day, month, year = parts if order == "dmy" else parts[::-1]
            try:
                return date(year, month, day).isoformat()
            except ValueError:
                break
    raise UsageError(f"--dob must be dd/mm/yyyy, yyyy-mm-dd or yyyy, got {text!r}")


def _open_store(path: str | Path) -> Store:
    """The store at ``path``, or UsageError naming the path and what is wrong with it."""
    from checkin.store_path import StorePathError, open_store

    try:
        return open_store(path)
    except StorePathError as exc:
        raise UsageError(str(exc)) from None


class _open_intake:
    """Context manager: a store, a gateway client (when configured), an Intake over both."""

    def __init__(self, config: Config, *, require_gateway: bool) -> None:
        missing = missing_gateway_settings(config)
        if missing and require_gateway:
            raise UsageError(gateway_settings_message(config, missing))
        self.config = config
        self.use_gateway = not missing

    def __enter__(self):
        from checkin.gateway import GatewayClient
        from checkin.intake import Intake

        gw = self.config.gateway
        self.store = _open_store(self.config.store_path)
        self.client = None
        if self.use_gateway:
            self.client = GatewayClient.from_config(gw)
        else:
            print(
                "checkin: gateway not configured; the visit is registered unverified",
                file=sys.stderr,
            )
        return Intake(
            self.store,
            self.client,
            officer=gw.officer,
            facility_code=gw.facility_code,
            cache_max_age=timedelta(hours=self.config.store.cache_max_age_h),
        )

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        self.store.close()


# -- parser ----------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"checkin: {message} (see checkin --help)\n")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help="TOML configuration file")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")

    parser = _Parser(prog="checkin", description="Check-in desk for hospital reception.")
    parser.add_argument(
        "--config", default=None, help="TOML configuration file (or CHECKIN_CONFIG)"
    )
    parser.add_argument("--json", action="store_true", default=False, help="print JSON")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name: str, fn: Callable, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(func=fn)
        return p

    p = add("parse", cmd_parse, "classify and parse one QR / scanner text ('-' reads stdin)")
    p.add_argument("payload")
    p = add("scan", cmd_scan, "find and decode QR codes in image and video files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--decoder",
        choices=("zxing", "zbar"),
        help="QR decoder (default: [camera] decoder, else zxing; the other if it is missing)",
    )
    p = add("check", cmd_check, "eligibility through the gateway, the local cache as fallback")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--card", help="15-character card code or 10-digit BHXH number")
    who.add_argument("--id", help="12-digit citizen ID")
    p.add_argument("--name", required=True)
    p.add_argument("--dob", required=True, help="dd/mm/yyyy, yyyy-mm-dd or yyyy")
    p = add("intake", cmd_intake, "parse, look up, decide and register one scan ('-' reads stdin)")
    p.add_argument("payload")
    p = add("visits", cmd_visits, "the visits registered that day")
    p.add_argument("--date", help="YYYY-MM-DD (default today)")
    add("sync", cmd_sync, "re-check the unverified visits the outbox holds")
    p = add("evidence", cmd_evidence, "one visit and every lookup made for it, in time order")
    p.add_argument("visit_id", type=int, metavar="VISIT_ID")
    p = add("purge", cmd_purge, "remove cached answers older than the retention (audit stays)")
    p.add_argument("--days", type=int, help="retention in days (default: store.retention_days)")
    p = add("sandbox", cmd_sandbox, "run the bundled insurance gateway simulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--population", help="population JSON (default: fixtures/population.json)")
    from checkin.chip.cli import add_read_card_parser

    add_read_card_parser(sub, common)
    from checkin.doctor_cli import add_doctor_parsers

    add_doctor_parsers(sub, common)
    p = add("desk", cmd_desk, "the Qt desk application")
    p.add_argument("--demo", action="store_true", help="against the sandbox and recorded fixtures")
    p = add("demo", cmd_demo, "the desk against the sandbox and the recorded fixtures")
    p.add_argument("--screenshot", help="where to save the screenshot (default: out/demo.png)")
    p.add_argument("--fast", action="store_true", help="replay recordings as fast as possible")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _main(sys.argv[1:] if argv is None else list(argv))
        finally:
            if sys.stdout is not None:  # None under pythonw
                sys.stdout.flush()  # a closed pipe shows here, not as noise at exit
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE


def _main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="checkin: %(levelname)s %(message)s")
    logging.getLogger("urllib3").setLevel(logging.WARNING)  # its debug lines carry URLs
    bad = next((arg for arg in argv if not _is_utf8(arg)), None)
    if bad is not None:
        print(f"checkin: argument '{_shown(bad)}' is not valid UTF-8 text", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    if args.command in ("desk", "demo"):  # the desk: OpenCV's errors, not its warnings
        _native_errors_only()
    else:
        _quiet_native_logging()
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"checkin: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise  # stdout closed by its reader: main() ends quietly
    except Exception as exc:  # no traceback reaches a user
        where = _log_traceback(args.command)
        print(
            f"checkin: unexpected error ({type(exc).__name__}); details in {where}", file=sys.stderr
        )
        return 1


def _is_utf8(arg: str) -> bool:
    """False for an argument with bytes that are not UTF-8 (Python keeps them as surrogates)."""
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(arg: str) -> str:
    """``arg`` printable, its undecodable bytes as ``\\xff``."""
    try:
        raw = arg.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        return arg.encode("utf-8", errors="backslashreplace").decode("ascii", errors="replace")
    return raw.decode("utf-8", errors="backslashreplace")


def _quiet_native_logging() -> None:
    """Keep OpenCV's and FFmpeg's own warnings (``[ WARN:0@0.01] … PNG input buffer is
    incomplete``, ``[mjpeg @ 0x…] overread 8``) off stderr, where only our lines belong. Read
    when cv2 is first imported; set only if unset, so they can still be turned on to debug."""
    os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET


def _native_errors_only() -> None:
    """For the desk: OpenCV's and FFmpeg's errors still reach stderr, but not the warning a
    missing camera gives at every reopen (``[ WARN:0@…] … can't open camera by index``).
    Set only if unset, as above."""
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "16")  # AV_LOG_ERROR


@contextlib.contextmanager
def _native_stderr_quiet() -> Iterator[None]:
    """Inside, what native code writes straight to file descriptor 2 goes to devnull: libpng
    prints ``libpng error: PNG input buffer is incomplete`` there whatever OpenCV's log level.
    Not when OPENCV_LOG_LEVEL was set to something other than SILENT to debug them."""
    if os.environ.get("OPENCV_LOG_LEVEL", "SILENT").upper() != "SILENT":
        yield
        return
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr descriptor at all
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _discard_stdout() -> None:
    """After a broken pipe: point stdout at devnull so the final flush at exit cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor behind stdout
        pass


ERROR_LOG_HEADER = "=== {at} checkin {command}\n"  # checkin/doctor.py reads these entries


def _log_traceback(command: str) -> Path:
    """Append the current exception to the error log as one entry: a header line with the time
    and the command's name (never its arguments, which may hold a patient's QR or a CAN), then
    the traceback."""
    path = default_data_dir() / "checkin-errors.log"
    at = datetime.now().astimezone().isoformat(timespec="seconds")
    entry = ERROR_LOG_HEADER.format(at=at, command=command) + traceback.format_exc()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(entry)
    except OSError:
        return Path("(unwritable log)")
    return path


if __name__ == "__main__":
    sys.exit(main())
