"""Helpers for envelopes.json (SPEC 2, 2.3, 3.4, 4): payloads, envelopes, trust
policies, and the case collector that cross-checks every hand-written
expectation with envref.py (checks 1-9)."""

import base64
import hashlib

import common
import ed25519_ref
import envref
from common import KEYS, b64, dumps_compact

DESCRIPTION = (
    "Envelope verification vectors (SPEC 2.3). `envelope` is the envelope as JSON text "
    "(its UTF-8 byte length is what max_bytes caps). `trust`: keys (public key texts), "
    "threshold, environment, optional audience (\"server\", the default, \"client\" or \"any\"), "
    "optional max_bytes (default 16777216), optional grace_seconds "
    "(default 0), optional held {version, payload_sha256 (lowercase hex of SHA-256 of the held "
    "payload bytes)}. `expect` is {\"ok\": VERSION}, {\"unchanged\": true} or {\"error\": KIND} "
    "with KIND one of the bracketed names of SPEC 2.3.")

NOW = "2026-03-01T00:00:00Z"
EXPIRES = "2026-07-01T00:00:00Z"
VERSION = 7


# --- payloads ------------------------------------------------------------------

def bflag(**over):
    flag = {"type": "boolean", "enabled": True, "variants": {"on": True, "off": False},
            "off_variant": "off", "fallthrough": {"variant": "on"}}
    flag.update(over)
    return flag


def payload(version=VERSION, environment="test", flags=None, segments=None,
            expires_at=EXPIRES, **extra):
    p = common.snapshot_header(version=version, environment=environment, expires_at=expires_at)
    p["flags"] = {"checkout": bflag()} if flags is None else flags
    if segments is not None:
        p["segments"] = segments
    p.update(extra)
    return p


def body_of(p):
    return p if isinstance(p, bytes) else common.payload_bytes(p)


def rule(conditions, rule_id="r1", serve="on"):
    return {"id": rule_id, "conditions": conditions, "serve": {"variant": serve}}


def c(op, attribute="a", value=None, **extra):
    out = {"attribute": attribute, "op": op}
    if value is not None:
        out["value"] = value
    out.update(extra)
    return out


def rollout_flag(weights, schedule=None):
    r = {"variants": [{"variant": v, "weight": w} for v, w in weights]}
    if schedule is not None:
        r["schedule"] = schedule
    return bflag(fallthrough={"rollout": r})


# --- envelopes -----------------------------------------------------------------

def signed(p, keys=(1,)):
    return common.envelope(body_of(p), keys)


def text(env):
    return dumps_compact(env)


def trust(keys=(1,), threshold=1, environment="test", **extra):
    t = {"keys": [KEYS[n].public_text for n in keys], "threshold": threshold,
         "environment": environment}
    t.update(extra)
    return t


def held(version, body):
    return {"version": version, "payload_sha256": hashlib.sha256(body).hexdigest()}


def nested(levels):
    value = "leaf"
    for _ in range(levels):
        value = {"n": value}
    return value


def flip_bit(sig_b64, byte_index):
    raw = bytearray(base64.b64decode(sig_b64))
    raw[byte_index] ^= 0x01
    return b64(bytes(raw))


def non_canonical_s(sig_b64):
    raw = base64.b64decode(sig_b64)
    s = int.from_bytes(raw[32:], "little") + ed25519_ref.L
    return b64(raw[:32] + s.to_bytes(32, "little"))


class Cases:
    def __init__(self):
        self.items = []

    def add(self, name, envelope_text, expect, trust_policy=None, now=NOW):
        assert all(x["name"] != name for x in self.items), name
        trust_policy = trust_policy or trust()
        got = envref.verify(envelope_text, trust_policy, now)
        if isinstance(got, tuple):
            assert "ok" in expect or expect.get("error") in (
                "malformed_payload", "limit_exceeded", "invalid_snapshot"), (name, expect)
            if "ok" in expect:
                assert expect["ok"] == got[1], (name, got)
        else:
            assert got == expect, "%s: expected %r, reference %r" % (name, expect, got)
        self.items.append({"name": name, "envelope": envelope_text, "trust": trust_policy,
                           "now": now, "expect": expect})

    def ok(self, name, envelope_text, trust_policy=None, now=NOW, version=VERSION):
        self.add(name, envelope_text, {"ok": version}, trust_policy, now)

    def error(self, name, kind, envelope_text, trust_policy=None, now=NOW):
        self.add(name, envelope_text, {"error": kind}, trust_policy, now)

    def payload_error(self, name, kind, p, trust_policy=None, now=NOW):
        self.error(name, kind, text(signed(p)), trust_policy, now)
