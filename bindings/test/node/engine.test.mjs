// The engine's contract at the JavaScript boundary: typed refusals that keep the
// served snapshot, no trap on any input, BigInt contexts, prepared contexts, big lists.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, PreparedContext, init, isPennonError } from "pennon";
import { boolFlag, envelope, payload, publicKey, tamper } from "./sign.mjs";
import { failure, generation, instance } from "../../dist/instance.js";

await init();
const NOW = Date.parse("2026-06-01T00:00:00Z");
const key = publicKey(1);
const newEngine = () => new Engine({ keys: [key], environment: "test" });

const flags = {
  beta: boolFlag({ staff: ["ann"] }),
  "int-max": { type: "integer", enabled: true, variants: { max: 9223372036854775807n }, off_variant: "max", fallthrough: { variant: "max" } },
  big: {
    type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off", fallthrough: { variant: "off" },
    rules: [{ id: "n", conditions: [{ attribute: "n", op: "equals", value: 9007199254740993n }], serve: { variant: "on" } }],
  },
};
// JSON.stringify cannot write BigInt: write the payload text by hand.
const text = (p) => JSON.stringify(p, (_k, v) => (typeof v === "bigint" ? `@@${v}@@` : v)).replace(/"@@(-?\d+)@@"/g, "$1");
const v1 = envelope(text(payload(1, flags)));
const v2 = envelope(text(payload(2, { ...flags, beta: boolFlag({ staff: ["ann", "bob"] }) })));

/** Asserts `fn` throws a Pennon error of `kind` whose message starts with it. */
function refuses(fn, kind) {
  assert.throws(fn, (error) => isPennonError(error, kind) && error.message.startsWith(`${kind}: `));
}

test("load, version, rollback and a refusal that keeps the served snapshot", () => {
  const engine = newEngine();
  assert.equal(engine.version(), undefined);
  refuses(() => engine.evaluate("beta", {}, NOW), "not_ready");
  assert.equal(engine.load(v1, NOW), true);
  assert.equal(engine.load(v1, NOW), false, "the same bytes are unchanged");
  assert.equal(engine.load(v2, NOW), true);
  assert.equal(engine.version(), 2);
  refuses(() => engine.load(v1, NOW), "rollback");
  refuses(() => engine.load(tamper(v2), NOW), "bad_signature");
  refuses(() => engine.load(new Uint8Array([1, 2, 3]), NOW), "malformed_envelope");
  assert.equal(engine.version(), 2);
  assert.equal(engine.evaluate("beta", { targetingKey: "bob" }, NOW).value, true);
  assert.deepEqual(engine.flagKeys(), ["beta", "big", "int-max"]);
  assert.equal(engine.flagType("int-max"), "integer");
  assert.equal(engine.flagType("nope"), undefined);
});

test("load takes the envelope's JSON text as the providers do, and still names any other type it refuses", () => {
  const engine = newEngine();
  const json = new TextDecoder().decode(v1);
  assert.equal(engine.load(json, NOW), true); // was a TypeError: "not string"
  assert.equal(engine.load(json, NOW), false, "the same version, as bytes would be");
  assert.equal(engine.version(), 1);
  assert.equal(engine.evaluate("beta", { targetingKey: "ann" }, NOW).value, true);
  refuses(() => engine.load(new TextDecoder().decode(tamper(v2)), NOW), "bad_signature");
  for (const [bad, kind] of [[{}, "object"], [null, "null"], [5, "number"], [undefined, "undefined"]]) {
    assert.throws(() => engine.load(bad, NOW), { name: "TypeError", message: `pennon: load takes the envelope's bytes, a Uint8Array, or its JSON text, not ${kind}` });
  }
  assert.equal(engine.version(), 1);
  engine.free();
});

test("minVersion and held protect a fresh engine against rollback", () => {
  refuses(() => new Engine({ keys: [key], environment: "test", minVersion: 2 }).load(v1, NOW), "rollback");
  const engine = newEngine();
  engine.load(v1, NOW);
  const held = new Engine({ keys: [key], environment: "test", held: { version: 1, payloadSha256: engine.payloadSha256() } });
  assert.equal(held.load(v1, NOW), false);
  assert.equal(held.load(v2, NOW), true);
});

