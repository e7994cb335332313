/// <reference types="node" />
/** Node: the default module is read from the package's `pennon.wasm` on disk. */

import { existsSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { WasmSource } from "../engine.js";
import { fetchWasm, wasmBody } from "./fetch-wasm.js";
import { clipped } from "../shown.js";

/**
 * The package's own `pennon.wasm`, as bytes: where the package keeps it, or, where a
 * bundler has moved this code away from it (esbuild, Vite SSR, Next.js server bundles),
 * beside the bundle, then where the installed package is found from the working
 * directory. Failing all three, says which option to pass.
 */
export async function defaultWasm(): Promise<WasmSource> {
  const tried = new Map<string, string>();
  for (const candidate of [packaged, besideBundle]) {
    const path = candidate();
    if (path === undefined || tried.has(String(path))) continue;
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      if (isAccessDenied(error)) throw readDenied(fileURLToPath(path), error);
      tried.set(String(path), (error as NodeJS.ErrnoException).code ?? String(error));
    }
  }
  const path = installed();
  if (path !== undefined) {
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      throw isAccessDenied(error) ? readDenied(path, error) : error;
    }
  }
  throw permanent(`pennon: cannot find pennon.wasm, the WebAssembly module: ${whereLooked(tried)}. Pass it as the \`wasm\` ` +
    "option (its path, as `wasmBinaryPath` elsewhere: `wasm: \"/srv/app/pennon.wasm\"`; a `file:` URL; its bytes; or a " +
    "compiled WebAssembly.Module), copy node_modules/pennon/dist/pennon.wasm beside the bundle, or keep pennon out " +
    "of the bundle (esbuild: `external: [\"pennon\"]`; Next.js: `serverExternalPackages: [\"pennon\"]`)");
}

/**
 * Where `defaultWasm` looked, for its error. Bundled, the package's own path is
 * `../pennon.wasm` from the bundle, a directory that never held it: not named, lest it
 * be taken for where the file should go.
 */
function whereLooked(tried: Map<string, string>): string {
  const running = runningFile();
  const installedFrom = `and no installed one was found (node_modules/pennon/dist/pennon.wasm from ${process.cwd()} up)`;
  const shown = (url: URL | undefined) => (url === undefined ? "" : ` (${fileURLToPath(url)}: ${tried.get(String(url)) ?? "not tried"})`);
  if (running === undefined) return `this code has no \`import.meta.url\` (a script bundle), ${installedFrom}`;
  if (/[\\/]dist[\\/]platform[\\/]node\.js$/.test(running)) return `the package's own is missing${shown(packaged())} (a broken install?), ${installedFrom}`;
  return `this code runs bundled, from ${running}, with no pennon.wasm beside it${shown(besideBundle())}, ${installedFrom}`;
}

