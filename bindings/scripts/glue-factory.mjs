// Rewrites wasm-bindgen's glue (`--target web`) as a factory: `createGlue()` returns a
// fresh copy of everything the glue keeps at module level (the instance, its memory
// views, the finalizers of its objects). A trap inside the module (the caller's stack
// running out mid-call, say) leaves the instance in an unknown state, with a borrow
// held or the allocator mid-update, and an ES module cannot be evaluated twice: the
// package's `Engine` (`src/engine.ts`) replaces a trapped instance with a new copy
// instead, and objects of the old one free their memory into the old one only.
//
// Usage: node glue-factory.mjs <wasm-bindgen out dir> <destination dir>
import { readFileSync, writeFileSync } from "node:fs";

const [from, to] = process.argv.slice(2);
const js = readFileSync(`${from}/pennon_wasm.js`, "utf8");
const types = readFileSync(`${from}/pennon_wasm.d.ts`, "utf8");

/** What the factory returns, by the glue's own names. */
const MEMBERS = ["Engine", "PreparedContext", "bucketHash", "bucketPosition", "initSync", "init: __wbg_init"];

function fail(message) {
  console.error(`glue-factory: ${message} (a new wasm-bindgen? see bindings/scripts/glue-factory.mjs)`);
  process.exit(1);
}

const lines = js.split("\n");
const header = [];
while (lines.length > 0 && (lines[0].startsWith("import ") || lines[0].startsWith("/* @ts-self-types") || lines[0].trim() === "")) {
  header.push(lines.shift());
}
const body = lines.join("\n");
const finalExport = "export { initSync, __wbg_init as default };";
if (!body.includes(finalExport)) fail(`no \`${finalExport}\``);
if (!/^let wasmModule, wasmInstance, wasm;$/m.test(body)) fail("no `let wasmModule, wasmInstance, wasm;`");
for (const cache of ["cachedDataViewMemory0", "cachedUint8ArrayMemory0"]) {
  if (!new RegExp(`^let ${cache} = null;$`, "m").test(body)) fail(`no \`let ${cache} = null;\``);
}
const finalizer = /new FinalizationRegistry\(ptr => wasm\./g;
if ((body.match(finalizer) ?? []).length !== 2) fail("not two `new FinalizationRegistry(ptr => wasm.` (Engine, PreparedContext)");
const inner = body
  .replace(finalExport, "")
  .replace(/^export (class|function) /gm, "$1 ")
  // A retired copy's objects are collected without calling into its instance, which
  // may have trapped mid-update.
  .replace(finalizer, "new FinalizationRegistry(ptr => retired || wasm.");
// A compiled module from another realm (the edge sandboxes of `vercel dev` and
// Next.js get one) fails `instanceof`: the glue would compile it again, which those
// runtimes forbid and which fails on a module anyway (`src/compiled-module.ts`).
const moduleCheck = "if (!(module instanceof WebAssembly.Module)) {";
if (inner.split(moduleCheck).length !== 2) fail(`not one \`${moduleCheck}\``);
const crossRealm = inner.replace(moduleCheck, 'if (Object.prototype.toString.call(module) !== "[object WebAssembly.Module]") {');
if (/^export /m.test(crossRealm)) fail(`an export the factory does not know: ${inner.match(/^export .*$/m)[0]}`);
for (const member of MEMBERS) {
  const name = member.split(": ").pop();
  if (!new RegExp(`^(?:async )?(?:class|function) ${name}\\b`, "m").test(inner)) fail(`no \`${name}\``);
}

const indented = crossRealm.replace(/^(?=.)/gm, "    ");
const factory = `${header.join("\n")}
/** A fresh copy of the glue: its own instance once \`initSync\` or \`init\` has run. */
export function createGlue() {
    let retired = false;
${indented}
    return {
        ${MEMBERS.join(",\n        ")},
        memory: () => wasm.memory,
        module: () => wasmModule,
        // Lets go of the instance and its memory: an object of this copy left idle
        // (a prepared context nobody frees) then holds nothing of it.
        retire: () => {
            retired = true;
            wasm = wasmInstance = undefined;
            cachedDataViewMemory0 = cachedUint8ArrayMemory0 = null;
        },
    };
}
`;

const marker = "export type InitInput";
if (!types.includes(marker)) fail(`no \`${marker}\` in the types`);
// After InitInput, so that the package build cuts it with the loader's own types.
const glueTypes = `${types.trimEnd()}

/** One copy of the glue (\`createGlue\`). */
export interface Glue {
    Engine: typeof Engine;
    PreparedContext: typeof PreparedContext;
    bucketHash: typeof bucketHash;
    bucketPosition: typeof bucketPosition;
    initSync: typeof initSync;
    init: typeof __wbg_init;
    /** The instance's memory, once instantiated. */
    memory(): WebAssembly.Memory;
    /** The compiled module, once instantiated. */
    module(): WebAssembly.Module;
    /** Stops this copy's finalizers from calling into its instance, and lets go of it. */
    retire(): void;
}

/** A fresh copy of the glue: only \`createGlue\` is exported at run time. */
export function createGlue(): Glue;
`;

writeFileSync(`${to}/pennon_wasm.js`, factory);
writeFileSync(`${to}/pennon_wasm.d.ts`, glueTypes);
