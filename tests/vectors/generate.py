#!/usr/bin/env python3
"""Regenerate every Pennon conformance vector in tests/vectors/.

Usage (from the repository root):  python3 tests/vectors/generate.py

Standard library only. The output is deterministic: running it twice gives
byte-identical files. Expectations are reasoned from docs/SPEC.md; rollout
variants are computed by this directory's own implementation of SPEC 5.6/5.7
(bucketing.py). Every hand-written expectation is cross-checked against
refeval.py, and generation stops on any disagreement.
"""

import sys

sys.dont_write_bytecode = True  # keep tests/vectors free of __pycache__

import json  # noqa: E402
import os  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bucketing  # noqa: E402
import bucketing_entries  # noqa: E402
import cases_basics  # noqa: E402
import cases_edge  # noqa: E402
import cases_generated  # noqa: E402
import cases_large  # noqa: E402
import cases_operators  # noqa: E402
import cases_prerequisites  # noqa: E402
import cases_rollouts  # noqa: E402
import cases_segments  # noqa: E402
import cases_schedules  # noqa: E402
import common  # noqa: E402
import ed25519_ref  # noqa: E402
import envelope_cases  # noqa: E402
from evalcase import AUTO, REFERENCE  # noqa: E402
from refeval import Evaluator  # noqa: E402

EVALUATION_MODULES = [cases_basics, cases_operators, cases_segments, cases_prerequisites,
                      cases_rollouts, cases_schedules, cases_edge, cases_large, cases_generated]


def strict_equal(a, b):
    """JSON equality that tells true from 1 and 1 from 1.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b))
    return a == b


def write_keys():
    common.write_text("keys/README.md", (
        "# Test keys\n\n"
        "PUBLIC TEST KEYS, NEVER FOR PRODUCTION: the private seeds are published here and\n"
        "derived as `sha256(b\"pennon test key N\")`. They exist only to sign the\n"
        "conformance vectors. Key ids (SPEC 2.1):\n\n"
        + "".join("- `test-key-%d`: `%s`\n" % (n, k.keyid) for n, k in common.KEYS.items())))
    for n, key in common.KEYS.items():
        common.write_text("keys/test-key-%d.private" % n, key.private_text + "\n")
        common.write_text("keys/test-key-%d.public" % n, key.public_text + "\n")


def build_evaluation_file(module):
    cases = module.build()
    payload = common.snapshot_header()
    payload["flags"] = cases.flags
    if cases.segments:
        payload["segments"] = cases.segments
    body = common.payload_bytes(payload)
    assert strict_equal(json.loads(body), payload), "payload does not survive a JSON round trip"
    envelope = common.envelope(body)
    evaluator = Evaluator(json.loads(body))
    auto_count = 0
    for case in cases.cases:
        now_ms = bucketing.parse_rfc3339_ms(case["now"])
        assert now_ms is not None, case
        got = evaluator.evaluate(case["flag"], case["context"], now_ms, case.get("type"))
        if case["expect"] == AUTO:
            assert got["reason"] != "ERROR", (case["name"], got)
            case["expect"] = got
            auto_count += 1
        elif case["expect"] == REFERENCE:
            case["expect"] = got
            auto_count += 1
        elif not strict_equal(got, case["expect"]):
            raise AssertionError("%s: %s\n  expected %r\n  reference %r" % (
                module.FILE, case["name"], case["expect"], got))
    if hasattr(module, "check"):
        module.check(cases.cases)
    head = {"description": module.DESCRIPTION, "payload": payload, "envelope": envelope}
    common.write_document("evaluation/" + module.FILE, head, "cases", cases.cases,
                          pretty_head=len(body) < 200_000)
    return len(cases.cases), auto_count


def main():
    ed25519_ref.self_test()
    bucketing.self_test()
    write_keys()
    counts = {}
    for module in EVALUATION_MODULES:
        counts["evaluation/" + module.FILE] = build_evaluation_file(module)
    counts["bucketing.json"] = (bucketing_entries.write(), 0)
    counts["envelopes.json"] = (envelope_cases.write(), 0)
    total = 0
    for name, (n, auto) in counts.items():
        if name.startswith("evaluation/"):
            total += n
        print("%-36s %6d%s" % (name, n, "  (%d expectations computed, not written by hand)" % auto if auto else ""))
    print("%-36s %6d" % ("evaluation cases in total", total))


if __name__ == "__main__":
    main()
