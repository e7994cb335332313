"""rollouts.json: percentage rollouts (SPEC 5.6). Variants of SPLIT cases marked
AUTO are computed by bucketing.py; the cases built on the worked example of
SPEC 5.6 and the boundary cases are written out by hand."""

import bucketing
from evalcase import AUTO, CaseSet, cond, error, hit

FILE = "rollouts.json"
DESCRIPTION = ("Rollouts (SPEC 5.6): the worked example and its boundaries, default salt = "
               "flag key, custom and shared (layer) salts, bucket_by with string and integer "
               "(decimal text) values, TARGETING_KEY_MISSING and GENERAL, zero weights, "
               "single non-zero weight served without a targeting key, rollouts in rules, "
               "extreme totals, Unicode and empty bucketing values.")

LETTERS = {"a": "A", "b": "B", "c": "C"}


def rollout(weights, **options):
    r = {"variants": [{"variant": v, "weight": w} for v, w in weights]}
    r.update(options)
    return r


def split_flag(weights, flag_type="string", variants=None, **options):
    variants = variants or {name: LETTERS.get(name, name) for name, _ in weights}
    return {"type": flag_type, "enabled": True, "variants": variants,
            "off_variant": weights[0][0], "fallthrough": {"rollout": rollout(weights, **options)}}


def find_user(salt, total, wanted_x, prefix="user-"):
    """The first "user-N" whose position for (salt, total) is wanted_x."""
    for n in range(1_000_000):
        if bucketing.position(bucketing.bucket_hash(salt, prefix + str(n)), total) == wanted_x:
            return prefix + str(n)
    raise AssertionError("no user found")


