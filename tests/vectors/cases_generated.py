"""generated.json: generated flags and contexts, every expectation from refeval.py.

The hand-written files pin each rule of SPEC 5 on chosen cases; this one mixes them:
flags of every type with random rules (every operator, case_insensitive, negate,
segments, nested paths), rollouts on random attributes and salts, targets and
prerequisites, evaluated for random contexts (every JSON value kind, numbers at the
edges of i64 and f64, arrays, nested objects) at three times. Expectations come from
refeval.py alone, errors included, so a case here is as right as that independent
reading of SPEC 5; a disagreement with a runtime is settled against SPEC.md.

Values stay where refeval.py and the runtimes share a meaning: regexes Python's `re`
reads as regex-lite does, floats whose milliseconds are exact in both computations.
"""

import random

from evalcase import REFERENCE, CaseSet

FILE = "generated.json"
DESCRIPTION = ("Generated flags (every type, every operator, rollouts, targets, segments, "
               "prerequisites) and contexts (every JSON value kind, i64 and f64 edges, "
               "arrays, nested objects), 1,500 cases at three times; expectations from "
               "refeval.py, errors included.")

SEED = 20261122
FLAGS = 50
CASES = 1500
TIMES = ["2026-06-01T00:00:00Z", "2026-01-01T00:00:00Z", "2031-01-01T00:00:00Z"]

STRINGS = ["", "ann", "Ann", "ANN", "bob@acme.com", "Bob@ACME.COM", "straße", "STRASSE", "İstanbul",
           "ǅemal", "ünïcødé ✓ 🎉", "1.2.3", "1.10.0-beta.1", "2.0.0", "v1.2.3", "01.2.3",
           "2026-05-01T00:00:00Z", "2026-07-01T12:00:00+02:00", "42", "a.b"]
NUMBERS = [0, -0.0, 1, 42, 42.5, -3, 0.1, 1e21, 2**53 - 1, 2**53 + 1, 2**63 - 1, -(2**63), 2**63,
           1_780_000_000, 1_780_000_000.5, 5e-324, 3.0]
ATTRIBUTES = ["email", "plan", "age", "version", "created", "tags", "beta", "user.email",
              "user.address.country", "user.id", "targetingKey"]
SEGMENTS = ["staff", "eu"]
OPS = ["equals", "not_equals", "in", "not_in", "contains", "starts_with", "ends_with", "matches",
       "lt", "lte", "gt", "gte", "semver_eq", "semver_lt", "semver_lte", "semver_gt", "semver_gte",
       "before", "after", "exists", "missing", "in_segment"]
CASE_INSENSITIVE = {"equals", "not_equals", "in", "not_in", "contains", "starts_with", "ends_with",
                    "matches"}
# What each attribute mostly holds, so that conditions on it are mostly comparable.
TYPICAL = {
    "email": ["ann@acme.com", "Bob@ACME.COM", "straße@acme.com", "x@example.org"],
    "age": [0, -0.0, 17, 42, 42.5, 1e21, 2**53 + 1, 3.0],
    "version": ["1.2.3", "1.10.0-beta.1", "2.0.0", "1.2.3+build.5", "v1"],
    "created": ["2026-05-01T00:00:00Z", "2026-06-15T00:00:00+02:00", 1_780_000_000,
                1_780_000_000.5, -0.0, 2**60],
}


def scalar(rng):
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(STRINGS)
    if kind == 1:
        return rng.choice([0, 1, 42, -3, 2**53 + 1, 9223372036854775807])
    if kind == 2:
        return rng.choice([0.5, 42.5, -3.25, 3.0])
    return rng.random() < 0.5


def condition(rng):
    op = rng.choice(OPS)
    if op == "in_segment":
        return {"op": rng.choice(["in_segment", "not_in_segment"]), "value": rng.choice(SEGMENTS)}
    c = {"attribute": rng.choice(ATTRIBUTES), "op": op}
    if op in ("equals", "not_equals"):
        c["value"] = scalar(rng)
    elif op in ("in", "not_in"):
        c["value"] = [scalar(rng) for _ in range(1 + rng.randrange(4))]
    elif op in ("contains", "starts_with", "ends_with"):
        c["value"] = rng.choice(["a", "acme", "ACME.COM", "ß", "@", "1.", "ü", "İ"])
    elif op == "matches":
        c["value"] = rng.choice(["^a", "acme\\.com$", "\\d+", "[a-c]{2,}", "^$", "é|ü", "^\\w+@"])
    elif op in ("lt", "lte", "gt", "gte"):
        c["value"] = rng.choice([0, 1, 42, 42.5, -3, 1_780_000_000, 1e21])
    elif op.startswith("semver_"):
        c["value"] = rng.choice(["1.2.3", "2.0.0", "1.10.0-beta.1", "0.0.1"])
    elif op in ("before", "after"):
        c["value"] = rng.choice(["2026-05-01T00:00:00Z", "2026-06-15T00:00:00+02:00",
                                 "2030-01-01T00:00:00Z"])
    if op in CASE_INSENSITIVE and rng.random() < 0.3:
        c["case_insensitive"] = True
    if rng.random() < 0.2:
        c["negate"] = True
    return c


