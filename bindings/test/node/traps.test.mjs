// A call that traps inside the module (here: the caller's stack running out mid-call)
// must not poison the engine. Before `src/instance.ts`, a trap left a borrow held, and
// every later call on that engine threw "recursive use of an object".
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, PreparedContext, bucketHash, init } from "pennon";
import { envelope, payload, publicKey } from "./sign.mjs";
import { generation } from "../../dist/instance.js";

await init();
const NOW = Date.parse("2026-06-01T00:00:00Z");
const flags = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, {
  type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off", fallthrough: { variant: "off" },
  rules: [{
    id: "acme",
    conditions: [{ attribute: "email", op: "matches", value: "^[a-z]+@acme\\.(com|org)$" }],
    serve: { rollout: { variants: [{ variant: "on", weight: 1 }, { variant: "off", weight: 1 }] } },
  }],
}]));
const envelopes = Array.from({ length: 400 }, (_, i) => envelope(payload(i + 1, flags)));
const contexts = ["ann", "bob", "cy", "dee"].map((name) => ({ targetingKey: name, email: `${name}@acme.com` }));

/** What every flag gives each context: the answers a working engine must keep giving. */
function answers(engine, prepared) {
  return contexts.map((context, i) => ({
    fresh: engine.evaluate("f3", context, NOW).variant,
    prepared: engine.evaluatePrepared("f7", prepared[i], NOW).variant,
    all: engine.evaluateAll(context, NOW).map((r) => r.variant).join(""),
  }));
}

/**
 * Calls `call` under ever less of the stack, from where the stack runs out before it,
 * until it has been cut short inside and then finished cleanly 100 times over;
 * `onCut` runs after each cut, back at the top of the stack.
 */
function underShrinkingStack(call, onCut) {
  const at = (depth) => {
    if (depth > 0) return at(depth - 1);
    try {
      call();
      return true;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      return false;
    }
  };
  const outOfStack = (depth) => {
    try {
      at(depth);
      return false;
    } catch {
      return true;
    }
  };
  for (let i = 0; i < 3000; i++) at(50); // optimized frames are smaller: warm up first
  let [low, high] = [0, 1 << 20];
  while (low + 1 < high) {
    const middle = (low + high) >> 1;
    [low, high] = outOfStack(middle) ? [low, middle] : [middle, high];
  }
  let [cuts, clean] = [0, 0];
  for (let depth = high + 50; depth > 0 && clean < 100; depth -= 1) {
    let finished;
    try {
      finished = at(depth);
    } catch {
      continue; // the stack ran out before the call
    }
    if (finished) {
      clean += cuts > 0 ? 1 : 0;
    } else {
      cuts += 1;
      onCut();
    }
  }
  return cuts;
}

for (const [name, call] of [
  // The version already served: verified and parsed in full, then found the same.
  ["load", (engine) => engine.load(envelopes[engine.version() - 1], NOW)],
  ["evaluate", (engine) => engine.evaluate("f3", contexts[0], NOW)],
  ["evaluatePrepared", (engine, prepared) => engine.evaluatePrepared("f7", prepared[0], NOW)],
  ["new PreparedContext", () => new PreparedContext(contexts[1]).free()],
  ["bucketHash", () => bucketHash("salt", "user")],
]) {
  test(`a stack overflow inside ${name} leaves engines and prepared contexts working`, () => {
    const engine = new Engine({ keys: [publicKey(1)], environment: "test" });
    const bystander = new Engine({ keys: [publicKey(1)], environment: "test" });
    assert.equal(engine.load(envelopes[0], NOW), true);
    assert.equal(bystander.load(envelopes[0], NOW), true);
    const prepared = contexts.map((context) => new PreparedContext(context));
    const expected = answers(engine, prepared);
    assert.notEqual(new Set(expected.map((a) => a.all)).size, 1, "contexts land in different buckets");
    const before = generation;
    let checks = 0;
    const cuts = underShrinkingStack(() => call(engine, prepared), () => {
      // Back at the top of the stack: everything answers as before, and loads on.
      const version = engine.version();
      assert.deepEqual(answers(engine, prepared), expected);
      assert.deepEqual(answers(bystander, prepared), expected);
      // The rebuilt engine takes the flat path again, not the general one for ever.
      const moduleEngine = engine.moduleEngine();
      const general = moduleEngine.evaluate;
      let generalCalls = 0;
      moduleEngine.evaluate = (...args) => (generalCalls++, general.apply(moduleEngine, args));
      engine.evaluate("f3", contexts[2], NOW);
      assert.equal(generalCalls, 0, "the flat path after a rebuild");
      moduleEngine.evaluate = general;
      assert.equal(engine.load(envelopes[version], NOW), true, "the next version loads");
      assert.equal(engine.version(), version + 1);
      checks += 1;
    });
    assert.ok(cuts > 0, "some call was cut short");
    assert.ok(generation > before, "a trap replaced the instance at least once");
    assert.ok(checks > 0);
    // The rollback floor survived the replacements.
    assert.throws(() => engine.load(envelopes[0], NOW), { kind: "rollback" });
    for (const context of prepared) context.free();
  });
}