test("bad options and keys are typed refusals", () => {
  refuses(() => new Engine({ keys: ["ed25519:AAAA"], environment: "test" }), "invalid_key");
  // Keys cross into the module as lines: none is lost or split on the way.
  refuses(() => new Engine({ keys: [], environment: "test" }), "invalid_policy");
  refuses(() => new Engine({ keys: [key, ""], environment: "test" }), "invalid_key");
  assert.throws(() => new Engine({ keys: [`${key}\n${key}`], environment: "test" }), /invalid_options: .*`keys\[0\]` has a line break/);
  assert.equal(new Engine({ keys: [key, key], environment: "test" }).load(v1, NOW), true);
  refuses(() => new Engine({ keys: [key], environment: "test", threshold: 2 }), "invalid_policy");
  refuses(() => new Engine({ keys: [key], environment: "test", treshold: 1 }), "invalid_options");
  refuses(() => new Engine(undefined), "invalid_options");
  refuses(() => new Engine({ keys: [key], environment: "test", held: { version: 1, payloadSha256: "xyz" } }), "invalid_options");
  for (const bad of [
    { keys: key, environment: "test" },
    { keys: [key, 7], environment: "test" },
    { keys: [key] },
    { keys: [key], environment: 7 },
    { keys: [key], environment: "test", threshold: 1.5 },
    { keys: [key], environment: "test", maxBytes: -1 },
    { keys: [key], environment: "test", minVersion: 2 ** 64 },
    { keys: [key], environment: "test", graceMs: "60000" },
    { keys: [key], environment: "test", extra: null },
    { keys: [key], environment: "test", held: { version: 1 } },
    { keys: [key], environment: "test", held: { version: 1, payloadSha256: "ab".repeat(32), at: 0 } },
    [key],
  ]) {
    refuses(() => new Engine(bad), "invalid_options");
  }
  // Absent means undefined or null, as in JSON text; negative grace is a whole number too.
  const lenient = new Engine({ keys: [key], environment: "test", threshold: null, held: undefined, graceMs: -1 });
  assert.equal(lenient.load(v1, NOW), true);
});

test("results are plain objects; outcomes are data, malformed input throws", () => {
  const engine = newEngine();
  engine.load(v1, NOW);
  const r = engine.evaluate("beta", { targetingKey: "ann" }, NOW, "boolean");
  assert.deepEqual(r, {
    key: "beta", value: true, variant: "on", reason: "TARGETING_MATCH", metadata: {},
    explanation: { snapshotVersion: 1, matched: "rule", ruleId: "staff", ruleIndex: 0 },
  });
  assert.equal(engine.evaluate("beta", {}, NOW, "string").errorCode, "TYPE_MISMATCH");
  assert.equal(engine.evaluate("nope", {}, NOW).errorCode, "FLAG_NOT_FOUND");
  assert.equal(engine.evaluate("beta", { targetingKey: 5 }, NOW).errorCode, "PARSE_ERROR");
  refuses(() => engine.evaluate("beta", {}, NOW, "bogus"), "invalid_type");
  refuses(() => engine.evaluate("beta", "text", NOW), "invalid_context");
  refuses(() => engine.evaluate("beta", {}, NaN), "invalid_time");
  assert.equal(engine.evaluate("beta", undefined, NOW).value, false, "undefined is the empty context");
});

test("a `nowMs` of another type is a TypeError naming it, not a module crash", async () => {
  const { generation: before } = await import("../../dist/instance.js");
  const engine = newEngine();
  engine.load(v1, NOW);
  const prepared = new PreparedContext({ targetingKey: "ann" });
  const calls = {
    evaluate: (now) => engine.evaluate("beta", { targetingKey: "ann" }, now),
    evaluatePrepared: (now) => engine.evaluatePrepared("beta", prepared, now),
    evaluateAll: (now) => engine.evaluateAll({ targetingKey: "ann" }, now),
    evaluateJson: (now) => engine.evaluateJson("beta", prepared, now),
    evaluateAllJson: (now) => engine.evaluateAllJson(prepared, now),
    load: (now) => engine.load(v2, now),
  };
  for (const [name, call] of Object.entries(calls)) {
    for (const [now, type] of [[BigInt(NOW), "bigint"], [Symbol("now"), "symbol"], [String(NOW), "string"], [null, "null"]]) {
      assert.throws(() => call(now), { name: "TypeError", message: `pennon: \`nowMs\` must be Unix milliseconds, a number, not ${type}` }, name);
    }
  }
  assert.equal(engine.version(), 1, "the refused load loaded nothing");
  assert.equal(engine.evaluatePrepared("beta", prepared, NOW).value, true);
  const { generation: after } = await import("../../dist/instance.js");
  assert.equal(after, before, "no instance was dropped and rebuilt");
  prepared.free();
});

