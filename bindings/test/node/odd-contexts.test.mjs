// Contexts that run user code or carry odd names: getters that grow the module's
// memory or re-enter the engine, `__proto__` attributes, unread attributes that JSON
// cannot write, and what the refusals say. A fresh object must mean what its JSON
// text means, and the engine must keep working after every refusal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, PreparedContext, init, isPennonError } from "pennon";
import { envelope, payload, publicKey } from "./sign.mjs";

await init();
const NOW = Date.parse("2026-06-01T00:00:00Z");

const rule = (...conditions) => ({ type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off",
  fallthrough: { variant: "off" }, rules: [{ id: "r", conditions, serve: { variant: "on" } }] });
const flags = {
  "n-below": rule({ attribute: "n", op: "lt", value: 10 }),
  combo: rule({ attribute: "targetingKey", op: "equals", value: "ann" }, { attribute: "plan", op: "equals", value: "pro" }),
  beta: rule({ attribute: "targetingKey", op: "equals", value: "ann" }),
  proto: rule({ attribute: "__proto__", op: "equals", value: "pro" }),
  "proto-split": { type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off",
    fallthrough: { rollout: { bucket_by: "__proto__", variants: [{ variant: "on", weight: 1 }, { variant: "off", weight: 1 }] } } },
  "proto-object": { type: "object", enabled: true, variants: { a: { v: 1 }, b: { v: 2 } }, off_variant: "a", fallthrough: { variant: "a" },
    rules: [{ id: "r", conditions: [{ attribute: "__proto__", op: "equals", value: "pro" }], serve: { variant: "b" } }] },
  dotted: rule({ attribute: "user.plan", op: "equals", value: "pro" }),
  suffix: rule({ attribute: "email", op: "ends_with", value: "@acme.com" }),
  three: rule({ attribute: "a", op: "exists" }, { attribute: "b", op: "lt", value: 10 }, { attribute: "c", op: "ends_with", value: "@acme.com" }),
};
const newEngine = () => {
  const engine = new Engine({ keys: [publicKey(1)], environment: "test" });
  engine.load(envelope(payload(1, flags)), NOW);
  return engine;
};
/** What the context's JSON text gives, through the core's own reader. */
const viaJson = (engine, flag, text) => {
  const prepared = PreparedContext.fromJson(text);
  try {
    return engine.evaluatePrepared(flag, prepared, NOW);
  } finally {
    prepared.free();
  }
};
const refusal = (fn) => {
  try {
    fn();
  } catch (error) {
    return isPennonError(error) ? `${error.kind}: ${error.message}` : `not a Pennon error: ${error}`;
  }
  return "no refusal";
};

test("a getter that grows the module's memory or re-enters the engine cannot change the answer", () => {
  const engine = newEngine();
  engine.evaluate("n-below", { n: 5 }, NOW); // the records now hold n = 5
  const kept = [];
  const grows = { get n() {
    kept.push(new PreparedContext({ list: Array.from({ length: 300_000 }, (_, i) => `item-${i}`) })); // grows the memory
    return 100;
  } };
  assert.equal(engine.evaluate("n-below", grows, NOW).value, false, "100 is not below 10");
  assert.equal(viaJson(engine, "n-below", '{"n":100}').value, false);
  const other = newEngine();
  const viaOther = { get n() {
    other.evaluate("suffix", { email: "x".repeat(4_000_000) + "@acme.com" }, NOW);
    return 100;
  } };
  assert.equal(engine.evaluate("n-below", viaOther, NOW).value, false, "another engine's growth detaches this one's views too");
  // Numbers written after the growth, then a string whose write takes fresh views: the
  // numbers went through the detached ones.
  engine.evaluate("three", { a: null, b: 50, c: "ann@acme.com" }, NOW);
  const numbersLost = { get a() {
    kept.push(new PreparedContext({ list: Array.from({ length: 300_000 }, (_, i) => `item-${i}`) }));
    return 7;
  }, b: 5, c: "ann@acme.com" };
  assert.equal(engine.evaluate("three", numbersLost, NOW).value, true);
  engine.evaluate("combo", { targetingKey: "ann", plan: "pro" }, NOW);
  const reenters = { targetingKey: "ann", get plan() {
    engine.evaluate("beta", { targetingKey: "bob" }, NOW); // overwrites the records mid-write
    return "pro";
  } };
  assert.equal(engine.evaluate("combo", reenters, NOW).value, true);
  kept.forEach((prepared) => prepared.free());
});

