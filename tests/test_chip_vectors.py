"""ICAO 9303-11 worked examples as unit-test vectors.

BAC and 3DES secure messaging: Appendix D (values from chip.md §5). PACE ECDH generic mapping on
brainpoolP256r1 with AES-128: Appendix G.1 (MRZ password T22000129 / 640812 / 101031, as
quoted in public eMRTD test suites). AES-CMAC: NIST SP 800-38B example 2.
"""

from __future__ import annotations

import pytest

from checkin.chip import bac, crypto, ec, pace, tlv
from checkin.chip.apdu import Command, Response
from checkin.chip.channel import Channel
from checkin.chip.sm import SecureMessaging

H = bytes.fromhex

# -- Appendix D: BAC ---------------------------------------------------------------------------

KEY = bac.BacKey("L898902C", "690806", "940623")
RND_IC = H("4608F91988702212")
RND_IFD = H("781723860C06C226")
K_IFD = H("0B795240CB7049B01C19B33E32804F0B")
K_ENC = H("AB94FDECF2674FDFB9B391F85D7F76F2")
K_MAC = H("7962D9ECE03D1ACD4C76089DCE131543")
REPLY = H(
    "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F" "2F2D235D074D7449"
)  # fmt: skip


def test_mrz_information_and_seed():
    assert KEY.mrz_information == "L898902C<369080619406236"
    assert KEY.seed == H("239AB9CB282DAF66231DC5A4DF6BFBAE")


def test_bac_key_derivation():
    assert bac.derive_keys(KEY.seed) == (K_ENC, K_MAC)


def test_mutual_authenticate_command():
    data = bac.mutual_authenticate_data(K_ENC, K_MAC, RND_IFD, RND_IC, K_IFD)
    assert data[:32] == H("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2")
    assert data[32:] == H("5F1448EEA8AD90A7")
    command = Command(0x00, 0x82, 0x00, 0x00, data, ne=40).encode()
    assert command == H("0082000028") + data + H("28")


def test_session_keys_and_ssc():
    session = bac.session_from_reply(K_ENC, K_MAC, RND_IFD, RND_IC, K_IFD, REPLY)
    assert session.ks_enc == H("979EC13B1CBFE9DCD01AB0FED307EAE5")
    assert session.ks_mac == H("F1CB1F1FB5ADF208806B89DC579DC1F8")
    assert session.ssc == H("887022120C06C226")


def test_session_seed_is_kifd_xor_kic():
    k_ic = H("0B4F80323EB3191CB04970CB4052790B")
    assert bytes(a ^ b for a, b in zip(K_IFD, k_ic, strict=True)) == H(
        "0036D272F5C350ACAC50C3F572D23600"
    )


def _session() -> SecureMessaging:
    return bac.session_from_reply(K_ENC, K_MAC, RND_IFD, RND_IC, K_IFD, REPLY)


def test_secure_messaging_select_read_sequence():
    sm = _session()
    wrapped = sm.wrap(Command(0x00, 0xA4, 0x02, 0x0C, H("011E")))
    assert wrapped == H("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")
    assert sm.unwrap(Response.from_bytes(H("990290008E08FA855A5D4C50A8ED9000"))) == Response(
        b"", 0x9000
    )
    assert sm.wrap(Command(0x00, 0xB0, 0x00, 0x00, ne=4)) == H(
        "0CB000000D9701048E08ED6705417E96BA5500"
    )
    first = sm.unwrap(
        Response.from_bytes(H("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"))
    )
    assert first.data == H("60145F01")
    assert sm.wrap(Command(0x00, 0xB0, 0x00, 0x04, ne=18)) == H(
        "0CB000040D9701128E082EA28A70F3C7B53500"
    )
    rest = sm.unwrap(
        Response.from_bytes(
            H(
                "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D74"
                "9000"
            )
        )
    )
    assert first.data + rest.data == H("60145F0104303130365F36063034303030305C026175")
    assert sm.ssc == H("887022120C06C22C")


