"""A small, independent Python reading of SPEC section 5 (evaluation).

The generator uses it in two ways: to cross-check every hand-written
expectation (a disagreement stops generation), and to compute the variant of
rollout cases from bucketing.py (marked AUTO in the case lists). It evaluates
already-valid payloads only; it does not implement compilation (section 4).
"""

import re
from fractions import Fraction

import bucketing

I64_MIN, I64_MAX = -(2**63), 2**63 - 1
MISSING = object()

_SEMVER = re.compile(
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?", re.ASCII)


class EvalError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


# --- values -----------------------------------------------------------------

def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def context_number(v):
    """SPEC 5.1: integers in the i64 range stay integers, others are floats."""
    if isinstance(v, int) and not (I64_MIN <= v <= I64_MAX):
        return float(v)
    return v


def exact(v):
    return Fraction(v)  # exact for ints and for finite floats


def semver_key(text):
    if not isinstance(text, str):
        return None
    m = _SEMVER.fullmatch(text)
    if not m:
        return None
    core = tuple(int(g) for g in m.groups()[:3])
    pre = m.group(4)
    if pre is None:
        return core + ((1,),)  # a release sorts after every prerelease
    idents = []
    for ident in pre.split("."):
        if ident.isdigit():
            idents.append((0, int(ident), ""))
        else:
            idents.append((1, 0, ident))
    return core + ((0, tuple(idents)),)


# SPEC 5.4: the milliseconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z.
FIRST_EPOCH_MS = -62_167_219_200_000
LAST_EPOCH_MS = 253_402_300_799_999


def time_ms(v):
    """SPEC 5.4: seconds times 1,000 exactly (integers) or in f64, truncated (floats);
    results outside years 0000-9999 are not comparable."""
    if isinstance(v, str):
        return bucketing.parse_rfc3339_ms(v)
    if is_number(v):
        v = context_number(v)
        if isinstance(v, int):
            ms = v * 1000
        else:
            product = v * 1000.0
            if not -9.2e18 <= product < 9.2e18:
                return None
            ms = int(Fraction(v) * 1000)  # int() truncates toward zero
            if ms != int(product):
                raise AssertionError("epoch float %r: exact and f64 millisecond values differ" % v)
        return ms if FIRST_EPOCH_MS <= ms <= LAST_EPOCH_MS else None
    return None


def lower(s):
    return s.lower()


# --- attribute lookup (section 3.3) ------------------------------------------

def lookup(context, path):
    if path == "targetingKey":
        return context.get("targetingKey", MISSING)
    if path in context:
        return context[path]
    node = context
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


# --- one application of an operator: True/False, or None (not comparable) ----

def _equals(a, b, ci):
    if isinstance(a, str) and isinstance(b, str):
        return lower(a) == lower(b) if ci else a == b
    if isinstance(a, bool) and isinstance(b, bool):
        return a == b
    if is_number(a) and is_number(b):
        return exact(context_number(a)) == exact(b)
    return None


def _apply(op, element, value, ci):
    if op == "equals":
        return _equals(element, value, ci)
    if op == "in":
        results = [_equals(element, item, ci) for item in value]
        comparable = [r for r in results if r is not None]
        return any(comparable) if comparable else None
    if op in ("contains", "starts_with", "ends_with"):
        if not isinstance(element, str):
            return None
        hay, needle = (lower(element), lower(value)) if ci else (element, value)
        if op == "contains":
            return needle in hay
        return hay.startswith(needle) if op == "starts_with" else hay.endswith(needle)
    if op == "matches":
        if not isinstance(element, str):
            return None
        # re.ASCII: `\d`, `\w`, `\b` and `(?i)` are ASCII-only, as in SPEC 5.4. The
        # vectors keep to patterns whose meaning Python's `re` shares.
        return re.search(("(?i)" if ci else "") + value, element, re.ASCII) is not None
    if op in ("lt", "lte", "gt", "gte"):
        if not is_number(element):
            return None
        a, b = exact(context_number(element)), exact(value)
        return {"lt": a < b, "lte": a <= b, "gt": a > b, "gte": a >= b}[op]
    if op.startswith("semver_"):
        a, b = semver_key(element), semver_key(value)
        assert b is not None, value
        if a is None:
            return None
        return {"semver_eq": a == b, "semver_lt": a < b, "semver_lte": a <= b,
                "semver_gt": a > b, "semver_gte": a >= b}[op]
    if op in ("before", "after"):
        a, b = time_ms(element), bucketing.parse_rfc3339_ms(value)
        assert b is not None, value
        if a is None:
            return None
        return a < b if op == "before" else a > b
    raise AssertionError("unknown op " + op)


class Evaluator:
    def __init__(self, payload):
        self.flags = payload["flags"]
        self.segments = payload.get("segments", {})

    # --- conditions and segments ---
    def condition_holds(self, cond, context):
        op, negate = cond["op"], cond.get("negate", False)
        if op in ("in_segment", "not_in_segment"):
            keys = cond["value"] if isinstance(cond["value"], list) else [cond["value"]]
            held = any(self.in_segment(k, context) for k in keys)
            held = (not held) if op == "not_in_segment" else held
            return held != negate
        value = lookup(context, cond["attribute"])
        present = value is not MISSING and value is not None
        if op in ("exists", "missing"):
            held = present if op == "exists" else not present
            return held != negate
        if not present:
            return False
        base_op = op[4:] if op in ("not_equals", "not_in") else op
        elements = value if isinstance(value, list) else [value]
        results = [_apply(base_op, e, cond.get("value"), cond.get("case_insensitive", False))
                   for e in elements]
        comparable = [r for r in results if r is not None]
        if not comparable:
            return False
        held = any(comparable)
        if base_op != op:
            held = not held
        return held != negate

    def all_hold(self, conditions, context):
        return all(self.condition_holds(c, context) for c in conditions)

    def in_segment(self, key, context):
        segment = self.segments[key]
        tk = context.get("targetingKey")
        if tk is not None:
            if tk in segment.get("excluded", []):
                return False
            if tk in segment.get("included", []):
                return True
        return any(self.all_hold(r["conditions"], context) for r in segment.get("rules", []))

    # --- serving ---
    def rollout_variant(self, flag_key, rollout, context, now_ms):
        weights = bucketing.effective_weights(rollout, now_ms)
        names = [v["variant"] for v in rollout["variants"]]
        nonzero = [i for i, w in enumerate(weights) if w > 0]
        if len(nonzero) == 1:
            return names[nonzero[0]]
        attribute = rollout.get("bucket_by", "targetingKey")
        raw = lookup(context, attribute)
        if raw is MISSING or raw is None:
            raise EvalError("TARGETING_KEY_MISSING")
        raw = context_number(raw)
        if isinstance(raw, str):
            text = raw
        elif isinstance(raw, int) and not isinstance(raw, bool):
            text = str(raw)
        else:
            raise EvalError("GENERAL")
        salt = rollout.get("salt", flag_key)
        x = bucketing.position(bucketing.bucket_hash(salt, text), sum(weights))
        return names[bucketing.pick_index(weights, x)]

    def serve(self, flag_key, serve, context, now_ms):
        if "variant" in serve:
            return serve["variant"], False
        return self.rollout_variant(flag_key, serve["rollout"], context, now_ms), True

    def evaluate_flag(self, key, context, now_ms):
        flag = self.flags[key]
        off = flag["off_variant"]
        if not flag["enabled"]:
            return off, "DISABLED"
        for prereq in flag.get("prerequisites", []):
            variant, _ = self.evaluate_flag(prereq["flag"], context, now_ms)
            if variant != prereq["variant"]:
                return off, "DEFAULT"
        tk = context.get("targetingKey")
        if tk is not None:
            for target in flag.get("targets", []):
                if tk in target["keys"]:
                    return target["variant"], "TARGETING_MATCH"
        for rule in flag.get("rules", []):
            if self.all_hold(rule["conditions"], context):
                variant, split = self.serve(key, rule["serve"], context, now_ms)
                return variant, "SPLIT" if split else "TARGETING_MATCH"
        variant, split = self.serve(key, flag["fallthrough"], context, now_ms)
        if split:
            return variant, "SPLIT"
        plain = not (flag.get("prerequisites") or flag.get("targets") or flag.get("rules"))
        return variant, "STATIC" if plain else "DEFAULT"

    def evaluate(self, key, context, now_ms, asked_type=None):
        def error(code):
            return {"value": None, "variant": None, "reason": "ERROR", "errorCode": code}
        # SPEC 5.3: not found, then the asked type, then a malformed context; a null
        # targeting key is no key (5.1).
        if key not in self.flags:
            return error("FLAG_NOT_FOUND")
        if asked_type is not None and asked_type != self.flags[key]["type"]:
            return error("TYPE_MISMATCH")
        if context.get("targetingKey") is not None and not isinstance(context["targetingKey"], str):
            return error("PARSE_ERROR")
        try:
            variant, reason = self.evaluate_flag(key, context, now_ms)
        except EvalError as e:
            return error(e.code)
        value = self.flags[key]["variants"][variant]
        return {"value": value, "variant": variant, "reason": reason, "errorCode": None}
