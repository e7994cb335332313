"""Reference reading of SPEC 2.3 checks 1 to 9, used to cross-check the
hand-written envelope expectations. Checks 10 to 12 (full schema, limits,
compilation) are not implemented here: for envelopes that pass check 9 the
generator accepts the hand-written ok / malformed_payload / limit_exceeded /
invalid_snapshot verdict as is."""

import base64
import binascii
import hashlib
import json

import bucketing
import common
import ed25519_ref

DEPTH_LIMIT = 64
PASSES_9 = "passes-check-9"


def decode_b64(text):
    if not isinstance(text, str):
        return None
    if "-" in text or "_" in text:
        text = text.replace("-", "+").replace("_", "/")
    text = text.rstrip("=")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def depth(value):
    """Nesting depth: a scalar is 0, an object or array is 1 + its deepest member."""
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


class _DuplicateTracker:
    """object_pairs_hook that remembers whether any object repeated a key."""

    def __init__(self):
        self.seen = False
        self.repeated = set()  # of the object read last: the outermost one

    def __call__(self, pairs):
        keys = [k for k, _ in pairs]
        self.seen = self.seen or len(keys) != len(set(keys))
        self.repeated = {k for k in keys if keys.count(k) > 1}
        return dict(pairs)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


HEADER = ("schema", "environment", "version", "issued_at", "expires_at", "audience")


def _header_ok(p):
    """Check 5's header: present, of its type, and each value within its range."""
    if not isinstance(p, dict):
        return False
    rfc3339 = lambda v: bucketing.parse_rfc3339_ms(v) is not None
    types = {"schema": _is_int, "environment": lambda v: isinstance(v, str),
             "version": lambda v: _is_int(v) and 1 <= v <= 2 ** 53 - 1,
             "issued_at": rfc3339, "expires_at": rfc3339, "flags": lambda v: isinstance(v, dict)}
    if any(k not in p or not check(p[k]) for k, check in types.items()):
        return False
    if p.get("audience", "server") not in ("server", "client"):
        return False
    return isinstance(p.get("segments", {}), dict)


def verify(text, trust, now):
    """The outcome of checks 1-9: {"error": KIND}, {"unchanged": True}, or
    (PASSES_9, version)."""
    # A trust policy refuses weak keys when it is configured, before any envelope.
    for key_text in trust["keys"]:
        point = ed25519_ref.decode_point(base64.b64decode(key_text[len("ed25519:"):]))
        if point is None or ed25519_ref.is_small_order(point):
            return {"error": "invalid_key"}
    raw = text.encode("utf-8")
    if len(raw) > trust.get("max_bytes", 16777216):
        return {"error": "too_large"}
    malformed = {"error": "malformed_envelope"}
    try:
        env = json.loads(text)
    except ValueError:
        return malformed
    if not isinstance(env, dict) or set(env) != {"payloadType", "payload", "signatures"}:
        return malformed
    sigs = env["signatures"]
    if not isinstance(env["payloadType"], str) or not isinstance(sigs, list):
        return malformed
    if not 1 <= len(sigs) <= 64:
        return malformed
    body = decode_b64(env["payload"])
    if body is None:
        return malformed
    decoded = []
    for s in sigs:
        if not isinstance(s, dict) or set(s) != {"keyid", "sig"} or not isinstance(s["keyid"], str):
            return malformed
        if any(k == s["keyid"] for k, _ in decoded):
            return malformed
        sig = decode_b64(s["sig"])
        if sig is None or len(sig) != 64:
            return malformed
        decoded.append((s["keyid"], sig))
    if env["payloadType"] != common.PAYLOAD_TYPE:
        return {"error": "wrong_payload_type"}

    trusted = {}
    for key_text in trust["keys"]:
        pub = base64.b64decode(key_text[len("ed25519:"):])
        trusted[common.keyid_of(pub)] = pub
    message = common.pae(common.PAYLOAD_TYPE, body)
    named = [(k, sig) for k, sig in decoded if k in trusted]
    valid = {k for k, sig in named if ed25519_ref.verify_strict(trusted[k], message, sig)}
    if len(valid) < trust["threshold"]:
        if not named:
            return {"error": "unknown_key"}
        return {"error": "bad_signature" if not valid else "below_threshold"}

    duplicates = _DuplicateTracker()
    try:
        payload = json.loads(body.decode("utf-8"), object_pairs_hook=duplicates)
    except (UnicodeDecodeError, ValueError):
        return {"error": "malformed_payload"}
    d = depth(payload)
    assert abs(d - DEPTH_LIMIT) > 4, "vectors stay clear of the depth boundary (%d)" % d
    header_repeated = duplicates.repeated & set(HEADER)
    if d > DEPTH_LIMIT or not _header_ok(payload) or header_repeated:
        return {"error": "malformed_payload"}
    if payload["schema"] != 1:
        return {"error": "unsupported_schema"}
    if payload["environment"] != trust["environment"]:
        return {"error": "wrong_environment"}
    if trust.get("audience", "server") not in ("any", payload.get("audience", "server")):
        return {"error": "wrong_audience"}
    held = trust.get("held")
    if held is not None:
        if payload["version"] < held["version"]:
            return {"error": "rollback"}
        if payload["version"] == held["version"]:
            if hashlib.sha256(body).hexdigest() == held["payload_sha256"]:
                return {"unchanged": True}
            return {"error": "version_conflict"}
    expires = bucketing.parse_rfc3339_ms(payload["expires_at"])
    if bucketing.parse_rfc3339_ms(now) > expires + 1000 * trust.get("grace_seconds", 0):
        return {"error": "expired"}
    if duplicates.seen:
        return {"error": "malformed_payload"}  # check 10
    return (PASSES_9, payload["version"])
