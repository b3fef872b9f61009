"""Basic Access Control (ICAO 9303-11 §4.3) and its keys: from an MRZ, or from a CCCD QR.

A CCCD's BAC key needs the 9-character document number (the last 9 digits of the 12-digit ID),
the birth date and the expiry date (YYMMDD). The printed QR carries no expiry date, so
:func:`expiry_candidates` computes it from the birth and issue dates by the renewal ages of the
2014 Law on CCCD and the 2023 Law on Identification (chip.md §2.6); the reader tries them in order.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from checkin.chip import crypto
from checkin.chip.apdu import SW_AUTH_FAILED, SW_OK, Command, sw_text
from checkin.chip.errors import (
    AccessNotSupported,
    ChipError,
    SecureMessagingError,
    WrongAccessKey,
)
from checkin.chip.sm import SecureMessaging
from checkin.model import mask_number

if TYPE_CHECKING:
    from collections.abc import Callable

    from checkin.chip.channel import Channel
    from checkin.model import Identity

_WEIGHTS = (7, 3, 1)
LAW_2023_IN_FORCE = date(2024, 7, 1)
AGES_2014 = (25, 40, 60)
AGES_2023 = (14, 25, 40, 60)
RENEWAL_WINDOW_YEARS = 2


def _char_value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    if ch == "<":
        return 0
    raise ValueError(f"character {ch!r} is not allowed in an MRZ")


def _date_problem(yymmdd: str) -> str | None:
    """Why six digits are not a real YYMMDD date, or None. 29 February passes in any year:
    a CCCD of a leap-day birth may carry it in a common year (chip.md §2.6)."""
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if not 1 <= month <= 12:
        return f"month {month:02d}"
    longest = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    if not 1 <= day <= longest:
        return f"day {day:02d} of month {month:02d}"
    return None


def check_digit(text: str) -> str:
    """ICAO 9303-3 check digit (weights 7, 3, 1; A=10 … Z=35, '<'=0)."""
    total = sum(_char_value(ch) * _WEIGHTS[i % 3] for i, ch in enumerate(text))
    return str(total % 10)


@dataclass(frozen=True)
class BacKey:
    """The three MRZ fields BAC needs. Dates are ``YYMMDD``."""

    document_number: str
    date_of_birth: str
    date_of_expiry: str

    def __post_init__(self) -> None:
        number = self.document_number
        bad = sorted({ch for ch in number if not re.fullmatch(r"[0-9A-Z<]", ch)})
        if bad:
            shown = " ".join(repr(ch) for ch in bad)
            raise ValueError(
                f"the document number has characters an MRZ cannot hold ({shown}): use 0-9,"
                " A-Z or '<'"
            )
        if not 1 <= len(number) <= 9:
            raise ValueError(
                f"the document number must be 1 to 9 characters (it has {len(number)}); for a"
                " CCCD it is the last 9 digits of the 12-digit ID"
            )
        for label, value in (("birth", self.date_of_birth), ("expiry", self.date_of_expiry)):
            if not re.fullmatch(r"\d{6}", value):
                raise ValueError(f"date of {label} must be YYMMDD, got {value!r}")
            problem = _date_problem(value)
            if problem:
                raise ValueError(f"date of {label} {value} is not a real date ({problem})")

    @classmethod
    def parse(cls, text: str) -> BacKey:
        """``DOCNO,YYMMDD,YYMMDD``; a 12-digit citizen ID as DOCNO means its last 9 digits."""
        parts = [p.strip().upper() for p in text.split(",")]
        if len(parts) != 3:
            raise ValueError("--mrz must be DOCNO,YYMMDD,YYMMDD (document number, birth, expiry)")
        number = parts[0]
        if re.fullmatch(r"\d{12}", number):
            number = number[-9:]
        return cls(number, parts[1], parts[2])

    @property
    def mrz_information(self) -> str:
        number = self.document_number.ljust(9, "<")
        return (
            number
            + check_digit(number)
            + self.date_of_birth
            + check_digit(self.date_of_birth)
            + self.date_of_expiry
            + check_digit(self.date_of_expiry)
        )

    @property
    def seed(self) -> bytes:
        """Kseed = SHA-1(MRZ_information)[0:16]."""
        return hashlib.sha1(self.mrz_information.encode("ascii")).digest()[:16]

    @property
    def pace_secret(self) -> bytes:
        """f(π) for PACE with the MRZ as password: SHA-1(MRZ_information), all 20 bytes."""
        return hashlib.sha1(self.mrz_information.encode("ascii")).digest()

    def __repr__(self) -> str:  # never print the document number in full
        return (
            f"BacKey({mask_number(self.document_number)!r}, {self.date_of_birth[:2]}****,"
            f" {self.date_of_expiry})"
        )


def derive_keys(seed: bytes) -> tuple[bytes, bytes]:
    """(K_enc, K_mac) from a 16-byte seed, 3DES with parity (ICAO 9303-11 §9.7.1)."""
    return crypto.kdf(seed, crypto.KDF_ENC), crypto.kdf(seed, crypto.KDF_MAC)


def mutual_authenticate_data(
    k_enc: bytes, k_mac: bytes, rnd_ifd: bytes, rnd_ic: bytes, k_ifd: bytes
) -> bytes:
    """E.IFD ‖ M.IFD for MUTUAL AUTHENTICATE."""
    encrypted = crypto.tdes_encrypt(k_enc, rnd_ifd + rnd_ic + k_ifd)
    return encrypted + crypto.retail_mac(k_mac, crypto.pad(encrypted, 8))


def session_from_reply(
    k_enc: bytes, k_mac: bytes, rnd_ifd: bytes, rnd_ic: bytes, k_ifd: bytes, reply: bytes
) -> SecureMessaging:
    """Check the chip's E.IC ‖ M.IC and derive the 3DES secure-messaging session."""
    if len(reply) != 40:
        raise ChipError(
            f"the card's MUTUAL AUTHENTICATE answer has {len(reply)} bytes, expected 40"
        )
    encrypted, mac = reply[:32], reply[32:]
    if not crypto.equal(crypto.retail_mac(k_mac, crypto.pad(encrypted, 8)), mac):
        raise SecureMessagingError(
            "the card's BAC answer failed its integrity check: read the card again"
        )
    plain = crypto.tdes_decrypt(k_enc, encrypted)
    if plain[:8] != rnd_ic or plain[8:16] != rnd_ifd:
        raise SecureMessagingError(
            "the card's BAC answer does not match the challenge: read the card again"
        )
    k_ic = plain[16:32]
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
    ks_enc, ks_mac = derive_keys(seed)
    return SecureMessaging(crypto.DES3, ks_enc, ks_mac, rnd_ic[4:] + rnd_ifd[4:])


