// A compiled module from another realm, as `vercel dev` and Next.js hand their edge
// sandboxes a `?module` import compiled in Node's realm: `instanceof WebAssembly.Module`
// denies it, `WebAssembly.instantiate` takes it. (A file of its own: `init` runs once
// per process.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";
import { Engine, init } from "pennon";
import { PennonServerProvider } from "pennon/server";
import { boolFlag, envelope, payload, publicKey } from "./sign.mjs";
import { failure, generation } from "../../dist/instance.js";

const NOW = Date.parse("2026-06-01T00:00:00Z");
const bytes = readFileSync(new URL("../../dist/pennon.wasm", import.meta.url));
const foreign = vm.runInNewContext("new WebAssembly.Module(bytes)", { bytes });

test("a module compiled in another realm is taken, and instantiated again after a trap", async () => {
  assert.equal(foreign instanceof WebAssembly.Module, false, "another realm's module");
  // The provider's option check takes it too.
  const provider = new PennonServerProvider({ keys: [publicKey(1)], environment: "test", wasm: foreign, envelope: envelope(payload(1, {})) });
  await provider.onClose();
  await init(foreign);
  const engine = new Engine({ keys: [publicKey(1)], environment: "test" });
  engine.load(envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }) })), NOW);
  assert.equal(engine.evaluate("beta", { targetingKey: "ann" }, NOW).value, true);
  // A trap drops the instance; the next call instantiates the kept module again.
  const before = generation;
  failure.error = new Error("a trap");
  assert.equal(engine.evaluate("beta", { targetingKey: "bob" }, NOW).value, false);
  const { generation: after } = await import("../../dist/instance.js");
  assert.equal(after, before + 1, "a new instance of the foreign module");
  engine.free();
});
