// A Cloudflare Worker (run by workerd through miniflare): imports `pennon/workerd`,
// which imports pennon.wasm as a module, and runs the vectors posted to it through the
// engine and through the server provider via the OpenFeature server SDK, polls a URL
// with the runtime's own `fetch`, and cuts its calls short (`test/shared/traps.mjs`),
// in a runtime with `WeakRef` or without, as the compatibility date gives.
import * as pennon from "pennon/workerd";
import { OpenFeature } from "@openfeature/server-sdk";
import {
  Tally, readEvaluationFile, runBucketing, runEngineVectors, runEnvelopes, runOpenFeatureVectors,
} from "../shared/vectors.mjs";
import { base64Bytes, runTraps } from "../shared/traps.mjs";

async function run(request) {
  const { kind, name, text, native, key, envelopes, url } = await request.json();
  const tally = new Tally();
  if (kind === "bucketing") runBucketing({ pennon, text, tally });
  if (kind === "envelopes") runEnvelopes({ pennon, text, tally });
  if (kind === "traps") runTraps({ pennon, envelopes: envelopes.map(base64Bytes), key, tally });
  if (kind === "url") {
    // The README's pattern: no polling, no `fetch` option (the runtime's own), and a
    // refresh when the worker wants one.
    const provider = new pennon.PennonServerProvider({ keys: [key], environment: "test", url, pollIntervalMs: 0 });
    await OpenFeature.setProviderAndWait("url", provider);
    const client = OpenFeature.getClient("url");
    const first = await client.getBooleanValue("beta", false, { targetingKey: "bob" });
    tally.check("workerd: the provider fetches its URL", first === false, () => `version 1 gave bob ${first}`);
    const outcome = await provider.refresh();
    const second = await client.getBooleanValue("beta", false, { targetingKey: "bob" });
    tally.check("workerd: refresh loads the URL's new snapshot", outcome === "updated" && second === true, () => `${outcome}, bob ${second}`);
    await OpenFeature.clearProviders();
  }
  if (kind === "evaluation") {
    const file = readEvaluationFile(text);
    runEngineVectors({ pennon, name, file, native, key, tally });
    await runOpenFeatureVectors({ Provider: pennon.PennonServerProvider, OpenFeature, key, domain: name, name, file, native, tally });
  }
  return tally.toJSON();
}

export default {
  async fetch(request) {
    if ((await request.clone().json()).kind === "runtime") {
      return Response.json({ weakRefs: typeof WeakRef === "function" && typeof FinalizationRegistry === "function" });
    }
    try {
      return Response.json({ result: await run(request) });
    } catch (error) {
      return Response.json({ error: `${error?.stack ?? error}` });
    }
  },
};
