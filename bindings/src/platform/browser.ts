/** Browsers and bundlers: the default module is `pennon.wasm` next to the package code. */

import type { WasmSource } from "../engine.js";

/** The package's own `pennon.wasm`, as a URL beside this file. */
export function defaultWasm(): WasmSource | undefined {
  return new URL("../pennon.wasm", import.meta.url);
}

/** Browsers fetch URLs themselves: nothing to resolve. */
export async function resolveWasm(source: WasmSource): Promise<WasmSource> {
  return source;
}
