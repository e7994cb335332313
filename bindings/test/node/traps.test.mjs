// A call that traps inside the module (here: the caller's stack running out mid-call)
// must not poison the engine (`test/shared/traps.mjs`, which Chromium, workerd, Deno
// and Bun run too). Node also checks that the instance was replaced, by generation.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pennon from "pennon";
import { publicKey, trapEnvelopes } from "./sign.mjs";
import { generation } from "../../dist/instance.js";
import { Tally } from "../shared/vectors.mjs";
import { runTraps } from "../shared/traps.mjs";

await pennon.init();

test("a stack overflow inside any call leaves engines and prepared contexts working", (t) => {
  const tally = new Tally();
  const before = generation;
  runTraps({ pennon, envelopes: trapEnvelopes(), key: publicKey(1), tally });
  for (const [name, { passed }] of Object.entries(tally.groups)) t.diagnostic(`${name}: ${passed} checks`);
  assert.equal(tally.failed, 0, tally.failures.join("\n"));
  assert.ok(generation > before + 5, `only ${generation - before} replacements of the instance`);
});
