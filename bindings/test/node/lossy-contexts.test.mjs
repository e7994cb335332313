// Contexts holding what JSON writes as `{}` though it holds something: a `Map`, a `Set`
// and the like. Each is refused as INVALID_CONTEXT, naming where it is, on every path
// (a fresh object, a prepared context, `evaluateAll`, both providers), instead of being
// evaluated as an empty object that silently matches no targeting.
import { test } from "node:test";
import assert from "node:assert/strict";
import vm from "node:vm";
import { Engine, PreparedContext, init, isPennonError } from "pennon";
import { PennonServerProvider } from "pennon/server";
import { PennonWebProvider } from "pennon/web";
import { OpenFeature as ServerOpenFeature } from "@openfeature/server-sdk";
import { OpenFeature as WebOpenFeature } from "@openfeature/web-sdk";
import { envelope, payload, publicKey } from "./sign.mjs";
import { quiet } from "./snapshot-server.mjs";

await init();
const NOW = Date.parse("2026-06-01T00:00:00Z");
const keys = [publicKey(1)];
const rule = (...conditions) => ({ type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off",
  fallthrough: { variant: "off" }, rules: [{ id: "r", conditions, serve: { variant: "on" } }] });
const flags = {
  beta: rule({ attribute: "targetingKey", op: "equals", value: "ann" }),
  grouped: rule({ attribute: "groups", op: "exists" }),
  pro: rule({ attribute: "user.plan", op: "equals", value: "pro" }),
};
const v1 = envelope(payload(1, flags));
const newEngine = () => {
  const engine = new Engine({ keys, environment: "test" });
  engine.load(v1, NOW);
  return engine;
};
const refusal = (fn) => {
  try {
    fn();
  } catch (error) {
    return isPennonError(error, "invalid_context") ? error.message : `not an invalid_context refusal: ${error}`;
  }
  return "no refusal";
};
/** The refusal's words for `kind` at `where` (`the context`, or a field's path). */
const refused = (where, kind) => new RegExp(`^invalid_context: .*${where === "" ? "the context" : `context field \`${where.replace(/[.[\]]/g, "\\$&")}\``} is a ${kind}, which JSON writes as \\{\\}`);

test("a Map, a Set and other built-ins JSON writes as {} are refused, naming where, on every engine path", () => {
  const engine = newEngine();
  const values = [
    ["Map", new Map([["admins", true]])],
    ["Set", new Set(["admins"])],
    ["Map", new Map()], // empty too: whether it fails must not depend on what it holds
    ["Map", vm.runInNewContext("new Map([['admins', true]])")], // another realm's
    ["WeakMap", new WeakMap()],
    ["RegExp", /admins/],
    ["Error", new Error("admins")],
    ["ArrayBuffer", new ArrayBuffer(8)],
  ];
  for (const [kind, value] of values) {
    const context = { targetingKey: "ann", groups: value };
    for (const [path, run] of [
      ["evaluate", () => engine.evaluate("grouped", context, NOW)],
      ["prepared", () => new PreparedContext(context)],
      ["evaluateAll", () => engine.evaluateAll(context, NOW)],
    ]) {
      assert.match(refusal(run), refused("groups", kind), `${kind} in ${path}`);
    }
    // A flag that does not read it is not failed by it.
    assert.equal(engine.evaluate("beta", context, NOW).value, true, kind);
  }
  // The whole context, which the flat write would otherwise have read as empty.
  for (const [kind, context] of [["Map", new Map([["targetingKey", "ann"]])], ["Set", new Set(["ann"])]]) {
    for (const run of [() => engine.evaluate("beta", context, NOW), () => new PreparedContext(context), () => engine.evaluateAll(context, NOW)]) {
      assert.match(refusal(run), refused("", kind));
    }
  }
  // Deeper: the path says where, and what to pass instead.
  const nested = { targetingKey: "ann", user: new Map([["plan", "pro"]]) };
  assert.match(refusal(() => engine.evaluate("pro", nested, NOW)), /context field `user` is a Map, .*: pass a plain object \(`Object\.fromEntries\(map\)`\)$/);
  assert.match(refusal(() => engine.evaluate("grouped", { groups: [["a"], new Set(["b"])] }, NOW)), /context field `groups\[1\]` is a Set, .*: pass an array \(`\[\.\.\.set\]`\)$/);
  assert.match(refusal(() => engine.evaluate("pro", { user: { plan: "pro", teams: { ids: new Set() } } }, NOW)), refused("user.teams.ids", "Set"));
  assert.match(refusal(() => engine.evaluate("grouped", { groups: { toJSON: () => new Map() } }, NOW)), refused("groups", "Map"), "what toJSON gives is what is written");
  engine.free();
});

test("what JSON writes faithfully is evaluated as before: empty objects, the text {}, class instances, typed arrays", () => {
  const engine = newEngine();
  /** What the context's JSON text gives, through the core's own reader. */
  const viaJson = (flag, context) => {
    const prepared = PreparedContext.fromJson(JSON.stringify(context));
    try {
      return engine.evaluatePrepared(flag, prepared, NOW);
    } finally {
      prepared.free();
    }
  };
  const contexts = [
    { targetingKey: "ann", groups: {} },
    { targetingKey: "ann", groups: "{}" },
    { targetingKey: "ann", groups: new (class Empty {})() },
    { targetingKey: "ann", groups: new Uint8Array([1, 2]) }, // JSON writes its elements
    { targetingKey: "ann", user: new (class User { plan = "pro"; })() },
  ];
  for (const context of contexts) {
    for (const flag of ["beta", "grouped", "pro"]) {
      const fresh = engine.evaluate(flag, context, NOW);
      assert.equal(fresh.errorCode, undefined, `${flag}: ${fresh.errorDetails}`);
      assert.deepEqual(fresh, viaJson(flag, context), flag);
      assert.deepEqual(engine.evaluateAll(context, NOW).find((r) => r.key === flag), fresh, flag);
    }
  }
  assert.equal(engine.evaluate("pro", contexts[4], NOW).value, true);
  engine.free();
});

test("providers: a Map in the context is INVALID_CONTEXT for the flags that read it, saying where", async () => {
  const server = new PennonServerProvider({ keys, environment: "test", envelope: v1, logger: quiet });
  await ServerOpenFeature.setProviderAndWait("lossy", server);
  const client = ServerOpenFeature.getClient("lossy");
  const context = { targetingKey: "ann", groups: new Map([["admins", true]]) };
  const served = await client.getBooleanDetails("grouped", true, context);
  assert.deepEqual([served.value, served.errorCode], [true, "INVALID_CONTEXT"]);
  assert.match(served.errorMessage, refused("groups", "Map"));
  assert.equal(await client.getBooleanValue("beta", false, context), true, "a flag that does not read it");

  const web = new PennonWebProvider({ keys, environment: "test", envelope: v1, logger: quiet });
  await WebOpenFeature.setProviderAndWait("lossy", web);
  const reads = WebOpenFeature.getClient("lossy");
  await WebOpenFeature.setContext("lossy", context);
  const read = reads.getBooleanDetails("grouped", true);
  assert.deepEqual([read.value, read.errorCode], [true, "INVALID_CONTEXT"]);
  assert.match(read.errorMessage, refused("groups", "Map"));
  assert.equal(reads.getBooleanValue("beta", false), true);
  // The web SDK hands the provider the context as given: a Map as the whole of it.
  await WebOpenFeature.setContext("lossy", new Map([["targetingKey", "ann"]]));
  const whole = reads.getBooleanDetails("beta", false);
  assert.equal(whole.errorCode, "INVALID_CONTEXT");
  assert.match(whole.errorMessage, refused("", "Map"));
  await ServerOpenFeature.clearProviders();
  await WebOpenFeature.clearProviders();
});
