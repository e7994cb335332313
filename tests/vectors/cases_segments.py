"""segments.json: segment membership (SPEC 5.5) through in_segment / not_in_segment."""

from evalcase import CaseSet, cond, rule_flag

FILE = "segments.json"
DESCRIPTION = ("Segments (SPEC 5.5): excluded wins over included and rules, included, "
               "segment rules, no targeting key (lists skipped, rules still apply), "
               "nested in_segment, arrays of segment keys, not_in_segment, negate.")

T, F = True, False


def build():
    s = CaseSet()
    s.segment("beta", {
        "included": ["alice", "bob"], "excluded": ["mallory", "trent"],
        "rules": [{"id": "staff", "conditions": [cond("ends_with", "email", "@acme.com")]}]})
    s.segment("both-lists", {"included": ["mallory", "oscar"], "excluded": ["mallory"]})
    s.segment("vip", {"rules": [{"id": "big-spender", "conditions": [cond("gte", "spend", 1000)]}]})
    s.segment("vip-nz", {"rules": [{"id": "vip-in-nz", "conditions": [
        cond("in_segment", value="vip"), cond("equals", "country", "NZ")]}]})
    s.segment("vip-nz-or-beta", {"rules": [
        {"id": "nested", "conditions": [cond("in_segment", value="vip-nz")]},
        {"id": "beta", "conditions": [cond("in_segment", value="beta")]}]})
    s.segment("empty", {})
    s.segment("excluded-only", {"excluded": ["alice"]})
    s.segment("services", {
        "included": [""],
        "rules": [{"id": "svc", "conditions": [cond("starts_with", "targetingKey", "svc-")]},
                  {"id": "two", "conditions": [cond("exists", "a"), cond("exists", "b")]}]})
    s.segment("not-beta-members", {"rules": [{"id": "outside", "conditions": [
        cond("not_in_segment", value="beta")]}]})

    s.flag("in-beta", rule_flag(cond("in_segment", value="beta")))
    s.flag("in-beta-array", rule_flag(cond("in_segment", value=["beta"])))
    s.flag("in-both-lists", rule_flag(cond("in_segment", value="both-lists")))
    s.flag("in-vip-or-beta", rule_flag(cond("in_segment", value=["vip", "beta"])))
    s.flag("not-in-beta", rule_flag(cond("not_in_segment", value="beta")))
    s.flag("not-in-vip-or-beta", rule_flag(cond("not_in_segment", value=["vip", "beta"])))
    s.flag("in-beta-negated", rule_flag(cond("in_segment", value="beta", negate=True)))
    s.flag("not-in-beta-negated", rule_flag(cond("not_in_segment", value="beta", negate=True)))
    s.flag("in-vip-nz", rule_flag(cond("in_segment", value="vip-nz")))
    s.flag("in-vip-nz-or-beta", rule_flag(cond("in_segment", value="vip-nz-or-beta")))
    s.flag("in-empty", rule_flag(cond("in_segment", value="empty")))
    s.flag("not-in-empty", rule_flag(cond("not_in_segment", value="empty")))
    s.flag("in-excluded-only", rule_flag(cond("in_segment", value="excluded-only")))
    s.flag("in-services", rule_flag(cond("in_segment", value="services")))
    s.flag("in-not-beta-members", rule_flag(cond("in_segment", value="not-beta-members")))
    s.flag("beta-and-pro", rule_flag(cond("in_segment", value="beta"), cond("equals", "plan", "pro")))

    def check(label, flag, context, holds):
        s.add("%s: %s" % (flag, label), flag, context,
              {"value": holds, "variant": "on" if holds else "off",
               "reason": "TARGETING_MATCH" if holds else "DEFAULT", "errorCode": None})

    staff = "x@acme.com"
    check("included key", "in-beta", {"targetingKey": "alice"}, T)
    check("included key, second", "in-beta", {"targetingKey": "bob"}, T)
    check("rule match", "in-beta", {"targetingKey": "carol", "email": staff}, T)
    check("no list entry, rule fails", "in-beta", {"targetingKey": "carol", "email": "c@x.org"}, F)
    check("excluded wins over rule", "in-beta", {"targetingKey": "mallory", "email": staff}, F)
    check("excluded, no attributes", "in-beta", {"targetingKey": "trent"}, F)
    check("no targeting key, rule still applies", "in-beta", {"email": staff}, T)
    check("no targeting key, no rule match", "in-beta", {"email": "a@b.c"}, F)
    check("empty context", "in-beta", {}, F)
    check("key listing compares bytes", "in-beta", {"targetingKey": "Alice"}, F)
    check("array of one key", "in-beta-array", {"targetingKey": "alice"}, T)
    check("excluded wins over included", "in-both-lists", {"targetingKey": "mallory"}, F)
    check("included only", "in-both-lists", {"targetingKey": "oscar"}, T)
    check("first of two segments", "in-vip-or-beta", {"targetingKey": "zed", "spend": 5000}, T)
    check("second of two segments", "in-vip-or-beta", {"targetingKey": "alice"}, T)
    check("neither segment", "in-vip-or-beta", {"targetingKey": "zed", "spend": 10}, F)
    check("not in: member", "not-in-beta", {"targetingKey": "alice"}, F)
    check("not in: non-member", "not-in-beta", {"targetingKey": "carol"}, T)
    check("not in: excluded key", "not-in-beta", {"targetingKey": "mallory", "email": staff}, T)
    check("not in: empty context", "not-in-beta", {}, T)
    check("not in any: member of one", "not-in-vip-or-beta", {"targetingKey": "z", "spend": 1000}, F)
    check("not in any: member of none", "not-in-vip-or-beta", {"targetingKey": "z"}, T)
    check("negated in: member", "in-beta-negated", {"targetingKey": "alice"}, F)
    check("negated in: non-member", "in-beta-negated", {"targetingKey": "carol"}, T)
    check("negated not in: member", "not-in-beta-negated", {"targetingKey": "bob"}, T)
    check("negated not in: non-member", "not-in-beta-negated", {"targetingKey": "carol"}, F)
    check("nested: both hold", "in-vip-nz", {"targetingKey": "z", "spend": 1000, "country": "NZ"}, T)
    check("nested: inner segment fails", "in-vip-nz", {"targetingKey": "z", "spend": 999, "country": "NZ"}, F)
    check("nested: outer condition fails", "in-vip-nz", {"targetingKey": "z", "spend": 2000, "country": "AU"}, F)
    check("nested: no targeting key", "in-vip-nz", {"spend": 2000, "country": "NZ"}, T)
    check("two levels via first rule", "in-vip-nz-or-beta",
          {"targetingKey": "z", "spend": 2000, "country": "NZ"}, T)
    check("two levels via second rule", "in-vip-nz-or-beta", {"targetingKey": "bob"}, T)
    check("two levels, neither", "in-vip-nz-or-beta", {"targetingKey": "mallory", "email": staff}, F)
    check("empty segment", "in-empty", {"targetingKey": "alice"}, F)
    check("not in empty segment", "not-in-empty", {"targetingKey": "alice"}, T)
    check("excluded-only segment, excluded", "in-excluded-only", {"targetingKey": "alice"}, F)
    check("excluded-only segment, other", "in-excluded-only", {"targetingKey": "bob"}, F)
    check("rule on targetingKey", "in-services", {"targetingKey": "svc-billing"}, T)
    check("rule on targetingKey, other key", "in-services", {"targetingKey": "user-1"}, F)
    check("rule on targetingKey, none", "in-services", {"role": "svc-billing"}, F)
    check("empty string included key", "in-services", {"targetingKey": ""}, T)
    check("second rule, all conditions", "in-services", {"targetingKey": "u", "a": 1, "b": 2}, T)
    check("second rule, one condition", "in-services", {"targetingKey": "u", "a": 1}, F)
    check("segment rule using not_in_segment: outside", "in-not-beta-members", {"targetingKey": "carol"}, T)
    check("segment rule using not_in_segment: inside", "in-not-beta-members", {"targetingKey": "alice"}, F)
    check("segment and condition", "beta-and-pro", {"targetingKey": "alice", "plan": "pro"}, T)
    check("segment without condition", "beta-and-pro", {"targetingKey": "alice", "plan": "free"}, F)
    check("condition without segment", "beta-and-pro", {"targetingKey": "carol", "plan": "pro"}, F)
    return s
