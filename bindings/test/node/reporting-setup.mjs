// What the reporting tests share: both providers, each reporting to a telemetry endpoint
// on 127.0.0.1, on a clock the test moves, evaluated through the OpenFeature SDKs.
import { PennonServerProvider } from "pennon/server";
import { PennonWebProvider } from "pennon/web";
import { OpenFeature as ServerOpenFeature } from "@openfeature/server-sdk";
import { OpenFeature as WebOpenFeature } from "@openfeature/web-sdk";
import { boolFlag, envelope, payload, publicKey } from "./sign.mjs";

export const keys = [publicKey(1)];
export const v1 = envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }) }));
export const START = 1_763_800_000_000;
export const ann = { targetingKey: "ann" };
export const bob = { targetingKey: "bob" };

/** Both providers, evaluated as an application would: through their SDKs. */
export const KINDS = {
  server: {
    OpenFeature: ServerOpenFeature,
    Provider: PennonServerProvider,
    details: (client, _domain, kind, flag, context) => client[`get${kind}Details`](flag, kind === "Boolean" ? false : "", context),
  },
  web: {
    OpenFeature: WebOpenFeature,
    Provider: PennonWebProvider,
    details: async (client, domain, kind, flag, context) => {
      if (JSON.stringify(context) !== JSON.stringify(WebOpenFeature.getContext(domain))) await WebOpenFeature.setContext(domain, context);
      return client[`get${kind}Details`](flag, kind === "Boolean" ? false : "");
    },
  },
};

let domains = 0;

/** A provider of `kind` serving v1, reporting to `server`, set in a domain of its own;
 *  `clock.now` moves its clock, `warnings` is what it logged. */
export async function reporting(t, kind, server, extra = {}) {
  const { OpenFeature, Provider, details } = KINDS[kind];
  const clock = { now: START };
  const warnings = [];
  const provider = new Provider({
    keys, environment: "test", envelope: v1, clock: () => clock.now, jitter: 0,
    logger: { warn: (message) => warnings.push(message) },
    telemetry: { url: server.base, sdkKey: "pns_secret" },
    ...extra,
  });
  const domain = `reporting-${++domains}`;
  if (kind === "web") await WebOpenFeature.setContext(domain, ann);
  await OpenFeature.setProviderAndWait(domain, provider);
  t.after(() => OpenFeature.clearProviders());
  const client = OpenFeature.getClient(domain);
  const evaluate = (flag, context = ann, type = "Boolean") => details(client, domain, type, flag, context);
  return { provider, clock, warnings, evaluate, OpenFeature, domain };
}

export async function times(n, evaluate) {
  for (let i = 0; i < n; i++) await evaluate();
}