test("a getter that loads another snapshot mid-call gets the flag it asked for", () => {
  const engine = newEngine();
  const moved = envelope(payload(2, { aaa: rule({ attribute: "email", op: "exists" }), ...flags, dotted: rule({ attribute: "user.plan", op: "equals", value: "team" }) }));
  // `dotted` reads an object, so the JSON path's text is written in JavaScript, getters and all.
  let loaded = false;
  const context = { user: { get plan() {
    if (!loaded) loaded = engine.load(moved, NOW); // every flag moves one position down
    return "team";
  } } };
  const result = engine.evaluate("dotted", context, NOW);
  assert.deepEqual([result.key, result.value, result.explanation.snapshotVersion], ["dotted", true, 2]);
  assert.deepEqual(engine.evaluate("dotted", { user: { plan: "team" } }, NOW), viaJson(engine, "dotted", '{"user":{"plan":"team"}}'));
});

test("a getter that loads a snapshot whose flag reads other attributes gets the new flag's answer", () => {
  const engine = newEngine();
  const next = envelope(payload(2, { ...flags, dotted: rule({ attribute: "tier", op: "equals", value: "gold" }) }));
  let loaded = false;
  const context = { tier: "gold", user: { get plan() {
    if (!loaded) loaded = engine.load(next, NOW); // `dotted` now reads `tier`, which it did not before
    return "pro";
  } } };
  const result = engine.evaluate("dotted", context, NOW);
  assert.deepEqual([result.value, result.reason, result.explanation.snapshotVersion], [true, "TARGETING_MATCH", 2]);
  // A getter that loads on every read: the answer is still the served snapshot's.
  let version = 2;
  const restless = { tier: "gold", user: { get plan() {
    engine.load(envelope(payload(++version, { ...flags, dotted: rule({ attribute: "tier", op: "equals", value: "gold" }) })), NOW);
    return "pro";
  } } };
  const again = engine.evaluate("dotted", restless, NOW);
  assert.deepEqual([again.value, again.explanation.snapshotVersion], [true, engine.version()]);
});

test("an attribute named __proto__ is an attribute, as in JSON text", () => {
  const engine = newEngine();
  const text = '{"targetingKey":"u1","__proto__":"pro"}';
  const context = JSON.parse(text); // an own property named __proto__
  for (const flag of ["proto", "proto-split", "proto-object", "proto", "proto-object"]) {
    const fresh = engine.evaluate(flag, context, NOW);
    assert.deepEqual(fresh, viaJson(engine, flag, text), flag);
    assert.notEqual(fresh.reason, "ERROR", flag);
  }
  assert.deepEqual(engine.evaluate("proto-object", context, NOW).value, { v: 2 });
});

test("when the flat write declines, only the attributes the flag reads are converted", () => {
  const engine = newEngine();
  const cyclic = { name: "loop" };
  cyclic.self = cyclic;
  // A read attribute that is an object declines the flat write; `junk` is never read.
  assert.equal(engine.evaluate("dotted", { user: { plan: "pro" }, junk: "\uD800" }, NOW).value, true);
  assert.equal(engine.evaluate("dotted", { user: { plan: "pro" }, junk: cyclic }, NOW).value, true);
  assert.equal(engine.evaluate("n-below", { n: 5n, junk: cyclic }, NOW).value, true);
  const parse = engine.evaluate("beta", { targetingKey: 7, junk: cyclic }, NOW);
  assert.deepEqual([parse.reason, parse.errorCode], ["ERROR", "PARSE_ERROR"], "a result, not a refusal");
});

test("a lone surrogate in a targeting key fails only the flags that read the key, on the first call as after", () => {
  const key = "Zoë \uD83D";
  // A new engine's first evaluation takes the JSON path (its flat buffers are not made
  // yet); later ones write flat. Both must give the same answers.
  for (const warm of [false, true]) {
    const engine = newEngine();
    if (warm) engine.evaluate("n-below", { targetingKey: "ann", n: 1 }, NOW);
    const unread = engine.evaluate("n-below", { targetingKey: key, n: 5 }, NOW);
    assert.deepEqual([unread.value, unread.reason], [true, "TARGETING_MATCH"], `flag not reading the key, warm: ${warm}`);
    assert.match(refusal(() => engine.evaluate("beta", { targetingKey: key }, NOW)), /^invalid_context: /, `warm: ${warm}`);
    // Its type is still checked for every flag.
    const typed = engine.evaluate("n-below", { targetingKey: 7, n: 5 }, NOW);
    assert.deepEqual([typed.reason, typed.errorCode], ["ERROR", "PARSE_ERROR"], `warm: ${warm}`);
  }
});

