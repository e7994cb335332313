"""Helpers to write evaluation flags and cases compactly."""

DEFAULT_NOW = "2026-06-01T00:00:00Z"
AUTO = "AUTO"  # expectation computed by refeval (rollouts: bucketing.py)
REFERENCE = "REFERENCE"  # like AUTO, errors included: generated cases (cases_generated.py)
ABSENT = object()  # "leave the attribute out of the context"


def hit(value, variant, reason):
    return {"value": value, "variant": variant, "reason": reason, "errorCode": None}


def error(code):
    return {"value": None, "variant": None, "reason": "ERROR", "errorCode": code}


MATCH = hit(True, "on", "TARGETING_MATCH")
NO_MATCH = hit(False, "off", "DEFAULT")


def case(name, flag, context, expect, now=DEFAULT_NOW, type=None):
    c = {"name": name, "flag": flag, "context": context, "now": now}
    if type is not None:
        c["type"] = type
    c["expect"] = expect
    return c


def bool_flag(fallthrough="off", enabled=True, **extra):
    flag = {"type": "boolean", "enabled": enabled,
            "variants": {"on": True, "off": False}, "off_variant": "off",
            "fallthrough": {"variant": fallthrough} if isinstance(fallthrough, str)
            else fallthrough}
    flag.update(extra)
    return flag


def cond(op, attribute=None, value=ABSENT, case_insensitive=False, negate=False):
    c = {}
    if attribute is not None:
        c["attribute"] = attribute
    c["op"] = op
    if value is not ABSENT:
        c["value"] = value
    if case_insensitive:
        c["case_insensitive"] = True
    if negate:
        c["negate"] = True
    return c


def rule_flag(*conditions, rule_id="r1"):
    """A boolean flag serving "on" when all conditions hold, else "off"."""
    return bool_flag(rules=[{"id": rule_id, "conditions": list(conditions),
                             "serve": {"variant": "on"}}])


class CaseSet:
    """Collects flags, segments and cases of one evaluation file."""

    def __init__(self):
        self.flags = {}
        self.segments = {}
        self.cases = []

    def flag(self, key, flag):
        assert key not in self.flags, key
        self.flags[key] = flag
        return key

    def segment(self, key, segment):
        assert key not in self.segments, key
        self.segments[key] = segment
        return key

    def add(self, name, flag, context, expect, now=DEFAULT_NOW, type=None):
        assert all(c["name"] != name for c in self.cases), name
        self.cases.append(case(name, flag, context, expect, now, type))

    def condition_table(self, key, condition, rows, attribute="v", tk="user-1"):
        """One rule flag with a single condition, and one case per row
        (label, attribute value or ABSENT, holds?)."""
        self.flag(key, rule_flag(condition))
        for label, value, holds in rows:
            context = {"targetingKey": tk}
            if value is not ABSENT:
                context[attribute] = value
            self.add("%s: %s" % (key, label), key, context, MATCH if holds else NO_MATCH)

    def context_table(self, key, condition, rows):
        """Like condition_table, with whole contexts: (label, context, holds?)."""
        self.flag(key, rule_flag(condition))
        for label, context, holds in rows:
            self.add("%s: %s" % (key, label), key, context, MATCH if holds else NO_MATCH)
