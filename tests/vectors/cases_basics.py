"""basics.json: reasons, error codes, flag types, targets, rule order (SPEC 5.3)."""

from evalcase import CaseSet, bool_flag, cond, error, hit

FILE = "basics.json"
DESCRIPTION = ("Evaluation order of SPEC 5.3: every reason, FLAG_NOT_FOUND, TYPE_MISMATCH, "
               "PARSE_ERROR (non-string targetingKey), every flag type with edge values, "
               "targets before rules, rules in order, STATIC versus DEFAULT.")

I64_MAX = 9223372036854775807
I64_MIN = -9223372036854775808
OBJ_CFG = {"color": "blue", "limits": [1, 2, 3], "nested": {"a": None, "b": [True, False]}}
OBJ_LIST = [1, "two", {"three": 3.5}, [], {}]


def _typed(flag_type, variants, fallthrough, off=None):
    return {"type": flag_type, "enabled": True, "variants": variants,
            "off_variant": off or fallthrough, "fallthrough": {"variant": fallthrough}}


def build():
    s = CaseSet()
    tk = {"targetingKey": "user-1"}

    # Every flag type, served statically.
    s.flag("bool-static", bool_flag("on"))
    s.flag("string-static", _typed("string", {"a": "alpha", "b": "beta", "empty": ""}, "b"))
    s.flag("string-empty", _typed("string", {"a": "alpha", "empty": ""}, "empty"))
    s.flag("int-max", _typed("integer", {"max": I64_MAX, "min": I64_MIN, "zero": 0}, "max"))
    s.flag("int-min", _typed("integer", {"max": I64_MAX, "min": I64_MIN, "zero": 0}, "min"))
    s.flag("float-pi", _typed("float", {"pi": 3.14159, "big": 1e308, "neg": -2.5}, "pi"))
    s.flag("float-big", _typed("float", {"pi": 3.14159, "big": 1e308, "neg": -2.5}, "big"))
    s.flag("float-neg", _typed("float", {"pi": 3.14159, "big": 1e308, "neg": -2.5}, "neg"))
    s.flag("object-cfg", _typed("object", {"cfg": OBJ_CFG, "list": OBJ_LIST}, "cfg"))
    s.flag("object-list", _typed("object", {"cfg": OBJ_CFG, "list": OBJ_LIST}, "list"))
    s.flag("object-empty", _typed("object", {"none": {}, "empty-list": []}, "none"))

    s.add("STATIC boolean", "bool-static", tk, hit(True, "on", "STATIC"))
    s.add("STATIC boolean, type asked", "bool-static", tk, hit(True, "on", "STATIC"), type="boolean")
    s.add("STATIC boolean, empty context", "bool-static", {}, hit(True, "on", "STATIC"))
    s.add("STATIC string", "string-static", tk, hit("beta", "b", "STATIC"), type="string")
    s.add("STATIC empty string value", "string-empty", tk, hit("", "empty", "STATIC"))
    s.add("STATIC integer i64 max", "int-max", tk, hit(I64_MAX, "max", "STATIC"), type="integer")
    s.add("STATIC integer i64 min", "int-min", tk, hit(I64_MIN, "min", "STATIC"), type="integer")
    s.add("STATIC float", "float-pi", tk, hit(3.14159, "pi", "STATIC"), type="float")
    s.add("STATIC float 1e308", "float-big", tk, hit(1e308, "big", "STATIC"))
    s.add("STATIC float negative", "float-neg", tk, hit(-2.5, "neg", "STATIC"))
    s.add("STATIC object", "object-cfg", tk, hit(OBJ_CFG, "cfg", "STATIC"), type="object")
    s.add("STATIC object that is an array", "object-list", tk, hit(OBJ_LIST, "list", "STATIC"),
          type="object")
    s.add("STATIC empty object", "object-empty", tk, hit({}, "none", "STATIC"))

    # Errors before evaluation.
    s.add("FLAG_NOT_FOUND", "no-such-flag", tk, error("FLAG_NOT_FOUND"))
    s.add("FLAG_NOT_FOUND is case sensitive", "Bool-Static", tk, error("FLAG_NOT_FOUND"))
    s.add("FLAG_NOT_FOUND before TYPE_MISMATCH", "no-such-flag", tk, error("FLAG_NOT_FOUND"),
          type="boolean")
    for flag_key, asked in [("bool-static", "string"), ("string-static", "boolean"),
                            ("int-max", "float"), ("float-pi", "integer"),
                            ("object-cfg", "string"), ("string-static", "object")]:
        s.add("TYPE_MISMATCH %s asked as %s" % (flag_key, asked), flag_key, tk,
              error("TYPE_MISMATCH"), type=asked)
    s.add("PARSE_ERROR targetingKey is a number", "bool-static", {"targetingKey": 42},
          error("PARSE_ERROR"))
    s.add("PARSE_ERROR targetingKey is a bool", "bool-static", {"targetingKey": True},
          error("PARSE_ERROR"))
    s.add("PARSE_ERROR targetingKey is an object", "bool-static",
          {"targetingKey": {"id": "user-1"}}, error("PARSE_ERROR"))

    # DISABLED: the off variant, whatever targets and rules say.
    s.flag("disabled", bool_flag(
        "on", enabled=False,
        targets=[{"variant": "on", "keys": ["user-1"]}],
        rules=[{"id": "all", "conditions": [], "serve": {"variant": "on"}}]))
    s.flag("disabled-string", dict(_typed("string", {"live": "live", "dark": "dark"}, "live",
                                          off="dark"), enabled=False))
    s.add("DISABLED serves off variant", "disabled", tk, hit(False, "off", "DISABLED"))
    s.add("DISABLED ignores targets and rules", "disabled", {"targetingKey": "user-1", "x": 1},
          hit(False, "off", "DISABLED"))
    s.add("DISABLED without targeting key", "disabled", {}, hit(False, "off", "DISABLED"))
    s.add("DISABLED string flag", "disabled-string", tk, hit("dark", "dark", "DISABLED"),
          type="string")
    s.add("TYPE_MISMATCH before DISABLED", "disabled", tk, error("TYPE_MISMATCH"), type="string")

    # Targets, then rules in order, then the fallthrough.
    tiers = {"gold": "G", "silver": "S", "bronze": "B", "none": "-"}
    s.flag("tiers", {
        "type": "string", "enabled": True, "variants": tiers, "off_variant": "none",
        "targets": [{"variant": "gold", "keys": ["alice", "bob"]},
                    {"variant": "silver", "keys": ["carol", "Alice2"]}],
        "rules": [
            {"id": "nz", "conditions": [cond("equals", "country", "NZ")],
             "serve": {"variant": "bronze"}},
            {"id": "pro-au", "conditions": [cond("equals", "country", "AU"),
                                            cond("equals", "plan", "pro")],
             "serve": {"variant": "silver"}},
        ],
        "fallthrough": {"variant": "none"}})
    s.add("target first list", "tiers", {"targetingKey": "alice"}, hit("G", "gold", "TARGETING_MATCH"))
    s.add("target second key", "tiers", {"targetingKey": "bob"}, hit("G", "gold", "TARGETING_MATCH"))
    s.add("target second list", "tiers", {"targetingKey": "carol"},
          hit("S", "silver", "TARGETING_MATCH"))
    s.add("target keys are case sensitive", "tiers", {"targetingKey": "Alice"},
          hit("-", "none", "DEFAULT"))
    s.add("target keys compare whole strings", "tiers", {"targetingKey": "alice2"},
          hit("-", "none", "DEFAULT"))
    s.add("target before rule", "tiers", {"targetingKey": "alice", "country": "NZ"},
          hit("G", "gold", "TARGETING_MATCH"))
    s.add("rule after targets", "tiers", {"targetingKey": "dave", "country": "NZ"},
          hit("B", "bronze", "TARGETING_MATCH"))
    s.add("rule without targeting key", "tiers", {"country": "NZ"},
          hit("B", "bronze", "TARGETING_MATCH"))
    s.add("attribute named like a target key does not target", "tiers",
          {"alice": "alice", "targetKey": "alice"}, hit("-", "none", "DEFAULT"))
    s.add("rule needs all conditions", "tiers", {"targetingKey": "dave", "country": "AU"},
          hit("-", "none", "DEFAULT"))
    s.add("rule with all conditions", "tiers",
          {"targetingKey": "dave", "country": "AU", "plan": "pro"},
          hit("S", "silver", "TARGETING_MATCH"))
    s.add("DEFAULT fallthrough when rules exist", "tiers", {"targetingKey": "erin"},
          hit("-", "none", "DEFAULT"))
    s.add("DEFAULT fallthrough, empty context", "tiers", {}, hit("-", "none", "DEFAULT"))

    s.flag("targets-only", bool_flag("off", targets=[{"variant": "on", "keys": ["vip"]}]))
    s.add("DEFAULT fallthrough when only targets exist", "targets-only",
          {"targetingKey": "someone"}, hit(False, "off", "DEFAULT"))
    s.add("target match on targets-only flag", "targets-only", {"targetingKey": "vip"},
          hit(True, "on", "TARGETING_MATCH"))
    s.add("no targeting key skips targets", "targets-only", {"vip": True},
          hit(False, "off", "DEFAULT"))

    plans = {"first": 1, "second": 2, "catchall": 3, "never": 4}
    s.flag("rule-order", {
        "type": "integer", "enabled": True, "variants": plans, "off_variant": "never",
        "rules": [
            {"id": "pro", "conditions": [cond("equals", "plan", "pro")],
             "serve": {"variant": "first"}},
            {"id": "paid", "conditions": [cond("in", "plan", ["pro", "team"])],
             "serve": {"variant": "second"}},
            {"id": "everyone", "conditions": [], "serve": {"variant": "catchall"}},
        ],
        "fallthrough": {"variant": "never"}})
    s.add("first matching rule wins", "rule-order", {"plan": "pro"}, hit(1, "first", "TARGETING_MATCH"))
    s.add("second rule", "rule-order", {"plan": "team"}, hit(2, "second", "TARGETING_MATCH"))
    s.add("rule without conditions always matches", "rule-order", {"plan": "free"},
          hit(3, "catchall", "TARGETING_MATCH"), type="integer")
    s.add("rule without conditions, empty context", "rule-order", {},
          hit(3, "catchall", "TARGETING_MATCH"))

    s.flag("with-metadata", bool_flag(
        "on", description="metadata only", owner="team-a", tags=["x", "y"], temporary=True,
        expires_at="2020-01-01T00:00:00Z", metadata={"ticket": "PEN-1", "weight": 2.5,
                                                      "public": False}))
    s.add("metadata never changes evaluation", "with-metadata", tk, hit(True, "on", "STATIC"))
    return s
