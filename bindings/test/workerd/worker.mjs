// A Cloudflare Worker (run by workerd through miniflare): imports `pennon/workerd`,
// which imports pennon.wasm as a module, and runs the vectors posted to it through the
// engine and through the server provider via the OpenFeature server SDK.
import * as pennon from "pennon/workerd";
import { OpenFeature } from "@openfeature/server-sdk";
import {
  Tally, readEvaluationFile, runBucketing, runEngineVectors, runEnvelopes, runProviderVectors,
} from "../shared/vectors.mjs";

const methods = { boolean: "getBooleanDetails", string: "getStringDetails", number: "getNumberDetails", object: "getObjectDetails" };

async function run(request) {
  const { kind, name, text, native, key } = await request.json();
  const tally = new Tally();
  if (kind === "bucketing") runBucketing({ pennon, text, tally });
  if (kind === "envelopes") runEnvelopes({ pennon, text, tally });
  if (kind === "evaluation") {
    const file = readEvaluationFile(text);
    runEngineVectors({ pennon, name, file, native, key, tally });
    let clock = 0;
    await runProviderVectors({
      name, file, native, tally, group: "server provider (OpenFeature server SDK)",
      open: async (envelope) => {
        const provider = new pennon.PennonServerProvider({ keys: [key], environment: "test", envelope, clock: () => clock, logger: { warn() {} } });
        clock = Date.parse("2026-01-01T00:00:00Z");
        await OpenFeature.setProviderAndWait(name, provider);
        const client = OpenFeature.getClient(name);
        return async (type, flag, context, now, fallback) => {
          clock = now;
          return client[methods[type]](flag, fallback, context);
        };
      },
    });
  }
  return tally.toJSON();
}

export default {
  async fetch(request) {
    try {
      return Response.json({ result: await run(request) });
    } catch (error) {
      return Response.json({ error: `${error?.stack ?? error}` });
    }
  },
};
