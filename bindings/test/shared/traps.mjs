// Trap recovery, runnable in every runtime (Node, Chromium, workerd, Deno, Bun): a call
// cut short inside the module (the caller's stack running out mid-call) must not
// poison the engine. Before `src/instance.ts`, a trap left a borrow held, and every
// later call on that engine threw "recursive use of an object". Engines differ in how
// their stacks run out (V8's and JavaScriptCore's limits, workerd without `WeakRef`),
// so each runtime cuts its own calls.

const NOW = Date.parse("2026-06-01T00:00:00Z");

/** 20 regex-and-rollout flags: enough work in `load` and `evaluate` to be cut inside. */
export const TRAP_FLAGS = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, {
  type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off", fallthrough: { variant: "off" },
  rules: [{
    id: "acme",
    conditions: [{ attribute: "email", op: "matches", value: "^[a-z]+@acme\\.(com|org)$" }],
    serve: { rollout: { variants: [{ variant: "on", weight: 1 }, { variant: "off", weight: 1 }] } },
  }],
}]));

/** How many versions of `TRAP_FLAGS` a run needs signed: one per cut, and the first. */
export const TRAP_VERSIONS = 400;

const CONTEXTS = ["ann", "bob", "cy", "dee"].map((name) => ({ targetingKey: name, email: `${name}@acme.com` }));

/** What every flag gives each context: the answers a working engine must keep giving. */
function answers(engine, prepared) {
  return CONTEXTS.map((context, i) => ({
    fresh: engine.evaluate("f3", context, NOW).variant,
    prepared: engine.evaluatePrepared("f7", prepared[i], NOW).variant,
    all: engine.evaluateAll(context, NOW).map((r) => r.variant).join(""),
  }));
}

/**
 * Whether `error` is the runtime's "stack ran out" (V8 and JavaScriptCore: a
 * RangeError), or a context refusal naming it: where the stack runs out in
 * `JSON.stringify` under the module's conversion, the module refuses the context.
 */
const isStackOverflow = (error) => error instanceof RangeError || /Maximum call stack size exceeded/.test(error?.message);

/**
 * Calls `call` under ever less of the stack, from where the stack runs out before it,
 * until it has been cut short inside and then finished cleanly 100 times over;
 * `onCut` runs after each cut, back at the top of the stack. Returns the cuts.
 *
 * Code tiering up mid-scan (V8's and JavaScriptCore's, JavaScript and WebAssembly
 * alike) shrinks frames and moves the depths where a call is cut above the scan, so a
 * scan that cut fewer than `enough` calls is run again, up to three times.
 */
function underShrinkingStack(call, onCut, enough = 20) {
  const at = (depth) => {
    // Not `return at(...)`: JavaScriptCore makes that (and `r = at(...); return r`) a
    // tail call, which takes no stack.
    if (depth > 0) return at(depth - 1) === true;
    try {
      call();
      return true;
    } catch (error) {
      if (!isStackOverflow(error)) throw error;
      return false;
    }
  };
  const outOfStack = (depth) => {
    try {
      at(depth);
      return false;
    } catch (error) {
      if (isStackOverflow(error)) return true;
      throw error;
    }
  };
  let cuts = 0;
  for (let scan = 0; scan < 3 && cuts < enough; scan++) {
    for (let i = 0; i < 3000; i++) at(50); // optimized frames are smaller: warm up first
    let [low, high] = [0, 1 << 20];
    while (low + 1 < high) {
      const middle = (low + high) >> 1;
      [low, high] = outOfStack(middle) ? [low, middle] : [middle, high];
    }
    let [scanCuts, clean] = [0, 0];
    for (let depth = high + 50; depth > 0 && clean < 100; depth -= 1) {
      let finished;
      try {
        finished = at(depth);
      } catch (error) {
        if (isStackOverflow(error)) continue; // the stack ran out before the call
        throw error;
      }
      if (finished) {
        clean += scanCuts > 0 ? 1 : 0;
      } else {
        scanCuts += 1;
        onCut();
      }
    }
    cuts += scanCuts;
  }
  return cuts;
}

