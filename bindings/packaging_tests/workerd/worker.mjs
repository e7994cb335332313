// A Worker: `pennon/workerd` imports pennon.wasm as a module; POST an envelope and a key.
// The worker imports it too, as the README shows, and passes it: the same module.
import { Engine, PennonServerProvider } from "pennon/workerd";
import wasm from "pennon/pennon.wasm";
import { OpenFeature } from "@openfeature/server-sdk";

export default {
  async fetch(request) {
    const { envelope, key } = await request.json();
    const bytes = new TextEncoder().encode(envelope);
    const now = Date.parse("2026-06-01T00:00:00Z");
    const engine = new Engine({ keys: [key], environment: "test" });
    engine.load(bytes, Date.parse("2026-01-01T00:00:00Z"));
    const fromEngine = engine.evaluate("bool-static", { targetingKey: "u" }, now).value;
    await OpenFeature.setProviderAndWait(new PennonServerProvider({ keys: [key], environment: "test", envelope: bytes, clock: () => now, wasm }));
    const fromProvider = await OpenFeature.getClient().getBooleanValue("bool-static", false);
    return Response.json({ fromEngine, fromProvider });
  },
};