def build():
    s = CaseSet()
    split = lambda variant: hit(LETTERS.get(variant, variant), variant, "SPLIT")

    # The worked example of SPEC 5.6: salt new-checkout, user-42, x = 29826 of 100000, 29 of 100.
    onoff = {"on": True, "off": False}
    s.flag("new-checkout", split_flag([("on", 30000), ("off", 70000)], "boolean", onoff))
    s.flag("wx-29826", split_flag([("on", 29826), ("off", 70174)], "boolean", onoff,
                                  salt="new-checkout"))
    s.flag("wx-29827", split_flag([("on", 29827), ("off", 70173)], "boolean", onoff,
                                  salt="new-checkout"))
    s.flag("wx-30-of-100", split_flag([("on", 30), ("off", 70)], "boolean", onoff,
                                      salt="new-checkout"))
    s.flag("wx-29-of-100", split_flag([("on", 29), ("off", 71)], "boolean", onoff,
                                      salt="new-checkout"))
    u42 = {"targetingKey": "user-42"}
    s.add("worked example: default salt is the flag key", "new-checkout", u42,
          hit(True, "on", "SPLIT"), type="boolean")
    s.add("worked example: x = 29826 is not < 29826", "wx-29826", u42, hit(False, "off", "SPLIT"))
    s.add("worked example: x = 29826 < 29827", "wx-29827", u42, hit(True, "on", "SPLIT"))
    s.add("worked example: W = 100, 29 < 30", "wx-30-of-100", u42, hit(True, "on", "SPLIT"))
    s.add("worked example: W = 100, 29 is not < 29", "wx-29-of-100", u42, hit(False, "off", "SPLIT"))
    s.add("worked example: other user is bucketed independently", "new-checkout",
          {"targetingKey": "user-43"}, AUTO)

    # An even split over many users.
    s.flag("split-even", split_flag([("a", 50000), ("b", 50000)]))
    for n in range(12):
        s.add("even split user-%d" % n, "split-even", {"targetingKey": "user-%d" % n}, AUTO,
              type="string")
    s.flag("split-three", split_flag([("a", 1), ("b", 1), ("c", 1)]))
    for n in range(9):
        s.add("three-way split user-%d" % n, "split-three", {"targetingKey": "user-%d" % n}, AUTO)

    # Custom salt; the same salt makes flags agree position for position.
    s.flag("salted", split_flag([("a", 50000), ("b", 50000)], salt="exp-2026"))
    s.flag("salted-twin", split_flag([("a", 50000), ("b", 50000)], salt="exp-2026"))
    for n in range(4):
        for key in ("salted", "salted-twin"):
            s.add("custom salt %s user-%d" % (key, n), key, {"targetingKey": "user-%d" % n}, AUTO)

    # A layer: disjoint non-zero ranges of the same total are mutually exclusive.
    s.flag("layer-exp-a", split_flag([("in", 30000), ("out", 70000)], salt="layer-1",
                                     variants={"in": "A", "out": "-"}))
    s.flag("layer-exp-b", split_flag([("below", 30000), ("in", 30000), ("above", 40000)],
                                     salt="layer-1", variants={"below": "-", "in": "B", "above": "-"}))
    for n in range(10):
        for key in ("layer-exp-a", "layer-exp-b"):
            s.add("layer %s user-%d" % (key, n), key, {"targetingKey": "user-%d" % n}, AUTO)

    # bucket_by.
    s.flag("by-company", split_flag([("a", 1), ("b", 1), ("c", 1)], bucket_by="company.id",
                                    salt="company-salt"))
    def company(value, tk="user-1"):
        return {"targetingKey": tk, "company": {"id": value}}
    for label, value in [("string id", "acme"), ("string 42", "42"), ("integer 42", 42),
                         ("integer -42", -42), ("string -42", "-42"), ("integer 0", 0),
                         ("i64 max", 9223372036854775807), ("i64 min", -9223372036854775808),
                         ("empty string", "")]:
        s.add("bucket_by %s" % label, "by-company", company(value), AUTO)
    s.add("bucket_by ignores the targeting key", "by-company", company("acme", tk="other"), AUTO)
    s.add("bucket_by without targeting key", "by-company", {"company": {"id": "acme"}}, AUTO)
    s.add("bucket_by exact top-level name", "by-company", {"company.id": "acme"}, AUTO)
    for label, value in [("float 42.0", 42.0), ("float 1.5", 1.5), ("bool", True),
                         ("array", ["acme"]), ("object", {"x": 1}),
                         ("integer beyond i64 is a float", 9223372036854775808)]:
        s.add("bucket_by %s is GENERAL" % label, "by-company", company(value), error("GENERAL"))
    s.add("bucket_by null is TARGETING_KEY_MISSING", "by-company", company(None),
          error("TARGETING_KEY_MISSING"))
    s.add("bucket_by missing with targeting key present", "by-company", {"targetingKey": "user-1"},
          error("TARGETING_KEY_MISSING"))
    s.add("bucket_by path meets a string", "by-company", {"targetingKey": "u", "company": "acme"},
          error("TARGETING_KEY_MISSING"))
    s.add("default bucketing without targeting key", "split-even", {"plan": "pro"},
          error("TARGETING_KEY_MISSING"))

    s.flag("by-tk-explicit", split_flag([("a", 1), ("b", 1)], bucket_by="targetingKey", salt="shared"))
    s.flag("by-tk-default", split_flag([("a", 1), ("b", 1)], salt="shared"))
    for n in range(4):
        for key in ("by-tk-explicit", "by-tk-default"):
            s.add("%s user-%d" % (key, n), key, {"targetingKey": "user-%d" % n}, AUTO)
    s.add("bucket_by targetingKey without one", "by-tk-explicit", {}, error("TARGETING_KEY_MISSING"))

    # Zero weights and single non-zero weights.
    s.flag("zero-edges", split_flag([("a", 0), ("b", 100), ("c", 0)]))
    s.add("single non-zero weight without targeting key", "zero-edges", {}, split("b"))
    s.add("single non-zero weight with targeting key", "zero-edges", {"targetingKey": "u"}, split("b"))
    s.add("single non-zero weight, unrelated attributes only", "zero-edges", {"x": True}, split("b"))
    s.flag("single-variant", split_flag([("only", 7)], variants={"only": "O"},
                                        bucket_by="missing.attribute"))
    s.add("one-variant rollout never reads bucket_by", "single-variant", {"targetingKey": "u"},
          hit("O", "only", "SPLIT"))
    s.flag("zero-middle", split_flag([("a", 50), ("b", 0), ("c", 50)]))
    s.add("zero weight in the middle: x = 49", "zero-middle",
          {"targetingKey": find_user("zero-middle", 100, 49)}, split("a"))
    s.add("zero weight in the middle: x = 50 goes past it", "zero-middle",
          {"targetingKey": find_user("zero-middle", 100, 50)}, split("c"))
    for n in range(6):
        s.add("zero weight in the middle user-%d" % n, "zero-middle",
              {"targetingKey": "user-%d" % n}, AUTO)
    s.flag("zero-first", split_flag([("a", 0), ("b", 1), ("c", 1)]))
    s.add("leading zero weight: x = 0", "zero-first",
          {"targetingKey": find_user("zero-first", 2, 0)}, split("b"))
    s.add("leading zero weight: x = 1", "zero-first",
          {"targetingKey": find_user("zero-first", 2, 1)}, split("c"))

    # Extreme totals.
    s.flag("max-total-single", split_flag([("a", 4294967295)]))
    s.add("total 2^32-1 on one variant", "max-total-single", {}, split("a"))
    s.flag("max-total-skewed", split_flag([("a", 1), ("b", 4294967294)]))
    s.flag("max-total-halves", split_flag([("a", 2147483648), ("b", 2147483647)]))
    for n in range(4):
        s.add("total 2^32-1 skewed user-%d" % n, "max-total-skewed", {"targetingKey": "user-%d" % n}, AUTO)
        s.add("total 2^32-1 halves user-%d" % n, "max-total-halves", {"targetingKey": "user-%d" % n}, AUTO)

    # Rollouts in rules.
    s.flag("rule-rollout", {
        "type": "string", "enabled": True, "variants": LETTERS, "off_variant": "c",
        "rules": [{"id": "pro", "conditions": [cond("equals", "plan", "pro")],
                   "serve": {"rollout": rollout([("a", 1), ("b", 1)])}}],
        "fallthrough": {"variant": "c"}})
    for n in range(4):
        s.add("rollout in a rule user-%d" % n, "rule-rollout",
              {"targetingKey": "user-%d" % n, "plan": "pro"}, AUTO)
    s.add("rollout in a rule without targeting key", "rule-rollout", {"plan": "pro"},
          error("TARGETING_KEY_MISSING"))
    s.add("rule not matching: fixed fallthrough", "rule-rollout", {"plan": "free"},
          hit("C", "c", "DEFAULT"))

    # Bucketing values of every shape.
    for label, key in [("empty targeting key", ""), ("emoji", "🚀-user"),
                       ("combining accent", "e\u0301"), ("precomposed accent", "\u00e9"),
                       ("CJK", "ユーザー42"), ("email", "Jane.Doe+tag@example.com"),
                       ("long", "k" * 1000), ("digits", "-42")]:
        s.add("bucketing value: %s" % label, "split-even", {"targetingKey": key}, AUTO)

    # Other value types served by a rollout.
    s.flag("object-rollout", split_flag([("x", 1), ("y", 1)], "object",
                                        {"x": {"layout": "grid"}, "y": ["list", 2]}))
    s.flag("float-rollout", split_flag([("lo", 1), ("hi", 1)], "float", {"lo": 0.25, "hi": 1e300}))
    for n in range(3):
        s.add("object rollout user-%d" % n, "object-rollout", {"targetingKey": "user-%d" % n}, AUTO,
              type="object")
        s.add("float rollout user-%d" % n, "float-rollout", {"targetingKey": "user-%d" % n}, AUTO)
    return s


