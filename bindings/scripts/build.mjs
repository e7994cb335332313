// Builds the npm package: TypeScript to dist/, plus the wasm-bindgen glue and
// pennon.wasm that wasm/build.sh left in src/wasm/. `npm run build`, and `prepack`: a
// pack or publish builds first, so it never packs a stale or missing dist/.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The classes' `[Symbol.dispose]()` needs `Symbol.dispose`, which only `@types/node` and
 * TypeScript's `esnext.disposable` lib declare: a browser project on `es2022` and `dom`
 * failed without it. This is the declaration both of those make, so it merges with them.
 */
const DISPOSE = `
declare global {
    interface SymbolConstructor {
        readonly dispose: unique symbol;
    }
}
`;

/** Types of the `./pennon.wasm` subpath: `CompiledModule` is a `WebAssembly.Module`. */
const WASM_TYPES = `import type { CompiledModule } from "./engine.js";
declare const wasm: CompiledModule;
export default wasm;
`;

const root = fileURLToPath(new URL("..", import.meta.url));
const generated = `${root}src/wasm/`;
for (const file of ["pennon_wasm.js", "pennon_wasm.d.ts", "pennon.wasm"]) {
  if (!existsSync(generated + file)) {
    console.error(`bindings/src/wasm/${file} is missing: build the WebAssembly module first (wasm/build.sh, at the repository root), then build or pack the package again`);
    process.exit(1);
  }
}
rmSync(`${root}dist`, { recursive: true, force: true });
execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, "-p", root], { stdio: "inherit" });
mkdirSync(`${root}dist/wasm`, { recursive: true });
copyFileSync(generated + "pennon_wasm.js", `${root}dist/wasm/pennon_wasm.js`);
writeFileSync(`${root}dist/wasm/pennon_wasm.d.ts`, withoutGlueInit(readFileSync(generated + "pennon_wasm.d.ts", "utf8")));
copyFileSync(generated + "pennon.wasm", `${root}dist/pennon.wasm`);
// `import wasm from "pennon/pennon.wasm"` (Workers, Vercel Edge's `?module`): a compiled module.
writeFileSync(`${root}dist/pennon.wasm.d.ts`, WASM_TYPES);
// To stderr: under `npm pack --json` (prepack), stdout is the JSON.
console.error("built bindings/dist");

/**
 * The glue's types without its own loader's (`InitInput`, `initSync`, the default
 * export): the package never exposes them (it loads through `src/engine.ts`), and they
 * name DOM types (`RequestInfo`, `BufferSource`, `WebAssembly`) that a Node-only
 * TypeScript project lacks, so checking `dist` there failed (`packaging_tests/typescript/`).
 */
function withoutGlueInit(text) {
  const start = text.indexOf("export type InitInput");
  if (start < 0) {
    console.error("src/wasm/pennon_wasm.d.ts: no `export type InitInput` to cut (a new wasm-bindgen?)");
    process.exit(1);
  }
  return text.slice(0, start) + DISPOSE;
}
