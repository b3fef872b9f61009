"""Read a chip citizen ID: authenticate (PACE with the CAN or the MRZ first, BAC as fallback),
read the files, check them, and return a :class:`CardRead`.

The order serves the desk (issue #5): DG13 first (the patient on screen, ``progress("identity")``),
then DG1 (the MRZ), then DG2 (the photo), then EF.SOD and passive authentication. EF.COM is not
read: the CCCD always carries DG13, and a missing file is handled when it is asked for, so the
identity comes after the fewest commands the card allows.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from checkin.chip import bac, datagroups, files, pace
from checkin.chip.apdu import SW_FILE_NOT_FOUND, SW_OK, Transport, sw_text
from checkin.chip.bac import BacKey
from checkin.chip.channel import Channel
from checkin.chip.errors import (
    AccessDenied,
    AccessNotSupported,
    CardRemoved,
    CardStatusError,
    ChipError,
    FileNotFound,
    TlvError,
    UnknownCard,
    WrongAccessKey,
)
from checkin.chip.passive_auth import PassiveAuthResult, passive_authentication
from checkin.model import Identity, PayloadKind, mask_number

log = logging.getLogger("checkin.chip")

Progress = Callable[[str, "CardRead"], None]

# Keys of ``read-card`` output in cli-contract.md, in that order.
READ_CARD_KEYS = (
    "citizen_id",
    "full_name",
    "date_of_birth",
    "gender",
    "nationality",
    "ethnicity",
    "religion",
    "place_of_origin",
    "residence",
    "identifying_features",
    "issue_date",
    "expiry_date",
    "expiry_text",
    "father_name",
    "mother_name",
    "spouse_name",
    "old_id_number",
    "mrz",
    "access",
    "photo",
    "passive_auth",
    "apdus",
    "seconds",
)


@dataclass(frozen=True)
class Photo:
    format: str  # "jpeg" | "jp2" | "j2k"
    data: bytes
    width: int | None = None
    height: int | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def to_json(self) -> dict:
        return {"format": self.format, "bytes": len(self.data), "sha256": self.sha256}


@dataclass
class CardRead:
    """What one read of the card gave. Filled as the read goes (``progress`` sees it grow)."""

    access: str | None = None  # "PACE" | "BAC"
    dg13: datagroups.Dg13 | None = None
    mrz: datagroups.Mrz | None = None
    photo: Photo | None = None
    passive_auth: PassiveAuthResult = field(default_factory=PassiveAuthResult)
    apdus: int = 0
    seconds: float = 0.0
    files: dict[str, bytes] = field(default_factory=dict)  # raw file bytes by EF name
    warnings: list[str] = field(default_factory=list)

    # -- the fields, DG13 first, the MRZ as fallback --------------------------------------

    @property
    def citizen_id(self) -> str | None:
        if self.dg13 and self.dg13.citizen_id:
            return self.dg13.citizen_id
        return self.mrz.citizen_id if self.mrz else None

    @property
    def full_name(self) -> str | None:
        if self.dg13 and self.dg13.full_name:
            return self.dg13.full_name
        return self.mrz.name if self.mrz else None

    @property
    def date_of_birth(self) -> str | None:
        if self.dg13 and self.dg13.date_of_birth:
            return self.dg13.date_of_birth
        return datagroups.mrz_date(self.mrz.date_of_birth, birth=True) if self.mrz else None

    @property
    def gender(self) -> str | None:
        if self.dg13 and self.dg13.gender:
            return self.dg13.gender.value
        if self.mrz and self.mrz.sex in "MF":
            return "male" if self.mrz.sex == "M" else "female"
        return None

    @property
    def expiry_date(self) -> str | None:
        if self.dg13 and (self.dg13.expiry_date or self.dg13.expiry_text):
            return self.dg13.expiry_date
        return datagroups.mrz_date(self.mrz.date_of_expiry, birth=False) if self.mrz else None

    @property
    def expiry_text(self) -> str | None:
        """DG13's expiry in the card's own words when it is not a date ("Không thời hạn" on a
        card valid for life); None when the expiry is a date or unknown."""
        if self.dg13 and self.dg13.expiry_text and not self.dg13.expiry_date:
            return self.dg13.expiry_text
        return None

    def to_json(self) -> dict:
        dg = self.dg13 or datagroups.Dg13()
        nationality = dg.nationality or (self.mrz.nationality if self.mrz else None)
        data = {
            "citizen_id": self.citizen_id,
            "full_name": self.full_name,
            "date_of_birth": self.date_of_birth,
            "gender": self.gender,
            "nationality": nationality,
            "ethnicity": dg.ethnicity,
            "religion": dg.religion,
            "place_of_origin": dg.place_of_origin,
            "residence": dg.residence,
            "identifying_features": dg.identifying_features,
            "issue_date": dg.issue_date,
            "expiry_date": self.expiry_date,
            "expiry_text": self.expiry_text,
            "father_name": dg.father_name,
            "mother_name": dg.mother_name,
            "spouse_name": dg.spouse_name,
            "old_id_number": dg.old_id_number,
            "mrz": list(self.mrz.lines) if self.mrz else None,
            "access": self.access,
            "photo": self.photo.to_json() if self.photo else None,
            "passive_auth": self.passive_auth.to_json(),
            "apdus": self.apdus,
            "seconds": round(self.seconds, 3),
        }
        return {key: data[key] for key in READ_CARD_KEYS}

    def identity(self) -> Identity:
        """The patient as a CCCD :class:`~checkin.model.Identity`, for the eligibility check."""
        from checkin.model import Gender

        if not self.citizen_id and not self.full_name:
            raise ChipError("the card gave no identity (neither DG13 nor the MRZ was read)")
        dg = self.dg13 or datagroups.Dg13()
        gender = self.gender
        return Identity(
            kind=PayloadKind.CCCD,
            full_name=self.full_name or "",
            citizen_id=self.citizen_id,
            old_id_number=dg.old_id_number,
            date_of_birth=self.date_of_birth,
            gender=Gender(gender) if gender else None,
            address=dg.residence,
            issue_date=dg.issue_date,
            warnings=tuple(self.warnings),
        )


# -- access keys -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessKeys:
    can: str | None
    bac: tuple[BacKey, ...]


def access_keys(
    *, can: str | None = None, mrz: str | BacKey | None = None, qr: str | Identity | None = None
) -> AccessKeys:
    """Validate what the desk gave; ValueError (one line) for bad input."""
    keys: list[BacKey] = []
    can_value = None
    if can is not None:
        digits = re.sub(r"\s", "", can)
        if re.fullmatch(r"\d{12}", digits):
            digits = digits[-6:]  # the whole ID was typed: the CAN is its last 6 digits
        if not re.fullmatch(r"\d{6}", digits):
            raise ValueError("the CAN must be 6 digits (the last 6 digits of the 12-digit ID)")
        can_value = digits
    if mrz is not None:
        keys.append(mrz if isinstance(mrz, BacKey) else BacKey.parse(mrz))
    if qr is not None:
        if isinstance(qr, Identity):
            identity = qr
        else:
            from checkin.formats import PayloadError, parse_or_raise

            try:
                identity = parse_or_raise(qr)
            except PayloadError as exc:
                raise ValueError(f"not a CCCD QR: {exc}") from None
        if identity.kind != PayloadKind.CCCD or not identity.citizen_id:
            raise ValueError("the QR is not a CCCD QR with a 12-digit citizen ID")
        can_value = can_value or identity.citizen_id[-6:]
        try:
            keys += bac.keys_from_identity(identity)
        except ValueError as exc:
            log.info("no BAC key from the QR: %s", exc)
    if can_value is None and not keys:
        raise ValueError("give a CAN (--can), an MRZ (--mrz) or the CCCD QR (--qr)")
    return AccessKeys(can_value, tuple(keys))


# -- the read ----------------------------------------------------------------------------------


class _Session:
    """Authentication state for one read; re-authenticates if the card drops the session.

    Order: PACE when EF.CardAccess offers it, with the CAN and then with each MRZ key
    (password reference 01, f(π) = SHA-1 of the MRZ information); then BAC with the MRZ keys
    PACE did not already refuse. A card that drops secure messaging is opened again with the
    key that worked.
    """

    def __init__(self, channel: Channel, keys: AccessKeys, random: Callable[[int], bytes]):
        self.channel = channel
        self.keys = keys
        self.random = random
        self.access: str | None = None
        self._pace_info: pace.SecurityInfo | None = None
        self._pace_password: tuple[int, bytes] | None = None  # (reference, secret) that worked
        self._bac_key: BacKey | None = None

    def authenticate(self) -> str:
        if self._pace_password is not None:  # the card dropped the session: same key again
            self._pace(*self._pace_password)
            return self.access or "PACE"
        if self._bac_key is not None:
            self._require_emrtd()
            bac.perform_bac(self.channel, self._bac_key, self.random)
            return self.access or "BAC"

        failures: list[ChipError] = []
        refused: list[BacKey] = []  # MRZ keys the card refused (by PACE or BAC)
        can_refused = False
        info, problem = self._pace_offer()
        if info is None:
            self._require_emrtd()  # a card that is no eMRTD at all says so first
        else:
            passwords: list[tuple[int, bytes, BacKey | None]] = []
            if self.keys.can:
                passwords.append((pace.PASSWORD_CAN, self.keys.can.encode("ascii"), None))
            passwords += [(pace.PASSWORD_MRZ, key.pace_secret, key) for key in self.keys.bac]
            unsupported: set[int] = set()
            for reference, secret, key in passwords:
                if reference in unsupported:
                    continue
                try:
                    self._pace(reference, secret)
                except CardRemoved:
                    raise
                except WrongAccessKey as exc:
                    failures.append(exc)
                    if key is None:
                        can_refused = True
                    else:
                        refused.append(key)
                    continue
                except AccessNotSupported as exc:  # MSE:SET AT refused for this password
                    log.info("PACE not available: %s", exc)
                    failures.append(exc)
                    unsupported.add(reference)
                    continue
                except ChipError as exc:
                    if not self.keys.bac:
                        raise
                    log.info("PACE failed (%s); trying BAC", exc)
                    failures.append(exc)
                    break
                self._pace_password = (reference, secret)
                return self.access or "PACE"
            if any(k not in refused for k in self.keys.bac):
                self._require_emrtd()

        for key in [k for k in self.keys.bac if k not in refused]:
            try:
                bac.perform_bac(self.channel, key, self.random)
            except WrongAccessKey as exc:
                failures.append(exc)
                refused.append(key)
                continue
            except AccessNotSupported as exc:
                failures.append(exc)
                break
            self._bac_key = key
            self.access = "BAC"
            return self.access
        raise self._failure(failures, problem, refused, can_refused, info is not None)

    def _failure(
        self,
        failures: list[ChipError],
        problem: ChipError | None,
        refused: list[BacKey],
        can_refused: bool,
        pace_offered: bool,
    ) -> ChipError:
        """The one error that says best why no key opened the card."""
        if len(refused) > 1:
            return WrongAccessKey(
                f"the card refused the access key: {len(refused)} MRZ keys tried (expiry dates"
                f" {', '.join(k.date_of_expiry for k in refused)}); check the birth and issue"
                " dates or give the CAN (the last 6 digits of the ID)"
            )
        if can_refused and refused:
            return WrongAccessKey(
                "the card refused both the CAN and the MRZ key: check the ID number, birth date"
                " and expiry date"
            )
        wrong = [f for f in failures if isinstance(f, WrongAccessKey)]
        if wrong:
            return wrong[-1]
        other = [f for f in failures if not isinstance(f, AccessNotSupported)]
        if other:
            return other[-1]
        if not self.keys.bac:  # a CAN only, and the card has no (usable) PACE
            if problem is not None:
                return problem
            if pace_offered and failures:
                return failures[-1]
            return AccessNotSupported(
                "this card does not offer PACE: read it with --mrz or --qr (BAC)"
            )
        if failures:
            return failures[-1]
        return problem or WrongAccessKey()

    def _pace(self, reference: int, secret: bytes) -> None:
        info = self._pace_info
        assert info is not None
        self.channel.sm = None
        pace.perform_pace(self.channel, info, secret, self.random, password=reference)
        selected = files.select_application(self.channel, protected=True)
        if selected.sw != SW_OK:
            raise UnknownCard(
                f"PACE worked but the card refused the ICAO application ({sw_text(selected.sw)})"
            )
        self.access = "PACE"

    def _require_emrtd(self) -> bool:
        self.channel.sm = None
        selected = files.select_application(self.channel, protected=False)
        if selected.sw == SW_FILE_NOT_FOUND:
            raise UnknownCard()
        if selected.sw != SW_OK:
            raise UnknownCard(
                f"the card refused the ICAO application ({sw_text(selected.sw)}): it is not a"
                " chip citizen ID, or it is not placed well on the reader"
            )
        return True

    def _pace_offer(self) -> tuple[pace.SecurityInfo | None, AccessNotSupported | None]:
        """The PACEInfo to use, or (None, why PACE cannot be used; None when the card simply
        has no EF.CardAccess)."""
        if self._pace_info is not None:
            return self._pace_info, None
        self.channel.sm = None
        raw = None
        try:
            for use_sfi in (True, False):
                try:
                    raw = files.read_file(self.channel, files.CARD_ACCESS, use_sfi=use_sfi)
                    break
                except FileNotFound:
                    return None, None
                except CardStatusError:
                    continue
            if raw is None:
                return None, None
            infos = pace.parse_security_infos(raw)
        except TlvError as exc:
            log.info("EF.CardAccess is malformed (%s): PACE cannot be used", exc)
            return None, AccessNotSupported(
                "the card's access information (EF.CardAccess) is damaged: try --mrz or --qr (BAC)"
            )
        try:
            self._pace_info = pace.choose_pace_info(infos)
        except UnknownCard as exc:
            log.info("no usable PACE: %s", exc)
            return None, AccessNotSupported(f"{exc}: read it with --mrz or --qr (BAC)")
        return self._pace_info, None

    def ensure(self) -> None:
        if self.channel.sm is None or not self.channel.sm.open:
            log.info("secure messaging closed by the card; authenticating again")
            self.authenticate()


def read_card(
    transport: Transport,
    *,
    can: str | None = None,
    mrz: str | BacKey | None = None,
    qr: str | Identity | None = None,
    want_photo: bool = True,
    want_mrz: bool = True,
    verify: bool = True,
    csca_dir: str | Path | None = None,
    progress: Progress | None = None,
    extended: bool | None = None,
    random: Callable[[int], bytes] | None = None,
) -> CardRead:
    """Read a CCCD through ``transport``; see the module docstring for the order.

    ``can``: 6 digits (or the 12-digit ID); ``mrz``: ``DOCNO,YYMMDD,YYMMDD``; ``qr``: the CCCD
    QR payload (gives the CAN and BAC candidates). ``progress(stage, read)`` is called with
    ``"authenticated"``, ``"identity"``, ``"mrz"``, ``"photo"``, ``"passive_auth"``.
    ``verify=False`` skips EF.SOD. Raises ValueError for bad input and ChipError subclasses
    for what the card or reader did.
    """
    keys = access_keys(can=can, mrz=mrz, qr=qr)
    started = time.perf_counter()
    channel = Channel(transport, extended=extended)
    rng = random or getattr(transport, "random", None) or os.urandom
    result = CardRead()
    session = _Session(channel, keys, rng)

    def report(stage: str) -> None:
        result.apdus = channel.commands
        result.seconds = time.perf_counter() - started
        if progress is not None:
            progress(stage, result)

    result.access = session.authenticate()
    report("authenticated")

    def read(ef: files.EF) -> bytes | None:
        session.ensure()
        try:
            data = files.read_file(channel, ef)
        except (FileNotFound, AccessDenied, TlvError) as exc:
            result.warnings.append(str(exc))
            return None
        result.files[ef.name] = data
        return data

    def parse(name: str, parser: Callable[[bytes], object], data: bytes | None) -> object:
        if data is None:
            return None
        try:
            return parser(data)
        except TlvError as exc:
            result.warnings.append(f"{name}: {exc}")
            return None

    result.dg13 = parse("DG13", datagroups.parse_dg13, read(files.DG13))
    if result.dg13:
        result.warnings += list(result.dg13.warnings)
        log.info("DG13 read for ID %s", mask_number(result.dg13.citizen_id))
    if result.dg13 is not None:
        report("identity")
    if want_mrz or result.dg13 is None:  # DG1 is also the fallback identity
        result.mrz = parse("DG1", datagroups.parse_dg1, read(files.DG1))
        if result.dg13 is None:
            if result.mrz is None:
                raise TlvError(
                    "the card's identity files (DG13, DG1) could not be read: "
                    + "; ".join(result.warnings)
                )
            report("identity")
        report("mrz")
    if want_photo:
        face = parse("DG2", datagroups.parse_dg2, read(files.DG2))
        if face is not None:
            result.photo = Photo(face.format, face.data, face.width, face.height)
        report("photo")
    if verify:
        sod = read(files.SOD)
        groups = {ef.dg: result.files[ef.name] for ef in files.DATA_GROUPS.values()
                  if ef.name in result.files}  # fmt: skip
        result.passive_auth = passive_authentication(sod, groups, csca_dir)
        result.warnings += result.passive_auth.notes
        report("passive_auth")
    report("done")
    return result