test("results read from the scratch buffer follow reloads, memory growth and each flag's metadata", () => {
  const stringFlag = (values, metadata) => ({
    type: "string", enabled: true, variants: values, off_variant: Object.keys(values)[0], metadata,
    fallthrough: { rollout: { variants: Object.keys(values).map((variant) => ({ variant, weight: 1 })), salt: "s" } },
  });
  const snapshot = (version, a, b) => envelope(payload(version, { a: stringFlag(a, { team: `a${version}` }), b: stringFlag(b, { team: `b${version}` }) }));
  const engine = newEngine();
  const user = new PreparedContext({ targetingKey: "u-1" });
  const read = () => ["a", "b"].map((flag) => {
    const r = engine.evaluatePrepared(flag, user, NOW);
    return [r.variant, r.value, r.metadata.team, r.explanation.bucket.salt, Object.isFrozen(r.metadata)];
  });
  engine.load(snapshot(1, { x: "ex", y: "why" }, { p: "pea", q: "queue" }), NOW);
  const first = read();
  assert.deepEqual(read(), first, "a cached read is the first read");
  assert.deepEqual(first.map(([, , team, salt, frozen]) => [team, salt, frozen]), [["a1", "s", true], ["b1", "s", true]]);
  // The same shapes with other strings: nothing decoded for version 1 may survive.
  engine.load(snapshot(2, { x: "EX", y: "WHY" }, { p: "PEA", q: "QUEUE" }), NOW);
  assert.deepEqual(read(), first.map(([variant, value, team, salt]) => [variant, value.toUpperCase(), team.replace("1", "2"), salt, true]));
  // A context this large grows the module's memory, which detaches the scratch view.
  const big = new PreparedContext({ targetingKey: "u-1", list: Array.from({ length: 200_000 }, (_, i) => `item-${i}`) });
  assert.deepEqual(engine.evaluatePrepared("a", big, NOW).value, read()[0][1]);
  big.free();
});

test("flag types and positions follow reloads", () => {
  // The wrapper keeps each flag's type by position; a new snapshot may change both.
  const number = (type, value) => ({ type, enabled: true, variants: { v: value }, off_variant: "v", fallthrough: { variant: "v" } });
  const engine = newEngine();
  assert.equal(engine.flagType("x"), undefined, "nothing is served yet");
  engine.load(envelope(payload(1, { x: boolFlag({}), y: number("integer", 1) })), NOW);
  assert.deepEqual([engine.flagType("x"), engine.flagType("y"), engine.flagType("z")], ["boolean", "integer", undefined]);
  engine.load(envelope(payload(2, { a: number("integer", 2), x: number("float", 2.5), y: boolFlag({}) })), NOW);
  assert.deepEqual([engine.flagType("a"), engine.flagType("x"), engine.flagType("y")], ["integer", "float", "boolean"]);
  assert.equal(engine.evaluate("x", {}, NOW, "float").value, 2.5);
});

test("integers beyond 2^53: BigInt in, BigInt out", () => {
  const engine = newEngine();
  engine.load(v1, NOW);
  assert.equal(engine.evaluate("int-max", {}, NOW).value, 9223372036854775807n);
  assert.equal(engine.evaluateAll({}, NOW).find((r) => r.key === "int-max").value, 9223372036854775807n);
  assert.equal(engine.evaluate("big", { n: 9007199254740993n }, NOW).value, true);
  assert.equal(engine.evaluate("big", { n: 9007199254740992 }, NOW).value, false);
  assert.equal(engine.evaluate("big", { n: 2n ** 70n }, NOW).value, false, "beyond i64 a BigInt is a float");
  assert.equal(new PreparedContext({ targetingKey: "x", n: 9007199254740993n }).targetingKey, "x");
  assert.equal(engine.evaluatePrepared("big", PreparedContext.fromJson('{"n":9007199254740993}'), NOW).value, true);
});

