"""Minimal Ed25519 (RFC 8032, section 5.1) for generating test vectors.

Written from the RFC's description: edwards25519 in extended homogeneous
coordinates, SHA-512 from hashlib. Not constant time; test use only.
"""

import hashlib

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # group order
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

IDENTITY = (0, 1, 1, 0)


def _inv(x):
    return pow(x, P - 2, P)


def _recover_x(y, sign):
    """Section 5.1.3 step 2-4: x from y and the sign bit, or None."""
    if y >= P:
        return None
    x2 = (y * y - 1) * _inv(D * y * y + 1) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


_BY = 4 * _inv(5) % P
_BX = _recover_x(_BY, 0)
BASE = (_BX, _BY, 1, _BX * _BY % P)


def point_add(p, q):
    """Section 5.1.4, addition in extended coordinates."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * t1 * t2 * D % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def scalar_mult(s, p):
    result = IDENTITY
    addend = p
    while s > 0:
        if s & 1:
            result = point_add(result, addend)
        addend = point_add(addend, addend)
        s >>= 1
    return result


def point_equal(p, q):
    x1, y1, z1, _ = p
    x2, y2, z2, _ = q
    return (x1 * z2 - x2 * z1) % P == 0 and (y1 * z2 - y2 * z1) % P == 0


def encode_point(p):
    x, y, z, _ = p
    zi = _inv(z)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def decode_point(data):
    if len(data) != 32:
        return None
    n = int.from_bytes(data, "little")
    sign = n >> 255
    y = n & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def _sha512_int(*parts):
    h = hashlib.sha512()
    for part in parts:
        h.update(part)
    return int.from_bytes(h.digest(), "little")


def _expand_seed(seed):
    if len(seed) != 32:
        raise ValueError("an Ed25519 seed is 32 bytes")
    digest = hashlib.sha512(seed).digest()
    a = int.from_bytes(digest[:32], "little")
    a &= (1 << 254) - 8  # clear the 3 low bits and bit 255
    a |= 1 << 254
    return a, digest[32:]


def public_key(seed):
    """Section 5.1.5: the 32-byte public key of a 32-byte seed."""
    a, _ = _expand_seed(seed)
    return encode_point(scalar_mult(a, BASE))


def sign(seed, message):
    """Section 5.1.6: the 64-byte signature R || S."""
    a, prefix = _expand_seed(seed)
    pub = encode_point(scalar_mult(a, BASE))
    r = _sha512_int(prefix, message) % L
    r_enc = encode_point(scalar_mult(r, BASE))
    k = _sha512_int(r_enc, pub, message) % L
    s = (r + k * a) % L
    return r_enc + s.to_bytes(32, "little")


def is_small_order(point):
    return point_equal(scalar_mult(8, point), IDENTITY)


def verify_strict(pub, message, signature):
    """Section 5.1.7 with the strict checks SPEC 2.3 asks for:
    canonical S (S < L), public key and R decodable and not of small order."""
    if len(pub) != 32 or len(signature) != 64:
        return False
    a_point = decode_point(pub)
    r_point = decode_point(signature[:32])
    if a_point is None or r_point is None:
        return False
    if is_small_order(a_point) or is_small_order(r_point):
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    k = _sha512_int(signature[:32], pub, message) % L
    left = scalar_mult(s, BASE)
    right = point_add(r_point, scalar_mult(k, a_point))
    return point_equal(left, right)


def self_test():
    """RFC 8032 section 7.1, TESTs 1 and 2."""
    seed = bytes.fromhex(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    pub = public_key(seed)
    assert pub.hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), pub.hex()
    sig = sign(seed, b"")
    assert sig.hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555f"
        "b8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"), sig.hex()
    assert verify_strict(pub, b"", sig)
    assert not verify_strict(pub, b"x", sig)
    # RFC 8032 section 7.1, TEST 2 (one-byte message 0x72).
    seed = bytes.fromhex(
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
    assert public_key(seed).hex() == (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
    assert sign(seed, b"\x72").hex() == (
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")


if __name__ == "__main__":
    self_test()
    print("ed25519_ref: RFC 8032 TEST 1 ok")
