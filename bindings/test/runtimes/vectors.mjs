// The conformance vectors as a plain script, for JavaScript runtimes other than Node:
// Deno (V8 with its own module resolution and Node layer) and Bun (JavaScriptCore,
// Safari's engine). Imports the built package by name, runs every vector through the
// engine and through both providers via the OpenFeature SDKs, and prints the tally as
// JSON. Run by `test/runtimes.test.mjs`:
//   deno run --allow-read=<repo> vectors.mjs <repo>/ <native results> <trap envelopes>
//   bun vectors.mjs <repo>/ <native results> <trap envelopes>
// and cuts calls short (`test/shared/traps.mjs`) with the envelopes given as base64.
import { readFileSync } from "node:fs";
import process from "node:process";
import * as pennon from "pennon";
import { PennonServerProvider } from "pennon/server";
import { PennonWebProvider } from "pennon/web";
import { OpenFeature as ServerOpenFeature } from "@openfeature/server-sdk";
import { OpenFeature as WebOpenFeature } from "@openfeature/web-sdk";
import {
  EVALUATION_FILES, Tally, readEvaluationFile, runBucketing, runEngineVectors, runEnvelopes, runOpenFeatureVectors,
} from "../shared/vectors.mjs";
import { base64Bytes, runTraps } from "../shared/traps.mjs";

const [repo, nativePath, trapsPath] = process.argv.slice(2);
const read = (path) => readFileSync(`${repo}tests/vectors/${path}`, "utf8");

async function run() {
  await pennon.init(); // the package's default: its own pennon.wasm
  const native = JSON.parse(readFileSync(nativePath, "utf8")).evaluation;
  const key = read("keys/test-key-1.public").trim();
  const tally = new Tally();
  for (const name of EVALUATION_FILES) {
    const file = readEvaluationFile(read(`evaluation/${name}`));
    runEngineVectors({ pennon, name, file, native, key, tally });
    const common = { key, name, file, native, tally };
    await runOpenFeatureVectors({ ...common, Provider: PennonServerProvider, OpenFeature: ServerOpenFeature, domain: `server-${name}` });
    await runOpenFeatureVectors({ ...common, Provider: PennonWebProvider, OpenFeature: WebOpenFeature, web: true, domain: `web-${name}` });
  }
  runBucketing({ pennon, text: read("bucketing.json"), tally });
  runEnvelopes({ pennon, text: read("envelopes.json"), tally });
  runTraps({ pennon, envelopes: JSON.parse(readFileSync(trapsPath, "utf8")).map(base64Bytes), key, tally });
  return tally.toJSON();
}

run().then(
  (result) => console.log(JSON.stringify({ result })),
  (error) => console.log(JSON.stringify({ error: `${error?.stack ?? error}` })),
);
