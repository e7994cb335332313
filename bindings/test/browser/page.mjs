// Runs in Chromium: the package's unbundled ES modules (the browser entry), the
// conformance vectors through the engine and through the web provider via the
// OpenFeature web SDK, and localStorage. Reports to `window.__pennon`.
import * as pennon from "pennon";
import { PennonWebProvider } from "pennon/web";
import { OpenFeature } from "@openfeature/web-sdk";
import {
  EVALUATION_FILES, Tally, readEvaluationFile, runBucketing, runEngineVectors, runEnvelopes, runProviderVectors,
} from "/test/shared/vectors.mjs";

const text = async (path) => {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  return response.text();
};
const methods = { boolean: "getBooleanDetails", string: "getStringDetails", number: "getNumberDetails", object: "getObjectDetails" };

async function run() {
  const tally = new Tally();
  await pennon.init(); // the default: pennon.wasm fetched next to the package code
  const native = JSON.parse(await text("/native.json")).evaluation;
  const key = (await text("/vectors/keys/test-key-1.public")).trim();
  let clock = 0;
  for (const name of EVALUATION_FILES) {
    const file = readEvaluationFile(await text(`/vectors/evaluation/${name}`));
    runEngineVectors({ pennon, name, file, native, key, tally });
    await runProviderVectors({
      name, file, native, tally, group: "web provider (OpenFeature web SDK)",
      open: async (envelope) => {
        clock = Date.parse("2026-01-01T00:00:00Z");
        const provider = new PennonWebProvider({ keys: [key], environment: "test", envelope, clock: () => clock, logger: { warn() {} } });
        await OpenFeature.setProviderAndWait(name, provider);
        const client = OpenFeature.getClient(name);
        return async (kind, flag, context, now, fallback) => {
          clock = now;
          await OpenFeature.setContext(name, context);
          return client[methods[kind]](flag, fallback);
        };
      },
    });
  }
  runBucketing({ pennon, text: await text("/vectors/bucketing.json"), tally });
  runEnvelopes({ pennon, text: await text("/vectors/envelopes.json"), tally });

  // localStorage keeps the last good envelope.
  localStorage.clear();
  const file = readEvaluationFile(await text("/vectors/evaluation/basics.json"));
  const stored = new PennonWebProvider({ keys: [key], environment: "test", envelope: file.envelope, storage: true, clock: () => Date.parse("2026-06-01T00:00:00Z") });
  await OpenFeature.setProviderAndWait("storage", stored);
  tally.check("web provider: localStorage", (localStorage.getItem("pennon:test") ?? "").includes("payloadType"), () => "nothing stored");
  return tally.toJSON();
}

run().then(
  (result) => (window.__pennon = { result }),
  (error) => (window.__pennon = { error: `${error?.stack ?? error}` }),
);