def test_secure_messaging_intermediates():
    ks_enc, ks_mac = H("979EC13B1CBFE9DCD01AB0FED307EAE5"), H("F1CB1F1FB5ADF208806B89DC579DC1F8")
    assert crypto.tdes_encrypt(ks_enc, H("011E800000000000")) == H("6375432908C044F6")
    mac_input = H("887022120C06C2270CA4020C800000008709016375432908C044F6")
    assert crypto.retail_mac(ks_mac, crypto.pad(mac_input, 8)) == H("BF8B92D635FF24F8")


def test_response_mac_failure_is_secure_messaging_error():
    from checkin.chip.errors import SecureMessagingError

    sm = _session()
    sm.wrap(Command(0x00, 0xA4, 0x02, 0x0C, H("011E")))
    with pytest.raises(SecureMessagingError, match="integrity"):
        sm.unwrap(Response.from_bytes(H("990290008E08FA855A5D4C50A8EC9000")))
    assert not sm.open


def test_aes_cmac_sp800_38b():
    key = H("2B7E151628AED2A6ABF7158809CF4F3C")
    assert crypto.aes_cmac(key, H("6BC1BEE22E409F96E93D7E117393172A"))[:8] == H("070A16B46B4D4144")


def test_check_digits():
    assert bac.check_digit("L898902C<") == "3"
    assert bac.check_digit("690806") == "1"
    assert bac.check_digit("940623") == "6"


# -- Appendix G.1: PACE ECDH-GM-AES-128 on brainpoolP256r1 ---------------------------------------

G1 = {
    "card_access": H("31143012060A04007F0007020204020202010202010D"),
    "mrz_seed": H("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD"),
    "k_pi": H("89DED1B26624EC1E634C1989302849DD"),
    "z": H("95A3A016522EE98D01E76CB6B98B42C3"),
    "s": H("3F00C4D39D153F2B2A214A078D899B22"),
    "sk_map_ifd": H("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99"),
    "pk_map_ifd": H(
        "047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
        "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D"
    ),
    "sk_map_ic": H("498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560"),
    "pk_map_ic": H(
        "04824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
        "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54"
    ),
    "h": H(
        "0460332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5"
        "0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181"
    ),
    "g_mapped": H(
        "048CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2"
        "8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522"
    ),
    "sk_eph_ifd": H("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595"),
    "pk_eph_ifd": H(
        "042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
        "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462"
    ),
    "sk_eph_ic": H("107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A"),
    "pk_eph_ic": H(
        "049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
        "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"
    ),
    "k": H("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925"),
    "ks_enc": H("F5F0E35C0D7161EE6724EE513A0D9A7F"),
    "ks_mac": H("FE251C7858B356B24514B3BD5F4297D1"),
    "t_ifd": H("C2B0BD78D94BA866"),
    "t_ic": H("3ABB9674BCE93C08"),
}
CURVE = ec.BRAINPOOL_P256R1
OID = "0.4.0.127.0.7.2.2.4.2.2"


def test_pace_card_access_info():
    infos = pace.parse_security_infos(G1["card_access"])
    info = pace.choose_pace_info(infos)
    assert (info.oid, info.version, info.parameter_id) == (OID, 2, 13)
    assert info.name == "id-PACE-ECDH-GM-AES-CBC-CMAC-128"


def test_pace_password_key_and_nonce():
    key = bac.BacKey("T22000129", "640812", "101031")
    assert key.pace_secret == G1["mrz_seed"]
    k_pi = pace.password_key(key.pace_secret, crypto.AES, 128)
    assert k_pi == G1["k_pi"]
    assert pace.decrypt_nonce(crypto.AES, k_pi, G1["z"]) == G1["s"]
    assert pace.encrypt_nonce(crypto.AES, k_pi, G1["s"]) == G1["z"]


