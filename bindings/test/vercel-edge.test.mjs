// Vercel Edge Functions, emulated with Vercel's own edge runtime (`@edge-runtime/vm` 5.0.0, the VM of `edge-runtime` 4.0.1): the function
// is bundled as `vercel dev` bundles it (vercel/vercel packages/node/src/edge-functions/:
// esbuild, platform "browser", format "cjs", `.wasm?module` imports as global
// `WebAssembly.Module` bindings, `node:events`/`async_hooks` as globals) and run in an
// EdgeRuntime that, like Vercel Edge, forbids compiling WebAssembly (codeGeneration
// { strings: false, wasm: false }). Runs the vectors through the engine and the server
// provider, cuts calls short (traps), and fetches a snapshot from a real `pennon serve`.
//
// Twice: with the module compiled in Node's realm and handed to the sandbox, as
// `vercel dev` and `next dev` do (where `instanceof WebAssembly.Module` is false), and
// with it re-parented onto the sandbox's own `WebAssembly.Module`, as a deployed
// function is assumed to get it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInContext } from "node:vm";
import { build } from "esbuild";
import { EdgeVM } from "@edge-runtime/vm"; // what `edge-runtime` exports as EdgeRuntime
import { EVALUATION_FILES, Tally } from "./shared/vectors.mjs";
import { nativeResults, read, repo, report, testKey, vectors } from "./node/helpers.mjs";
import { trapEnvelopesBase64 } from "./node/sign.mjs";

const require = createRequire(import.meta.url);
const pennonBin = process.env.PENNON_BIN ?? `${repo}target/debug/pennon`;

/** The function bundled as `vercel dev` does; returns the code and its wasm bindings. */
async function bundle(entry) {
  const wasmFiles = new Map();
  const nodeBindings = {};
  const compat = ["buffer", "events", "assert", "util", "async_hooks"];
  const result = await build({
    entryPoints: [entry], platform: "browser", format: "cjs", bundle: true, write: false, target: "node20", logLevel: "error",
    plugins: [
      { name: "vercel-wasm", setup(b) {
        b.onResolve({ filter: /\.wasm\?module/i }, async (data) => {
          const { path } = await b.resolve(data.path.replace(/\?module$/, ""), { importer: data.importer, resolveDir: data.resolveDir, kind: "entry-point" });
          const name = `wasm_${createHash("sha1").update(readFileSync(path)).digest("hex")}`;
          wasmFiles.set(name, path);
          return { path: name, namespace: "vercel-wasm" };
        });
        b.onLoad({ filter: /.+/, namespace: "vercel-wasm" }, (args) => ({ loader: "js", contents: `export default globalThis[${JSON.stringify(args.path)}]` }));
      } },
      { name: "vc-node-compat", setup(b) {
        b.onResolve({ filter: new RegExp(`^(?:node:)?(?:${compat.join("|")})$`) }, (args) => ({ namespace: "vercel-node-compat", path: args.path }));
        b.onLoad({ filter: /.+/, namespace: "vercel-node-compat" }, (args) => {
          const name = args.path.replace(/^node:/, "");
          nodeBindings[`__vc_node_${name}__`] = require(`node:${name}`);
          return { loader: "js", contents: `module.exports = __vc_node_${name}__;` };
        });
      } },
    ],
  });
  return { code: result.outputFiles[0].text, wasmFiles, nodeBindings };
}

/** An EdgeRuntime that cannot compile WebAssembly, running `code` as the function;
 *  its `?module` imports are compiled in Node's realm, and re-parented when `realm` is
 *  `"same"`. */
function edge({ code, wasmFiles, nodeBindings }, realm) {
  const runtime = new EdgeVM({
    codeGeneration: { strings: false, wasm: false },
    extend: (context) => {
      const modules = {};
      for (const [name, path] of wasmFiles) {
        modules[name] = new WebAssembly.Module(readFileSync(path)); // the realm itself may not compile
        // As deployed, the module is the function's own realm's (emulated by re-parenting it).
        if (realm === "same") Object.setPrototypeOf(modules[name], runInContext("WebAssembly.Module.prototype", context));
      }
      return Object.assign(context, { module: {}, process: { env: {} }, ...nodeBindings, ...modules });
    },
  });
  runtime.evaluate(`"use strict";\n${code};\nconst userModule = module.exports;
    addEventListener("fetch", (event) => event.respondWith(userModule.default(event.request)));`);
  return runtime;
}

