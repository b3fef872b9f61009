"""Run the emulated CCCD on pcscd's vpcd reader by hand.

    python -m tests.chip_emulator [--port 35963] [--csca-out DIR] [--no-pace] [--no-bac]
                                  [--short] [--slow] [--nested-parents]

Then, in another shell: ``checkin read-card --reader "Virtual PCD 00 00" --can 012345``
(or ``--mrz 185012345,850315,450315``). pcscd must be running with vsmartcard-vpcd installed.
Ctrl-C stops. All data is invented; the SOD is signed by a throw-away test CSCA.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from tests.chip_emulator.card import Card, make_pki
from tests.chip_emulator.vpcd import DEFAULT_PORT, VirtualCard


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.chip_emulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="35963: reader 0")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--csca-out", metavar="DIR", help="write the test CSCA certificate here")
    parser.add_argument("--no-pace", action="store_true", help="a card without PACE")
    parser.add_argument("--no-bac", action="store_true", help="a card without BAC")
    parser.add_argument("--short", action="store_true", help="no extended length")
    parser.add_argument(
        "--slow",
        action="store_true",
        help="no TCP_QUICKACK: about 40 ms per APDU, as chip.md §9 measured",
    )
    parser.add_argument(
        "--nested-parents", action="store_true", help="DG13 field 13 as one nested SEQUENCE"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    pki = make_pki()
    card = Card(
        pki=pki,
        pace_enabled=not args.no_pace,
        bac_enabled=not args.no_bac,
        extended=not args.short,
        parents_layout="nested" if args.nested_parents else "siblings",
    )
    if args.csca_out:
        out = Path(args.csca_out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "test-csca.pem").write_bytes(pki.csca_pem)
        print(f"test CSCA certificate written to {out / 'test-csca.pem'}")
    person = card.person
    print(
        f"emulated CCCD of an invented person; CAN {person.can},"
        f" MRZ key {person.bac_key.document_number},{person.bac_key.date_of_birth},"
        f"{person.bac_key.date_of_expiry}"
    )
    virtual = VirtualCard(card, host=args.host, port=args.port, quickack=not args.slow).start()
    if not virtual.wait_connected(10):
        print(
            f"cannot reach vpcd on {args.host}:{args.port}: is pcscd running with"
            " vsmartcard-vpcd installed?",
            file=sys.stderr,
        )
        virtual.stop()
        return 1
    print(f"card inserted in the vpcd reader on port {args.port}; Ctrl-C removes it")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        virtual.stop()
        print(f"card removed after {card.commands} commands")
    return 0


if __name__ == "__main__":
    sys.exit(main())