test("refusals say what was wrong and where; the engine keeps working", () => {
  const engine = newEngine();
  const throwing = { targetingKey: "ann", get plan() {
    throw new Error("boom from getter");
  } };
  const expected = "invalid_context: invalid_context: the context cannot be written as JSON: Error: boom from getter";
  assert.equal(refusal(() => engine.evaluate("combo", throwing, NOW)), expected);
  assert.equal(refusal(() => new PreparedContext(throwing)), expected, "the same words on every path");
  const me = { plan: "pro" };
  me.me = me;
  assert.match(refusal(() => engine.evaluate("dotted", { user: me }, NOW)), /^invalid_context: .*circular structure.*property 'me' closes the circle/s);
  assert.throws(() => engine.evaluate(5n, {}, NOW), { name: "TypeError", message: "pennon: a flag key must be a string, not bigint" });
  assert.throws(() => engine.flagType(undefined), { name: "TypeError", message: "pennon: a flag key must be a string, not undefined" });
  // A boxed primitive is refused as its JSON text is, not read as an empty object.
  assert.equal(refusal(() => engine.evaluate("beta", new String("ann"), NOW)),
    "invalid_context: invalid_context: invalid evaluation context: expected a JSON object, found a string");
  assert.match(refusal(() => engine.evaluate("beta", new Number(5), NOW)), /^invalid_context: .*found an integer/);
  assert.match(refusal(() => engine.evaluate("beta", Object(5n), NOW)), /^invalid_context: .*BigInt/);
  assert.equal(engine.evaluate("beta", new (class { targetingKey = "ann"; })(), NOW).value, true, "class instances are objects");
  assert.equal(engine.evaluate("combo", { targetingKey: "ann", plan: "pro" }, NOW).value, true);
});

test("long strings take the JSON path, and a buffer the module cannot grow declines instead of trapping", () => {
  const engine = newEngine();
  const long = "é".repeat(2_000_000) + "@acme.com"; // over the flat writer's limit
  assert.equal(engine.evaluate("suffix", { email: long }, NOW).value, true);
  const raw = engine.moduleEngine(); // the module's own engine, which the wrapper keeps to itself
  assert.equal(raw.flatBytes(2 ** 32 - 1), 0, "4 GiB more cannot be allocated in a 32-bit memory");
  assert.equal(raw.flatRecords(2 ** 32 - 1), 0);
  assert.equal(engine.evaluate("suffix", { email: "ann@acme.com" }, NOW).value, true, "still working");
});

test("a flag key with a lone surrogate names no flag, not the flag with U+FFFD in its place", () => {
  const on = { type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off", fallthrough: { variant: "on" } };
  const engine = new Engine({ keys: [publicKey(1)], environment: "test" });
  engine.load(envelope(payload(1, { "a\uFFFD": on })), NOW);
  assert.equal(engine.evaluate("a\uFFFD", {}, NOW).value, true);
  const prepared = new PreparedContext({});
  for (const result of [engine.evaluate("a\uD800", {}, NOW), engine.evaluatePrepared("a\uDC00", prepared, NOW)]) {
    assert.equal(result.errorCode, "FLAG_NOT_FOUND");
    assert.equal(result.value, undefined);
    assert.match(result.key, /^a[\uD800\uDC00]$/);
    assert.equal(result.errorDetails, `flag \`${result.key}\` is not in snapshot version 1`);
  }
  assert.equal(engine.flagType("a\uD800"), undefined);
  assert.throws(() => engine.evaluate("a\uD800", {}, Number.NaN), (e) => isPennonError(e, "invalid_time"), "the module's refusals stand");
  assert.equal(engine.evaluate("a\u{1F600}", {}, NOW).errorCode, "FLAG_NOT_FOUND", "a well-formed pair is an ordinary key");
});