/** The calls that are cut short, each given the engine and its prepared contexts. */
const TRAP_CALLS = (pennon, envelopes) => [
  // The version already served: verified and parsed in full, then found the same.
  ["load", (engine) => engine.load(envelopes[engine.version() - 1], NOW)],
  ["evaluate", (engine) => engine.evaluate("f3", CONTEXTS[0], NOW)],
  ["evaluatePrepared", (engine, prepared) => engine.evaluatePrepared("f7", prepared[0], NOW)],
  ["new PreparedContext", () => new pennon.PreparedContext(CONTEXTS[1]).free()],
  ["bucketHash", () => pennon.bucketHash("salt", "user")],
];

/** Bytes of base64 `text`, with what every runtime has (`atob`). */
export const base64Bytes = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Cuts every call of `TRAP_CALLS` short at every depth where that is possible and
 * checks, after each cut, back at the top of the stack: the answers of the engine and
 * of a bystander engine, that the flat path is taken again, and that the next version
 * loads; at the end, that the rollback floor survived. `envelopes[i]` is version i + 1
 * of `TRAP_FLAGS`, signed by `key`, for environment `test`.
 */
export function runTraps({ pennon, envelopes, key, tally }) {
  let replaced = false;
  for (const [name, call] of TRAP_CALLS(pennon, envelopes)) {
    const group = `traps: ${name}`;
    const engine = new pennon.Engine({ keys: [key], environment: "test" });
    const bystander = new pennon.Engine({ keys: [key], environment: "test" });
    engine.load(envelopes[0], NOW);
    bystander.load(envelopes[0], NOW);
    const prepared = CONTEXTS.map((context) => new pennon.PreparedContext(context));
    const expected = answers(engine, prepared);
    tally.check(group, new Set(expected.map((a) => a.all)).size > 1, () => "every context landed in the same buckets");
    const first = engine.moduleEngine();
    const cuts = underShrinkingStack(() => call(engine, prepared), () => {
      const version = engine.version();
      const now = answers(engine, prepared);
      tally.check(group, same(now, expected), () => `after a cut: ${JSON.stringify(now)}`);
      const other = answers(bystander, prepared);
      tally.check(group, same(other, expected), () => `the bystander after a cut: ${JSON.stringify(other)}`);
      // The rebuilt engine takes the flat path again, not the general one for ever.
      const moduleEngine = engine.moduleEngine();
      replaced ||= moduleEngine !== first;
      const general = moduleEngine.evaluate;
      let generalCalls = 0;
      moduleEngine.evaluate = (...args) => (generalCalls++, general.apply(moduleEngine, args));
      engine.evaluate("f3", CONTEXTS[2], NOW);
      delete moduleEngine.evaluate;
      tally.check(group, generalCalls === 0, () => `after a cut, ${generalCalls} evaluation(s) through the general path`);
      const next = envelopes[version];
      if (!tally.check(group, next !== undefined, () => `more than ${envelopes.length - 1} cuts: no version left to load`)) return;
      tally.check(group, engine.load(next, NOW) === true && engine.version() === version + 1,
        () => `version ${version + 1} did not load after a cut: now ${engine.version()}`);
    });
    tally.check(group, cuts > 0, () => "no call was cut short inside the module");
    const served = engine.version();
    let floor;
    try {
      engine.load(envelopes[0], NOW);
      floor = `version 1 loaded after version ${served}`;
    } catch (error) {
      floor = error.kind;
    }
    // Every cut loaded a newer version, so version 1 is a rollback now.
    tally.check(group, served === 1 || floor === "rollback", () => `the rollback floor after the cuts: ${floor}`);
    for (const context of prepared) context.free();
    engine.free();
    bystander.free();
  }
  // A cut may come before the module is entered, so not every call's cuts replace it.
  tally.check("traps", replaced, () => "no cut replaced the module's instance");
}
