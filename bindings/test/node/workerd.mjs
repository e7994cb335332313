// Running workers in workerd (miniflare) the way wrangler builds them.
import { readFileSync } from "node:fs";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { repo } from "./helpers.mjs";

/** Bundles a worker (a path, or `{ contents, resolveDir }`) as wrangler would: `.wasm`
 *  imports stay modules of their own, named by their file's name (the package's
 *  `./pennon.wasm` and a worker's `pennon/pennon.wasm` are one module). `define`
 *  replaces globals at bundle time, as wrangler's `define` does. */
export async function bundleWorker(entry, define = {}) {
  const source = typeof entry === "string" ? { entryPoints: [entry] } : { stdin: { ...entry, loader: "js" } };
  const result = await build({
    ...source,
    define,
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["node:*", "async_hooks"],
    logLevel: "silent",
    plugins: [{
      name: "wasm-module",
      setup(b) {
        b.onResolve({ filter: /\.wasm$/ }, (args) => ({ path: args.path.split("/").at(-1), external: true }));
      },
    }],
  });
  return result.outputFiles[0].text;
}

/**
 * The compatibility dates tests run at: before 2025-05-05 a worker has no `WeakRef` or
 * `FinalizationRegistry`, and since then it has both; the package takes either path.
 */
export const COMPATIBILITY_DATES = ["2025-01-01", "2026-04-01"];

/**
 * A miniflare instance running `script` with the package's pennon.wasm beside it (and
 * `wasmModules`, module names to their bytes) and `bindings` as its `env`;
 * `nodejsCompat: false` leaves out the flag the OpenFeature server SDK needs.
 */
export function worker(script, { nodejsCompat = true, bindings = {}, wasmModules = {}, compatibilityDate = COMPATIBILITY_DATES[0] } = {}) {
  const wasm = { "pennon.wasm": readFileSync(`${repo}bindings/dist/pennon.wasm`), ...wasmModules };
  return new Miniflare({
    bindings,
    modules: [
      { type: "ESModule", path: "worker.mjs", contents: script },
      ...Object.entries(wasm).map(([path, contents]) => ({ type: "CompiledWasm", path, contents })),
    ],
    // The OpenFeature server SDK imports node:events and async_hooks.
    compatibilityDate,
    compatibilityFlags: nodejsCompat ? ["nodejs_compat"] : [],
  });
}
