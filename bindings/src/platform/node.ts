/// <reference types="node" />
/** Node: the default module is read from the package's `pennon.wasm` on disk. */

import { readFile } from "node:fs/promises";
import type { WasmSource } from "../engine.js";

/** The package's own `pennon.wasm`. */
export function defaultWasm(): WasmSource | undefined {
  return new URL("../pennon.wasm", import.meta.url);
}

/**
 * Reads `file:` URLs (as `URL`s or strings, such as `import.meta.resolve` gives) and
 * plain paths (`wasmBinaryPath`); passes other URLs (`https:`, `data:`) through.
 */
export async function resolveWasm(source: WasmSource): Promise<WasmSource> {
  // A scheme of two letters or more (`C:\` is a Windows path): `file:`, `data:`, `https:`.
  if (typeof source === "string" && /^[a-z][a-z0-9+.-]+:/i.test(source)) source = new URL(source);
  if (source instanceof URL ? source.protocol === "file:" : typeof source === "string") {
    return new Uint8Array(await readFile(source as URL | string));
  }
  return source;
}
