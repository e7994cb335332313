/**
 * The module at a URL, or in a `Response`, as the glue should get it, in every runtime
 * that fetches it (browsers, bundlers, Node). A page served in place of the module (a
 * dev server's fallback `index.html`, a 404) is named as such instead of failing to
 * compile as "expected magic word", and is not retried; a failing server (a 503) is.
 */

import { clipped } from "../shown.js";

/** WebAssembly's first four bytes, `\0asm`. */
const MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** Fetches `url`; throws a retryable error for a 5xx, a permanent one for any answer
 *  that is not the module. */
export async function fetchWasm(url: string | URL): Promise<Response | Uint8Array> {
  const shown = clipped(url instanceof URL ? `${url.origin}${url.pathname}` : url.split("?")[0]!); // a query may hold a token
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    // Offline, DNS, CORS: a browser says only "Failed to fetch". Retried.
    throw new Error(`pennon: cannot download the WebAssembly module from ${shown}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const type = response.headers.get("content-type") ?? "";
  if (response.ok && !type.startsWith("text/html")) return wasmBody(response, shown);
  // Not read, so cancelled: left alone, each failed retry would hold a socket until
  // the runtime collects it.
  response.body?.cancel().catch(() => {});
  if (response.status >= 500) throw new Error(`pennon: GET ${shown}: HTTP ${response.status}`);
  throw notTheModule(shown, `HTTP ${response.status}, ${type || "no content type"}`);
}

/**
 * A response served as `application/wasm` streams into the compiler. Any other is read
 * into bytes first, and checked: the glue would try to stream it, fail, and log a
 * multi-line warning before reading it anyway.
 */
export async function wasmBody(response: Response, shown = "the `wasm` Response"): Promise<Response | Uint8Array> {
  if (response.headers.get("content-type") === "application/wasm") return response;
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (!MAGIC.every((byte, i) => bytes[i] === byte)) {
    const start = new TextDecoder().decode(bytes.subarray(0, 16)).replace(/\s+/g, " ");
    throw notTheModule(shown, `it starts ${JSON.stringify(start)}`);
  }
  return bytes;
}

/** A permanent error: the start does not retry a misplaced module. */
function notTheModule(shown: string, why: string): Error {
  const message =
    `pennon: ${shown} did not serve pennon.wasm (${why}): ` +
    "pass `wasm` with the URL your bundler gives it (Vite: `import wasmUrl from \"pennon/pennon.wasm?url\"`)";
  return Object.assign(new Error(message), { permanent: true });
}
