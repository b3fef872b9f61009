"""Reading the chip of a Vietnamese citizen ID (CCCD / căn cước): ICAO 9303 over a transport.

Pure protocol code: nothing here imports pyscard or Qt. A transport (``drivers.pcsc``, the
replay in ``drivers.chip_replay``, or the test emulator) carries the APDUs.

Entry point: :func:`read_card` → :class:`CardRead` (``to_json()`` for ``checkin read-card``,
``identity()`` for the eligibility check). Failures are :class:`ChipError` subclasses whose
message is one line a receptionist or IT person can act on.
"""

import importlib
from typing import Any

# Imported on first use: the protocol code pulls in cryptography (~0.1 s), which every other
# ``checkin`` command would otherwise pay for at start-up.
_EXPORTS = {
    "AccessDenied": "checkin.chip.errors",
    "AccessNotSupported": "checkin.chip.errors",
    "BacKey": "checkin.chip.bac",
    "CardRead": "checkin.chip.reader",
    "CardRemoved": "checkin.chip.errors",
    "CardStatusError": "checkin.chip.errors",
    "ChipError": "checkin.chip.errors",
    "Command": "checkin.chip.apdu",
    "FileNotFound": "checkin.chip.errors",
    "Photo": "checkin.chip.reader",
    "ReaderError": "checkin.chip.errors",
    "Response": "checkin.chip.apdu",
    "SecureMessagingError": "checkin.chip.errors",
    "TlvError": "checkin.chip.errors",
    "Transport": "checkin.chip.apdu",
    "UnknownCard": "checkin.chip.errors",
    "WrongAccessKey": "checkin.chip.errors",
    "access_keys": "checkin.chip.reader",
    "read_card": "checkin.chip.reader",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'checkin.chip' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "AccessDenied",
    "AccessNotSupported",
    "BacKey",
    "CardRead",
    "CardRemoved",
    "CardStatusError",
    "ChipError",
    "Command",
    "FileNotFound",
    "Photo",
    "ReaderError",
    "Response",
    "SecureMessagingError",
    "TlvError",
    "Transport",
    "UnknownCard",
    "WrongAccessKey",
    "access_keys",
    "read_card",
]
