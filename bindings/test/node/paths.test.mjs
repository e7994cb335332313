// Generated flags and contexts: every way into the engine gives the same result.
//
// A fresh object goes through flat records written in JavaScript (or, when it declines,
// JSON text); a PreparedContext, `evaluateAll` and the module's general export go
// through the core's `Context`. The vectors hold each path to native Rust on chosen
// cases; this holds the paths to each other on thousands of generated ones, so a value
// decoded differently on one of them (a float taken for an integer, -0, a nested path)
// shows up whatever operator reads it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, PreparedContext, init } from "pennon";
import { envelope, payload, publicKey } from "./sign.mjs";

await init();
const NOW = Date.parse("2026-06-01T00:00:00Z");

/** A deterministic generator (a 32-bit LCG), so a failure names a reproducible case. */
function generator(seed) {
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const pick = (list) => list[Math.floor(next() * list.length)];
  return { next, pick, chance: (p) => next() < p };
}

const STRINGS = [
  "", "ann", "Ann", "ANN", "bob@acme.com", "Bob@ACME.COM", "straße", "STRASSE", "İstanbul", "ǅemal", "ünïcødé ✓ 🎉",
  "1.2.3", "1.10.0-beta.1", "2.0.0", "v1.2.3", "01.2.3", "2026-05-01T00:00:00Z", "2026-07-01T12:00:00+02:00", "42", "a.b",
];
const NUMBERS = [0, -0, 1, 42, 42.5, -3, 0.1, 1e21, 2 ** 53 - 1, 2 ** 53 + 2, 2 ** 63, -(2 ** 63), 1_780_000_000, 1_780_000_000.5, 5e-324];
const BIGINTS = [42n, 9_007_199_254_740_993n, -9_223_372_036_854_775_808n, 9_223_372_036_854_775_808n];
const ATTRIBUTES = ["email", "plan", "age", "version", "created", "tags", "beta", "user.email", "user.address.country", "user.id", "targetingKey"];
const SEGMENTS = ["staff", "eu"];

/** A condition value for `op`; the snapshot must load, so each is of the type `op` takes. */
function conditionFor(g, op) {
  const scalar = () => g.pick([() => g.pick(STRINGS), () => g.pick(NUMBERS.filter(Number.isSafeInteger)), () => g.pick([0.5, 42.5, -3.25]), () => g.chance(0.5)])();
  switch (op) {
    case "equals": case "not_equals": return { value: scalar(), case_insensitive: g.chance(0.3) };
    case "in": case "not_in": return { value: Array.from({ length: 1 + Math.floor(g.next() * 4) }, scalar), case_insensitive: g.chance(0.3) };
    case "contains": case "starts_with": case "ends_with":
      return { value: g.pick(["a", "acme", "ACME.COM", "ß", "@", "1.", "ü", "i̇"]), case_insensitive: g.chance(0.4) };
    case "matches": return { value: g.pick(["^a", "acme\\.com$", "\\d+", "(?i)strasse", "[a-c]{2,}", "^$", "é|ü", "^\\w+@"]), case_insensitive: g.chance(0.3) };
    case "lt": case "lte": case "gt": case "gte": return { value: g.pick([0, 1, 42, 42.5, -3, 1_780_000_000, 1e21]) };
    case "semver_eq": case "semver_lt": case "semver_lte": case "semver_gt": case "semver_gte":
      return { value: g.pick(["1.2.3", "2.0.0", "1.10.0-beta.1", "0.0.1"]) };
    case "before": case "after": return { value: g.pick(["2026-05-01T00:00:00Z", "2026-06-15T00:00:00+02:00", "2030-01-01T00:00:00Z"]) };
    default: return {};
  }
}

const OPS = [
  "equals", "not_equals", "in", "not_in", "contains", "starts_with", "ends_with", "matches", "lt", "lte", "gt", "gte",
  "semver_eq", "semver_lt", "semver_lte", "semver_gt", "semver_gte", "before", "after", "exists", "missing", "in_segment",
];

