// Bundled by esbuild (see bindings/test/packaging.test.mjs): the wasm comes through the
// `pennon/pennon.wasm` subpath and esbuild's file loader, as an app would host it.
import { Engine, init } from "pennon";
import wasmPath from "pennon/pennon.wasm";

/** Evaluates `bool-static` from a vector file's envelope. */
export async function main(envelope, key) {
  await init(new URL(wasmPath, import.meta.url));
  const engine = new Engine({ keys: [key], environment: "test" });
  engine.load(envelope, Date.parse("2026-01-01T00:00:00Z"));
  return engine.evaluate("bool-static", { targetingKey: "u" }, Date.parse("2026-06-01T00:00:00Z")).value;
}
