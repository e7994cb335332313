"""large_list.json: a 100,000-key target list and a 100,000-entry in list."""

from evalcase import CaseSet, cond, hit

FILE = "large_list.json"
DESCRIPTION = ("Large lists: one target with 100,000 keys and one case-insensitive `in` "
               "condition with 100,000 values (each list entries are generated as "
               "\"u00000\" .. \"u99999\" and \"M00000\" .. \"M99999\").")

COUNT = 100_000


def build():
    s = CaseSet()
    target_keys = ["u%05d" % n for n in range(COUNT)]
    members = ["M%05d" % n for n in range(COUNT)]
    s.flag("big-targets", {
        "type": "string", "enabled": True,
        "variants": {"listed": "listed", "member": "member", "other": "other"},
        "off_variant": "other",
        "targets": [{"variant": "listed", "keys": target_keys}],
        "rules": [{"id": "members", "conditions": [
            cond("in", "member_id", members, case_insensitive=True)],
            "serve": {"variant": "member"}}],
        "fallthrough": {"variant": "other"}})
    listed, member, other = (hit(v, v, r) for v, r in [
        ("listed", "TARGETING_MATCH"), ("member", "TARGETING_MATCH"), ("other", "DEFAULT")])
    f = "big-targets"
    s.add("first target key", f, {"targetingKey": "u00000"}, listed)
    s.add("middle target key", f, {"targetingKey": "u54321"}, listed)
    s.add("last target key", f, {"targetingKey": "u99999"}, listed)
    s.add("just beyond the list", f, {"targetingKey": "u100000"}, other)
    s.add("prefix of a key", f, {"targetingKey": "u0000"}, other)
    s.add("other case", f, {"targetingKey": "U00001"}, other)
    s.add("first member, case-insensitive", f, {"targetingKey": "x", "member_id": "m00000"}, member)
    s.add("last member, upper case", f, {"targetingKey": "x", "member_id": "M99999"}, member)
    s.add("member as listed", f, {"member_id": "M31415"}, member)
    s.add("not a member", f, {"targetingKey": "x", "member_id": "m100000"}, other)
    s.add("member id in an array", f, {"member_id": ["nobody", "m00042"]}, member)
    s.add("number is not comparable with strings", f, {"member_id": 42}, other)
    s.add("target wins over member rule", f, {"targetingKey": "u00007", "member_id": "m00001"},
          listed)
    return s
