/**
 * Cloudflare Workers (workerd): the module is imported, so the runtime compiles it at
 * deploy time; compiling bytes at run time is forbidden there.
 */

import wasm from "../workerd-wasm.js";
import type { WasmSource } from "../engine.js";
import type { CacheFile, CacheFileOptions } from "../cache-dir.js";
import { isCompiledModule } from "../compiled-module.js";

/** The imported `pennon.wasm`, a precompiled `WebAssembly.Module`. */
export async function defaultWasm(): Promise<WasmSource> {
  return wasm;
}

/**
 * A compiled module as given. Anything else (a URL, a path, bytes, a `Response`) would
 * be compiled here, which workerd refuses with V8's bare "Wasm code generation
 * disallowed by embedder": refused up front, saying what works, and never retried.
 */
export async function resolveWasm(source: WasmSource): Promise<WasmSource> {
  if (isCompiledModule(source)) return source;
  const message = "pennon: Cloudflare Workers cannot compile WebAssembly at run time, so `wasm` must be the imported module " +
    "(`import wasm from \"pennon/pennon.wasm\"`, which wrangler compiles at deploy time), or leave it out: not a URL, a path, bytes or a Response";
  throw Object.assign(new Error(message), { permanent: true });
}

/** workerd ends a request's timers and fetches with it (they never fire or settle after): work there is done inside requests (`refreshIfDue` under `ctx.waitUntil`), and a timer is never relied on. */
export const requestScoped = true;

/** No socket to let go of here: reports use `fetch`, inside requests. */
export const detachedFetch: typeof fetch | undefined = undefined;

/** No HTTP cache of the client's here: the provider revalidates by `Last-Modified` itself. */
export const httpCache: RequestInit | undefined = undefined;

/** Never used: no stream can outlive a request here, so `notificationUrl` is refused. */
export const noCache: RequestInit = { headers: { "Cache-Control": "no-cache" } };

/** No file system to keep a cache file in: `cacheDir` is FATAL, saying so. */
export function cacheFile(_options: CacheFileOptions): CacheFile {
  throw new Error("pennon: `cacheDir` keeps the last good snapshot in a file, and Cloudflare Workers have no file system: " +
    "leave it out (a bootstrap `envelope`, from KV say, serves while the URL is down)");
}