def perform_bac(channel: Channel, key: BacKey, random: Callable[[int], bytes]) -> SecureMessaging:
    """GET CHALLENGE and MUTUAL AUTHENTICATE; installs and returns the SM session.

    The eMRTD application must already be selected. A refused key raises WrongAccessKey.
    """
    challenge = channel.send_plain(Command(0x00, 0x84, 0x00, 0x00, ne=8))
    if challenge.sw != SW_OK:
        raise AccessNotSupported(
            f"this card does not offer BAC (GET CHALLENGE refused, {sw_text(challenge.sw)}):"
            " read it with --can or --qr (PACE)"
        )
    if len(challenge.data) != 8:
        raise ChipError(
            f"the card's GET CHALLENGE answer has {len(challenge.data)} bytes, expected 8"
        )
    rnd_ic = challenge.data
    rnd_ifd, k_ifd = random(8), random(16)
    k_enc, k_mac = derive_keys(key.seed)
    data = mutual_authenticate_data(k_enc, k_mac, rnd_ifd, rnd_ic, k_ifd)
    reply = channel.send_plain(Command(0x00, 0x82, 0x00, 0x00, data, ne=40))
    if reply.sw in (SW_AUTH_FAILED, 0x6982) or reply.sw >> 4 == 0x63C:
        raise WrongAccessKey(
            "the card refused the BAC key (document number, birth date or expiry date is"
            f" wrong; {sw_text(reply.sw)})"
        )
    if reply.sw != SW_OK:
        raise ChipError(f"BAC failed: the card answered {sw_text(reply.sw)}")
    session = session_from_reply(k_enc, k_mac, rnd_ifd, rnd_ic, k_ifd, reply.data)
    channel.sm = session
    return session


# -- keys from the CCCD QR ----------------------------------------------------------------------