def conditions(rng, segments_allowed=True):
    out = []
    while len(out) < 1 + rng.randrange(3):
        c = condition(rng)
        if segments_allowed or "attribute" in c:
            out.append(c)
    return out


VALUES = {
    "boolean": [True, False, True],
    "string": ["a", "b", "c"],
    "integer": [1, -2, 9223372036854775807],
    "float": [0.5, 1.5, 2.5],
    "object": [{"a": 1}, [1, "x"], {}],
}


def flag(rng, index):
    kind = rng.choice(sorted(VALUES))
    names = ["v0", "v1", "v2"]

    def rollout():
        weights = [rng.randrange(4) for _ in names]
        weights[0] += 1
        r = {"variants": [{"variant": n, "weight": w} for n, w in zip(names, weights)]}
        if rng.random() < 0.6:
            r["bucket_by"] = rng.choice(ATTRIBUTES)
        if rng.random() < 0.3:
            r["salt"] = rng.choice(["layer", "ünï"])
        return r

    def serve():
        return {"rollout": rollout()} if rng.random() < 0.4 else {"variant": rng.choice(names)}

    f = {"type": kind, "enabled": rng.random() < 0.95,
         "variants": dict(zip(names, VALUES[kind])), "off_variant": "v0", "fallthrough": serve(),
         "rules": [{"id": "r%d" % i, "conditions": conditions(rng), "serve": serve()}
                   for i in range(rng.randrange(4))]}
    if rng.random() < 0.2:
        f["targets"] = [{"variant": "v1", "keys": ["ann", "42"]}]
    if index > 0 and rng.random() < 0.15:
        f["prerequisites"] = [{"flag": "f%02d" % rng.randrange(index), "variant": "v1"}]
    return f


def value(rng, depth=0):
    kind = rng.random()
    if kind < 0.35:
        return rng.choice(STRINGS)
    if kind < 0.65:
        return rng.choice(NUMBERS)
    if kind < 0.72:
        return rng.random() < 0.5
    if kind < 0.8 or depth > 1:
        return None
    if kind < 0.9:
        return [value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {"email": value(rng, depth + 1), "id": value(rng, depth + 1),
            "address": {"country": rng.choice(["DE", "de", "US"])}}


def context(rng):
    c = {}
    if rng.random() < 0.85:
        if rng.random() < 0.9:
            suffix = str(rng.randrange(1000)) if rng.random() < 0.5 else ""
            c["targetingKey"] = rng.choice(["ann", "42", "bob", "ünï", ""]) + suffix
        else:
            c["targetingKey"] = None
    for name in ["email", "plan", "age", "version", "created", "tags", "beta", "user", "user.email"]:
        if rng.random() < 0.55:
            typical = TYPICAL.get(name)
            c[name] = rng.choice(typical) if typical and rng.random() < 0.7 else value(rng)
    if rng.random() < 0.05:
        c["targetingKey"] = rng.choice([7, True, ["ann"]])  # malformed: an error for every flag
    return c


def build():
    rng = random.Random(SEED)
    s = CaseSet()
    s.segment("staff", {"included": ["ann", "bob7"], "excluded": ["ann1"],
                        "rules": [{"id": "s", "conditions": conditions(rng, segments_allowed=False)}]})
    s.segment("eu", {"rules": [{"id": "eu", "conditions": [
        {"attribute": "user.address.country", "op": "in", "value": ["de", "fr"], "case_insensitive": True}]}]})
    for i in range(FLAGS):
        s.flag("f%02d" % i, flag(rng, i))
    keys = sorted(s.flags)
    for n in range(CASES):
        ctx = context(rng)
        asked = rng.choice([None, None, None, "boolean", "string", "integer", "float", "object"])
        s.add("case %04d" % n, rng.choice(keys), ctx, REFERENCE, now=rng.choice(TIMES), type=asked)
    return s


def check(cases):
    """The generated cases must reach every outcome, or agreement would prove little."""
    seen = {}
    for c in cases:
        outcome = c["expect"]["reason"] + ("/" + c["expect"]["errorCode"] if c["expect"]["errorCode"] else "")
        seen[outcome] = seen.get(outcome, 0) + 1
    for outcome in ["STATIC", "DEFAULT", "TARGETING_MATCH", "SPLIT", "DISABLED", "ERROR/PARSE_ERROR",
                    "ERROR/TARGETING_KEY_MISSING", "ERROR/GENERAL", "ERROR/TYPE_MISMATCH"]:
        assert seen.get(outcome, 0) >= 10, (outcome, seen)
