"""Affine point arithmetic on short Weierstrass curves, for PACE generic mapping.

``cryptography`` does ECDH but exposes no point addition, and generic mapping needs the mapped
generator G' = s·G + H and key pairs on G'. These few functions do that over the curve
parameters. Points are ``(x, y)`` tuples; the point at infinity is ``None``. Received points
are always checked to lie on the curve before use.

Not constant time: the keys used here are ephemeral and live for one card session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from checkin.chip.errors import ChipError

Point = tuple[int, int] | None


@dataclass(frozen=True)
class Curve:
    name: str
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int
    h: int = 1

    @property
    def g(self) -> tuple[int, int]:
        return (self.gx, self.gy)

    @property
    def size(self) -> int:
        """Bytes per coordinate."""
        return (self.p.bit_length() + 7) // 8

    def contains(self, point: Point) -> bool:
        if point is None:
            return True
        x, y = point
        if not (0 <= x < self.p and 0 <= y < self.p):
            return False
        return (y * y - (x * x * x + self.a * x + self.b)) % self.p == 0

    def neg(self, point: Point) -> Point:
        if point is None:
            return None
        return (point[0], (-point[1]) % self.p)

    def add(self, one: Point, two: Point) -> Point:
        if one is None:
            return two
        if two is None:
            return one
        p = self.p
        x1, y1 = one
        x2, y2 = two
        if x1 == x2:
            if (y1 + y2) % p == 0:
                return None
            slope = (3 * x1 * x1 + self.a) * pow(2 * y1, -1, p) % p
        else:
            slope = (y2 - y1) * pow(x2 - x1, -1, p) % p
        x3 = (slope * slope - x1 - x2) % p
        return (x3, (slope * (x1 - x3) - y1) % p)

    def mul(self, k: int, point: Point) -> Point:
        """k·point with Jacobian coordinates inside (one inversion at the end)."""
        if point is None or k % self.n == 0:
            return None
        k %= self.n
        result = None  # Jacobian (X, Y, Z) or None
        addend = (point[0], point[1], 1)
        for bit in bin(k)[2:]:
            result = self._jdouble(result)
            if bit == "1":
                result = self._jadd(result, addend)
        return self._affine(result)

    # Jacobian helpers: x = X/Z², y = Y/Z³
    def _jdouble(self, q: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
        if q is None:
            return None
        p = self.p
        x, y, z = q
        if y == 0:
            return None
        ysq = y * y % p
        s = 4 * x * ysq % p
        z2 = z * z % p
        m = (3 * x * x + self.a * z2 * z2) % p
        nx = (m * m - 2 * s) % p
        ny = (m * (s - nx) - 8 * ysq * ysq) % p
        nz = 2 * y * z % p
        return (nx, ny, nz)

    def _jadd(
        self, q: tuple[int, int, int] | None, r: tuple[int, int, int]
    ) -> tuple[int, int, int] | None:
        if q is None:
            return r
        p = self.p
        x1, y1, z1 = q
        x2, y2, z2 = r
        z1s, z2s = z1 * z1 % p, z2 * z2 % p
        u1, u2 = x1 * z2s % p, x2 * z1s % p
        s1, s2 = y1 * z2s * z2 % p, y2 * z1s * z1 % p
        if u1 == u2:
            if s1 != s2:
                return None
            return self._jdouble(q)
        h = (u2 - u1) % p
        rr = (s2 - s1) % p
        h2 = h * h % p
        h3 = h2 * h % p
        nx = (rr * rr - h3 - 2 * u1 * h2) % p
        ny = (rr * (u1 * h2 - nx) - s1 * h3) % p
        nz = h * z1 * z2 % p
        return (nx, ny, nz)

    def _affine(self, q: tuple[int, int, int] | None) -> Point:
        if q is None:
            return None
        x, y, z = q
        if z == 0:
            return None
        zi = pow(z, -1, self.p)
        zi2 = zi * zi % self.p
        return (x * zi2 % self.p, y * zi2 * zi % self.p)

    def encode(self, point: Point) -> bytes:
        """Uncompressed encoding ``04 ‖ X ‖ Y``."""
        if point is None:
            raise ValueError("cannot encode the point at infinity")
        return b"\x04" + point[0].to_bytes(self.size, "big") + point[1].to_bytes(self.size, "big")

    def decode(self, data: bytes) -> tuple[int, int]:
        """An uncompressed point, checked to lie on the curve (ChipError otherwise)."""
        size = self.size
        if len(data) != 1 + 2 * size or data[0] != 0x04:
            raise ChipError(
                f"the card sent an EC point of {len(data)} bytes; expected an uncompressed"
                f" {self.name} point"
            )
        point = (int.from_bytes(data[1 : 1 + size], "big"), int.from_bytes(data[1 + size :], "big"))
        if not self.contains(point):
            raise ChipError(f"the card sent a point that is not on {self.name}")
        return point


BRAINPOOL_P256R1 = Curve(
    "brainpoolP256r1",
    p=0xA9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377,
    a=0x7D5A0975FC2C3057EEF67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9,
    b=0x26DC5C6CE94A4B44F330B5D9BBD77CBF958416295CF7E1CE6BCCDC18FF8C07B6,
    gx=0x8BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262,
    gy=0x547EF835C3DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F046997,
    n=0xA9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7,
)

SECP256R1 = Curve(
    "secp256r1",
    p=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF,
    a=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC,
    b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
    gx=0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    gy=0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
    n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
)

# ICAO 9303-11 / BSI TR-03110 standardized domain parameter IDs supported here.
STANDARD_CURVES = {12: SECP256R1, 13: BRAINPOOL_P256R1}


def random_scalar(curve: Curve, random: Callable[[int], bytes]) -> int:
    """A private key in [1, n-1] from ``random(nbytes)``, with negligible bias."""
    raw = int.from_bytes(random(curve.size + 8), "big")
    return raw % (curve.n - 1) + 1