test("a PreparedContext given where a plain object goes is evaluated as the prepared context it is", () => {
  // Read as an object, a PreparedContext has no attributes of its own: `evaluate` gave
  // DEFAULT and `evaluateAll` TARGETING_KEY_MISSING for it, silently.
  const pro = { type: "string", enabled: true, variants: { pro: "Pro", free: "Free" }, off_variant: "free", fallthrough: { variant: "free" },
    rules: [{ id: "plan", conditions: [{ attribute: "plan", op: "equals", value: "pro" }], serve: { variant: "pro" } }] };
  const engine = newEngine();
  engine.load(envelope(payload(5, { "banner-text": pro, beta: boolFlag({ staff: ["user-1"] }) })), NOW);
  const context = { targetingKey: "user-1", plan: "pro" };
  const prepared = new PreparedContext(context);
  const expected = engine.evaluateAll(context, NOW);
  assert.deepEqual(expected.map((r) => [r.key, r.value, r.reason]), [["banner-text", "Pro", "TARGETING_MATCH"], ["beta", true, "TARGETING_MATCH"]]);
  for (const flag of ["banner-text", "beta", "nope"]) {
    assert.deepEqual(engine.evaluate(flag, prepared, NOW), engine.evaluatePrepared(flag, prepared, NOW), flag);
  }
  assert.deepEqual(engine.evaluate("banner-text", prepared, NOW, "boolean").errorCode, "TYPE_MISMATCH");
  assert.deepEqual(engine.evaluateAll(prepared, NOW), expected);
  // Inside a getter's evaluation, where the flat write is busy.
  let inner;
  const outer = { get targetingKey() { inner = engine.evaluate("banner-text", prepared, NOW).value; return "user-1"; } };
  assert.equal(engine.evaluate("beta", outer, NOW).value, true);
  assert.equal(inner, "Pro");
  const copy = new PreparedContext(prepared);
  prepared.free();
  assert.deepEqual(engine.evaluatePrepared("banner-text", copy, NOW).value, "Pro", "a copy, not an empty context");
  for (const call of [() => engine.evaluate("beta", prepared, NOW), () => engine.evaluateAll(prepared, NOW), () => new PreparedContext(prepared)]) {
    assert.throws(call, { name: "TypeError", message: "pennon: this PreparedContext was freed" });
  }
  copy.free();
});

test("contexts of 100,000 items, deep nesting and cycles neither trap nor poison", () => {
  const engine = newEngine();
  engine.load(v1, NOW);
  const many = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);
  assert.equal(engine.evaluate("beta", { targetingKey: "ann", list: many }, NOW).value, true);
  assert.equal(engine.evaluate("beta", { targetingKey: "ann", list: many, big: 1n }, NOW).value, true);
  let deep = {};
  for (let i = 0; i < 10_000; i++) deep = { deep };
  // `beta` reads the targeting key: one that is not a string sends the whole object
  // through the module's conversion, which refuses depth and cycles.
  refuses(() => engine.evaluate("beta", { targetingKey: deep }, NOW), "invalid_context");
  refuses(() => engine.evaluate("beta", { targetingKey: deep, big: 1n }, NOW), "invalid_context");
  const cyclic = { targetingKey: "ann" };
  cyclic.self = cyclic;
  refuses(() => engine.evaluate("beta", { targetingKey: cyclic }, NOW), "invalid_context");
  refuses(() => new PreparedContext(cyclic), "invalid_context");
  // An attribute the flag does not read is never converted, however deep or cyclic.
  assert.equal(engine.evaluate("beta", cyclic, NOW).value, true);
  assert.equal(engine.evaluate("beta", { targetingKey: "ann", deep }, NOW).value, true);
  assert.equal(engine.evaluate("beta", { targetingKey: "ann" }, NOW).value, true, "still working");
});

test("an in-list of 100,000 entries in a snapshot", () => {
  const staff = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);
  const engine = newEngine();
  engine.load(envelope(payload(3, { beta: boolFlag({ staff }) })), NOW);
  assert.equal(engine.evaluate("beta", { targetingKey: "user-99999" }, NOW).value, true);
  assert.equal(engine.evaluate("beta", { targetingKey: "user-100000" }, NOW).value, false);
});