def _birthday(born: date, age: int) -> list[date]:
    """The birthday at ``age``; for 29 February in a common year: 28 Feb, then 1 Mar."""
    year = born.year + age
    try:
        return [born.replace(year=year)]
    except ValueError:
        return [date(year, 2, 28), date(year, 3, 1)]


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return date(day.year - years, 2, 28)


def expiry_by_law(
    born: date, issued: date, ages: tuple[int, ...], *, strict: bool = False
) -> date | None:
    """The expiry of a card issued on ``issued``: the birthday at the next renewal age, skipping
    an age the card was issued within 2 years of. None: valid for life (issued at 58 or later).

    ``strict`` reads 'within 2 years' as strictly less than 2 years (the day exactly 2 years
    before the birthday then does not count as within).
    """
    for age in ages:
        birthday = _birthday(born, age)[0]
        if issued >= birthday:
            continue
        window_start = _years_before(birthday, RENEWAL_WINDOW_YEARS)
        inside = issued > window_start if strict else issued >= window_start
        if inside:
            continue
        return birthday
    return None


def expiry_candidates(
    born: date, issued: date | None, *, today: date | None = None, limit: int = 4
) -> list[str]:
    """Expiry dates (``YYMMDD``) to try, most likely first (chip.md §2.6).

    Order: the law in force on the issue date (lenient, then strict reading of the 2-year
    window), then the other law. Without an issue date: the coming renewal birthdays, nearest
    first, then the one just passed. 29 February births also yield the literal ``YYMM29``.
    """
    dates: list[date] = []
    if issued is not None:
        first, second = (
            (AGES_2023, AGES_2014) if issued >= LAW_2023_IN_FORCE else (AGES_2014, AGES_2023)
        )
        for ages in (first, second):
            for strict in (False, True):
                found = expiry_by_law(born, issued, ages, strict=strict)
                if found is not None:
                    dates.append(found)
    else:
        today = today or date.today()
        upcoming = [d for age in AGES_2023 for d in _birthday(born, age) if d >= today]
        passed = [d for age in AGES_2023 for d in _birthday(born, age) if d < today]
        dates = upcoming[:2] + passed[-1:]
    out: list[str] = []
    for day in dates:
        variants = [day.strftime("%y%m%d")]
        if born.month == 2 and born.day == 29 and day.day != 29:
            variants.insert(0, f"{day:%y}0229")
            variants.append(date(day.year, 3, 1).strftime("%y%m%d"))
        for value in variants:
            if value not in out:
                out.append(value)
    return out[:limit]


def keys_from_citizen(
    citizen_id: str, born: date, issued: date | None, *, today: date | None = None
) -> list[BacKey]:
    """BAC keys to try for a CCCD: document number = last 9 digits of the 12-digit ID."""
    if not re.fullmatch(r"\d{12}", citizen_id):
        raise ValueError("the citizen ID must be 12 digits")
    birth = born.strftime("%y%m%d")
    return [
        BacKey(citizen_id[-9:], birth, expiry)
        for expiry in expiry_candidates(born, issued, today=today)
    ]


def keys_from_identity(identity: Identity, *, today: date | None = None) -> list[BacKey]:
    """BAC keys from a parsed CCCD QR (an :class:`~checkin.model.Identity` of kind CCCD)."""
    if not identity.citizen_id:
        raise ValueError("the QR carries no citizen ID")
    if not identity.date_of_birth or len(identity.date_of_birth) != 10:
        raise ValueError("the QR carries no full birth date; BAC needs it (use the CAN)")
    born = date.fromisoformat(identity.date_of_birth)
    issued = date.fromisoformat(identity.issue_date) if identity.issue_date else None
    return keys_from_citizen(identity.citizen_id, born, issued, today=today)


def keys_from_qr(payload: str, *, today: date | None = None) -> list[BacKey]:
    """BAC keys from a CCCD QR payload (parsed by :mod:`checkin.formats`)."""
    from checkin.formats import PayloadError, parse_or_raise
    from checkin.model import PayloadKind

    try:
        identity = parse_or_raise(payload)
    except PayloadError as exc:
        raise ValueError(f"not a CCCD QR: {exc}") from None
    if identity.kind != PayloadKind.CCCD:
        raise ValueError("the QR is a health-insurance card, not a CCCD: it opens no chip")
    return keys_from_identity(identity, today=today)
