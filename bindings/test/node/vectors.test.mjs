// The conformance vectors in Node, through the built package: the engine (identity
// with native Rust), the server provider and the web provider via the OpenFeature SDKs.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pennon from "pennon";
import { PennonServerProvider } from "pennon/server";
import { PennonWebProvider } from "pennon/web";
import { OpenFeature as ServerOpenFeature } from "@openfeature/server-sdk";
import { OpenFeature as WebOpenFeature } from "@openfeature/web-sdk";
import {
  EVALUATION_FILES, Tally, readEvaluationFile, runBucketing, runEngineVectors, runEnvelopes, runOpenFeatureVectors,
} from "../shared/vectors.mjs";
import { nativeResults, read, report, testKey, vectors } from "./helpers.mjs";

await pennon.init();
const native = nativeResults();

for (const name of EVALUATION_FILES) {
  test(`vectors ${name}`, async (t) => {
    const tally = new Tally();
    const file = readEvaluationFile(read(`${vectors}evaluation/${name}`));
    runEngineVectors({ pennon, name, file, native, key: testKey, tally });
    const common = { key: testKey, name, file, native, tally };
    await runOpenFeatureVectors({ ...common, Provider: PennonServerProvider, OpenFeature: ServerOpenFeature, domain: `server-${name}` });
    await runOpenFeatureVectors({ ...common, Provider: PennonWebProvider, OpenFeature: WebOpenFeature, web: true, domain: `web-${name}` });
    report(t, tally);
    assert.equal(tally.failed, 0, tally.failures.join("\n"));
  });
}

test("vectors bucketing.json", (t) => {
  const tally = new Tally();
  runBucketing({ pennon, text: read(`${vectors}bucketing.json`), tally });
  report(t, tally);
  assert.equal(tally.failed, 0, tally.failures.join("\n"));
});

test("vectors envelopes.json", (t) => {
  const tally = new Tally();
  runEnvelopes({ pennon, text: read(`${vectors}envelopes.json`), tally });
  report(t, tally);
  assert.equal(tally.failed, 0, tally.failures.join("\n"));
});