test("no input traps the instance: 3,000 mutated envelopes and odd arguments", () => {
  const engine = newEngine();
  engine.load(v1, NOW);
  let seed = 42;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const kinds = new Set();
  for (let i = 0; i < 3000; i++) {
    const bytes = v2.slice();
    for (let k = 0; k < 1 + random() * 4; k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    try {
      engine.load(i % 7 === 0 ? bytes.slice(0, Math.floor(random() * bytes.length)) : bytes, NOW);
    } catch (error) {
      assert.ok(isPennonError(error), String(error));
      kinds.add(error.kind);
    }
  }
  for (const bad of [null, 5, "x", {}, [1, 2]]) {
    try {
      engine.load(bad, NOW);
    } catch {
      // A thrown error is fine; a trap would poison the instance below.
    }
  }
  assert.ok(kinds.size >= 2, [...kinds].join());
  assert.ok([1, 2].includes(engine.version()));
  assert.equal(typeof engine.evaluate("beta", { targetingKey: "ann" }, NOW).value, "boolean");
});

test("fresh objects mean what their JSON means, read only where the flag reads", () => {
  // `evaluate` writes the attributes a flag can read straight into the module, without
  // JSON; a PreparedContext is built through JSON.stringify and the core's reader, from
  // every attribute. Every result must agree with the prepared context stripped to the
  // flag's names (a malformed attribute the flag does not read cannot fail it).
  const split = (bucketBy) => ({ type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off",
    fallthrough: { rollout: { bucket_by: bucketBy, variants: [{ variant: "on", weight: 1 }, { variant: "off", weight: 1 }] } } });
  const rule = (condition) => ({ type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off",
    fallthrough: { variant: "off" }, rules: [{ id: "r", conditions: [condition], serve: { variant: "on" } }] });
  const engine = newEngine();
  engine.load(envelope(payload(1, {
    "by-key": split(undefined), "by-n": split("n"), "by-name": split("név"),
    "n-exists": rule({ attribute: "n", op: "exists" }), "n-below": rule({ attribute: "n", op: "lt", value: 10 }),
    "email": rule({ attribute: "email", op: "ends_with", value: "@acme.com" }),
    "dotted": rule({ attribute: "user.plan", op: "equals", value: "pro" }),
    // Reads nine names.
    "nine": { ...rule({ attribute: "a1", op: "exists" }), rules: [{ id: "r", serve: { variant: "on" },
      conditions: Array.from({ length: 9 }, (_, i) => ({ attribute: `a${i + 1}`, op: "exists" })) }] },
  })), NOW);
  const long = "x".repeat(70_000);
  const contexts = [
    undefined, null, {}, { targetingKey: "u-1" }, { targetingKey: null }, { targetingKey: undefined }, { targetingKey: 7 },
    { targetingKey: "u-1", n: 5 }, { n: 5.5 }, { n: -0 }, { n: 2 ** 53 + 2 }, { n: 2 ** 63 }, { n: -(2 ** 63) }, { n: 1e21 },
    { n: NaN }, { n: Infinity }, { n: null }, { n: true }, { n: "5" }, { n: undefined }, { n: () => 1 }, { n: Symbol("s") },
    { n: 5n }, { n: [5] }, { n: { v: 5 } }, { n: new Date(0) }, { "user.plan": "pro" }, { user: { plan: "pro" } },
    { email: "ann@acme.com" }, { email: "ann@acme.com\uD800" }, { "e\uDC00": 1 }, { név: "ünïcødé ✓ 🎉", targetingKey: "ü" },
    { targetingKey: "k", email: long + "@acme.com" }, { toJSON: () => ({ email: "ann@acme.com" }) },
    // What JSON.stringify leaves out is never read: non-enumerable and inherited names.
    Object.defineProperty({ targetingKey: "u-2", a1: 1 }, "email", { value: "ann@acme.com", enumerable: false }),
    Object.defineProperty({ n: 1 }, "targetingKey", { value: 7, enumerable: false }),
    Object.defineProperty({ email: "ann@acme.com" }, "targetingKey", { value: "u-10", enumerable: false }),
    Object.create({ email: "ann@acme.com", n: 1, a2: 2 }, { targetingKey: { value: "u-3", enumerable: true } }),
    new (class { constructor() { this.targetingKey = "u-4"; } get email() { return "ann@acme.com"; } })(),
    { get email() { return "ann@acme.com"; }, targetingKey: "u-5", ...Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`a${i + 1}`, i])) },
    Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`a${i}`, i])),
    // An own name JSON leaves out hides an inherited one of that name.
    Object.defineProperty(Object.create({ email: "ann@acme.com", n: 2 }), "email", { value: "bob@acme.com", enumerable: false }),
    Object.create({ targetingKey: "u-6" }),
    { 0: "a", 7: "b", targetingKey: "u-7", n: 3, email: "ann@acme.com" },
    // Wide objects whose read names come last, one of them left out by JSON.
    { ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`b${i}`, i])), email: "ann@acme.com", targetingKey: "u-8", n: 4 },
    Object.defineProperty({ ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`b${i}`, i])), targetingKey: "u-9" },
      "n", { value: 4, enumerable: false }),
  ];
  const outcome = (fn) => {
    try {
      return { result: fn() };
    } catch (error) {
      return { error: error.message };
    }
  };
  const reads = Object.fromEntries(engine.flagKeys().map((flag, position) => [flag, engine.moduleEngine().attributesRead(position)]));
  assert.deepEqual(reads, {
    "by-key": ["targetingKey"], "by-n": ["n"], "by-name": ["név"], "dotted": ["user", "user.plan"], "email": ["email"],
    "n-below": ["n"], "n-exists": ["n"], "nine": Array.from({ length: 9 }, (_, i) => `a${i + 1}`),
  });
  const stripped = (context, names) => typeof context !== "object" || context === null || typeof context.toJSON === "function"
    ? context
    : Object.fromEntries(Object.entries(context).filter(([name]) => name === "targetingKey" || names.includes(name)));
  let [compared, spared] = [0, 0];
  for (const [index, context] of contexts.entries()) {
    const whole = outcome(() => new PreparedContext(context ?? {}));
    for (const flag of engine.flagKeys()) {
      const prepared = outcome(() => new PreparedContext(stripped(context, reads[flag]) ?? {}));
      const expected = prepared.error === undefined ? outcome(() => engine.evaluatePrepared(flag, prepared.result, NOW)) : prepared;
      const actual = outcome(() => engine.evaluate(flag, context, NOW));
      assert.deepEqual(actual, expected, `${flag} with context #${index}`);
      spared += Number(whole.error !== undefined && actual.error === undefined);
      prepared.result?.free();
      compared += 1;
    }
    whole.result?.free();
  }
  assert.equal(compared, contexts.length * 8);
  // The lone surrogates of contexts #29 and #30 fail a PreparedContext, and `evaluate`
  // of every flag that does not read them: 7 + 8.
  assert.equal(spared, 15);
});

