// A Cloudflare Worker that imports `pennon/server` (not `pennon/workerd`) and passes the
// `wasm` option itself: only the imported module can work, as Workers compile nothing at
// run time, and anything else is refused saying so.
import { PennonServerProvider } from "pennon/server";
import wasmModule from "pennon/pennon.wasm";

export default {
  async fetch(request) {
    const { form, key, envelope } = await request.json();
    const wasm = {
      url: new URL("https://cdn.example.com/pennon.wasm"),
      bytes: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
      module: wasmModule,
    }[form];
    const provider = new PennonServerProvider({ keys: [key], environment: "test", envelope, wasm, initTimeoutMs: 500, logger: { warn() {} } });
    try {
      await provider.initialize();
      const details = await provider.resolveBooleanEvaluation("beta", true, { targetingKey: "ann" });
      return Response.json({ value: details.value });
    } catch (error) {
      return Response.json({ refused: String(error?.message ?? error) });
    }
  },
};
