import { PennonServerProvider } from "pennon/workerd";
let provider;
let envelopeText;
export default {
  async fetch(request) {
    try {
      const body = await request.json();
      if (!provider) {
        provider = new PennonServerProvider({ keys: [body.key], environment: "test", envelope: body.envelope, pollIntervalMs: 0 });
        await provider.initialize();
      }
      const outcome = await provider.refresh();
      const d = await provider.resolveBooleanEvaluation("steady", false, { targetingKey: "u" });
      return Response.json({ outcome, value: d.value, reason: d.reason });
    } catch (error) {
      return Response.json({ error: `${error?.stack ?? error}` });
    }
  },
};