def check(cases):
    """Properties of SPEC 5.6 that the computed expectations must show."""
    by_name = {c["name"]: c["expect"] for c in cases}
    variant = lambda name: by_name[name]["variant"]
    assert {variant("even split user-%d" % n) for n in range(12)} == {"a", "b"}
    assert {variant("three-way split user-%d" % n) for n in range(9)} == {"a", "b", "c"}
    for n in range(4):
        assert variant("custom salt salted user-%d" % n) == variant("custom salt salted-twin user-%d" % n)
        assert variant("by-tk-explicit user-%d" % n) == variant("by-tk-default user-%d" % n)
    in_a = {n for n in range(10) if variant("layer layer-exp-a user-%d" % n) == "in"}
    in_b = {n for n in range(10) if variant("layer layer-exp-b user-%d" % n) == "in"}
    assert in_a and in_b and not in_a & in_b, "a layer keeps its experiments exclusive"
    assert variant("bucket_by string 42") == variant("bucket_by integer 42")
    assert variant("bucket_by string -42") == variant("bucket_by integer -42")
    assert variant("bucket_by string id") == variant("bucket_by ignores the targeting key") \
        == variant("bucket_by without targeting key") == variant("bucket_by exact top-level name")
    assert "b" not in {variant("zero weight in the middle user-%d" % n) for n in range(6)}
