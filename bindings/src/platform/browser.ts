/** Browsers and bundlers: the default module is `pennon.wasm` next to the package code. */

import type { WasmSource } from "../engine.js";
import { fetchWasm, wasmBody } from "./fetch-wasm.js";

/** The package's own `pennon.wasm`, as a URL beside this file. */
export async function defaultWasm(): Promise<WasmSource> {
  try {
    return new URL("../pennon.wasm", import.meta.url);
  } catch {
    throw new Error("pennon: this code has no URL of its own (a script bundle?) to find pennon.wasm beside: pass `wasm`");
  }
}

/** Fetches URLs (see `fetch-wasm.ts`); reads a `Response` not served as
 *  `application/wasm` into checked bytes. */
export async function resolveWasm(source: WasmSource): Promise<WasmSource> {
  if (typeof source === "string" || source instanceof URL) return fetchWasm(source);
  if (typeof Response !== "undefined" && source instanceof Response) return wasmBody(source);
  return source;
}

/** Timers here outlive the call that set them. */
export const requestScoped = false;

/** No socket to let go of here: reports in the background use `fetch`. */
export const detachedFetch: typeof fetch | undefined = undefined;
