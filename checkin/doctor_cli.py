"""``checkin doctor`` and ``checkin readers`` (cli-contract.md).

``checkin/cli.py`` adds both to the command line with :func:`add_doctor_parsers`.

``checkin doctor [--json] [--verbose] [--strict]``: one line per check (✓ works, ✗ does not,
– not used here), the fix after the failing ones; ``--verbose`` adds each check's detail. JSON:
``{"ok": bool, "checks": [{"name", "title", "ok", "required", "summary", "detail", "fix",
"seconds"}]}``; ``ok`` is false when a required check fails (devices the configuration does not
use, the keyring, the outbox and recent errors are never required; nor is the camera when a
serial scanner is configured and ``[camera] source`` is left at its default). Exit codes, as
the contract has them: 0 the doctor ran and reported, whatever it found; with ``--strict`` (for
monitoring scripts) 1 when a required check fails, including an invalid configuration (the
doctor still checks the devices then); 2 bad usage, e.g. a ``--config`` file that does not
exist.

``checkin readers [--json]``: the cameras, PC/SC readers and serial ports of this machine.
JSON: ``{"cameras": [{"index", "name", "width", "height"}], "pcsc": [names],
"serial": [{"device", "description", "hwid"}], "errors": {list: why it is empty}}``. Exit 0.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from checkin.config import ENV_CONFIG, ConfigError, config_file, load_config


def add_doctor_parsers(
    subparsers: argparse._SubParsersAction, common_parent: argparse.ArgumentParser
) -> None:
    """Add ``doctor`` and ``readers``; ``common_parent`` carries --config and --json."""
    help_text = "what works and what does not: readers, gateway, store, pcscd"
    doctor = subparsers.add_parser(
        "doctor", parents=[common_parent], help=help_text, description=help_text
    )
    doctor.add_argument("-v", "--verbose", action="store_true", help="show each check's detail too")
    doctor.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a required check fails (for monitoring scripts); otherwise exit 0",
    )
    doctor.set_defaults(func=cmd_doctor)
    help_text = "cameras, PC/SC readers and serial ports that this machine has"
    readers = subparsers.add_parser(
        "readers", parents=[common_parent], help=help_text, description=help_text
    )
    readers.set_defaults(func=cmd_readers)


def _print(line: str) -> None:
    """Print, replacing what the console cannot show (a Windows code page and ✓)."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    print(line.encode(encoding, errors="replace").decode(encoding, errors="replace"))


def _plain_console() -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        "✓✗–".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return True
    return False


def cmd_doctor(args: argparse.Namespace) -> int:
    from checkin.doctor import all_passed, report_lines, run_checks

    path = getattr(args, "config", None)
    named = path or os.environ.get(ENV_CONFIG)
    file = config_file(path)
    if named and not file.is_file():
        print(f"checkin: configuration file not found: {file}", file=sys.stderr)
        return 2
    config, error = None, None
    try:
        config = load_config(path)
    except ConfigError as exc:
        error = str(exc)
    checks = run_checks(config, config_error=error, config_path=file)
    passed = all_passed(checks)
    if getattr(args, "json", False):
        data = {"ok": passed, "checks": [c.to_json() for c in checks]}
        print(json.dumps(data, ensure_ascii=False))
    else:
        plain = _plain_console()
        for line in report_lines(checks, details=getattr(args, "verbose", False), plain=plain):
            _print(line)
    return 1 if getattr(args, "strict", False) and not passed else 0


def cmd_readers(args: argparse.Namespace) -> int:
    from checkin.doctor import list_devices

    devices = list_devices()
    if getattr(args, "json", False):
        print(json.dumps(devices, ensure_ascii=False))
        return 0
    errors = devices["errors"]
    _print("cameras:")
    for cam in devices["cameras"]:
        _print(f"  {cam['index']}  {cam['name']} ({cam['width']}×{cam['height']})")
    if not devices["cameras"]:
        _print(f"  none{_why(errors.get('cameras'))}")
    _print("PC/SC readers:")
    for name in devices["pcsc"]:
        _print(f"  {name}")
    if not devices["pcsc"]:
        _print(f"  none{_why(errors.get('pcsc'))}")
    _print("serial ports:")
    for port in devices["serial"]:
        _print(f"  {port['device']}  {port['description']}  {port['hwid']}")
    if not devices["serial"]:
        _print(f"  none{_why(errors.get('serial'))}")
    return 0


def _why(error: str | None) -> str:
    return f" ({error})" if error else ""
