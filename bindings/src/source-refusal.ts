/**
 * WebAssembly module sources that can never work, refused up front, by name, rather
 * than read as a path (base64 text failed as a 341,920-byte `ENAMETOOLONG` message) or
 * quietly ignored (a URL given to a Workers entry, which uses its imported module).
 */

import { isCompiledModule } from "./compiled-module.js";
import { shown } from "./shown.js";

/** The module a Workers entry imported and instantiated on import, if one did. */
let entryModule: WebAssembly.Module | undefined;

/** @internal Records that this entry serves `module`, imported: a source given later must be it. */
export function usesOnly(module: WebAssembly.Module): void {
  entryModule = module;
}

/** `\0asm`, the first bytes of every WebAssembly module, as base64 begins it. */
const BASE64_MAGIC = "AGFzbQ";

/**
 * Why `value`, given as the module (`what`: "`wasm`", say), can never be used; undefined
 * if it may be, or is not given. Quotes little of it (`shown`).
 */
export function sourceRefusal(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined; // the entry's default
  if (typeof value === "string" && value.startsWith(BASE64_MAGIC)) {
    return `pennon: ${what} is base64 text ("${value.slice(0, 12)}…", ${value.length} characters), which the package does not take: ` +
      "it never compiles base64 at run time (edge runtimes forbid compiling code they did not ship). Pass the module's bytes " +
      "(decoded from that text), a compiled WebAssembly.Module, or the path or URL of pennon.wasm";
  }
  if (entryModule === undefined || value === entryModule || (isCompiledModule(value) && sameInterface(value as WebAssembly.Module, entryModule))) {
    return undefined;
  }
  const given = isCompiledModule(value) ? "a WebAssembly.Module other than pennon.wasm" : shown(value);
  return `pennon: ${what} is ${given}: in Cloudflare Workers, which compile no WebAssembly at run time, \`pennon/workerd\` ` +
    "(and `pennon` there) uses the pennon.wasm it imports, compiled at deploy time, and can use nothing else: not a URL, a path, " +
    "bytes or a Response. Leave it out (or pass that module: `import wasm from \"pennon/pennon.wasm\"`)";
}

/** Whether `a` and `b` import and export the same names: the same pennon.wasm, compiled from another copy of the file. */
function sameInterface(a: WebAssembly.Module, b: WebAssembly.Module): boolean {
  const names = (module: WebAssembly.Module) =>
    JSON.stringify([WebAssembly.Module.imports(module).map((i) => [i.module, i.name, i.kind]), WebAssembly.Module.exports(module).map((e) => [e.name, e.kind])]);
  return names(a) === names(b);
}
