// A Worker that only evaluates: `pennon` under the `workerd` condition is the engine
// alone, with pennon.wasm imported as a module, and needs no `nodejs_compat`.
import { Engine } from "pennon";

export default {
  async fetch(request) {
    const { envelope, key } = await request.json();
    const engine = new Engine({ keys: [key], environment: "test" });
    engine.load(new TextEncoder().encode(envelope), Date.parse("2026-01-01T00:00:00Z"));
    const fromEngine = engine.evaluate("bool-static", { targetingKey: "u" }, Date.parse("2026-06-01T00:00:00Z")).value;
    return Response.json({ fromEngine });
  },
};
