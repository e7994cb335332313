// Telemetry as both providers record it: counters per flag and variant with errors
// apart, and the bounded exposure queue.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Telemetry, bucketHash, bucketPosition } from "pennon";
import { PennonServerProvider } from "pennon/server";
import { PennonWebProvider } from "pennon/web";
import { envelope, payload, publicKey } from "./sign.mjs";

const keys = [publicKey(1)];
const served = (variant, reason = "SPLIT") => ({ key: "f", variant, reason, metadata: {}, explanation: { snapshotVersion: 1, matched: "fallthrough" } });

test("a capacity that is not a number queues nothing", () => {
  const telemetry = new Telemetry(Number.NaN);
  for (let i = 0; i < 100; i++) telemetry.record(served("on"), "u", 0);
  assert.equal(telemetry.drainExposures().length, 0);
  assert.deepEqual(telemetry.counts().counts, [{ flag: "f", variant: "on", count: 100 }]);
});

test("the exposure queue drains in order in batches, and its bound holds as it is drained", () => {
  const telemetry = new Telemetry(5_000);
  let next = 0;
  const fill = (n) => { for (let i = 0; i < n; i++) telemetry.record(served("on"), `u${next++}`, 0); };
  const users = (batch) => batch.map((exposure) => exposure.targetingKey);
  const range = (from, to) => Array.from({ length: to - from }, (_, i) => `u${from + i}`);
  fill(5_000);
  const first = [];
  for (let i = 0; i < 30; i++) first.push(...users(telemetry.drainExposures(100)));
  assert.deepEqual(first, range(0, 3_000));
  fill(3_001); // 2,000 left + 3,000 fit; the last is dropped
  assert.equal(telemetry.exposuresDropped, 1);
  assert.deepEqual(users(telemetry.drainExposures(0)), []);
  for (const bad of [-5, Number.NaN, null, "all"]) {
    assert.throws(() => telemetry.drainExposures(bad), { name: "TypeError", message: /^pennon: drainExposures takes a number from 0 \(default all\), not (-5|NaN|object|string)$/ });
  }
  assert.deepEqual(users(telemetry.drainExposures(2.9)), ["u3000", "u3001"]);
  assert.deepEqual(users(telemetry.drainExposures()), range(3_002, 8_000));
  assert.deepEqual(telemetry.drainExposures(), []);
  fill(2);
  assert.deepEqual(users(telemetry.drainExposures()), ["u8001", "u8002"]);
});

test("errors are counted apart from every variant, whatever its name, by both providers", async () => {
  const odd = "\u0000errors";
  const flag = { type: "string", enabled: true, variants: { [odd]: "x" }, off_variant: odd, fallthrough: { variant: odd } };
  const options = { keys, environment: "test", envelope: envelope(payload(1, { f: flag })) };
  const server = new PennonServerProvider(options);
  const web = new PennonWebProvider(options);
  await server.initialize();
  await web.initialize({});
  await server.resolveStringEvaluation("f", "", {});
  await server.resolveBooleanEvaluation("f", false, {}); // TYPE_MISMATCH
  web.resolveStringEvaluation("f", "");
  web.resolveBooleanEvaluation("f", false); // TYPE_MISMATCH, answered from the web cache
  const expected = [{ flag: "f", variant: odd, count: 1 }, { flag: "f", count: 1 }];
  assert.deepEqual(server.telemetry.counts().counts, expected, "server");
  assert.deepEqual(web.telemetry.counts().counts, expected, "web");
});

test("web provider: an object value is shared by every read, so it is frozen", async () => {
  const flag = { type: "object", enabled: true, variants: { v: { list: [1, 2], name: "x" } }, off_variant: "v", fallthrough: { variant: "v" } };
  const web = new PennonWebProvider({ keys, environment: "test", envelope: envelope(payload(1, { f: flag })) });
  await web.initialize({});
  const first = web.resolveObjectEvaluation("f", {}).value;
  assert.throws(() => first.list.push(99), TypeError);
  assert.throws(() => (first.name = "changed"), TypeError);
  assert.deepEqual(web.resolveObjectEvaluation("f", {}).value, { list: [1, 2], name: "x" });
});