test("flat records the module cannot read are refused, and the engine keeps working", async () => {
  // The wrapper never writes such records; the module must still refuse them cleanly.
  const memory = instance().memory();
  const engine = newEngine();
  engine.load(v1, NOW);
  const [big, beta] = [engine.flagKeys().indexOf("big"), engine.flagKeys().indexOf("beta")];
  // The packed exports answer 1 (packed), 0 (take the general path) or 2 (refused).
  const raw = engine.moduleEngine(); // the module's own engine, which the wrapper keeps to itself
  const refusedFlat = (position, hasKey) => assert.equal(raw.evaluatePackedFlat(position, hasKey, NOW), 2);
  refusedFlat(big, false); // its names were never asked for
  assert.deepEqual(raw.attributesRead(big), ["n"]);
  assert.deepEqual(raw.attributesRead(beta), ["targetingKey"]);
  // The wrapper keeps these buffers' addresses, so only the module's own exports reach them.
  assert.equal(engine.flatBytes, undefined);
  const bytesAt = raw.flatBytes(4);
  const recordsAt = raw.flatRecords(2); // views after both calls: either may grow the memory
  new Uint8Array(memory.buffer, bytesAt, 4).set([0xff, 0xfe, 0x61, 0x62]);
  const records = new Float64Array(memory.buffer, recordsAt, 6);
  const cases = [[9, 0, 0], [5, 1e9, 2], [5, 0, 2], [5, 0.5, 1], [3, 0.5, 0], [3, 2 ** 63, 0], [-1, 0, 0]];
  for (const record of cases) {
    records.set(record, 3);
    refusedFlat(big, false);
    records.set(record, 0); // the targeting key's record, read by `beta`'s targets
    refusedFlat(beta, true);
  }
  records.set([5, 2, 2], 0); // "ab"
  assert.equal(raw.evaluatePackedFlat(beta, true, NOW), 1);
  records.set([3, 5, 0], 3);
  assert.equal(raw.evaluatePackedFlat(big, false, NOW), 1);
  assert.equal(raw.evaluatePackedFlat(big, false, Number.NaN), 2);
  refuses(() => engine.evaluate("big", { n: 5 }, Number.NaN), "invalid_time"); // the general path says why
  assert.equal(engine.evaluate("big", { n: 9007199254740993n }, NOW).variant, "on");
  assert.equal(engine.evaluate("beta", { targetingKey: "ann" }, NOW).variant, "on");
  assert.equal(engine.evaluate("beta", { targetingKey: "ab" }, NOW).variant, "off");
});

