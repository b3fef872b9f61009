"""Chip read cost against the emulated CCCD through pcscd + vsmartcard-vpcd + pyscard.

For PACE (CAN) and BAC (MRZ), with extended-length and with short APDUs, reads DG13 alone and
DG13 + DG2 + SOD, and prints per read: commands sent, the minimum command count the card
allows for the same files, response bytes on the wire, file bytes, and seconds (median of N),
plus commands and seconds until the identity (DG13) is available. A last table repeats the
short-APDU PACE reads without TCP_QUICKACK on the emulator's socket, which reproduces the
~44 ms per APDU of chip.md §9 (a vpcd loopback artefact, not a card property).

Prints figures; it is not a test. Run as root when pcscd is not already running (it is started
and stopped here): ``.venv/bin/python benchmarks/chip_read.py [N]``.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checkin.chip import crypto  # noqa: E402
from checkin.chip.reader import read_card  # noqa: E402
from checkin.chip.sm import SecureMessaging  # noqa: E402
from drivers.pcsc import PcscTransport, wait_for_card  # noqa: E402
from tests.chip_emulator import Card, Person, VirtualCard, make_pki  # noqa: E402

READER = "Virtual PCD 00 00"
PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
PERSON = Person()
OVERHEAD = {"PACE": 7, "BAC": 3}  # CardAccess+MSE+4 GA+SELECT | SELECT+GET CHALLENGE+MUTUAL AUTH
KEYS = {"PACE": {"can": PERSON.can}, "BAC": {"mrz": "185012345,850315,450315"}}
FILESETS = {
    "DG13": {"want_photo": False, "want_mrz": False, "verify": False},
    "DG13+DG2+SOD": {"want_photo": True, "want_mrz": False, "verify": True},
}


class Counting:
    """Passes through to the PC/SC transport, counting commands and response bytes."""

    def __init__(self, inner: PcscTransport) -> None:
        self.inner = inner
        self.atr = inner.atr
        self.max_response_length = inner.max_response_length
        self.commands = 0
        self.received = 0

    def transmit(self, apdu: bytes) -> bytes:
        self.commands += 1
        response = self.inner.transmit(apdu)
        self.received += len(response)
        return response


def pcscd_running() -> bool:
    if not PCSCD_SOCKET.exists():
        return False
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(PCSCD_SOCKET))
        except OSError:
            return False
    return True


def minimum_commands(access: str, sizes: list[int], *, extended: bool, limit: int) -> int:
    cipher = crypto.AES if access == "PACE" else crypto.DES3
    block = 16 if cipher == crypto.AES else 8
    sm = SecureMessaging(cipher, bytes(16), bytes(16), bytes(block))
    chunk = sm.max_plain_response(limit if extended else 256)
    return OVERHEAD[access] + sum(-(-size // chunk) for size in sizes)


def measure(access: str, fileset: str, *, extended: bool, runs: int) -> dict:
    seconds, identity_at = [], []
    for _ in range(runs):
        with PcscTransport(READER, extended=None if extended else False) as transport:
            counting = Counting(transport)
            marks = {}
            started = time.perf_counter()

            def progress(stage, result, marks=marks, counting=counting, started=started):
                if stage == "identity":
                    marks["identity"] = (counting.commands, time.perf_counter() - started)

            result = read_card(counting, **KEYS[access], progress=progress, **FILESETS[fileset])
            seconds.append(time.perf_counter() - started)
            identity_at.append(marks["identity"])
    sizes = [len(data) for data in result.files.values()]
    return {
        "access": access,
        "files": fileset,
        "apdu": "extended" if extended else "short",
        "commands": counting.commands,
        "minimum": minimum_commands(
            access, sizes, extended=extended, limit=transport.max_response_length
        ),
        "wire_bytes": counting.received,
        "file_bytes": sum(sizes),
        "seconds": statistics.median(seconds),
        "identity_commands": identity_at[-1][0],
        "identity_seconds": statistics.median(t for _, t in identity_at),
    }


def table(rows: list[dict]) -> None:
    head = (
        f"{'access':<6} {'files':<13} {'APDUs':<8} {'cmds':>4} {'min':>4} {'wire B':>7}"
        f" {'file B':>7} {'seconds':>8} {'id cmds':>7} {'id s':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['access']:<6} {r['files']:<13} {r['apdu']:<8} {r['commands']:>4}"
            f" {r['minimum']:>4} {r['wire_bytes']:>7} {r['file_bytes']:>7}"
            f" {r['seconds']:>8.4f} {r['identity_commands']:>7} {r['identity_seconds']:>7.4f}"
        )


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    daemon = None
    if not pcscd_running():
        binary = shutil.which("pcscd") or "/usr/sbin/pcscd"
        if not Path(binary).exists():
            print("pcscd is not installed (make deps installs pcscd and vsmartcard-vpcd)")
            return 1
        if os.geteuid() != 0:
            print("pcscd is not running; start it as root (sudo pcscd) or run this as root")
            return 1
        PCSCD_SOCKET.parent.mkdir(parents=True, exist_ok=True)
        log = tempfile.NamedTemporaryFile(prefix="pcscd-", suffix=".log", delete=False)  # noqa: SIM115
        daemon = subprocess.Popen([binary, "--foreground"], stdout=log, stderr=log)
        for _ in range(100):
            if pcscd_running():
                break
            time.sleep(0.05)
    card = Card(pki=make_pki())
    try:
        for quickack, combos in (
            (True, [(a, f, e) for e in (True, False) for a in ("PACE", "BAC") for f in FILESETS]),
            (False, [("PACE", f, False) for f in FILESETS]),
        ):
            with VirtualCard(card, quickack=quickack) as virtual:
                if not (virtual.wait_connected(10) and wait_for_card(READER, timeout=10)):
                    print("the emulated card did not appear on", READER)
                    return 1
                rows = [measure(a, f, extended=e, runs=runs) for a, f, e in combos]
            title = "with TCP_QUICKACK (default)" if quickack else "without TCP_QUICKACK"
            print(f"\n== emulator through pcscd, {title}, median of {runs} runs")
            table(rows)
            time.sleep(0.5)
        sizes = {name: len(data) for name, data in card.files.items()}
        print(
            f"\nfile sizes: DG13 {sizes['DG13']} B, DG1 {sizes['DG1']} B, DG2 {sizes['DG2']} B"
            f" (JPEG), EF.SOD {sizes['EF.SOD']} B"
        )
        print("cmds = commands sent; min = minimum for the same files (access overhead +"
              " ceil(file / largest chunk)); id = until DG13 is parsed")  # fmt: skip
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
