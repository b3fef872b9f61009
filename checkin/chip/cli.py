"""``checkin read-card``: read a chip citizen ID through PC/SC (cli-contract.md).

``checkin/cli.py`` adds it to the command line with :func:`add_read_card_parser`.

Exit codes: 0 read; 2 bad input or a fixable situation at the desk (bad CAN/MRZ/QR text, the
card refused the key, a card that does not offer the access method asked for (PACE for --can,
BAC for --mrz), no reader or no card, not a citizen ID card, bad config, a ``--photo`` that
cannot be written); 1 the read failed on the way (card removed, secure channel broken,
malformed data). Always one line on stderr, never a traceback; ``--photo`` is written only
after a successful read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from checkin.chip.errors import (
    AccessNotSupported,
    ChipError,
    ReaderError,
    UnknownCard,
    WrongAccessKey,
)
from checkin.model import mask_number

USAGE_ERRORS = (WrongAccessKey, ReaderError, UnknownCard, AccessNotSupported)


def add_read_card_parser(
    subparsers: argparse._SubParsersAction, common_parent: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """Add ``read-card`` to ``subparsers``; ``common_parent`` carries --config and --json."""
    help_text = "read a chip citizen ID (CCCD) through PC/SC"
    parser = subparsers.add_parser(
        "read-card", parents=[common_parent], help=help_text, description=help_text
    )
    parser.add_argument("--reader", metavar="NAME", help="PC/SC reader name (or part of it)")
    keys = parser.add_mutually_exclusive_group(required=True)
    keys.add_argument("--can", metavar="CAN", help="card access number: last 6 digits of the ID")
    keys.add_argument("--qr", metavar="PAYLOAD", help="the card's QR text ('-' reads stdin)")
    keys.add_argument(
        "--mrz",
        metavar="DOCNO,YYMMDD,YYMMDD",
        help="document number, birth and expiry dates: the MRZ key (PACE if offered, else BAC)",
    )
    parser.add_argument("--photo", metavar="FILE", help="write the face image to FILE")
    parser.add_argument(
        "--transcript", metavar="FILE", help="append the APDU transcript (IDs masked) to FILE"
    )
    parser.set_defaults(func=cmd_read_card)
    return parser


def _fail(message: str, code: int) -> int:
    print(f"checkin: {message}", file=sys.stderr)
    return code


def cmd_read_card(args: argparse.Namespace) -> int:
    from checkin.chip.reader import access_keys, read_card
    from checkin.config import ConfigError, load_config

    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        return _fail(str(exc), 2)
    qr = sys.stdin.read() if args.qr == "-" else args.qr
    try:
        access_keys(can=args.can, mrz=args.mrz, qr=qr)  # validate before touching the reader
    except ValueError as exc:
        return _fail(str(exc), 2)
    photo = Path(args.photo) if args.photo else None
    if photo is not None:
        problem = _photo_problem(photo)
        if problem:
            return _fail(f"--photo: {problem}", 2)
    csca_dir = config.chip.csca_dir
    if csca_dir and not Path(csca_dir).is_dir():
        return _fail(f"[chip] csca_dir is not a folder: {csca_dir}", 2)

    try:
        from drivers.pcsc import PcscTransport, TranscriptRecorder
    except ImportError as exc:  # pragma: no cover - drivers ship with checkin
        return _fail(f"the PC/SC driver is not available ({exc})", 1)
    recorder = TranscriptRecorder(args.transcript) if args.transcript else None
    try:
        with PcscTransport(args.reader, recorder=recorder) as transport:
            result = read_card(transport, can=args.can, mrz=args.mrz, qr=qr, csca_dir=csca_dir)
    except USAGE_ERRORS as exc:
        return _fail(str(exc), 2)
    except ChipError as exc:
        return _fail(str(exc), 1)
    except ValueError as exc:
        return _fail(str(exc), 2)
    finally:
        if recorder is not None:
            recorder.close()

    if photo is not None and result.photo is not None:
        try:
            _write_atomic(photo, result.photo.data)
        except OSError as exc:
            return _fail(f"--photo: cannot write {photo}: {exc.strerror or exc}", 2)
    data = result.to_json()
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False))
    else:
        for line in _human(data, result, photo):
            print(line)
    return 0


def _photo_problem(photo: Path) -> str | None:
    """Why the face image could not be written to ``photo``; checked before the card is read."""
    if not photo.parent.is_dir():
        return f"no such folder {photo.parent}"
    if photo.is_dir():
        return f"{photo} is a folder, not a file"
    if not os.access(photo.parent, os.W_OK):
        return f"cannot write in the folder {photo.parent}"
    return None


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _human(data: dict, result: object, photo: Path | None) -> list[str]:
    labels = (
        ("citizen_id", "citizen ID"),
        ("full_name", "name"),
        ("date_of_birth", "birth date"),
        ("gender", "gender"),
        ("nationality", "nationality"),
        ("ethnicity", "ethnicity"),
        ("religion", "religion"),
        ("place_of_origin", "place of origin"),
        ("residence", "residence"),
        ("identifying_features", "features"),
        ("issue_date", "issued"),
        ("expiry_date", "expires"),
        ("father_name", "father"),
        ("mother_name", "mother"),
        ("spouse_name", "spouse"),
        ("old_id_number", "old ID (CMND)"),
    )
    lines = []
    for key, label in labels:
        value = data.get(key)
        if key == "expiry_date" and not value and data.get("expiry_text"):
            words = data["expiry_text"]  # the card's own words, e.g. "Không thời hạn"
            dateish = any(c.isdigit() for c in words)
            value = f"{words} (not a date)" if dateish else f"no expiry ({words})"
        if value:
            if key in ("citizen_id", "old_id_number"):
                value = mask_number(value)  # screens show masked IDs; --json has them whole
            lines.append(f"{label:>20}: {value}")
    if data["photo"]:
        where = f" -> {photo}" if photo else ""
        size = data["photo"]["bytes"]
        lines.append(f"{'photo':>20}: {data['photo']['format']}, {size} bytes{where}")
    lines.append(f"{'chip check':>20}: {result.passive_auth.summary}")
    lines.append(f"{'access':>20}: {data['access']} ({data['apdus']} commands,"
                 f" {data['seconds']:.2f} s)")  # fmt: skip
    lines += [f"{'warning':>20}: {w}" for w in result.warnings]
    return lines