def test_pace_generic_mapping():
    sk_ifd = int.from_bytes(G1["sk_map_ifd"], "big")
    sk_ic = int.from_bytes(G1["sk_map_ic"], "big")
    assert CURVE.encode(CURVE.mul(sk_ifd, CURVE.g)) == G1["pk_map_ifd"]
    assert CURVE.encode(CURVE.mul(sk_ic, CURVE.g)) == G1["pk_map_ic"]
    h = CURVE.mul(sk_ifd, CURVE.decode(G1["pk_map_ic"]))
    assert h == CURVE.mul(sk_ic, CURVE.decode(G1["pk_map_ifd"]))
    assert CURVE.encode(h) == G1["h"]
    assert CURVE.encode(pace.map_generator(CURVE, G1["s"], h)) == G1["g_mapped"]


def test_pace_key_agreement_and_session_keys():
    g = CURVE.decode(G1["g_mapped"])
    sk_ifd = int.from_bytes(G1["sk_eph_ifd"], "big")
    sk_ic = int.from_bytes(G1["sk_eph_ic"], "big")
    assert CURVE.encode(CURVE.mul(sk_ifd, g)) == G1["pk_eph_ifd"]
    assert CURVE.encode(CURVE.mul(sk_ic, g)) == G1["pk_eph_ic"]
    shared = CURVE.mul(sk_ifd, CURVE.decode(G1["pk_eph_ic"]))
    assert shared[0].to_bytes(32, "big") == G1["k"]
    assert pace.session_keys(crypto.AES, 128, G1["k"]) == (G1["ks_enc"], G1["ks_mac"])


def test_pace_authentication_tokens():
    pk_ic = pace.public_key_object(OID, CURVE, CURVE.decode(G1["pk_eph_ic"]))
    assert pk_ic.hex().upper().startswith("7F494F060A04007F00070202040202864104")
    assert crypto.token_mac(crypto.AES, G1["ks_mac"], pk_ic) == G1["t_ifd"]
    pk_ifd = pace.public_key_object(OID, CURVE, CURVE.decode(G1["pk_eph_ifd"]))
    assert crypto.token_mac(crypto.AES, G1["ks_mac"], pk_ifd) == G1["t_ic"]


class _G1Chip:
    """Replays the chip's side of Appendix G.1 and checks every terminal message."""

    max_response_length = 256

    def __init__(self) -> None:
        self.step = 0
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        answers = [
            H("9000"),
            H("7C128010") + G1["z"] + H("9000"),
            H("7C438241") + G1["pk_map_ic"] + H("9000"),
            H("7C438441") + G1["pk_eph_ic"] + H("9000"),
            H("7C0A8608") + G1["t_ic"] + H("9000"),
        ]
        answer = answers[self.step]
        self.step += 1
        return answer


def test_pace_protocol_run_matches_appendix_g():
    chip = _G1Chip()
    randoms = iter([G1["sk_map_ifd"], G1["sk_eph_ifd"]])

    def fixed_random(count: int) -> bytes:
        # ec.random_scalar reduces (raw mod (n-1)) + 1: feed raw = sk - 1 on 40 bytes
        value = int.from_bytes(next(randoms), "big") - 1
        return value.to_bytes(count, "big")

    info = pace.choose_pace_info(pace.parse_security_infos(G1["card_access"]))
    channel = Channel(chip)
    key = bac.BacKey("T22000129", "640812", "101031")
    session = pace.perform_pace(
        channel, info, key.pace_secret, fixed_random, password=pace.PASSWORD_MRZ
    )
    # Appendix G's MSE:SET AT plus the domain parameter reference (84 01 0D) EF.CardAccess gives
    assert chip.sent[0] == H("0022C1A412800A04007F0007020204020283010184010D")
    assert chip.sent[1] == H("10860000027C0000")
    assert chip.sent[2] == H("10860000457C438141") + G1["pk_map_ifd"] + H("00")
    assert chip.sent[3] == H("10860000457C438341") + G1["pk_eph_ifd"] + H("00")
    assert chip.sent[4] == H("008600000C7C0A8508") + G1["t_ifd"] + H("00")
    assert (session.ks_enc, session.ks_mac, session.ssc) == (G1["ks_enc"], G1["ks_mac"], bytes(16))


def test_tlv_encoding_of_lengths():
    assert tlv.encode_length(0x7F) == H("7F")
    assert tlv.encode_length(0x80) == H("8180")
    assert tlv.encode_length(0x100) == H("820100")
