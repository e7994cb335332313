/** Browsers and bundlers: the default module is `pennon.wasm` next to the package code. */

import type { WasmSource } from "../engine.js";
import type { CacheFile, CacheFileOptions } from "../cache-dir.js";
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

/**
 * How the notification stream asks caches to pass it through: `cache: "no-store"`,
 * for which the browser adds `Cache-Control: no-cache` itself, after the CORS
 * preflight. Set by the page, that header is not CORS-safelisted: it would need a
 * preflight that allows it, and the control plane's allows `Authorization`,
 * `If-None-Match` and `Last-Event-ID` only.
 */
export const noCache: RequestInit = { cache: "no-store" };

/**
 * How a snapshot request sent without a validator of the provider's asks the browser's
 * HTTP cache to revalidate (`cache: "no-cache"`): the browser adds its own
 * `If-None-Match` or `If-Modified-Since`, which needs no CORS preflight, and on a 304
 * hands the page the cached body, so nothing is downloaded again. Left to the default,
 * it may serve a response with `Last-Modified` and no `Cache-Control` unasked, as fresh
 * for a tenth of its age. The provider so sends `If-Modified-Since` itself only where
 * there is no such cache.
 */
export const httpCache: RequestInit | undefined = { cache: "no-cache" };

/** No file system to keep a cache file in: `cacheDir` is FATAL, saying so. */
export function cacheFile(_options: CacheFileOptions): CacheFile {
  throw new Error("pennon: `cacheDir` keeps the last good snapshot in a file, and this runtime has no file system (an edge runtime or a browser): " +
    "leave it out (in browsers, the web provider's `storage` keeps it)");
}