function condition(g) {
  const op = g.pick(OPS);
  if (op === "in_segment") return { op: g.chance(0.5) ? "in_segment" : "not_in_segment", value: g.pick(SEGMENTS) };
  return { attribute: g.pick(ATTRIBUTES), op, negate: g.chance(0.2), ...conditionFor(g, op) };
}

const rules = (g, count, serve) =>
  Array.from({ length: count }, (_, i) => ({ id: `r${i}`, conditions: Array.from({ length: 1 + Math.floor(g.next() * 3) }, () => condition(g)), serve: serve() }));

/** Flags of every type, each with generated rules, rollouts, targets and prerequisites. */
function flags(g, count) {
  const out = {};
  for (let i = 0; i < count; i++) {
    const kind = g.pick(["boolean", "string", "integer", "float", "object"]);
    const values = { boolean: [true, false, true], string: ["a", "b", "c"], integer: [1, -2, 3], float: [0.5, 1.5, 2.5], object: [{ a: 1 }, [1, "x"], {}] }[kind];
    const variants = Object.fromEntries(values.map((value, v) => [`v${v}`, value]));
    const rollout = () => ({
      variants: ["v0", "v1", "v2"].map((variant) => ({ variant, weight: Math.floor(g.next() * 4) })).map((w, v) => (v === 0 ? { ...w, weight: w.weight + 1 } : w)),
      ...(g.chance(0.6) ? { bucket_by: g.pick(ATTRIBUTES) } : {}),
      ...(g.chance(0.3) ? { salt: g.pick(["layer", "ünï"]) } : {}),
    });
    const serve = () => (g.chance(0.4) ? { rollout: rollout() } : { variant: g.pick(["v0", "v1", "v2"]) });
    out[`f${i}`] = {
      type: kind, enabled: g.chance(0.95), variants, off_variant: "v0", fallthrough: serve(),
      rules: rules(g, Math.floor(g.next() * 4), serve),
      ...(g.chance(0.2) ? { targets: [{ variant: "v1", keys: ["ann", "42"] }] } : {}),
      ...(i > 0 && g.chance(0.15) ? { prerequisites: [{ flag: `f${Math.floor(g.next() * i)}`, variant: "v1" }] } : {}),
    };
  }
  return out;
}

/** A value of any kind a context may hold, nested ones included. */
function value(g, depth = 0) {
  const kind = g.next();
  if (kind < 0.35) return g.pick(STRINGS);
  if (kind < 0.6) return g.pick(NUMBERS);
  if (kind < 0.65) return g.pick(BIGINTS);
  if (kind < 0.72) return g.chance(0.5);
  if (kind < 0.77) return null;
  if (kind < 0.8) return g.pick([undefined, NaN, Infinity, () => 1]);
  if (depth > 1) return g.pick(STRINGS);
  if (kind < 0.9) return Array.from({ length: Math.floor(g.next() * 4) }, () => value(g, depth + 1));
  return { email: value(g, depth + 1), id: value(g, depth + 1), address: { country: g.pick(["DE", "de", "US"]) } };
}

/** What each attribute mostly holds, so that conditions on it are mostly comparable. */
const TYPICAL = {
  email: (g) => g.pick(["ann@acme.com", "Bob@ACME.COM", "straße@acme.com", "x@example.org"]),
  age: (g) => g.pick([0, -0, 17, 42, 42.5, 1e21, 2 ** 53 + 2]),
  version: (g) => g.pick(["1.2.3", "1.10.0-beta.1", "2.0.0", "1.2.3+build.5", "v1"]),
  created: (g) => g.pick(["2026-05-01T00:00:00Z", "2026-06-15T00:00:00+02:00", 1_780_000_000, 1_780_000_000.5, -0, 2 ** 60]),
};