test("an engine freed by a getter mid-evaluation says so, and no other engine is rebuilt", async () => {
  const { generation: before } = await import("../../dist/instance.js");
  const [engine, bystander] = [newEngine(), newEngine()];
  engine.load(v1, NOW);
  bystander.load(v1, NOW);
  const context = { get targetingKey() { engine.free(); return "ann"; } };
  assert.throws(() => engine.evaluate("beta", context, NOW), {
    name: "TypeError", message: "pennon: this Engine was freed during the evaluation, by a getter or `toJSON`",
  });
  assert.equal(bystander.evaluate("beta", { targetingKey: "ann" }, NOW).value, true);
  // An array element's getter frees the engine while `load` copies it.
  const freedByBytes = newEngine();
  const bytes = [...v1];
  Object.defineProperty(bytes, 0, { get: () => (freedByBytes.free(), v1[0]) });
  assert.throws(() => freedByBytes.load(bytes, NOW), { name: "TypeError", message: "pennon: this Engine was freed" });
  assert.equal(failure.error, undefined, "not taken for a trap");
  assert.equal(bystander.evaluate("beta", { targetingKey: "ann" }, NOW).value, true);
  const { generation: after } = await import("../../dist/instance.js");
  assert.equal(after, before, "no instance was dropped");
});

test("load reads its argument once: after a trap the engine reloads the bytes it verified, and a detached buffer is a refusal", () => {
  const engine = newEngine();
  let reads = 0;
  const bytes = [...v2];
  // Answers differently the second time it is read, as a buffer another thread writes might.
  const flipping = new Proxy(bytes, { get: (target, name, receiver) => (name === "0" && ++reads > 1 ? 0x20 : Reflect.get(target, name, receiver)) });
  assert.equal(engine.load(flipping, NOW), true);
  assert.equal(reads, 1);
  failure.error = new Error("a trap"); // the next call drops the instance, as after a real trap
  assert.equal(engine.evaluate("beta", { targetingKey: "bob" }, NOW).value, true, "rebuilt from the verified bytes");
  const detached = new Uint8Array(8);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  const other = newEngine();
  refuses(() => other.load(detached, NOW), "malformed_envelope");
  [engine, other].forEach((e) => e.free());
});

test("a nested toJSON that evaluates on the same engine gets its answer, and the instance stays", () => {
  const engine = newEngine();
  const readsX = { type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off", fallthrough: { variant: "off" },
    rules: [{ id: "x", conditions: [{ attribute: "x.plan", op: "equals", value: "pro" }], serve: { variant: "on" } }] };
  engine.load(envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }), readsX })), NOW);
  // A lazily computed attribute that consults another flag.
  const x = () => ({ toJSON: () => ({ plan: engine.evaluate("beta", { targetingKey: "ann" }, NOW).value ? "pro" : "free" }) });
  const before = generation;
  for (let i = 0; i < 3; i++) {
    assert.equal(engine.evaluate("readsX", { targetingKey: "u1", x: x() }, NOW).value, true);
    // An error result takes the JSON path every time: the text already written is used.
    assert.equal(engine.evaluate("readsX", { targetingKey: "u1", x: x() }, NOW, "string").errorCode, "TYPE_MISMATCH");
  }
  assert.equal(generation, before, "no call was taken for a trap");
  engine.free();
});