/** The path of the file this code runs from (the package's, or a bundle's), if known. */
function runningFile(): string | undefined {
  try {
    return import.meta.url.startsWith("file:") ? fileURLToPath(import.meta.url) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The package's `pennon.wasm` (`dist/pennon.wasm`, this file being
 * `dist/platform/node.js`), if this file's URL is a `file:` URL. Written as webpack
 * reads it: webpack emits the file beside its bundle and puts its URL here.
 */
function packaged(): URL | undefined {
  try {
    const url = new URL("../pennon.wasm", import.meta.url);
    return url.protocol === "file:" ? url : undefined;
  } catch {
    return undefined; // no usable `import.meta.url` (a script bundle)
  }
}

/** `pennon.wasm` in the directory of the running file: a bundle's, once this code is
 *  bundled (esbuild keeps `import.meta.url`). */
function besideBundle(): URL | undefined {
  try {
    // Not `new URL("./pennon.wasm", import.meta.url)`: webpack would look for that
    // file at build time, beside this one, and fail the build.
    const base = import.meta.url;
    const url = new URL("pennon.wasm", base);
    return url.protocol === "file:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The installed package's `pennon.wasm`, looked up from the working directory as Node
 * looks up `node_modules`. Not `createRequire(...).resolve`: webpack follows that at
 * build time, and fails parsing the module as its own WebAssembly.
 */
function installed(): string | undefined {
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const path = join(dir, "node_modules", "pennon", "dist", "pennon.wasm");
    try {
      if (existsSync(path)) return path;
    } catch {
      return undefined; // Deno without read access there throws: look no further up
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** An error no retry mends: the start fails at once, naming it. */
function permanent(message: string): Error {
  return Object.assign(new Error(message), { permanent: true });
}

/**
 * Whether the runtime refused a read: Deno's permissions (`NotCapable`; the file's own
 * mode, `PermissionDenied`), Node's permission model (`ERR_ACCESS_DENIED`), the file's
 * mode (`EACCES`). No wait mends it: retried until `initTimeoutMs`, it only delayed
 * the failure, logging it at each try.
 */
function isAccessDenied(error: unknown): boolean {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return name === "NotCapable" || name === "PermissionDenied" || code === "ERR_ACCESS_DENIED" || code === "EACCES";
}

/** The refusal of a read of the module at `path` that `error` denied, saying how to allow it. */
function readDenied(path: string, error: unknown): Error {
  const { name, code } = error as { name?: unknown; code?: unknown };
  const how = name === "NotCapable" ? ` (Deno: \`--allow-read=${path}\`)` : code === "ERR_ACCESS_DENIED" ? ` (Node: \`--allow-fs-read=${path}\`)` : "";
  return permanent(`pennon: read access to pennon.wasm, the WebAssembly module, is denied: ${clipped(path)} (${String(code ?? name)}). ` +
    `Grant read access to that file${how}, or pass the module as the \`wasm\` option (its bytes, or a compiled WebAssembly.Module)`);
}

/**
 * Reads `file:` URLs (as `URL`s or strings, such as `import.meta.resolve` gives) and
 * plain paths (`wasmBinaryPath`); fetches `http:` and `https:`; passes `data:` through.
 */
export async function resolveWasm(source: WasmSource): Promise<WasmSource> {
  // A scheme of two letters or more (`C:\` is a Windows path): `file:`, `data:`, `https:`.
  if (typeof source === "string" && /^[a-z][a-z0-9+.-]+:/i.test(source)) source = new URL(source);
  if (source instanceof URL ? source.protocol === "file:" : typeof source === "string") {
    try {
      return new Uint8Array(await readFile(source as URL | string));
    } catch (error) {
      // A missing file, a directory, no permission: waiting mends none of them.
      if (isAccessDenied(error)) throw readDenied(source instanceof URL ? fileURLToPath(source) : String(source), error);
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw permanent(`pennon: cannot read the WebAssembly module \`wasm\` ${clipped(String(source))} (${code})`);
    }
  }
  // Fetched here, so a failing server is an HTTP error the start retries, not an
  // answer compiled as a module.
  if (source instanceof URL && (source.protocol === "http:" || source.protocol === "https:")) return fetchWasm(source);
  if (typeof Response !== "undefined" && source instanceof Response) return wasmBody(source);
  return source;
}

/** Timers here outlive the call that set them. */
export const requestScoped = false;

/** Statuses whose answer has no body (a `Response` refuses one). */
const BODYLESS = new Set([101, 204, 205, 304]);

/**
 * `fetch(url, init)` over a socket that does not keep the process alive (unref'd), for
 * what a provider does in the background: the reports its timer posts, and the
 * notification stream, open for as long as the provider is. `fetch` gives no hold on
 * its socket, so a report under way to a control plane that never answered held the
 * process for the request timeout after everything else had ended, and a stream would
 * hold it for good. A report someone waits for (a flush, close) goes through `fetch`,
 * which holds the process until it ends. Takes a string body or none; redirects are
 * answered, not followed (as `redirect: "manual"`); `cache` is not read (send
 * `Cache-Control`).
 */
export function detachedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const body = typeof init?.body === "string" ? init.body : undefined;
    const length = body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(body)) };
    const headers = { ...(init?.headers as Record<string, string> | undefined), ...length };
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const options = { method: init?.method ?? (body === undefined ? "GET" : "POST"), headers, signal: init?.signal ?? undefined };
    const request = send(url, options, (answer) => {
      try {
        resolve(response(answer));
      } catch (error) {
        answer.destroy();
        reject(error);
      }
    });
    request.on("socket", (socket) => socket.unref?.());
    request.on("error", reject);
    request.end(body);
  });
}

/** No HTTP cache in `fetch` here: the provider revalidates by `Last-Modified` itself. */
export const httpCache: RequestInit | undefined = undefined;

/** How the notification stream asks caches to pass it through: the header itself. */
export const noCache: RequestInit = { headers: { "Cache-Control": "no-cache" } };

/** `answer` as a `Response`, its body streamed. */
function response(answer: IncomingMessage): Response {
  const status = answer.statusCode ?? 0;
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    for (const each of value === undefined ? [] : [value].flat()) headers.append(name, each);
  }
  if (BODYLESS.has(status)) {
    answer.resume();
    return new Response(null, { status, headers });
  }
  return new Response(Readable.toWeb(answer) as ReadableStream<Uint8Array>, { status, headers });
}

export { cacheFile } from "./node-cache.js";
