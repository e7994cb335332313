"""envelopes.json, part 2: the payload (SPEC 2.3 checks 5-12, 3.4, 4).
Expectations are written by hand; envref.py re-derives checks 5-9."""

import json

import common
from envelope_helpers import (EXPIRES, VERSION, bflag, body_of, c, held, nested, payload,
                              rollout_flag, rule, signed, text, trust)


def payload_header_cases(cs):
    raw = lambda name, data: cs.error("malformed_payload: " + name, "malformed_payload",
                                      text(common.envelope(data)))
    raw("not JSON", b"this is not json")
    raw("not UTF-8", b"\xff\xfe{\"schema\":1}")
    raw("invalid UTF-8 inside a string",
        body_of(payload()).replace(b'"checkout"', b'"check\xc3\x28out"'))
    raw("trailing garbage", body_of(payload()) + b" x")
    raw("JSON array", b"[]")
    raw("empty object (no header)", b"{}")
    raw("empty payload", b"")
    p = payload()
    del p["version"]
    cs.payload_error("malformed_payload: version missing", "malformed_payload", p)
    p = payload()
    del p["flags"]
    cs.payload_error("malformed_payload: flags missing", "malformed_payload", p)
    for member, value in [("schema", "1"), ("environment", 5), ("version", "7"),
                          ("flags", []), ("expires_at", 1783000000), ("segments", [])]:
        cs.payload_error("malformed_payload: %s of the wrong type" % member, "malformed_payload",
                         payload(**{member: value}))
    deep = payload(flags={"cfg": {"type": "object", "enabled": True, "variants": {"v": nested(200)},
                                  "off_variant": "v", "fallthrough": {"variant": "v"}}})
    cs.payload_error("malformed_payload: nesting depth 200", "malformed_payload", deep)
    deep_arrays = payload(environment="prod", flags={"cfg": {
        "type": "object", "enabled": True, "variants": {"v": json.loads("[" * 100 + "]" * 100)},
        "off_variant": "v", "fallthrough": {"variant": "v"}}})
    cs.payload_error("malformed_payload: nesting checked before the environment",
                     "malformed_payload", deep_arrays)

    cs.payload_error("unsupported_schema: schema 2", "unsupported_schema", payload(schema=2))
    cs.payload_error("unsupported_schema: schema 0", "unsupported_schema", payload(schema=0))
    cs.payload_error("unsupported_schema: checked before the environment", "unsupported_schema",
                     payload(schema=2, environment="prod"))
    cs.payload_error("wrong_environment: prod", "wrong_environment", payload(environment="prod"))
    cs.payload_error("wrong_environment: case differs", "wrong_environment", payload(environment="Test"))
    cs.payload_error("wrong_environment: checked before rollback", "wrong_environment",
                     payload(environment="prod"), trust(held={"version": 99, "payload_sha256": "00" * 32}))

    # Header values out of range are check 5, before the schema, environment and version.
    cs.payload_error("malformed_payload: version 0, checked before the environment",
                     "malformed_payload", payload(version=0, environment="prod"))
    cs.payload_error("malformed_payload: version 2^53, checked before the schema",
                     "malformed_payload", payload(version=2 ** 53, schema=2))
    cs.payload_error("malformed_payload: version 1e2", "malformed_payload",
                     payload(version=100.0))
    cs.payload_error("malformed_payload: issued_at not RFC 3339, checked before the environment",
                     "malformed_payload", payload(issued_at="yesterday", environment="prod"))
    cs.payload_error("malformed_payload: expires_at not RFC 3339, checked before rollback",
                     "malformed_payload", payload(expires_at="2026-13-01T00:00:00Z"),
                     trust(held={"version": 99, "payload_sha256": "00" * 32}))


