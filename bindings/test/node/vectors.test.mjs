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
  EVALUATION_FILES, Tally, readEvaluationFile, runBucketing, runEngineVectors, runEnvelopes, runProviderVectors,
} from "../shared/vectors.mjs";
import { nativeResults, read, report, testKey, vectors } from "./helpers.mjs";

await pennon.init();
const native = nativeResults();
const quiet = { warn() {} };
const methods = { boolean: "getBooleanDetails", string: "getStringDetails", number: "getNumberDetails", object: "getObjectDetails" };

for (const name of EVALUATION_FILES) {
  test(`vectors ${name}`, async (t) => {
    const tally = new Tally();
    const file = readEvaluationFile(read(`${vectors}evaluation/${name}`));
    runEngineVectors({ pennon, name, file, native, key: testKey, tally });
    let clock = 0;
    const options = (envelope) => ({ keys: [testKey], environment: "test", envelope, clock: () => clock, logger: quiet });
    await runProviderVectors({
      name, file, native, tally, group: "server provider (OpenFeature server SDK)",
      open: async (envelope) => {
        clock = Date.parse("2026-01-01T00:00:00Z");
        await ServerOpenFeature.setProviderAndWait(`server-${name}`, new PennonServerProvider(options(envelope)));
        const client = ServerOpenFeature.getClient(`server-${name}`);
        return async (kind, flag, context, now, fallback) => {
          clock = now;
          return client[methods[kind]](flag, fallback, context);
        };
      },
    });
    await runProviderVectors({
      name, file, native, tally, group: "web provider (OpenFeature web SDK)",
      open: async (envelope) => {
        clock = Date.parse("2026-01-01T00:00:00Z");
        await WebOpenFeature.setProviderAndWait(`web-${name}`, new PennonWebProvider(options(envelope)));
        const client = WebOpenFeature.getClient(`web-${name}`);
        return async (kind, flag, context, now, fallback) => {
          clock = now;
          await WebOpenFeature.setContext(`web-${name}`, context);
          return client[methods[kind]](flag, fallback);
        };
      },
    });
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
