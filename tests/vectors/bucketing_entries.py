"""bucketing.json: (salt, value) -> h and x for W = 100000 (SPEC 5.6)."""

import hashlib

import bucketing
import common

DESCRIPTION = ("SPEC 5.6 bucketing: input = u64be(len(salt)) || salt || u64be(len(value)) || "
               "value (UTF-8 bytes); hash = first 8 bytes of SHA-256(input) as a big-endian "
               "unsigned integer, in decimal; bucket = (hash * 100000) >> 64. Values that are "
               "decimal integers are what an integer bucket_by attribute turns into.")

SALTS = [
    "new-checkout", "checkout-layer", "search-ranking-v2", "layer-1", "exp-2026", "flag",
    "", "a", "ab", "salt with spaces", "ベータ機能-🚀", "🚩", "e\u0301", "\u00e9",
    "long-salt-" * 100, "x" * 47, "Straße", "dotted.flag.key",
]


def _uuid_like(n):
    h = hashlib.sha256(b"pennon uuid %d" % n).hexdigest()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:32])


def values():
    out = ["user-%d" % n for n in range(300)]
    out += ["user%d@example.com" % n for n in range(40)]
    out += ["Jane.Doe+tag@Example.COM", "jane.doe+tag@example.com"]
    out += [str(n) for n in range(-50, 51)]
    out += ["9223372036854775807", "-9223372036854775808", "18446744073709551615", "-0", "007"]
    out += [_uuid_like(n) for n in range(100)]
    out += ["", " ", "é", "e\u0301", "İ", "i\u0307", "ß", "ss", "🚀", "👍🏽", "🇳🇿",
            "ユーザー42", "用户-42", "مستخدم", "пользователь", "\u0000nul", "tab\there",
            "line\nbreak", "quote\"", "back\\slash", "\uffff", "\U0010ffff"]
    # Lengths around SHA-256 block boundaries (the input adds 16 + len(salt) bytes).
    out += ["v" * n for n in (1, 39, 40, 47, 48, 55, 56, 63, 64, 111, 112, 119, 120, 1000, 10000)]
    assert len(out) == len(set(out))
    return out


def entries():
    result = []
    for salt in SALTS:
        for value in values():
            result.append((salt, value))
    result += [("ab", "c"), ("a", "bc"), ("abc", ""), ("", "abc")]
    out = []
    for salt, value in result:
        h = bucketing.bucket_hash(salt, value)
        out.append({"salt": salt, "value": value, "hash": str(h),
                    "bucket": bucketing.position(h, 100000)})
    return out


def write():
    items = entries()
    by_pair = {(e["salt"], e["value"]): e for e in items}
    assert by_pair[("new-checkout", "user-42")]["hash"] == "5501935371803761109"
    assert by_pair[("new-checkout", "user-42")]["bucket"] == 29826
    assert by_pair[("ab", "c")]["hash"] != by_pair[("a", "bc")]["hash"]
    assert by_pair[("abc", "")]["hash"] != by_pair[("", "abc")]["hash"]
    assert len(items) >= 10000
    common.write_document("bucketing.json", {"description": DESCRIPTION}, "entries", items)
    return len(items)
