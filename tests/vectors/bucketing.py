"""Independent Python implementation of SPEC sections 5.6 (bucketing),
5.7 (schedules) and 6 (times), used to compute expected rollout results."""

import hashlib
import re
import struct

U64 = 2**64

# --- section 6: RFC 3339 times ---------------------------------------------

_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?([Zz]|[+-][0-9]{2}:[0-9]{2})", re.ASCII)


def _days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _days_in_month(y, m):
    if m == 2:
        leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
        return 29 if leap else 28
    return 30 if m in (4, 6, 9, 11) else 31


def parse_rfc3339_ms(text):
    """Unix milliseconds of an RFC 3339 date-time, or None if refused."""
    if not isinstance(text, str):
        return None
    m = _RFC3339.fullmatch(text)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, offset = m.group(7), m.group(8)
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset_minutes = 0
    if offset not in ("Z", "z"):
        oh, om = int(offset[1:3]), int(offset[4:6])
        if oh > 23 or om > 59:
            return None
        offset_minutes = (oh * 60 + om) * (1 if offset[0] == "+" else -1)
    seconds = (_days_from_civil(year, month, day) * 86400
               + hour * 3600 + minute * 60 + second - offset_minutes * 60)
    millis = int((fraction or "").ljust(3, "0")[:3])
    return seconds * 1000 + millis


# --- section 5.6: bucketing -------------------------------------------------

def bucket_input(salt, value):
    s, v = salt.encode("utf-8"), value.encode("utf-8")
    return struct.pack(">Q", len(s)) + s + struct.pack(">Q", len(v)) + v


def bucket_hash(salt, value):
    digest = hashlib.sha256(bucket_input(salt, value)).digest()
    return int.from_bytes(digest[:8], "big")


def position(h, total):
    assert 0 <= h < U64 and 1 <= total <= 0xFFFFFFFF
    return (h * total) >> 64


def pick_index(weights, x):
    running = 0
    for i, w in enumerate(weights):
        running += w
        if x < running:
            return i
    raise AssertionError("position beyond total")


# --- section 5.7: schedules -------------------------------------------------

def _floor_div(a, b):
    return a // b  # Python's // is floor division for ints


def effective_weights(rollout, now_ms):
    base = [v["weight"] for v in rollout["variants"]]
    schedule = rollout.get("schedule")
    if schedule is None:
        return base
    if "steps" in schedule:
        current = base
        for step in schedule["steps"]:
            if parse_rfc3339_ms(step["at"]) <= now_ms:
                current = list(step["weights"])
        return current
    ramp = schedule["ramp"]
    start, end = parse_rfc3339_ms(ramp["start"]), parse_rfc3339_ms(ramp["end"])
    target = list(ramp["weights"])
    if now_ms <= start:
        return base
    if now_ms >= end:
        return target
    d, span, total = now_ms - start, end - start, sum(target)
    weights = [a + _floor_div((b - a) * d, span)
               for a, b in zip(base[:-1], target[:-1])]
    weights.append(total - sum(weights))
    return weights


# --- self checks against the worked examples in SPEC ------------------------

def self_test():
    data = bucket_input("new-checkout", "user-42")
    assert data.hex() == ("000000000000000c" + "6e65772d636865636b6f7574"
                          + "0000000000000007" + "757365722d3432")
    assert hashlib.sha256(data).hexdigest() == (
        "4c5acd11f58519d5e42d7d2b26294280ed259f9521c6afa565d705d6a2266c19")
    h = bucket_hash("new-checkout", "user-42")
    assert h == 5501935371803761109
    assert position(h, 100000) == 29826
    assert position(h, 100) == 29
    assert pick_index([30, 70], position(h, 100)) == 0
    assert pick_index([29, 71], position(h, 100)) == 1
    assert bucket_input("ab", "c") != bucket_input("a", "bc")
    assert bucket_hash("ab", "c") != bucket_hash("a", "bc")
    # SPEC 5.7 ramp example.
    ramp = {"variants": [{"variant": "on", "weight": 0}, {"variant": "off", "weight": 100}],
            "schedule": {"ramp": {"start": "2026-01-01T00:00:00Z",
                                  "end": "2026-01-01T10:00:00Z", "weights": [100, 0]}}}
    assert effective_weights(ramp, parse_rfc3339_ms("2026-01-01T02:30:00Z")) == [25, 75]
    # SPEC 6 example.
    assert parse_rfc3339_ms("2026-11-21T10:00:00.1239+01:00") == 1795251600123
    assert parse_rfc3339_ms("1970-01-01T00:00:00Z") == 0
    assert parse_rfc3339_ms("2026-01-01T00:00:00Z") == 1767225600000
    assert parse_rfc3339_ms("2025-12-31T23:59:60Z") is None


if __name__ == "__main__":
    self_test()
    print("bucketing: worked examples ok")
