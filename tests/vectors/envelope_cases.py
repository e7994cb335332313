"""envelopes.json, part 1: the envelope itself (SPEC 2, 2.3 checks 1-4).
Expectations are written by hand; envref.py re-derives checks 1-9."""

import json

import common
import ed25519_ref
import payload_cases
from common import KEYS, PAYLOAD_TYPE, b64, pae
from envelope_helpers import (DESCRIPTION, VERSION, Cases, bflag, body_of, c, flip_bit, nested,
                              non_canonical_s, payload, rollout_flag, rule, signed, text, trust)


def _base64_showcase_payload():
    """A payload whose standard base64 has padding and a '+' or '/', and whose
    signature's base64 has one too, so the URL-safe unpadded form differs."""
    for n in range(1000):
        p = payload(flags={"checkout": bflag(description="base64 showcase %d ~~~??>>>" % n)})
        body = body_of(p)
        sig = signed(p)["signatures"][0]["sig"]
        std = b64(body)
        if len(body) % 3 and ("+" in std or "/" in std) and ("+" in sig or "/" in sig):
            return p
    raise AssertionError("no showcase payload")


def valid_cases(cs):
    base = payload()
    cs.ok("valid: one key, threshold 1", text(signed(base)))
    cs.ok("valid: 2-of-3, keys 1 and 3", text(signed(base, (1, 3))), trust((1, 2, 3), 2))
    cs.ok("valid: 2-of-3 with all three signatures", text(signed(base, (3, 2, 1))),
          trust((1, 2, 3), 2))
    cs.ok("valid: 3-of-3", text(signed(base, (1, 2, 3))), trust((1, 2, 3), 3))
    cs.ok("valid: untrusted signature alongside a trusted one", text(signed(base, (2, 1))))
    cs.ok("valid: trusted key among several, threshold 1", text(signed(base, (3,))),
          trust((2, 1, 3), 1))
    many = signed(base, (2,))
    untrusted = many["signatures"][0]
    many["signatures"] = [dict(untrusted, keyid="untrusted-%02d" % i) for i in range(63)] + signed(base, (1,))["signatures"]
    cs.ok("valid: 64 signatures, 63 from untrusted keys", text(many))

    showcase = _base64_showcase_payload()
    env = signed(showcase)
    url = lambda s: s.replace("+", "-").replace("/", "_").rstrip("=")
    cs.ok("valid: URL-safe base64 without padding",
          text({"payloadType": PAYLOAD_TYPE, "payload": url(env["payload"]),
                "signatures": [{"keyid": KEYS[1].keyid, "sig": url(env["signatures"][0]["sig"])}]}))
    cs.ok("valid: standard base64 without padding",
          text({"payloadType": PAYLOAD_TYPE, "payload": env["payload"].rstrip("="),
                "signatures": [{"keyid": KEYS[1].keyid,
                                "sig": env["signatures"][0]["sig"].rstrip("=")}]}))
    cs.ok("valid: URL-safe base64 with padding",
          text({"payloadType": PAYLOAD_TYPE,
                "payload": env["payload"].replace("+", "-").replace("/", "_"),
                "signatures": [{"keyid": KEYS[1].keyid, "sig": env["signatures"][0]["sig"]
                                .replace("+", "-").replace("/", "_")}]}))
    env = signed(base)
    reordered = {"signatures": env["signatures"], "payload": env["payload"],
                 "payloadType": env["payloadType"]}
    cs.ok("valid: pretty-printed envelope with reordered members", json.dumps(reordered, indent=4))

    unicode_payload = payload(flags={"grüße-🚀": bflag(description="ünïcødé ✓ 日本語")})
    cs.ok("valid: non-ASCII payload (PAE counts bytes)", text(signed(unicode_payload)))
    rich = payload(
        flags={"a": bflag(prerequisites=[{"flag": "b", "variant": "on"}],
                          targets=[{"variant": "on", "keys": ["u1"]}],
                          rules=[rule([c("in_segment", attribute=None, value="seg"),
                                       c("semver_gte", "app", "1.2.3-rc.1"),
                                       c("before", "t", "2026-01-01T00:00:00Z"),
                                       c("matches", "e", "^[a-z]+@acme\\.com$",
                                         case_insensitive=True)])]),
               "b": rollout_flag([("on", 1), ("off", 1)],
                                 {"ramp": {"start": "2026-01-01T00:00:00Z",
                                           "end": "2026-02-01T00:00:00Z", "weights": [2, 0]}})},
        segments={"seg": {"included": ["u1"], "excluded": ["u2"],
                          "rules": [{"id": "s1", "conditions": [c("exists", "plan")]}]}})
    for cond in rich["flags"]["a"]["rules"][0]["conditions"]:
        if cond["attribute"] is None:
            del cond["attribute"]
    cs.ok("valid: prerequisites, targets, rules, segments, ramp", text(signed(rich)))
    cs.ok("valid: nesting depth 20",
          text(signed(payload(flags={"cfg": {"type": "object", "enabled": True,
                                            "variants": {"v": nested(15)}, "off_variant": "v",
                                            "fallthrough": {"variant": "v"}}}))))
    cs.ok("valid: version 2^53 - 1", text(signed(payload(version=2**53 - 1))),
          version=2**53 - 1)
    return base


