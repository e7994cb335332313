"""schedules.json: rollout schedules (SPEC 5.7). When the effective weights put
everything on one variant the expectation is written by hand (and needs no
targeting key); mixed weights are computed by bucketing.py (AUTO), except the
floor-rule and worked-example cases, whose positions are found by search and
whose variants are written by hand."""

import bucketing
from cases_rollouts import find_user, rollout
from evalcase import AUTO, CaseSet, error, hit

FILE = "schedules.json"
DESCRIPTION = ("Schedules (SPEC 5.7): steps before the first step, exactly at and between "
               "steps, steps changing the total; ramps before/at start, mid-way (the SPEC "
               "example and the floor rule for decreasing weights), at/after end; "
               "single-variant effective weights served without a targeting key.")

T0 = "2026-01-01T00:00:00Z"


def sched_flag(weights, schedule, **options):
    names = [n for n, _ in weights]
    return {"type": "string", "enabled": True, "variants": {n: n.upper() for n in names},
            "off_variant": names[0],
            "fallthrough": {"rollout": rollout(weights, schedule=schedule, **options)}}


def build():
    s = CaseSet()
    split = lambda v: hit(v.upper(), v, "SPLIT")
    no_key = {"country": "NZ"}

    s.flag("steps", sched_flag([("a", 100), ("b", 0)], {"steps": [
        {"at": "2026-03-01T00:00:00Z", "weights": [50, 50]},
        {"at": "2026-06-01T00:00:00Z", "weights": [0, 100]}]}))
    s.add("steps: before the first step, base weights", "steps", no_key, split("a"),
          now="2026-02-28T23:59:59.999Z")
    s.add("steps: long before", "steps", no_key, split("a"), now="2000-01-01T00:00:00Z")
    s.add("steps: exactly at the first step, needs a key", "steps", no_key,
          error("TARGETING_KEY_MISSING"), now="2026-03-01T00:00:00Z")
    for n in range(6):
        s.add("steps: at the first step user-%d" % n, "steps", {"targetingKey": "user-%d" % n},
              AUTO, now="2026-03-01T00:00:00Z")
    s.add("steps: between steps user-0", "steps", {"targetingKey": "user-0"}, AUTO,
          now="2026-04-15T12:00:00Z")
    s.add("steps: 1 ms before the second step", "steps", no_key, error("TARGETING_KEY_MISSING"),
          now="2026-05-31T23:59:59.999Z")
    s.add("steps: exactly at the second step", "steps", no_key, split("b"),
          now="2026-06-01T00:00:00Z")
    s.add("steps: at the second step with an offset", "steps", no_key, split("b"),
          now="2026-06-01T02:00:00+02:00")
    s.add("steps: after the last step", "steps", {"targetingKey": "user-1"}, split("b"),
          now="2030-01-01T00:00:00Z")

    s.flag("steps-total", sched_flag([("a", 1), ("b", 1)], {"steps": [
        {"at": T0, "weights": [3, 7]}]}, salt="steps-total"))
    x_of_10 = {x: find_user("steps-total", 10, x) for x in (2, 3)}
    s.add("steps: a step may change the total, x = 2 of 10", "steps-total",
          {"targetingKey": x_of_10[2]}, split("a"), now="2026-01-02T00:00:00Z")
    s.add("steps: a step may change the total, x = 3 of 10", "steps-total",
          {"targetingKey": x_of_10[3]}, split("b"), now="2026-01-02T00:00:00Z")
    for n in range(4):
        s.add("steps: base weights before the step user-%d" % n, "steps-total",
              {"targetingKey": "user-%d" % n}, AUTO, now="2025-12-31T00:00:00Z")

    # The ramp example of SPEC 5.7: [0, 100] -> [100, 0] over ten hours.
    s.flag("ramp", sched_flag([("on", 0), ("off", 100)], {"ramp": {
        "start": T0, "end": "2026-01-01T10:00:00Z", "weights": [100, 0]}}, salt="ramp"))
    s.add("ramp: before start, base weights", "ramp", no_key, split("off"),
          now="2025-12-31T23:59:59Z")
    s.add("ramp: exactly at start, base weights", "ramp", no_key, split("off"), now=T0)
    s.add("ramp: exactly at end, target weights", "ramp", no_key, split("on"),
          now="2026-01-01T10:00:00Z")
    s.add("ramp: after end, target weights", "ramp", no_key, split("on"), now="2027-01-01T00:00:00Z")
    s.add("ramp: mid-way needs a key", "ramp", no_key, error("TARGETING_KEY_MISSING"),
          now="2026-01-01T02:30:00Z")
    quarter = "2026-01-01T02:30:00Z"  # d/D = 1/4: weights [25, 75]
    s.add("ramp: quarter way, x = 24 -> on", "ramp", {"targetingKey": find_user("ramp", 100, 24)},
          split("on"), now=quarter)
    s.add("ramp: quarter way, x = 25 -> off", "ramp", {"targetingKey": find_user("ramp", 100, 25)},
          split("off"), now=quarter)
    s.add("ramp: 1 ms after start, weights [0, 100]", "ramp", no_key, split("off"),
          now="2026-01-01T00:00:00.001Z")
    s.add("ramp: 1 ms before end, weights [99, 1], x = 99 -> off", "ramp",
          {"targetingKey": find_user("ramp", 100, 99)}, split("off"), now="2026-01-01T09:59:59.999Z")
    s.add("ramp: 1 ms before end, weights [99, 1], x = 98 -> on", "ramp",
          {"targetingKey": find_user("ramp", 100, 98)}, split("on"), now="2026-01-01T09:59:59.999Z")
    s.add("ramp: sub-millisecond digits of now are truncated", "ramp",
          {"targetingKey": find_user("ramp", 100, 25)}, split("off"), now="2026-01-01T02:30:00.0009Z")
    for n in range(6):
        s.add("ramp: 6 hours in user-%d" % n, "ramp", {"targetingKey": "user-%d" % n}, AUTO,
              now="2026-01-01T06:00:00Z")

    # Floor rule: decreasing weight, d/D = 1/3: w0 = 100 + floor(-100/3) = 66, w1 = 34.
    s.flag("ramp-down", sched_flag([("on", 100), ("off", 0)], {"ramp": {
        "start": T0, "end": "2026-01-01T00:00:03Z", "weights": [0, 100]}}, salt="ramp-down"))
    third = "2026-01-01T00:00:01Z"
    assert bucketing.effective_weights(
        s.flags["ramp-down"]["fallthrough"]["rollout"], bucketing.parse_rfc3339_ms(third)) == [66, 34]
    s.add("ramp floor: decreasing weight floors, x = 65 -> on", "ramp-down",
          {"targetingKey": find_user("ramp-down", 100, 65)}, split("on"), now=third)
    s.add("ramp floor: decreasing weight floors, x = 66 -> off", "ramp-down",
          {"targetingKey": find_user("ramp-down", 100, 66)}, split("off"), now=third)
    s.add("ramp floor: before start all on", "ramp-down", no_key, split("on"), now=T0)
    s.add("ramp floor: at end all off", "ramp-down", no_key, split("off"),
          now="2026-01-01T00:00:03Z")

    # Increasing weight, d/D = 1/3: w0 = 0 + floor(100/3) = 33, w1 = 67.
    s.flag("ramp-up", sched_flag([("on", 0), ("off", 100)], {"ramp": {
        "start": T0, "end": "2026-01-01T00:00:03Z", "weights": [100, 0]}}, salt="ramp-up"))
    s.add("ramp floor: increasing weight, x = 32 -> on", "ramp-up",
          {"targetingKey": find_user("ramp-up", 100, 32)}, split("on"), now=third)
    s.add("ramp floor: increasing weight, x = 33 -> off", "ramp-up",
          {"targetingKey": find_user("ramp-up", 100, 33)}, split("off"), now=third)

    # Three variants: the last one takes the remainder.
    # base [60, 30, 10], target [0, 30, 70], d/D = 1/3 (T = 100):
    # w0 = 60 + floor(-60/3) = 40, w1 = 30 + 0 = 30, w2 = 100 - 70 = 30.
    # d/D = 1/7: w0 = 60 + floor(-60/7) = 51, w1 = 30, w2 = 19.
    s.flag("ramp-three", sched_flag([("a", 60), ("b", 30), ("c", 10)], {"ramp": {
        "start": T0, "end": "2026-01-01T00:00:07Z", "weights": [0, 30, 70]}}, salt="ramp-three"))
    seventh = "2026-01-01T00:00:01Z"
    ramp3 = s.flags["ramp-three"]["fallthrough"]["rollout"]
    assert bucketing.effective_weights(ramp3, bucketing.parse_rfc3339_ms(seventh)) == [51, 30, 19]
    for x, variant in [(50, "a"), (51, "b"), (80, "b"), (81, "c")]:
        s.add("ramp three variants at 1/7, x = %d -> %s" % (x, variant), "ramp-three",
              {"targetingKey": find_user("ramp-three", 100, x)}, split(variant), now=seventh)
    for n in range(4):
        s.add("ramp three variants at 3 s user-%d" % n, "ramp-three",
              {"targetingKey": "user-%d" % n}, AUTO, now="2026-01-01T00:00:03Z")

    # Large weights: the product (b - a) * d needs more than 64 bits.
    s.flag("ramp-large", sched_flag([("a", 4294967295), ("b", 0)], {"ramp": {
        "start": T0, "end": "2099-01-01T00:00:00Z", "weights": [0, 4294967295]}}))
    for n in range(4):
        s.add("ramp with total 2^32-1 user-%d" % n, "ramp-large", {"targetingKey": "user-%d" % n},
              AUTO, now="2060-06-15T12:34:56.789Z")
    return s