def audience_cases(cs):
    """Check 7's second half: a browser payload is refused by servers (the default)."""
    client = payload(audience="client")
    cs.payload_error("wrong_audience: a client payload, a server policy (the default)",
                     "wrong_audience", client)
    cs.payload_error("wrong_audience: a client payload, a server policy named",
                     "wrong_audience", client, trust(audience="server"))
    cs.ok("audience: a client payload, a client policy", text(signed(client)), trust(audience="client"))
    cs.ok("audience: a client payload, either accepted", text(signed(client)), trust(audience="any"))
    cs.ok("audience: a server payload, the default policy", text(signed(payload(audience="server"))))
    cs.payload_error("wrong_audience: no audience (server), a client policy", "wrong_audience",
                     payload(), trust(audience="client"))
    cs.ok("audience: no audience (server), either accepted", text(signed(payload())), trust(audience="any"))
    cs.payload_error("wrong_audience: checked after the environment", "wrong_environment",
                     payload(audience="client", environment="prod"))
    cs.payload_error("wrong_audience: checked before rollback", "wrong_audience", client,
                     trust(held={"version": 99, "payload_sha256": "00" * 32}))
    cs.payload_error("wrong_audience: checked before expiry", "wrong_audience", client,
                     now="2027-01-01T00:00:00Z")
    audience_last = common.payload_bytes(payload())[:-1] + b',"audience":"client"}'
    cs.error("wrong_audience: audience after the flags", "wrong_audience", text(common.envelope(audience_last)))
    cs.ok("audience: audience after the flags, a client policy", text(common.envelope(audience_last)),
          trust(audience="client"))
    for value in ["browser", "Server", "", 1, None]:
        cs.payload_error("malformed_payload: audience %s" % json.dumps(value), "malformed_payload",
                         payload(audience=value, environment="prod"))
    twice = common.payload_bytes(payload(audience="server"))[:-1] + b',"audience":"client"}'
    cs.error("malformed_payload: audience repeated", "malformed_payload", text(common.envelope(twice)))


def version_and_expiry_cases(cs, base):
    body = body_of(base)
    t = text(signed(base))
    other = held(VERSION, body_of(payload(flags={"other": bflag()})))
    cs.ok("version: newer than the held snapshot", t, trust(held=held(VERSION - 1, b"older")))
    cs.error("rollback: held version is higher", "rollback", t, trust(held=held(VERSION + 1, body)))
    cs.add("unchanged: same version, same payload", t, {"unchanged": True}, trust(held=held(VERSION, body)))
    cs.error("version_conflict: same version, other payload", "version_conflict", t,
             trust(held=other))
    cs.add("unchanged: checked before expiry", t, {"unchanged": True},
           trust(held=held(VERSION, body)), now="2027-01-01T00:00:00Z")
    cs.error("rollback: checked before expiry", "rollback", t, trust(held=held(VERSION + 1, body)),
             now="2027-01-01T00:00:00Z")
    cs.error("version_conflict: checked before expiry", "version_conflict", t, trust(held=other),
             now="2027-01-01T00:00:00Z")

    cs.ok("expiry: now equals expires_at", t, now=EXPIRES)
    cs.error("expired: 1 ms after expires_at", "expired", t, now="2026-07-01T00:00:00.001Z")
    cs.error("expired: a month later", "expired", t, now="2026-08-01T00:00:00Z")
    cs.ok("expiry: within grace", t, trust(grace_seconds=3600), now="2026-07-01T00:30:00Z")
    cs.ok("expiry: exactly at the end of grace", t, trust(grace_seconds=3600),
          now="2026-07-01T01:00:00Z")
    cs.error("expired: beyond grace", "expired", t, trust(grace_seconds=3600),
             now="2026-07-01T01:00:00.001Z")
    cs.ok("expiry: expires_at with an offset", text(signed(payload(expires_at="2026-07-01T02:00:00+02:00"))),
          now=EXPIRES)
    cs.error("expired: expires_at with an offset", "expired",
             text(signed(payload(expires_at="2026-07-01T02:00:00+02:00"))), now="2026-07-01T00:00:01Z")


def full_payload_cases(cs):
    err = lambda name, p, **kw: cs.payload_error("malformed_payload: " + name, "malformed_payload", p, **kw)
    err("unknown top-level member", payload(extra=True))
    err("unknown member in a flag", payload(flags={"checkout": bflag(colour="red")}))
    err("unknown member in a condition", payload(flags={"checkout": bflag(
        rules=[rule([c("equals", "a", "x", ignore_case=True)])])}))
    err("unknown member in a segment", payload(flags={}, segments={"s": {"included": [], "members": []}}))
    err("unknown member in a rollout", payload(flags={"checkout": bflag(fallthrough={"rollout": {
        "variants": [{"variant": "on", "weight": 1}], "seed": 1}})}))
    err("enabled is a string", payload(flags={"checkout": bflag(enabled="true")}))
    err("rules is an object", payload(flags={"checkout": bflag(rules={})}))
    err("targets keys is a string", payload(flags={"checkout": bflag(
        targets=[{"variant": "on", "keys": "u1"}])}))
    dup = body_of(payload()).replace(b'"variants":{"on":true,', b'"variants":{"on":true,"on":true,')
    assert dup != body_of(payload())
    cs.error("malformed_payload: duplicate key in an object", "malformed_payload", text(common.envelope(dup)))
    dup_top = body_of(payload()).replace(b'"schema":1,', b'"schema":1,"schema":1,')
    cs.error("malformed_payload: duplicate header key", "malformed_payload", text(common.envelope(dup_top)))
    # Check 10 comes after checks 7 to 9.
    bad_member = payload(flags={"checkout": bflag(colour="red")})
    cs.error("expired: checked before the full payload", "expired", text(signed(bad_member)),
             now="2027-01-01T00:00:00Z")
    cs.error("wrong_environment: checked before the full payload", "wrong_environment",
             text(signed(dict(bad_member, environment="prod"))))
    cs.error("rollback: checked before the full payload", "rollback", text(signed(bad_member)),
             trust(held={"version": 99, "payload_sha256": "00" * 32}))


