"""The ``ChipError`` family: every failure of a chip read, with a message staff can act on.

``str(exc)`` is one line for the desk or IT: what happened and what to do next. Nothing here
carries a full ID number: messages mask it.
"""

from __future__ import annotations


class ChipError(Exception):
    """A chip read failed; ``str(exc)`` says why and what to do, in one line."""

    default_message = "the chip could not be read; place the card on the reader and try again"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self)


class WrongAccessKey(ChipError):
    """The card refused the access key (CAN, or the MRZ / QR derived BAC key)."""

    default_message = (
        "the card refused the access key: check the CAN (the last 6 digits of the 12-digit ID)"
        " or the document number, birth date and expiry date"
    )


class AccessNotSupported(ChipError):
    """The card does not offer the access method the keys given need (PACE for a CAN, BAC
    for an MRZ key), or its EF.CardAccess is unusable: read it with the other kind of key."""

    default_message = (
        "this card does not offer the access method asked for: read it with --mrz or --qr"
        " (BAC), or with --can (PACE)"
    )


class CardRemoved(ChipError):
    """The card left the reader's field during the read."""

    default_message = (
        "the card was taken off the reader during the read: place it back, hold it still"
        " and read again"
    )


class SecureMessagingError(ChipError):
    """A secure-messaging check failed (a MAC, padding or the card's SM status)."""

    default_message = (
        "the secure channel with the card broke (integrity check failed): read the card again;"
        " if it keeps failing the card may be damaged or not genuine"
    )


class TlvError(ChipError, ValueError):
    """Data from the card (or a file) is not well-formed BER-TLV."""

    default_message = "the card returned malformed data; read the card again"


class UnknownCard(ChipError):
    """The card on the reader is not a chip citizen ID (no ICAO eMRTD application)."""

    default_message = (
        "this card is not a chip citizen ID (no ICAO travel-document application): place the"
        " CCCD / căn cước card, chip side, on the reader"
    )


class ReaderError(ChipError):
    """The PC/SC layer: no service, no such reader, no card, reader busy."""

    default_message = "the card reader is not available: check that it is plugged in"


class CardStatusError(ChipError):
    """The card answered a command with an unexpected status word."""

    def __init__(self, message: str, sw: int) -> None:
        super().__init__(message)
        self.sw = sw


class FileNotFound(CardStatusError):
    """The card has no such file (6A82)."""


class AccessDenied(CardStatusError):
    """Security status not satisfied (6982): the file needs authentication the read lacks."""