function context(g) {
  const out = {};
  if (g.chance(0.85)) out.targetingKey = g.chance(0.9) ? g.pick(["ann", "42", "bob", "ünï", ""]) + (g.chance(0.5) ? String(Math.floor(g.next() * 1000)) : "") : g.pick([null, undefined]);
  for (const name of ["email", "plan", "age", "version", "created", "tags", "beta", "user", "user.email"]) {
    if (g.chance(0.55)) out[name] = TYPICAL[name] !== undefined && g.chance(0.7) ? TYPICAL[name](g) : value(g);
  }
  if (g.chance(0.05)) out.targetingKey = g.pick([7, true, ["ann"]]); // malformed: an error for every flag
  return out;
}

/** A result, or the refusal it threw, as comparable data. */
function outcome(fn) {
  try {
    return { result: fn() };
  } catch (error) {
    return { error: error.message };
  }
}

test("generated flags and contexts: fresh objects, prepared contexts, evaluateAll and the general export agree", () => {
  const g = generator(20261122);
  const segments = {
    staff: { included: ["ann", "bob7"], excluded: ["ann1"], rules: rules(g, 1, () => undefined).map(({ id, conditions }) => ({ id, conditions: conditions.filter((c) => c.op !== "in_segment" && c.op !== "not_in_segment") })) },
    eu: { rules: [{ id: "eu", conditions: [{ attribute: "user.address.country", op: "in", value: ["de", "fr"], case_insensitive: true }] }] },
  };
  const engine = new Engine({ keys: [publicKey(1)], environment: "test" });
  const text = (p) => JSON.stringify(p, (_k, v) => (typeof v === "bigint" ? `@@${v}@@` : v)).replace(/"@@(-?\d+)@@"/g, "$1");
  assert.equal(engine.load(envelope(text(payload(1, flags(g, 60), segments))), NOW), true);
  const keys = engine.flagKeys();
  // The module's own export, without the wrapper's flat records and scratch buffer.
  const general = engine.moduleEngine();
  const reasons = new Map();
  let compared = 0;
  for (let c = 0; c < 1500; c++) {
    const ctx = context(g);
    const now = g.pick([NOW, Date.parse("2026-01-01T00:00:00Z"), Date.parse("2031-01-01T00:00:00Z")]);
    const prepared = new PreparedContext(ctx);
    const all = engine.evaluateAllPrepared(prepared, now);
    const allFresh = engine.evaluateAll(ctx, now);
    for (const [position, key] of keys.entries()) {
      const fresh = outcome(() => engine.evaluate(key, ctx, now));
      const where = `flag ${key} with context #${c} ${JSON.stringify(ctx, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))} at ${now}`;
      assert.deepEqual(fresh, outcome(() => engine.evaluatePrepared(key, prepared, now)), `fresh vs prepared: ${where}`);
      assert.deepEqual(fresh, outcome(() => general.evaluate(key, ctx, now)), `fresh vs the module's export: ${where}`);
      assert.deepEqual(fresh.result, all[position], `fresh vs evaluateAllPrepared: ${where}`);
      assert.deepEqual(fresh.result, allFresh[position], `fresh vs evaluateAll: ${where}`);
      const reason = `${fresh.result.reason}${fresh.result.errorCode ? `/${fresh.result.errorCode}` : ""}`;
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      compared += 1;
    }
    prepared.free();
  }
  assert.equal(compared, 1500 * 60);
  // The generated cases reach every outcome, so agreement is not agreement on defaults.
  for (const reason of ["STATIC", "DEFAULT", "TARGETING_MATCH", "SPLIT", "DISABLED", "ERROR/PARSE_ERROR", "ERROR/TARGETING_KEY_MISSING", "ERROR/GENERAL"]) {
    assert.ok((reasons.get(reason) ?? 0) > 50, `${reason}: ${reasons.get(reason) ?? 0} of ${compared}`);
  }
});