def limit_cases(cs):
    exists = [c("exists", "a%d" % i) for i in range(65)]
    one_flag = lambda flag: payload(flags={"f": flag})
    cs.ok("limits: 64 conditions in one rule", text(signed(one_flag(bflag(rules=[rule(exists[:64])])))))
    cs.payload_error("limit_exceeded: 65 conditions in one rule", "limit_exceeded",
                     one_flag(bflag(rules=[rule(exists)])))
    with_bad_regex = exists[:64] + [c("matches", "b", "(")]
    cs.payload_error("limit_exceeded: checked before compilation (65 conditions, one a bad regex)",
                     "limit_exceeded", one_flag(bflag(rules=[rule(with_bad_regex)])))
    variants = lambda n: {"v%04d" % i: i % 2 == 0 for i in range(n)}
    cs.ok("limits: 1000 variants", text(signed(one_flag(bflag(variants=variants(1000),
                                                               off_variant="v0000",
                                                               fallthrough={"variant": "v0001"})))))
    cs.payload_error("limit_exceeded: 1001 variants", "limit_exceeded",
                     one_flag(bflag(variants=variants(1001), off_variant="v0000",
                                    fallthrough={"variant": "v0001"})))
    rules = lambda n: [rule([], "r%04d" % i) for i in range(n)]
    cs.ok("limits: 1000 rules in a flag", text(signed(one_flag(bflag(rules=rules(1000))))))
    cs.payload_error("limit_exceeded: 1001 rules in a flag", "limit_exceeded",
                     one_flag(bflag(rules=rules(1001))))
    seg_rules = lambda n: [{"id": "r%04d" % i, "conditions": []} for i in range(n)]
    cs.payload_error("limit_exceeded: 1001 rules in a segment", "limit_exceeded",
                     payload(segments={"s": {"rules": seg_rules(1001)}}))
    cs.ok("limits: 10000 segments", text(signed(payload(segments={"s%05d" % i: {} for i in range(10000)}))))
    cs.payload_error("limit_exceeded: 10001 segments", "limit_exceeded",
                     payload(segments={"s%05d" % i: {} for i in range(10001)}))


