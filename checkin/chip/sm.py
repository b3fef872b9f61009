"""Secure messaging (ICAO 9303-11 §9.8): DO'87'/DO'85', DO'97', DO'99', DO'8E', the SSC.

One class for both suites: 3DES (BAC, IV zero, 8-byte SSC, retail MAC) and AES (PACE, IV =
E(KSenc, SSC), 16-byte SSC, CMAC). The SSC is incremented before each command and before each
response is checked. A response whose MAC does not verify, or the card's plain ``6987``/``6988``,
raise :class:`~checkin.chip.errors.SecureMessagingError`: the session is over and the reader
must authenticate again.
"""

from __future__ import annotations

from checkin.chip import crypto, tlv
from checkin.chip.apdu import (
    EXTENDED_MAX_NE,
    SHORT_MAX_NE,
    SW_SM_INCORRECT,
    SW_SM_MISSING,
    Command,
    Response,
    sw_text,
)
from checkin.chip.errors import SecureMessagingError, TlvError

MAC_LENGTH = 8
DO8E_LENGTH = 2 + MAC_LENGTH
DO99_LENGTH = 4


class SecureMessaging:
    def __init__(self, cipher: str, ks_enc: bytes, ks_mac: bytes, ssc: bytes) -> None:
        if cipher not in (crypto.DES3, crypto.AES):
            raise ValueError(f"unknown cipher {cipher}")
        self.cipher = cipher
        self.ks_enc = bytes(ks_enc)
        self.ks_mac = bytes(ks_mac)
        self.block = 8 if cipher == crypto.DES3 else 16
        if len(ssc) != self.block:
            raise ValueError(f"SSC must be {self.block} bytes for {cipher}")
        self._ssc = int.from_bytes(ssc, "big")
        self.open = True  # False once the card has dropped the session

    # -- state ---------------------------------------------------------------------------

    @property
    def ssc(self) -> bytes:
        return self._ssc.to_bytes(self.block, "big")

    def _step(self) -> bytes:
        self._ssc = (self._ssc + 1) % (1 << (8 * self.block))
        return self.ssc

    def _iv(self) -> bytes:
        if self.cipher == crypto.DES3:
            return bytes(8)
        return crypto.aes_ecb_block(self.ks_enc, self.ssc)

    def _encrypt(self, data: bytes) -> bytes:
        padded = crypto.pad(data, self.block)
        if self.cipher == crypto.DES3:
            return crypto.tdes_encrypt(self.ks_enc, padded, self._iv())
        return crypto.aes_encrypt(self.ks_enc, padded, self._iv())

    def _decrypt(self, data: bytes) -> bytes:
        if not data or len(data) % self.block:
            raise SecureMessagingError(
                "the card's encrypted answer has a wrong length: read the card again"
            )
        if self.cipher == crypto.DES3:
            plain = crypto.tdes_decrypt(self.ks_enc, data, self._iv())
        else:
            plain = crypto.aes_decrypt(self.ks_enc, data, self._iv())
        return crypto.unpad(plain)

    def mac(self, data: bytes) -> bytes:
        return crypto.mac8(self.cipher, self.ks_mac, data)

    # -- sizes ---------------------------------------------------------------------------

    def wrapped_response_length(self, plain: int) -> int:
        """Bytes of protected response data (without SW) for ``plain`` bytes of file data."""
        if plain == 0:
            return DO99_LENGTH + DO8E_LENGTH
        body = 1 + (plain // self.block + 1) * self.block
        return 1 + len(tlv.encode_length(body)) + body + DO99_LENGTH + DO8E_LENGTH

    def max_plain_response(self, wrapped_limit: int) -> int:
        """The most plain bytes whose protected response fits in ``wrapped_limit`` bytes."""
        low, high = 0, wrapped_limit
        while low < high:
            mid = (low + high + 1) // 2
            if self.wrapped_response_length(mid) <= wrapped_limit:
                low = mid
            else:
                high = mid - 1
        return low

    # -- commands ------------------------------------------------------------------------

    def wrap(self, command: Command, *, extended: bool = False) -> bytes:
        """Protect ``command`` and return the wire bytes (increments the SSC)."""
        if not self.open:
            raise SecureMessagingError(
                "the secure channel was closed by the card: authenticate again"
            )
        cla = command.cla | 0x0C
        header = bytes((cla, command.ins, command.p1, command.p2))
        ssc = self._step()  # before encrypting: the AES IV is E(KSenc, SSC)
        objects = b""
        if command.data:
            encrypted = self._encrypt(command.data)
            if command.ins & 1:  # odd INS: data may itself be BER-TLV, no padding indicator
                objects += tlv.encode(0x85, encrypted)
            else:
                objects += tlv.encode(0x87, b"\x01" + encrypted)
        long_le = extended or (command.ne is not None and command.ne > SHORT_MAX_NE)
        if command.ne is not None:
            if long_le:
                le = (command.ne % EXTENDED_MAX_NE).to_bytes(2, "big")
            else:
                le = bytes([command.ne % SHORT_MAX_NE])
            objects += tlv.encode(0x97, le)
        mac_input = ssc + crypto.pad(header, self.block) + objects
        objects += tlv.encode(0x8E, self.mac(mac_input))
        outer_ne = EXTENDED_MAX_NE if long_le else SHORT_MAX_NE
        wrapped = Command(cla, command.ins, command.p1, command.p2, objects, outer_ne)
        return wrapped.encode(extended=long_le or len(objects) > 255)

    def unwrap(self, response: Response) -> Response:
        """Check and decrypt a protected response (increments the SSC)."""
        ssc = self._step()
        if not response.data:
            if response.sw in (SW_SM_MISSING, SW_SM_INCORRECT):
                self.open = False
                raise SecureMessagingError(
                    f"the card rejected the secure channel ({sw_text(response.sw)}):"
                    " read the card again"
                )
            # A plain error status: nothing to check. Cards differ in whether they count it,
            # so the caller must not rely on this session any more.
            self.open = False
            return response
        try:
            items = tlv.parse_all(response.data)
        except TlvError as exc:
            self.open = False
            raise SecureMessagingError(
                f"the card's protected answer is malformed ({exc}): read the card again"
            ) from None
        mac_item = next((i for i in items if i.tag == 0x8E), None)
        if mac_item is None:
            self.open = False
            raise SecureMessagingError(
                "the card's answer carries no MAC (DO'8E'): read the card again"
            )
        covered = b"".join(i.encoded for i in items if i.tag in (0x85, 0x87, 0x99))
        expected = self.mac(ssc + covered)
        if not crypto.equal(expected, mac_item.value):
            self.open = False
            raise SecureMessagingError(
                "the card's answer failed its integrity check (response MAC mismatch):"
                " read the card again; if it keeps failing the card may be damaged or not"
                " genuine"
            )
        sw = response.sw
        status = next((i for i in items if i.tag == 0x99), None)
        if status is not None:
            if len(status.value) != 2:
                raise SecureMessagingError("the card's protected status (DO'99') is malformed")
            sw = int.from_bytes(status.value, "big")
        data = b""
        body = next((i for i in items if i.tag in (0x85, 0x87)), None)
        if body is not None:
            encrypted = body.value
            if body.tag == 0x87:
                if not encrypted or encrypted[0] != 0x01:
                    raise SecureMessagingError("the card's DO'87' lacks the padding indicator")
                encrypted = encrypted[1:]
            data = self._decrypt(encrypted)
        return Response(data, sw)
