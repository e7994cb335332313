// A Cloudflare Worker that sets its provider at the module's top level, where Workers
// forbid timers and requests: it serves its bootstrap envelope at once, and its first
// refresh from a request fetches the URL. `PENNON_OPTIONS` is defined at bundle time.
import { PennonServerProvider } from "pennon/workerd";
import { OpenFeature } from "@openfeature/server-sdk";

/* global PENNON_OPTIONS */
const provider = new PennonServerProvider(PENNON_OPTIONS);
OpenFeature.setProvider(provider);
const client = OpenFeature.getClient();

export default {
  async fetch(request) {
    try {
      const { op } = await request.json();
      const outcome = op === "refresh-if-due" ? await provider.refreshIfDue() : undefined;
      const details = await client.getBooleanDetails("beta", false, { targetingKey: "bob" });
      return Response.json({ outcome, value: details.value, errorCode: details.errorCode, status: client.providerStatus });
    } catch (error) {
      return Response.json({ error: `${error?.stack ?? error}` });
    }
  },
};