def invalid_snapshot_cases(cs):
    def inv(name, flags=None, segments=None):
        cs.payload_error("invalid_snapshot: " + name, "invalid_snapshot",
                         payload(flags=flags if flags is not None else {"checkout": bflag()},
                                 segments=segments))

    f = lambda **kw: {"checkout": bflag(**kw)}
    in_seg = lambda key: {"op": "in_segment", "value": key}
    inv("unknown off_variant", f(off_variant="nope"))
    inv("unknown fallthrough variant", f(fallthrough={"variant": "nope"}))
    inv("unknown target variant", f(targets=[{"variant": "nope", "keys": ["u1"]}]))
    inv("unknown rule variant", f(rules=[rule([], serve="nope")]))
    inv("unknown rollout variant", {"checkout": rollout_flag([("on", 1), ("nope", 1)])})
    inv("variant value of the wrong type", f(variants={"on": True, "off": "false"}))
    inv("integer flag with a fractional value",
        {"n": {"type": "integer", "enabled": True, "variants": {"a": 1, "b": 1.5},
               "off_variant": "a", "fallthrough": {"variant": "a"}}})
    inv("integer flag with 1.0 (a fraction is not an integer)",
        {"n": {"type": "integer", "enabled": True, "variants": {"a": 1, "b": 1.0},
               "off_variant": "a", "fallthrough": {"variant": "a"}}})
    inv("integer flag with 2^63",
        {"n": {"type": "integer", "enabled": True, "variants": {"a": 1, "b": 9223372036854775808},
               "off_variant": "a", "fallthrough": {"variant": "a"}}})
    inv("object flag with a string value",
        {"o": {"type": "object", "enabled": True, "variants": {"a": {}, "b": "{}"},
               "off_variant": "a", "fallthrough": {"variant": "a"}}})
    inv("duplicate target key across targets", f(targets=[{"variant": "on", "keys": ["u1", "u2"]},
                                                          {"variant": "off", "keys": ["u3", "u1"]}]))
    inv("duplicate rule id in a flag", f(rules=[rule([], "same"), rule([], "same")]))
    inv("duplicate rule id in a segment", segments={"s": {"rules": [
        {"id": "same", "conditions": []}, {"id": "same", "conditions": []}]}})
    inv("bad regex", f(rules=[rule([c("matches", "a", "(")])]))
    inv("bad regex in a segment", segments={"s": {"rules": [
        {"id": "r", "conditions": [c("matches", "a", "[a-")]}]}})
    inv("regex with look-around", f(rules=[rule([c("matches", "a", "(?=a)")])]))
    inv("regex nested deeper than 50", f(rules=[rule([c("matches", "a", "(" * 51 + "a" + ")" * 51)])]))
    inv("regex of more than 10,000 states", f(rules=[rule([c("matches", "a", "a{10000}")])]))
    # Section 3.4: distinct regexes share a budget of 200,000 states; `x{9999}` is 10,000.
    big = lambda letters, **kw: [c("matches", "a", x + "{9999}", **kw) for x in letters]
    letters = "abcdefghijklmnopqrstu"
    inv("regexes of 210,000 states in all", f(rules=[rule(big(letters[:11]), "r1"), rule(big(letters[11:]), "r2")]))
    inv("the same regex case-insensitive counts again",
        f(rules=[rule(big(letters[:10]), "r1"), rule(big(letters[10:20]), "r2"),
                 rule(big("a", case_insensitive=True), "r3")]))
    inv("regexes of 210,000 states across flags and segments",
        {"f%d" % i: bflag(rules=[rule(big(letters[i]))]) for i in range(20)},
        segments={"s": {"rules": [{"id": "r", "conditions": big("u")}]}})
    inv("semver value that does not parse", f(rules=[rule([c("semver_gt", "app", "1.2")])]))
    inv("RFC 3339 value that does not parse", f(rules=[rule([c("before", "t", "tomorrow")])]))
    inv("RFC 3339 value with a leap second", f(rules=[rule([c("after", "t", "2016-12-31T23:59:60Z")])]))
    inv("exists with a value", f(rules=[rule([c("exists", "a", "x")])]))
    inv("equals without a value", f(rules=[rule([c("equals", "a")])]))
    inv("lt with a string value", f(rules=[rule([c("lt", "a", "10")])]))
    inv("contains with a number value", f(rules=[rule([c("contains", "a", 5)])]))
    inv("in with a string value", f(rules=[rule([c("in", "a", "x")])]))
    inv("in_segment naming no segment", f(rules=[rule([in_seg("nope")])]))
    inv("not_in_segment list naming no segment", f(rules=[rule([{"op": "not_in_segment",
                                                                 "value": ["s", "nope"]}])]),
        segments={"s": {}})
    inv("segment cycle", segments={"a": {"rules": [{"id": "r", "conditions": [in_seg("b")]}]},
                                   "b": {"rules": [{"id": "r", "conditions": [in_seg("a")]}]}})
    inv("segment referring to itself", segments={"a": {"rules": [{"id": "r", "conditions": [in_seg("a")]}]}})
    prereq = lambda key, variant="on": [{"flag": key, "variant": variant}]
    inv("prerequisite cycle", {"a": bflag(prerequisites=prereq("b")), "b": bflag(prerequisites=prereq("a"))})
    inv("prerequisite cycle of three", {"a": bflag(prerequisites=prereq("b")),
                                        "b": bflag(prerequisites=prereq("c")),
                                        "c": bflag(prerequisites=prereq("a"))})
    inv("self-prerequisite", {"a": bflag(prerequisites=prereq("a"))})
    inv("prerequisite naming no flag", {"a": bflag(prerequisites=prereq("nope"))})
    inv("prerequisite naming a variant the flag lacks",
        {"a": bflag(prerequisites=prereq("b", "maybe")), "b": bflag()})
    chain = {"f%02d" % i: bflag(prerequisites=prereq("f%02d" % (i + 1))) for i in range(39)}
    chain["f39"] = bflag()
    inv("prerequisite chain of 40 flags", chain)
    seg_chain = {"s%02d" % i: {"rules": [{"id": "r", "conditions": [in_seg("s%02d" % (i + 1))]}]}
                 for i in range(39)}
    seg_chain["s39"] = {}
    inv("segment reference chain of 40 segments", segments=seg_chain)
    inv("rollout weights all zero", {"checkout": rollout_flag([("on", 0), ("off", 0)])})
    inv("rollout total above 2^32 - 1", {"checkout": rollout_flag([("on", 4294967295), ("off", 1)])})
    inv("rollout naming a variant twice", {"checkout": rollout_flag([("on", 1), ("on", 1)])})
    steps = lambda *s: {"steps": [{"at": at, "weights": w} for at, w in s]}
    inv("steps with equal times", {"checkout": rollout_flag([("on", 1), ("off", 1)], steps(
        ("2026-02-01T00:00:00Z", [1, 0]), ("2026-02-01T00:00:00Z", [0, 1])))})
    inv("steps out of order", {"checkout": rollout_flag([("on", 1), ("off", 1)], steps(
        ("2026-03-01T00:00:00Z", [1, 0]), ("2026-02-01T00:00:00Z", [0, 1])))})
    inv("step with the wrong number of weights", {"checkout": rollout_flag([("on", 1), ("off", 1)], steps(
        ("2026-02-01T00:00:00Z", [1, 0, 1])))})
    inv("step with total 0", {"checkout": rollout_flag([("on", 1), ("off", 1)], steps(
        ("2026-02-01T00:00:00Z", [0, 0])))})
    ramp = lambda start, end, w: {"ramp": {"start": start, "end": end, "weights": w}}
    inv("ramp total differs from the base total", {"checkout": rollout_flag([("on", 1), ("off", 1)], ramp(
        "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", [3, 0]))})
    inv("ramp ending at its start", {"checkout": rollout_flag([("on", 1), ("off", 1)], ramp(
        "2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z", [2, 0]))})
    inv("ramp ending before its start", {"checkout": rollout_flag([("on", 1), ("off", 1)], ramp(
        "2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z", [2, 0]))})
    # Fan-out (SPEC 3.4): a flag's evaluation visits at most 100,000 flags and segments,
    # each counted once per path to it. Width 5: 7 levels below a flag are 97,656
    # visits, 8 levels 488,281.
    def layered_flags(width, levels):
        flags = {"top": bflag(prerequisites=[{"flag": "l1-%d" % j, "variant": "on"} for j in range(width)])}
        for i in range(1, levels + 1):
            below = [{"flag": "l%d-%d" % (i + 1, j), "variant": "on"} for j in range(width)]
            for j in range(width):
                flags["l%d-%d" % (i, j)] = bflag(prerequisites=below) if i < levels else bflag()
        return flags

    def layered_segments(width, levels):
        level = lambda i: {"op": "in_segment", "value": ["s%d-%d" % (i, j) for j in range(width)]}
        segments = {"s%d-%d" % (i, j): ({"rules": [{"id": "r", "conditions": [level(i + 1)]}]} if i < levels else {})
                    for i in range(1, levels + 1) for j in range(width)}
        return {"top": bflag(rules=[rule([level(1)])])}, segments

    inv("prerequisites fanning out to more than 100,000 visits", layered_flags(5, 8))
    seg_flags, seg_segments = layered_segments(5, 8)
    inv("segment references fanning out to more than 100,000 visits", seg_flags, segments=seg_segments)
    cs.ok("regexes: 20 distinct of 10,000 states, 200,000 in all",
          text(signed(payload(flags={"checkout": bflag(rules=[rule(big(letters[:10]), "r1"),
                                                              rule(big(letters[10:20]), "r2")])}))))
    cs.ok("regexes: one pattern of 10,000 states in 640 conditions and a segment counts once",
          text(signed(payload(flags={"f%d" % i: bflag(rules=[rule(big("a" * 64))]) for i in range(10)},
                              segments={"s": {"rules": [{"id": "r", "conditions": big("a")}]}}))))
    cs.ok("fan-out: prerequisites 7 levels of 5 wide, 97,656 visits", text(signed(payload(flags=layered_flags(5, 7)))))
    seg_flags, seg_segments = layered_segments(5, 7)
    cs.ok("fan-out: segment references 7 levels of 5 wide, 97,656 visits",
          text(signed(payload(flags=seg_flags, segments=seg_segments))))
    cs.ok("chains: prerequisites and segment references 10 deep",
          text(signed(payload(
              flags=dict({"f%02d" % i: bflag(prerequisites=prereq("f%02d" % (i + 1))) for i in range(9)},
                         f09=bflag(rules=[rule([in_seg("s00")])])),
              segments=dict({"s%02d" % i: {"rules": [{"id": "r", "conditions": [in_seg("s%02d" % (i + 1))]}]}
                             for i in range(9)}, s09={})))))
