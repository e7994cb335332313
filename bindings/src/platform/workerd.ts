/**
 * Cloudflare Workers (workerd): the module is imported, so the runtime compiles it at
 * deploy time; compiling bytes at run time is forbidden there.
 */

import wasm from "../pennon.wasm";
import type { WasmSource } from "../engine.js";

/** The imported `pennon.wasm`, a precompiled `WebAssembly.Module`. */
export async function defaultWasm(): Promise<WasmSource> {
  return wasm;
}

/** Nothing to resolve: Workers take modules, or fetch URLs. */
export async function resolveWasm(source: WasmSource): Promise<WasmSource> {
  return source;
}
