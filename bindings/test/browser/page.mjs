// Runs in Chromium: the package's unbundled ES modules (the browser entry), the
// conformance vectors through the engine and through the web provider via the
// OpenFeature web SDK, trap recovery (`test/shared/traps.mjs`), and localStorage. Reports to `window.__pennon`.
import * as pennon from "pennon";
import { PennonWebProvider } from "pennon/web";
import { OpenFeature } from "@openfeature/web-sdk";
import {
  EVALUATION_FILES, Tally, readEvaluationFile, runBucketing, runEngineVectors, runEnvelopes, runOpenFeatureVectors,
} from "/test/shared/vectors.mjs";
import { base64Bytes, runTraps } from "/test/shared/traps.mjs";

const text = async (path) => {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  return response.text();
};

async function run() {
  const tally = new Tally();
  await pennon.init(); // the default: pennon.wasm fetched next to the package code
  const native = JSON.parse(await text("/native.json")).evaluation;
  const key = (await text("/vectors/keys/test-key-1.public")).trim();
  for (const name of EVALUATION_FILES) {
    const file = readEvaluationFile(await text(`/vectors/evaluation/${name}`));
    runEngineVectors({ pennon, name, file, native, key, tally });
    await runOpenFeatureVectors({ Provider: PennonWebProvider, OpenFeature, web: true, key, domain: name, name, file, native, tally });
  }
  runBucketing({ pennon, text: await text("/vectors/bucketing.json"), tally });
  runEnvelopes({ pennon, text: await text("/vectors/envelopes.json"), tally });
  runTraps({ pennon, envelopes: JSON.parse(await text("/traps.json")).map(base64Bytes), key, tally });

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