/** `pennon serve` in a fresh directory, with one boolean and one string flag enabled in development. */
async function pennonServe(t) {
  const dir = mkdtempSync(join(tmpdir(), "pennon-vercel-"));
  const child = spawn(pennonBin, ["serve", "--listen", "127.0.0.1:0"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => { child.kill(); rmSync(dir, { recursive: true, force: true }); });
  let out = "";
  await new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => { out += chunk; if (/listening on/.test(out)) resolve(); });
    child.on("exit", (code) => reject(new Error(`pennon serve exited (${code}): ${out}`)));
  });
  const grab = (re) => out.match(re)[1];
  const server = { url: `http://${grab(/listening on (\S+)/)}`, key: grab(/signing key:\s+(\S+)/), sdkKey: grab(/server SDK key: (\S+)/) };
  const env = { ...process.env, PENNON_URL: server.url, PENNON_TOKEN: grab(/admin token: (\S+)/) };
  const cli = (...args) => new Promise((resolve, reject) => {
    const c = spawn(pennonBin, args, { env, stdio: "ignore" });
    c.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`pennon ${args.join(" ")}: ${code}`))));
  });
  await cli("flags", "create", "new-checkout", "--type", "boolean");
  await cli("flags", "enable", "new-checkout", "--env", "development");
  await cli("flags", "create", "banner", "--type", "string", "--variants", '{"a":"hello","b":"world"}');
  await cli("flags", "enable", "banner", "--env", "development");
  return server;
}

for (const realm of ["host", "same"]) test(`Vercel Edge (edge-runtime, no WebAssembly compiling, a ${realm}-realm module): vectors, traps, pennon serve`, {
  skip: !existsSync(pennonBin) && `${pennonBin} is missing: cargo build --bin pennon`,
}, async (t) => {
  const native = nativeResults();
  const runtime = edge(await bundle(new URL("./vercel/edge-function.mjs", import.meta.url).pathname), realm);
  const compile = runtime.evaluate(`(() => { try { new WebAssembly.Module(new Uint8Array([0,97,115,109,1,0,0,0])); return "allowed"; } catch (e) { return e.message; } })()`);
  assert.match(compile, /disallowed/, "the emulated runtime must refuse to compile WebAssembly");
  // Each request within 60 s: a promise the function never settles fails the test instead of hanging it.
  const post = (body) => Promise.race([
    runtime.dispatchFetch("http://edge.local/", { method: "POST", body: JSON.stringify(body) }).then((response) => response.json()),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within 60 s to ${body.kind} ${body.name ?? ""}`)), 60_000).unref()),
  ]);
  const tally = new Tally();
  const merge = (outcome) => { assert.equal(outcome.error, undefined, outcome.error); tally.merge(outcome.result); };
  for (const name of EVALUATION_FILES) {
    merge(await post({ kind: "evaluation", name, text: read(`${vectors}evaluation/${name}`), native: { [name]: native[name] }, key: testKey }));
  }
  merge(await post({ kind: "bucketing", text: read(`${vectors}bucketing.json`) }));
  merge(await post({ kind: "envelopes", text: read(`${vectors}envelopes.json`) }));
  merge(await post({ kind: "traps", envelopes: trapEnvelopesBase64(), key: testKey }));
  report(t, tally);
  assert.ok(tally.passed > 1000, `only ${tally.passed} checks ran`);
  assert.equal(tally.failed, 0, tally.failures.join("\n"));

  const server = await pennonServe(t);
  const served = await post({
    kind: "url", key: server.key, environment: "development", url: `${server.url}/v1/snapshots/development`,
    headers: { Authorization: `Bearer ${server.sdkKey}` }, flags: [["new-checkout", "Boolean", false], ["banner", "String", "default"]],
  });
  assert.equal(served.error, undefined, served.error);
  assert.deepEqual(served, { values: { "new-checkout": true, banner: "hello" }, outcome: "unchanged" });
});
