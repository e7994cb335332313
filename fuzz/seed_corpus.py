#!/usr/bin/env python3
"""Writes seed corpora for the fuzz targets into fuzz/corpus/<target>/ (gitignored).

Seeds come from the conformance vectors (tests/vectors/), so the fuzzer starts from
envelopes signed by test-key-1, payloads that compile, and real evaluation contexts.
Run from anywhere: python3 fuzz/seed_corpus.py
"""

import base64
import hashlib
import json
import pathlib
import struct
from datetime import datetime

ROOT = pathlib.Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors"
CORPUS = ROOT / "fuzz" / "corpus"
# large_list.json holds a 4 MB list: too big to be a useful seed.
SKIP = {"large_list.json"}


def write(target, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def millis(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def matches_conditions(payload):
    """Flag key -> (pattern, case_insensitive) of its `matches` conditions."""
    found = {}
    for key, flag in payload["flags"].items():
        for rule in flag.get("rules", []):
            for condition in rule.get("conditions", []):
                if condition.get("op") == "matches":
                    found[key] = (condition["value"], condition.get("case_insensitive", False))
    return found


def main():
    counts = {}
    for path in sorted((VECTORS / "evaluation").glob("*.json")):
        if path.name in SKIP:
            continue
        file = json.loads(path.read_text())
        envelope = file["envelope"]
        envelope_bytes = (envelope if isinstance(envelope, str) else json.dumps(envelope)).encode()
        write("envelope", envelope_bytes)
        payload = json.dumps(file["payload"]).encode()
        write("payload", payload)
        write("envelope_signed", payload)
        # The signed payload, exactly as signed.
        decoded = base64.b64decode(json.loads(envelope_bytes)["payload"])
        write("envelope_signed", decoded)
        patterns = matches_conditions(file["payload"])
        for case in file["cases"]:
            key = case["flag"].encode()[:255]
            context = json.dumps(case["context"]).encode()
            write("evaluate", struct.pack("<q", millis(case["now"])) + bytes([len(key)]) + key + context)
            text = case["context"].get("v")
            if case["flag"] in patterns and isinstance(text, str):
                pattern, ci = patterns[case["flag"]]
                write("regex", bytes([int(ci)]) + pattern.encode() + b"\0" + text.encode())
    for case in json.loads((VECTORS / "envelopes.json").read_text())["cases"]:
        write("envelope", case["envelope"].encode())
    for target in sorted(p.name for p in CORPUS.iterdir()):
        counts[target] = len(list((CORPUS / target).iterdir()))
    print("seed corpora:", ", ".join(f"{t} {n}" for t, n in counts.items()))


if __name__ == "__main__":
    main()