test("a Date outside years 0 to 9999 is refused as invalid_context for the flags that read it (SPEC 5.1), in every path", () => {
  const engine = newEngine();
  const signedUp = (op) => ({
    type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off", fallthrough: { variant: "off" },
    rules: [{ id: "r", conditions: [{ attribute: "signup", op, value: "2020-01-01T00:00:00Z" }], serve: { variant: "on" } }],
  });
  engine.load(envelope(text(payload(1, { ...flags, early: signedUp("before"), late: signedUp("after") }))), NOW);
  const far = new Date(Date.UTC(20000, 0, 1));
  const bc = new Date(Date.UTC(-1, 0, 1));
  assert.equal(far.toJSON(), "+020000-01-01T00:00:00.000Z");
  // In range: the date's ISO text, compared as a time.
  assert.equal(engine.evaluate("early", { signup: new Date(Date.UTC(2019, 0, 1)) }, NOW).value, true);
  assert.equal(engine.evaluate("late", { signup: new Date(Date.UTC(9999, 11, 31)) }, NOW).value, true);
  for (const [date, shown] of [[far, "+020000-01-01T00:00:00.000Z"], [bc, "-000001-01-01T00:00:00.000Z"]]) {
    for (const context of [{ signup: date }, { targetingKey: "ann", signup: date, big: 1n }]) {
      assert.throws(() => engine.evaluate("late", context, NOW), (error) => isPennonError(error, "invalid_context")
        && error.message.includes(`context field \`signup\`: the date ${shown} is outside years 0 to 9999`));
    }
    refuses(() => new PreparedContext({ signup: date }), "invalid_context");
    // A flag that does not read it is not failed by it.
    assert.equal(engine.evaluate("beta", { targetingKey: "ann", signup: date }, NOW).value, true);
  }
  // The same text as the user's own string is a string, not a date: it is evaluated.
  const asText = engine.evaluate("late", { signup: "+020000-01-01T00:00:00.000Z" }, NOW);
  assert.equal(asText.errorCode, undefined);
  assert.equal(asText.value, false);
  const prepared = new PreparedContext({ signup: "+020000-01-01T00:00:00.000Z", when: new Date(0) });
  assert.equal(engine.evaluatePrepared("late", prepared, NOW).value, false);
  prepared.free();
  engine.free();
});

test("getters that evaluate on the same engine run once per level, and endless re-entry ends in a short refusal", () => {
  const engine = newEngine();
  const reads = {
    type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off", fallthrough: { variant: "off" },
    rules: [{ id: "r", conditions: [{ attribute: "n", op: "exists" }], serve: { variant: "on" } }],
  };
  engine.load(envelope(text(payload(1, { ...flags, reads }))), NOW);
  let calls = 0;
  let level = 0;
  const nested = {
    get n() {
      calls++;
      if (level === 16) return 1;
      level++;
      try {
        return engine.evaluate("reads", nested, NOW).value ? 1 : 0;
      } finally {
        level--;
      }
    },
  };
  assert.equal(engine.evaluate("reads", nested, NOW).value, true);
  assert.equal(calls, 17, "each level's getter read once (it was 2^depth: 196,606 at 16 levels)");
  calls = 0;
  const endless = { get n() { calls++; return engine.evaluate("reads", endless, NOW).value; } };
  assert.throws(() => engine.evaluate("reads", endless, NOW), (error) => isPennonError(error, "invalid_context") && error.message.length < 400);
  // 64 levels, each getter read twice at most (the outer call's flat write, then its
  // JSON path): not the stack's end, whose traps inside the module retried levels below
  // (up to 578,314 calls).
  assert.ok(calls <= 2 * 64 + 1, `${calls} getter calls before the refusal`);
  calls = 0;
  const endlessAll = { get n() { calls++; return engine.evaluateAll(endlessAll, NOW).length; } };
  assert.throws(() => engine.evaluateAll(endlessAll, NOW), (error) => isPennonError(error, "invalid_context") && error.message.length < 400);
  assert.ok(calls <= 64, `${calls} getter calls through evaluateAll`);
  assert.equal(engine.evaluate("reads", { n: 1 }, NOW).value, true, "the engine still works");
  engine.free();
});
