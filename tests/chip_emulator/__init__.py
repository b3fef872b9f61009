"""A CCCD-like chip emulator for tests: the card (``card.py``) and its vpcd link (``vpcd.py``).

The card speaks ICAO 9303 (PACE-CAN with ECDH generic mapping on brainpoolP256r1, BAC,
3DES and AES secure messaging, READ BINARY by SFI, extended length) over invented data: a
synthetic person, a synthetic face image and an EF.SOD signed by a test-only CSCA/DS pair that
the tests generate. ``vpcd.py`` connects it to pcscd's vsmartcard-vpcd driver so the tests go
through the real pcscd + pyscard stack. ``python -m tests.chip_emulator`` runs it by hand.
"""

from tests.chip_emulator.card import Card, Faults, Person, TestPki, build_files, make_pki
from tests.chip_emulator.vpcd import VirtualCard

__all__ = ["Card", "Faults", "Person", "TestPki", "VirtualCard", "build_files", "make_pki"]
