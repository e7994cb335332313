"""prerequisites.json: SPEC 5.3 step 4."""

from evalcase import AUTO, CaseSet, bool_flag, cond, error, hit

FILE = "prerequisites.json"
DESCRIPTION = ("Prerequisites (SPEC 5.3 step 4): met, failed (off variant, DEFAULT), "
               "prerequisite disabled (its off variant is what is compared), chains, "
               "order of several prerequisites, error propagation with the same error code, "
               "disabled and type checks before prerequisites.")

ON, OFF = "enabled", "disabled"


def dependent(prerequisites, enabled=True, **extra):
    """A string flag whose fallthrough serves "on"; "off" is its off variant."""
    flag = {"type": "string", "enabled": enabled, "variants": {"on": ON, "off": OFF},
            "off_variant": "off", "fallthrough": {"variant": "on"},
            "prerequisites": [{"flag": f, "variant": v} for f, v in prerequisites]}
    flag.update(extra)
    return flag


def build():
    s = CaseSet()
    s.flag("base-on", bool_flag("on"))
    s.flag("base-off", bool_flag("off"))
    s.flag("base-disabled", bool_flag("on", enabled=False))
    s.flag("base-disabled-off-is-on", dict(bool_flag("on", enabled=False), off_variant="on"))
    s.flag("base-targeted", bool_flag("off", targets=[{"variant": "on", "keys": ["alice"]}]))
    s.flag("base-rule", bool_flag("off", rules=[
        {"id": "nz", "conditions": [cond("equals", "country", "NZ")], "serve": {"variant": "on"}}]))
    s.flag("base-needs-key", bool_flag({"rollout": {"variants": [
        {"variant": "on", "weight": 1}, {"variant": "off", "weight": 1}]}}))
    s.flag("base-needs-attr", bool_flag({"rollout": {"bucket_by": "org", "variants": [
        {"variant": "on", "weight": 1}, {"variant": "off", "weight": 1}]}}))
    s.flag("base-tier", {"type": "integer", "enabled": True,
                         "variants": {"one": 1, "two": 2}, "off_variant": "one",
                         "rules": [{"id": "pro", "conditions": [cond("equals", "plan", "pro")],
                                    "serve": {"variant": "two"}}],
                         "fallthrough": {"variant": "one"}})

    s.flag("p-met", dependent([("base-on", "on")]))
    s.flag("p-failed", dependent([("base-off", "on")]))
    s.flag("p-wants-off", dependent([("base-off", "off")]))
    s.flag("p-disabled", dependent([("base-disabled", "on")]))
    s.flag("p-disabled-wants-off", dependent([("base-disabled", "off")]))
    s.flag("p-disabled-off-is-on", dependent([("base-disabled-off-is-on", "on")]))
    s.flag("p-targeted", dependent([("base-targeted", "on")]))
    s.flag("p-rule", dependent([("base-rule", "on")]))
    s.flag("p-tier", dependent([("base-tier", "two")]))
    s.flag("p-chain", dependent([("p-met", "on")]))
    s.flag("p-chain-failed", dependent([("p-failed", "on")]))
    s.flag("p-chain-3", dependent([("p-chain", "on"), ("p-targeted", "on")]))
    s.flag("p-two-met", dependent([("base-on", "on"), ("base-off", "off")]))
    s.flag("p-fail-before-error", dependent([("base-off", "on"), ("base-needs-key", "on")]))
    s.flag("p-error-before-fail", dependent([("base-needs-key", "on"), ("base-off", "on")]))
    s.flag("p-needs-key", dependent([("base-needs-key", "on")]))
    s.flag("p-needs-attr", dependent([("base-needs-attr", "on")]))
    s.flag("p-chain-error", dependent([("p-needs-key", "on")]))
    s.flag("p-self-disabled", dependent([("base-off", "on")], enabled=False))
    s.flag("p-with-targets-rules", dependent(
        [("base-on", "on")],
        targets=[{"variant": "off", "keys": ["blocked"]}],
        rules=[{"id": "beta", "conditions": [cond("equals", "beta", True)],
                "serve": {"variant": "off"}}]))

    met, failed = hit(ON, "on", "DEFAULT"), hit(OFF, "off", "DEFAULT")
    tk = {"targetingKey": "user-1"}
    s.add("met: fallthrough is DEFAULT, not STATIC", "p-met", tk, met)
    s.add("met without targeting key", "p-met", {}, met)
    s.add("failed: off variant, DEFAULT", "p-failed", tk, failed, type="string")
    s.add("requiring the served off variant is met", "p-wants-off", tk, met)
    s.add("prerequisite disabled serves its off variant: fails", "p-disabled", tk, failed)
    s.add("prerequisite disabled, requiring its off variant: met", "p-disabled-wants-off", tk, met)
    s.add("prerequisite disabled whose off variant is the required one", "p-disabled-off-is-on",
          tk, met)
    s.add("prerequisite target met", "p-targeted", {"targetingKey": "alice"}, met)
    s.add("prerequisite target not met", "p-targeted", {"targetingKey": "bob"}, failed)
    s.add("prerequisite rule met", "p-rule", {"country": "NZ"}, met)
    s.add("prerequisite rule not met", "p-rule", {"country": "AU"}, failed)
    s.add("integer prerequisite met", "p-tier", {"plan": "pro"}, met)
    s.add("integer prerequisite not met", "p-tier", {"plan": "free"}, failed)
    s.add("chain met", "p-chain", tk, met)
    s.add("chain: inner failure serves inner off variant, outer fails", "p-chain-failed", tk, failed)
    s.add("three levels met", "p-chain-3", {"targetingKey": "alice"}, met)
    s.add("three levels, second prerequisite fails", "p-chain-3", {"targetingKey": "bob"}, failed)
    s.add("two prerequisites met", "p-two-met", tk, met)
    s.add("first failure stops before a later error", "p-fail-before-error", {}, failed)
    s.add("error in first prerequisite propagates", "p-error-before-fail", {},
          error("TARGETING_KEY_MISSING"))
    s.add("TARGETING_KEY_MISSING propagates", "p-needs-key", {"plan": "pro"},
          error("TARGETING_KEY_MISSING"))
    s.add("prerequisite rollout with a key (bucketed)", "p-needs-key", {"targetingKey": "user-1"}, AUTO)
    s.add("prerequisite rollout with a key (bucketed), other user", "p-needs-key",
          {"targetingKey": "user-2"}, AUTO)
    s.add("missing bucket_by attribute propagates", "p-needs-attr", tk,
          error("TARGETING_KEY_MISSING"))
    s.add("GENERAL propagates (bool bucket_by)", "p-needs-attr", {"targetingKey": "u", "org": True},
          error("GENERAL"))
    s.add("GENERAL propagates (float bucket_by)", "p-needs-attr", {"targetingKey": "u", "org": 1.5},
          error("GENERAL"))
    s.add("error propagates through a chain", "p-chain-error", {}, error("TARGETING_KEY_MISSING"))
    s.add("disabled before prerequisites", "p-self-disabled", tk, hit(OFF, "off", "DISABLED"))
    s.add("disabled before prerequisite errors", "p-self-disabled", {}, hit(OFF, "off", "DISABLED"))
    s.add("TYPE_MISMATCH before prerequisite errors", "p-needs-key", {}, error("TYPE_MISMATCH"),
          type="boolean")
    s.add("met, then target", "p-with-targets-rules", {"targetingKey": "blocked"},
          hit(OFF, "off", "TARGETING_MATCH"))
    s.add("met, then rule", "p-with-targets-rules", {"targetingKey": "u", "beta": True},
          hit(OFF, "off", "TARGETING_MATCH"))
    s.add("met, then fallthrough", "p-with-targets-rules", {"targetingKey": "u"}, met)
    return s
