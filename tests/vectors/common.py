"""Shared helpers: test keys, payload encoding, DSSE envelopes, JSON output."""

import base64
import hashlib
import json
import os

import ed25519_ref

HERE = os.path.dirname(os.path.abspath(__file__))
PAYLOAD_TYPE = "application/vnd.pennon.snapshot+json"


# --- keys (SPEC 2.1) ---------------------------------------------------------

class TestKey:
    def __init__(self, number):
        self.number = number
        self.seed = hashlib.sha256(b"pennon test key %d" % number).digest()
        self.public = ed25519_ref.public_key(self.seed)
        self.keyid = hashlib.sha256(self.public).digest()[:8].hex()

    @property
    def public_text(self):
        return "ed25519:" + base64.b64encode(self.public).decode("ascii")

    @property
    def private_text(self):
        return "ed25519-private:" + base64.b64encode(self.seed).decode("ascii")

    def sign(self, message):
        return ed25519_ref.sign(self.seed, message)


KEYS = {n: TestKey(n) for n in (1, 2, 3)}


def keyid_of(public_bytes):
    return hashlib.sha256(public_bytes).digest()[:8].hex()


# --- payloads and envelopes (SPEC 2, 2.2) ------------------------------------

def payload_bytes(payload):
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def pae(payload_type, body):
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def signature_entry(key, body, payload_type=PAYLOAD_TYPE):
    return {"keyid": key.keyid, "sig": b64(key.sign(pae(payload_type, body)))}


def envelope(body, keys=(1,), payload_type=PAYLOAD_TYPE):
    """The envelope object for raw payload bytes signed by the given test keys."""
    return {
        "payloadType": payload_type,
        "payload": b64(body),
        "signatures": [signature_entry(KEYS[n], body) for n in keys],
    }


def snapshot_header(version=1, environment="test", issued_at="2026-01-01T00:00:00Z",
                    expires_at="2099-01-01T00:00:00Z"):
    return {"schema": 1, "environment": environment, "version": version,
            "issued_at": issued_at, "expires_at": expires_at}


# --- output ------------------------------------------------------------------

def dumps_compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def write_text(relative_path, text):
    path = os.path.join(HERE, relative_path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_document(relative_path, head, list_key, items, pretty_head=True):
    """Write {head..., list_key: [items]} with one list item per line, so the
    files stay diffable; head members are indented unless pretty_head is False."""
    lines = ["{"]
    for key, value in head.items():
        if pretty_head:
            text = json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        else:
            text = dumps_compact(value)
        lines.append("  %s: %s," % (json.dumps(key), text))
    lines.append("  %s: [" % json.dumps(list_key))
    body = [("    " + dumps_compact(item)) for item in items]
    lines.append(",\n".join(body))
    lines.append("  ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # the output must be valid JSON
    write_text(relative_path, text)
