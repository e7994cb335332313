// A Cloudflare Worker on `pennon/workerd`, which instantiates the pennon.wasm it imports
// on import: a `wasm` option or an `init` source that is not that module is refused,
// saying why, where it was ignored before. `copy.wasm` is pennon.wasm compiled from
// another copy of the file, `other.wasm` another module.
import { PennonServerProvider, init } from "pennon/workerd";
import wasmModule from "pennon/pennon.wasm";
import copy from "./copy.wasm";
import other from "./other.wasm";

export default {
  async fetch(request) {
    const { form, via, key, envelope } = await request.json();
    const wasm = {
      url: "http://cdn.example.com/pennon.wasm",
      base64: `AGFzbQEAAAAB${"A".repeat(4000)}`,
      bytes: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
      module: wasmModule,
      copy,
      other,
    }[form];
    try {
      if (via === "init") {
        await init(wasm);
        return Response.json({ value: "initialized" });
      }
      const provider = new PennonServerProvider({ keys: [key], environment: "test", envelope, wasm, logger: { warn() {} } });
      await provider.initialize();
      const details = await provider.resolveBooleanEvaluation("beta", false, { targetingKey: "ann" });
      return Response.json({ value: details.value });
    } catch (error) {
      return Response.json({ refused: `${error.name}: ${error.message}` });
    }
  },
};
