// A Vercel Edge Function (`runtime: "edge"`): imports pennon.wasm with `?module`, as
// Vercel's docs and pennon's README say, and passes it as `wasm`. Runs what is posted to
// it through the engine and the server provider (the OpenFeature server SDK), polls a
// URL with the runtime's own `fetch`, and cuts its calls short (test/shared/traps.mjs).
import wasm from "pennon/pennon.wasm?module";
import * as pennon from "pennon/server";
import { OpenFeature } from "@openfeature/server-sdk";
import {
  Tally, readEvaluationFile, runBucketing, runEngineVectors, runEnvelopes, runOpenFeatureVectors,
} from "../shared/vectors.mjs";
import { base64Bytes, runTraps } from "../shared/traps.mjs";

export const config = { runtime: "edge" };

/** The vectors' providers are made without options for the module: give them `wasm`. */
class Provider extends pennon.PennonServerProvider {
  constructor(options) {
    super({ ...options, wasm });
  }
}

async function run(request) {
  const { kind, name, text, native, key, envelopes, url, headers, environment, flags } = await request.json();
  const tally = new Tally();
  await pennon.init(wasm);
  if (kind === "bucketing") runBucketing({ pennon, text, tally });
  if (kind === "envelopes") runEnvelopes({ pennon, text, tally });
  if (kind === "traps") runTraps({ pennon, envelopes: envelopes.map(base64Bytes), key, tally });
  if (kind === "url") {
    // Per isolate, no polling, a refresh when the function wants one (the README's pattern).
    const provider = new Provider({ keys: [key], environment, url, headers, pollIntervalMs: 0 });
    await OpenFeature.setProviderAndWait("url", provider);
    const client = OpenFeature.getClient("url");
    const values = {};
    for (const [flag, type, fallback] of flags) values[flag] = await client[`get${type}Value`](flag, fallback, { targetingKey: "user-42" });
    const outcome = await provider.refresh();
    await OpenFeature.clearProviders();
    return { values, outcome };
  }
  if (kind === "evaluation") {
    const file = readEvaluationFile(text);
    runEngineVectors({ pennon, name, file, native, key, tally });
    await runOpenFeatureVectors({ Provider, OpenFeature, key, domain: name, name, file, native, tally });
  }
  return { result: tally.toJSON() };
}

export default async function handler(request) {
  try {
    return Response.json(await run(request));
  } catch (error) {
    return Response.json({ error: `${error?.stack ?? error}` });
  }
}
