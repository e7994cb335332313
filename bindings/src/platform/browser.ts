/** Browsers and bundlers: the default module is `pennon.wasm` next to the package code. */

import type { WasmSource } from "../engine.js";

/** The package's own `pennon.wasm`, as a URL beside this file. */
export async function defaultWasm(): Promise<WasmSource> {
  try {
    return new URL("../pennon.wasm", import.meta.url);
  } catch {
    throw new Error("pennon: this code has no URL of its own (a script bundle?) to find pennon.wasm beside: pass `wasm`");
  }
}

/**
 * Fetches URLs, so that a page served in place of the module (a dev server's fallback
 * `index.html` where a bundler moved the package's code away from its `pennon.wasm`)
 * is named as such instead of failing to compile as "expected magic word".
 */
export async function resolveWasm(source: WasmSource): Promise<WasmSource> {
  if (typeof source !== "string" && !(source instanceof URL)) return source;
  const response = await fetch(source);
  const type = response.headers.get("content-type") ?? "";
  // A server failing (a 503) is no sign of a misplaced module: the start retries it.
  if (response.status >= 500) throw new Error(`pennon: GET ${String(source)}: HTTP ${response.status}`);
  if (!response.ok || type.startsWith("text/html")) {
    // `permanent`: the start does not retry a misplaced module.
    const message =
      `pennon: ${String(source)} did not serve pennon.wasm (HTTP ${response.status}, ${type || "no content type"}): ` +
      "pass `wasm` with the URL your bundler gives it (Vite: `import wasmUrl from \"pennon/pennon.wasm?url\"`)";
    throw Object.assign(new Error(message), { permanent: true });
  }
  return response;
}
