"""Passive authentication (ICAO 9303-11 §5.1): DG hashes, the SOD signature, the CSCA chain.

Three separate answers, as chip.md §3.4 asks:

- ``hashes_ok``: every data group read hashes to the value the SOD lists for it;
- ``signature_ok``: the SOD's signed attributes match its content and carry a valid signature
  by the Document Signer certificate embedded in the SOD;
- ``trusted``: that DS certificate was issued by a CSCA certificate from the configured
  directory (``[chip] csca_dir``). **None** when no directory is configured, or when it holds
  no readable certificate: integrity is then proven, issuance is not, and the desk must say so
  (a note names the empty folder).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from checkin.chip import tlv
from checkin.chip.datagroups import Sod, parse_sod
from checkin.chip.errors import TlvError

log = logging.getLogger("checkin.chip")

HASHES = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
RSA_PKCS1 = {
    "1.2.840.113549.1.1.5": "sha1",
    "1.2.840.113549.1.1.14": "sha224",
    "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
}
ECDSA = {
    "1.2.840.10045.4.1": "sha1",
    "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
}
ECDSA_PLAIN = {  # BSI TR-03111 ecdsa-plain-signatures: r ‖ s
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
RSA_PSS = "1.2.840.113549.1.1.10"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
CERT_SUFFIXES = {".pem", ".crt", ".cer", ".der"}


@dataclass
class PassiveAuthResult:
    hashes_ok: bool | None = None
    signature_ok: bool | None = None
    trusted: bool | None = None
    checked: tuple[int, ...] = ()  # data groups whose hashes were compared
    mismatched: tuple[int, ...] = ()
    signer: str | None = None  # DS certificate subject, for IT
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"hashes_ok": self.hashes_ok, "signature_ok": self.signature_ok,
                "trusted": self.trusted}  # fmt: skip

    @property
    def summary(self) -> str:
        """One line for the desk: what was proven and what was not."""
        if self.hashes_ok is None:
            return "not checked (no security object read)"
        if not self.hashes_ok or self.signature_ok is False:
            return "FAILED: the chip data does not match its signature; do not rely on it"
        if self.trusted is None:
            return "data intact and signed, but issuer not verified (no CSCA certificates set)"
        if self.trusted:
            return "authentic: signed by a trusted country signing certificate"
        return "data intact and signed, but the signer is NOT from a trusted CSCA"


def _hash(name: str, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


def _hash_algorithm(name: str) -> hashes.HashAlgorithm:
    return {"sha1": hashes.SHA1(), "sha224": hashes.SHA224(), "sha256": hashes.SHA256(),
            "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[name]  # fmt: skip


def check_hashes(sod: Sod, groups: dict[int, bytes]) -> tuple[bool, list[int], list[int]]:
    name = HASHES.get(sod.hash_algorithm)
    if name is None:
        raise TlvError(f"EF.SOD uses an unknown hash algorithm {sod.hash_algorithm}")
    checked, bad = [], []
    for number, content in sorted(groups.items()):
        checked.append(number)
        expected = sod.hashes.get(number)
        if expected is None or _hash(name, content) != expected:
            bad.append(number)
    return not bad, checked, bad


def signer_certificate(sod: Sod) -> x509.Certificate | None:
    signer = sod.signer
    for der in sod.certificates:
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            continue
        if signer.sid_serial is not None:
            if (cert.serial_number == signer.sid_serial
                    and cert.issuer.public_bytes() == signer.sid_issuer):  # fmt: skip
                return cert
        elif signer.sid_key_id is not None:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            except x509.ExtensionNotFound:
                continue
            if ski.value.digest == signer.sid_key_id:
                return cert
    return None


def _pss_params(params: tlv.Tlv | None) -> tuple[str, int]:
    """(hash name, salt length) from RSASSA-PSS-params; defaults SHA-1 and 20."""
    hash_name, salt = "sha1", 20
    if params is None or params.tag != 0x30:
        return hash_name, salt
    for item in params.children():
        if item.tag == 0xA0:
            oid = tlv.decode_oid(item.children()[0].children()[0].value)
            hash_name = HASHES.get(oid, hash_name)
        elif item.tag == 0xA2:
            salt = tlv.decode_int(item.children()[0].value)
    return hash_name, salt


def verify_signature(
    public_key: object,
    algorithm: str,
    params: tlv.Tlv | None,
    digest_name: str,
    signature: bytes,
    message: bytes,
) -> None:
    """Raises InvalidSignature (or ValueError for unsupported algorithms)."""
    if isinstance(public_key, rsa.RSAPublicKey):
        if algorithm == RSA_PSS:
            hash_name, salt = _pss_params(params)
            hash_alg = _hash_algorithm(hash_name)
            public_key.verify(signature, message,
                              padding.PSS(padding.MGF1(hash_alg), salt), hash_alg)  # fmt: skip
            return
        hash_name = RSA_PKCS1.get(algorithm, digest_name if algorithm == RSA_ENCRYPTION else None)
        if hash_name is None:
            raise ValueError(f"unsupported RSA signature algorithm {algorithm}")
        public_key.verify(signature, message, padding.PKCS1v15(), _hash_algorithm(hash_name))
        return
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if algorithm in ECDSA_PLAIN:
            half = len(signature) // 2
            signature = encode_dss_signature(
                int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            )
            hash_name = ECDSA_PLAIN[algorithm]
        else:
            hash_name = ECDSA.get(algorithm, digest_name if algorithm == EC_PUBLIC_KEY else None)
        if hash_name is None:
            raise ValueError(f"unsupported ECDSA signature algorithm {algorithm}")
        public_key.verify(signature, message, ec.ECDSA(_hash_algorithm(hash_name)))
        return
    raise ValueError(f"unsupported signer key type {type(public_key).__name__}")


def check_signature(sod: Sod, cert: x509.Certificate) -> tuple[bool, str | None]:
    signer = sod.signer
    digest_name = HASHES.get(signer.digest_algorithm)
    if digest_name is None:
        return False, f"unknown digest algorithm {signer.digest_algorithm}"
    if signer.signed_attrs is not None:
        if signer.content_type_attr not in (None, sod.econtent_type):
            return False, "signed content type does not match the SOD content"
        if signer.message_digest_attr != _hash(digest_name, sod.econtent):
            return False, "signed message digest does not match the SOD content"
        message = signer.signed_attrs
    else:
        message = sod.econtent
    try:
        verify_signature(cert.public_key(), signer.signature_algorithm, signer.signature_params,
                         digest_name, signer.signature, message)  # fmt: skip
    except InvalidSignature:
        return False, "the SOD signature does not verify with the DS certificate"
    except ValueError as exc:
        return False, str(exc)
    return True, None


def load_csca_certificates(directory: str | Path) -> list[x509.Certificate]:
    """Every certificate in ``directory`` (PEM, possibly several per file, or DER)."""
    certs: list[x509.Certificate] = []
    folder = Path(directory)
    try:
        paths = sorted(folder.iterdir()) if folder.is_dir() else []
    except OSError as exc:
        log.warning("cannot list the CSCA folder %s: %s", folder, exc.strerror or exc)
        return certs
    for path in paths:
        if path.suffix.lower() not in CERT_SUFFIXES or not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            log.warning("cannot read certificate file %s: %s", path.name, exc.strerror or exc)
            continue
        try:
            if b"-----BEGIN CERTIFICATE-----" in data:
                certs += x509.load_pem_x509_certificates(data)
            else:
                certs.append(x509.load_der_x509_certificate(data))
        except ValueError:
            log.warning("skipping unreadable certificate file %s", path.name)
    return certs


def chains_to(ds: x509.Certificate, anchors: list[x509.Certificate]) -> bool:
    for csca in anchors:
        if csca.subject != ds.issuer:
            continue
        try:
            basic = csca.extensions.get_extension_for_class(x509.BasicConstraints).value
            if not basic.ca:
                continue
        except x509.ExtensionNotFound:
            pass
        try:
            ds.verify_directly_issued_by(csca)
        except (InvalidSignature, ValueError, TypeError):
            continue
        return True
    return False


def passive_authentication(
    sod_bytes: bytes | None, groups: dict[int, bytes], csca_dir: str | Path | None = None
) -> PassiveAuthResult:
    """Check ``groups`` (DG number → file bytes) against the SOD; see the module docstring."""
    result = PassiveAuthResult()
    if sod_bytes is None:
        result.notes.append("no EF.SOD read")
        return result
    try:
        sod = parse_sod(sod_bytes)
        result.hashes_ok, checked, bad = check_hashes(sod, groups)
    except TlvError as exc:
        result.hashes_ok, result.signature_ok = False, False
        result.notes.append(str(exc))
        return result
    result.checked, result.mismatched = tuple(checked), tuple(bad)
    if bad:
        result.notes.append(f"hash mismatch for DG{', DG'.join(str(n) for n in bad)}")
    cert = signer_certificate(sod)
    if cert is None:
        result.signature_ok = False
        result.notes.append("the SOD carries no matching Document Signer certificate")
        return result
    result.signer = cert.subject.rfc4514_string()
    result.signature_ok, why = check_signature(sod, cert)
    if why:
        result.notes.append(why)
    if csca_dir:
        anchors = load_csca_certificates(csca_dir)
        if not anchors:  # nothing to trust: unverified (None), not untrusted (False)
            result.notes.append(
                f"no trusted certificates found in {csca_dir} ([chip] csca_dir): the issuer"
                " is not verified"
            )
            log.warning(
                "no CSCA certificates in %s: the card's issuer cannot be verified", csca_dir
            )
        else:
            result.trusted = bool(result.signature_ok) and chains_to(cert, anchors)
    return result