test("a type mismatch reads the same from both providers: the engine's words and the flag's metadata", async () => {
  const flag = { type: "string", enabled: true, variants: { a: "x" }, off_variant: "a", fallthrough: { variant: "a" }, metadata: { team: "growth" } };
  const options = { keys, environment: "test", envelope: envelope(payload(1, { f: flag })) };
  const server = new PennonServerProvider(options);
  const web = new PennonWebProvider(options);
  await server.initialize();
  await web.initialize({});
  for (const kind of ["Number", "Boolean", "Object"]) {
    const fromServer = await server[`resolve${kind}Evaluation`]("f", null, {});
    const fromWeb = web[`resolve${kind}Evaluation`]("f", null);
    assert.equal(fromServer.errorCode, "TYPE_MISMATCH");
    assert.deepEqual(fromWeb, fromServer, kind);
  }
  // OpenFeature asks for a number; the engine is asked for a float, and says so.
  assert.equal((await server.resolveNumberEvaluation("f", 0, {})).errorMessage, "flag `f` is string, not a number");
  assert.equal(web.resolveNumberEvaluation("f", 0).errorMessage, "flag `f` is string, not a number");
  assert.equal((await server.resolveBooleanEvaluation("f", false, {})).errorMessage, "flag `f` is string, not boolean");
  const provided = { snapshotVersion: 1, version: "1", environment: "test", flagSetId: "test" };
  assert.deepEqual((await server.resolveNumberEvaluation("f", 0, {})).flagMetadata, { team: "growth", ...provided });
});

test("counts are ordered by code point, as the Rust provider orders them (UTF-8 bytes)", () => {
  const telemetry = new Telemetry(0);
  for (const flag of ["\u{1F600}", "\uFFFF", "b", "\uE000", "a\u{10000}", "a\uFFFD"]) telemetry.record({ ...served("on"), key: flag }, "u", 0);
  const order = telemetry.counts().counts.map((c) => c.flag);
  assert.deepEqual(order, ["a\uFFFD", "a\u{10000}", "b", "\uE000", "\uFFFF", "\u{1F600}"]);
  const bytes = order.map((f) => Buffer.from(f));
  assert.deepEqual([...bytes].sort(Buffer.compare), bytes, "the same order as UTF-8 bytes");
});

test("an exposure of a rollout carries the value hashed, read as the engine reads the context, in both providers", async () => {
  const split = (bucket_by) => ({
    type: "string", enabled: true, variants: { a: "A", b: "B" }, off_variant: "a",
    fallthrough: { rollout: { ...(bucket_by && { bucket_by }), variants: [{ variant: "a", weight: 1 }, { variant: "b", weight: 1 }] } },
  });
  const paths = { user: undefined, company: "company.id", since: "since", big: "big", exact: "org.id", boxed: "boxed", custom: "custom" };
  const flags = Object.fromEntries(Object.entries(paths).map(([flag, path]) => [flag, split(path)]));
  flags.fixed = { type: "string", enabled: true, variants: { a: "A" }, off_variant: "a", fallthrough: { variant: "a" } };
  const context = {
    targetingKey: "user-7",
    company: { id: 4200 },
    since: new Date(Date.UTC(2026, 0, 2)), // a Date is its ISO text, as JSON writes it
    big: 2 ** 60, // JSON writes 1152921504606847000, which the engine reads as that integer
    "org.id": 1234567890123456789n, // the exact top-level name wins over the dotted path
    org: { id: "not this" },
    boxed: new String("boxed"),
    custom: { toJSON: () => "from-toJSON" },
  };
  const expected = {
    user: ["targetingKey", "user-7"], company: ["company.id", "4200"], since: ["since", "2026-01-02T00:00:00.000Z"],
    big: ["big", "1152921504606847000"], exact: ["org.id", "1234567890123456789"], boxed: ["boxed", "boxed"],
    custom: ["custom", "from-toJSON"], fixed: [undefined, undefined],
  };
  const options = { keys, environment: "test", envelope: envelope(payload(1, flags)), exposureCapacity: 20, exposures: "all" };
  const server = new PennonServerProvider(options);
  const web = new PennonWebProvider(options);
  await server.initialize();
  await web.initialize(context);
  for (const flag of Object.keys(expected)) {
    await server.resolveStringEvaluation(flag, "", context);
    web.resolveStringEvaluation(flag, "");
  }
  for (const [name, provider] of [["server", server], ["web", web]]) {
    const exposures = provider.telemetry.drainExposures();
    const got = Object.fromEntries(exposures.map((e) => [e.flag, [e.bucketAttribute, e.bucketValue]]));
    assert.deepEqual(got, expected, name);
    for (const e of exposures.filter((e) => e.bucketValue !== undefined)) {
      const position = bucketPosition(bucketHash(e.flag, e.bucketValue), 2);
      assert.equal(e.variant, ["a", "b"][position], `${name}: ${e.flag} hashed ${e.bucketValue}`);
    }
  }
});