def size_cases(cs, base):
    t = text(signed(base))
    n = len(t.encode("utf-8"))
    cs.ok("size: exactly max_bytes", t, trust(max_bytes=n))
    cs.error("size: one byte over max_bytes", "too_large", t, trust(max_bytes=n - 1))
    cs.error("size: too_large before malformed JSON", "too_large", "{" * 200, trust(max_bytes=100))


def malformed_envelope_cases(cs, base):
    env = signed(base)
    good_sig = env["signatures"][0]
    bad = lambda name, t, tr=None: cs.error("malformed_envelope: " + name, "malformed_envelope", t, tr)

    def variant(**changes):
        e = dict(env)
        for k, v in changes.items():
            if v is None:
                e.pop(k)
            else:
                e[k] = v
        return text(e)

    full = text(env)
    bad("not JSON", "{not json")
    bad("truncated", full[: len(full) // 2])
    bad("empty text", "")
    bad("JSON array", "[]")
    bad("JSON string", json.dumps(full))
    bad("missing signatures", variant(signatures=None))
    bad("missing payload", variant(payload=None))
    bad("missing payloadType", variant(payloadType=None))
    bad("unknown member", text(dict(env, extra=1)))
    bad("payload is a number", variant(payload=12345))
    bad("payloadType is null", text(dict(env, payloadType=None)))
    bad("signatures is an object", variant(signatures=good_sig))
    bad("signature with an extra member", variant(signatures=[dict(good_sig, cert="x")]))
    bad("signature without sig", variant(signatures=[{"keyid": good_sig["keyid"]}]))
    bad("keyid is a number", variant(signatures=[{"keyid": 7, "sig": good_sig["sig"]}]))
    bad("sig of 63 bytes", variant(signatures=[dict(good_sig, sig=b64(bytes(63)))]))
    bad("sig of 65 bytes", variant(signatures=[dict(good_sig, sig=b64(bytes(65)))]))
    bad("sig is not base64", variant(signatures=[dict(good_sig, sig="!!!!" * 22)]))
    bad("payload is not base64", variant(payload="%%%%" + env["payload"]))
    bad("payload with a character outside both alphabets",
        variant(payload=env["payload"][:8] + "$" + env["payload"][9:]))
    bad("65 signatures", variant(signatures=[good_sig] * 65))
    bad("checked before payloadType", text(dict(env, payloadType="text/plain", payload="%%%")))


def payload_type_cases(cs, base):
    env = signed(base)
    for label, ptype in [("application/json", "application/json"),
                         ("trailing space", PAYLOAD_TYPE + " "),
                         ("different case", "application/vnd.pennon.snapshot+JSON"),
                         ("DSSE in-toto type", "application/vnd.in-toto+json")]:
        cs.error("wrong_payload_type: " + label, "wrong_payload_type",
                 text(dict(env, payloadType=ptype)))
    resigned = {"payloadType": "application/json", "payload": env["payload"],
                "signatures": [common.signature_entry(KEYS[1], body_of(base), "application/json")]}
    cs.error("wrong_payload_type: even when the signature covers that type",
             "wrong_payload_type", text(resigned))
    tampered = dict(env, payloadType="application/json",
                    signatures=[dict(env["signatures"][0], sig=flip_bit(env["signatures"][0]["sig"], 40))])
    cs.error("wrong_payload_type: checked before signatures", "wrong_payload_type", text(tampered))


def signature_cases(cs, base):
    body = body_of(base)
    env = signed(base)
    sig1 = env["signatures"][0]
    with_sigs = lambda sigs: text(dict(env, signatures=sigs))
    entry = lambda key_n, sig_bytes: {"keyid": KEYS[key_n].keyid, "sig": b64(sig_bytes)}

    cs.error("unknown_key: signed by key 2, trusting key 1", "unknown_key", text(signed(base, (2,))))
    cs.error("unknown_key: signed by keys 2 and 3, trusting key 1", "unknown_key",
             text(signed(base, (2, 3))))
    cs.error("unknown_key: key id of no key at all", "unknown_key",
             with_sigs([dict(sig1, keyid="0000000000000000")]))

    tampered_body = common.payload_bytes(payload(version=VERSION + 1))
    cs.error("bad_signature: tampered payload", "bad_signature",
             text(dict(env, payload=b64(tampered_body))))
    cs.error("bad_signature: one bit of R flipped", "bad_signature",
             with_sigs([dict(sig1, sig=flip_bit(sig1["sig"], 3))]))
    cs.error("bad_signature: one bit of S flipped", "bad_signature",
             with_sigs([dict(sig1, sig=flip_bit(sig1["sig"], 40))]))
    cs.error("bad_signature: key 2's signature under key 1's key id", "bad_signature",
             with_sigs([dict(signed(base, (2,))["signatures"][0], keyid=KEYS[1].keyid)]))
    cs.error("bad_signature: non-canonical S (S + L)", "bad_signature",
             with_sigs([dict(sig1, sig=non_canonical_s(sig1["sig"]))]))
    cs.error("bad_signature: signature over the raw payload, not PAE", "bad_signature",
             with_sigs([entry(1, KEYS[1].sign(body))]))
    cs.error("bad_signature: PAE with another payload type", "bad_signature",
             with_sigs([common.signature_entry(KEYS[1], body, "application/json")]))
    uni = payload(flags={"grüße": bflag(description="日本語")})
    uni_body = body_of(uni)
    char_len_pae = b"DSSEv1 %d %s %d %s" % (len(PAYLOAD_TYPE), PAYLOAD_TYPE.encode(),
                                            len(uni_body.decode("utf-8")), uni_body)
    assert char_len_pae != pae(PAYLOAD_TYPE, uni_body)
    cs.error("bad_signature: PAE with the character length instead of the byte length",
             "bad_signature", text(dict(signed(uni), signatures=[entry(1, KEYS[1].sign(char_len_pae))])))
    cs.error("bad_signature: zero signature", "bad_signature", with_sigs([entry(1, bytes(64))]))
    cs.error("bad_signature: invalid trusted signature beside a valid untrusted one",
             "bad_signature", with_sigs([signed(base, (2,))["signatures"][0],
                                         dict(sig1, sig=flip_bit(sig1["sig"], 40))]))
    garbage = b"this is not json"
    garbage_env = common.envelope(garbage)
    cs.error("bad_signature: checked before the payload is parsed", "bad_signature",
             text(dict(garbage_env, signatures=[dict(garbage_env["signatures"][0],
                                                     sig=flip_bit(garbage_env["signatures"][0]["sig"], 40))])))
    # A small-order public key (the identity point) with R = identity, S = 0 passes the
    # cofactorless equation [S]B = R + [k]A. Pennon refuses such a key when the trust
    # policy is configured, so no envelope is ever checked against it.
    identity = ed25519_ref.encode_point(ed25519_ref.IDENTITY)
    weak_sig = identity + bytes(32)
    weak_trust = {"keys": ["ed25519:" + b64(identity)], "threshold": 1, "environment": "test"}
    cs.error("invalid_key: small-order public key in the trust policy", "invalid_key",
             with_sigs([{"keyid": common.keyid_of(identity), "sig": b64(weak_sig)}]), weak_trust)

    t23 = trust((1, 2, 3), 2)
    cs.error("below_threshold: 2-of-3 with one signature", "below_threshold", text(env), t23)
    cs.error("malformed_envelope: the same keyid twice", "malformed_envelope",
             with_sigs([sig1, sig1]), t23)
    cs.error("malformed_envelope: an unknown keyid twice", "malformed_envelope",
             with_sigs([sig1, {"keyid": "unknown", "sig": sig1["sig"]}, {"keyid": "unknown", "sig": sig1["sig"]}]))
    cs.error("below_threshold: one valid, one invalid", "below_threshold",
             with_sigs([sig1, dict(signed(base, (2,))["signatures"][0],
                                   sig=flip_bit(signed(base, (2,))["signatures"][0]["sig"], 40))]), t23)
    cs.error("below_threshold: 3-of-3 with two", "below_threshold", text(signed(base, (1, 2))),
             trust((1, 2, 3), 3))
    cs.error("below_threshold: checked before the environment", "below_threshold",
             text(signed(payload(environment="prod"))), trust((1, 2), 2))


def write():
    cs = Cases()
    base = valid_cases(cs)
    size_cases(cs, base)
    malformed_envelope_cases(cs, base)
    payload_type_cases(cs, base)
    signature_cases(cs, base)
    payload_cases.payload_header_cases(cs)
    payload_cases.version_and_expiry_cases(cs, base)
    payload_cases.audience_cases(cs)
    payload_cases.full_payload_cases(cs)
    payload_cases.limit_cases(cs)
    payload_cases.invalid_snapshot_cases(cs)
    common.write_document("envelopes.json", {"description": DESCRIPTION}, "cases", cs.items)
    return len(cs.items)
