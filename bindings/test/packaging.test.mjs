// Consumer projects (bindings/packaging_tests/) against the packed package.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { bundleWorker, worker } from "./node/workerd.mjs";
import { repo, scriptRunners, vectors } from "./node/helpers.mjs";

const projects = `${repo}bindings/packaging_tests/`;
const vector = `${vectors}evaluation/basics.json`;
const keyFile = `${vectors}keys/test-key-1.public`;
const expected = { fromEngine: true, fromProvider: true };

before(() => {
  const packed = mkdtempSync(join(tmpdir(), "pennon-pack-"));
  execFileSync("npm", ["pack", "--silent", "--pack-destination", packed], { cwd: `${repo}bindings`, stdio: ["ignore", "ignore", "ignore"] });
  const tarball = join(packed, readdirSync(packed).find((f) => f.endsWith(".tgz")));
  for (const project of ["node-esm", "esbuild", "workerd", "typescript"]) {
    const target = `${projects}${project}/node_modules/pennon`;
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    execFileSync("tar", ["-xzf", tarball, "-C", target, "--strip-components=1"]);
  }
  rmSync(packed, { recursive: true, force: true });
});

test("packaging: npm pack builds first, and ships the module, the types, the README and the LICENSE", () => {
  // A checkout where nothing was built yet: no dist/ (a pack packed package.json and
  // the README alone).
  const checkout = mkdtempSync(join(tmpdir(), "pennon-checkout-"));
  try {
    for (const entry of ["package.json", "tsconfig.json", "README.md", "LICENSE", "scripts", "src"]) {
      cpSync(`${repo}bindings/${entry}`, `${checkout}/${entry}`, { recursive: true });
    }
    symlinkSync(`${repo}bindings/node_modules`, `${checkout}/node_modules`);
    const pack = () => JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json"], { cwd: checkout, encoding: "utf8", stdio: "pipe" }))[0];
    const files = pack().files.map((file) => file.path);
    for (const file of ["LICENSE", "README.md", "package.json", "dist/pennon.wasm", "dist/index.js", "dist/index.d.ts", "dist/workerd.js", "dist/wasm/pennon_wasm.js"]) {
      assert.ok(files.includes(file), `${file} in ${files.length} files`);
    }
    assert.match(readFileSync(`${checkout}/LICENSE`, "utf8"), /Apache License\s+Version 2\.0/);
    // Without the WebAssembly module (wasm/build.sh not run), the pack stops, saying so.
    rmSync(`${checkout}/src/wasm`, { recursive: true });
    rmSync(`${checkout}/dist`, { recursive: true });
    assert.throws(pack, (error) => /src\/wasm\/pennon_wasm\.js is missing: build the WebAssembly module first \(wasm\/build\.sh/.test(error.stderr));
  } finally {
    rmSync(checkout, { recursive: true, force: true });
  }
});

// The same plain ESM project in Node, Deno and Bun: each resolves the package through
// its own reading of the `exports` map (Deno and Bun take the `node` condition).
const plainEsm = { node: [process.execPath, []], ...scriptRunners };
for (const [runtime, [command, args]] of Object.entries(plainEsm)) {
  test(`packaging: plain ESM in ${runtime}`, () => {
    const dir = `${projects}node-esm/`;
    const out = execFileSync(command, [...args, `${dir}index.mjs`, vector, keyFile], { cwd: dir, encoding: "utf8" });
    assert.deepEqual(JSON.parse(out), expected);
  });
}

test("packaging: esbuild bundles for Node and for browsers", async () => {
  const dir = `${projects}esbuild/`;
  rmSync(`${dir}out`, { recursive: true, force: true });
  const common = { entryPoints: [`${dir}app.mjs`], bundle: true, format: "esm", loader: { ".wasm": "file" }, logLevel: "silent" };
  await build({ ...common, platform: "node", outdir: `${dir}out/node` });
  await build({ ...common, platform: "browser", outdir: `${dir}out/browser` });
  const browser = readFileSync(`${dir}out/browser/app.js`, "utf8");
  assert.doesNotMatch(browser, /from\s*"node:|require\("node:/, "no Node API in the browser bundle");
  assert.ok(readdirSync(`${dir}out/browser`).some((f) => f.endsWith(".wasm")), "the .wasm is emitted as a file");
  const { main } = await import(`${dir}out/node/app.js`);
  const file = JSON.parse(readFileSync(vector, "utf8"));
  const value = await main(new TextEncoder().encode(JSON.stringify(file.envelope)), readFileSync(keyFile, "utf8").trim());
  assert.equal(value, true);
});

test("packaging: a Node server bundle finds pennon.wasm beside it or installed, or says what to pass", async () => {
  const dir = `${projects}esbuild/`;
  rmSync(`${dir}out/server`, { recursive: true, force: true });
  await build({
    entryPoints: [`${dir}server-default.mjs`], bundle: true, format: "esm", platform: "node",
    outdir: `${dir}out/server`, logLevel: "silent",
  });
  const run = (cwd) => JSON.parse(execFileSync(process.execPath, [`${dir}out/server/server-default.js`, vector, keyFile], { cwd, encoding: "utf8" }));
  assert.deepEqual(run(dir), { value: true }, "from the project, where pennon is installed");
  const elsewhere = mkdtempSync(join(tmpdir(), "pennon-elsewhere-"));
  try {
    const { error } = run(elsewhere);
    // Named: the bundle, where the file was looked for beside it, and the option to pass.
    // Not the bundle's parent directory (`../pennon.wasm` from the bundle), which never held it.
    const bundle = `${dir}out/server/`;
    assert.equal(error.replace(/pennon-elsewhere-\w+/, "ELSEWHERE"),
      `Error: pennon: cannot find pennon.wasm, the WebAssembly module: this code runs bundled, from ${bundle}server-default.js, ` +
      `with no pennon.wasm beside it (${bundle}pennon.wasm: ENOENT), and no installed one was found (node_modules/pennon/dist/pennon.wasm ` +
      `from ${join(tmpdir(), "ELSEWHERE")} up). Pass it as the \`wasm\` option (its path, as \`wasmBinaryPath\` elsewhere: ` +
      `\`wasm: "/srv/app/pennon.wasm"\`; a \`file:\` URL; its bytes; or a compiled WebAssembly.Module), copy ` +
      `node_modules/pennon/dist/pennon.wasm beside the bundle, or keep pennon out of the bundle (esbuild: \`external: ["pennon"]\`; ` +
      `Next.js: \`serverExternalPackages: ["pennon"]\`)`);
    // Copied beside the bundle, as the README says, it is found there.
    copyFileSync(`${repo}bindings/dist/pennon.wasm`, `${dir}out/server/pennon.wasm`);
    assert.deepEqual(run(elsewhere), { value: true }, "beside the bundle");
    // Not bundled, in an install that lost its pennon.wasm: the package's own path.
    cpSync(`${projects}node-esm/node_modules/pennon`, `${elsewhere}/node_modules/pennon`, { recursive: true });
    rmSync(`${elsewhere}/node_modules/pennon/dist/pennon.wasm`);
    const broken = execFileSync(process.execPath, ["--input-type=module", "-e", 'import("pennon").then((m) => m.init()).catch((e) => console.log(e.message))'], { cwd: elsewhere, encoding: "utf8" });
    assert.match(broken, /^pennon: cannot find pennon\.wasm, the WebAssembly module: the package's own is missing \(.*pennon-elsewhere-\w+\/node_modules\/pennon\/dist\/pennon\.wasm: ENOENT\) \(a broken install\?\), and no installed one was found .* Pass it as the `wasm` option/);
  } finally {
    rmSync(elsewhere, { recursive: true, force: true });
  }
});

test("packaging: workerd with pennon/workerd", async () => {
  const mf = worker(await bundleWorker(`${projects}workerd/worker.mjs`));
  try {
    const envelope = JSON.stringify(JSON.parse(readFileSync(vector, "utf8")).envelope);
    const response = await mf.dispatchFetch("http://worker/", {
      method: "POST", body: JSON.stringify({ envelope, key: readFileSync(keyFile, "utf8").trim() }),
    });
    const text = await response.text();
    assert.deepEqual(JSON.parse(text.startsWith("{") ? text : JSON.stringify({ error: text })), expected);
  } finally {
    await mf.dispose();
  }
});

test("packaging: workerd without wrangler, bundled by esbuild and run by miniflare as the README says", async () => {
  const dir = `${projects}workerd/`;
  const out = `${dir}out/`;
  rmSync(out, { recursive: true, force: true });
  // The README's recipe, as written there: the `workerd` condition, `.wasm` and the SDK's
  // Node imports left to the runtime, the worker's own `pennon/pennon.wasm` import sent
  // to the package's `./pennon.wasm`, and that one file copied beside the bundle.
  await build({ ...readmeBuildOptions(), absWorkingDir: dir, logLevel: "silent" });
  const script = readFileSync(`${out}worker.js`, "utf8");
  const imported = script.match(/^import .*\.wasm["'];$/gm).map((line) => line.match(/from "(.*)"/)[1]);
  assert.equal(imported.length, 2, "the package's import and the worker's own");
  assert.deepEqual([...new Set(imported)], ["./pennon.wasm"], "one module, beside the bundle"); // was also "pennon/pennon.wasm": ENOENT out/pennon/pennon.wasm
  copyFileSync(`${dir}node_modules/pennon/dist/pennon.wasm`, `${out}pennon.wasm`);
  const mf = new Miniflare({
    scriptPath: `${out}worker.js`, modules: true, modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-04-01", compatibilityFlags: ["nodejs_compat"],
  });
  try {
    const envelope = JSON.stringify(JSON.parse(readFileSync(vector, "utf8")).envelope);
    const response = await mf.dispatchFetch("http://worker/", { method: "POST", body: JSON.stringify({ envelope, key: readFileSync(keyFile, "utf8").trim() }) });
    const text = await response.text();
    assert.deepEqual(JSON.parse(text.startsWith("{") ? text : JSON.stringify({ error: text })), expected);
  } finally {
    await mf.dispose();
    rmSync(out, { recursive: true, force: true });
  }
});

/** The options of the README's `esbuild.build` call under "Without wrangler", evaluated as written. */
function readmeBuildOptions() {
  const readme = readFileSync(`${repo}bindings/README.md`, "utf8");
  const section = readme.slice(readme.indexOf("### Without wrangler"));
  const start = section.indexOf("esbuild.build(") + "esbuild.build(".length;
  return new Function(`return (${section.slice(start, section.indexOf("\n});", start) + 2)});`)();
}

test("packaging: workerd with the engine alone (pennon), without the OpenFeature SDK or nodejs_compat", async () => {
  const script = await bundleWorker(`${projects}workerd/engine-only.mjs`);
  assert.doesNotMatch(script, /@openfeature|OpenFeatureEventEmitter/, "the engine entry bundles no OpenFeature SDK");
  const mf = worker(script, { nodejsCompat: false });
  try {
    const envelope = JSON.stringify(JSON.parse(readFileSync(vector, "utf8")).envelope);
    const response = await mf.dispatchFetch("http://worker/", {
      method: "POST", body: JSON.stringify({ envelope, key: readFileSync(keyFile, "utf8").trim() }),
    });
    const text = await response.text();
    assert.deepEqual(JSON.parse(text.startsWith("{") ? text : JSON.stringify({ error: text })), { fromEngine: true });
  } finally {
    await mf.dispose();
  }
});

// The published types check without `skipLibCheck` in a Node service (no DOM lib) and in a
// browser app (no `@types/node`); before, the first failed on `WebAssembly`,
// `BufferSource` and `RequestInfo`, the second on `Symbol.dispose`.
for (const config of ["node", "web"]) {
  test(`packaging: TypeScript types check in a ${config} project`, () => {
    const dir = `${projects}typescript/`;
    const tsc = `${repo}bindings/node_modules/typescript/bin/tsc`;
    try {
      execFileSync(process.execPath, [tsc, "-p", `tsconfig.${config}.json`], { cwd: dir, encoding: "utf8", stdio: "pipe" });
    } catch (error) {
      assert.fail(`tsc -p tsconfig.${config}.json:\n${error.stdout}${error.stderr}`);
    }
  });
}

test("packaging: no Node-only API outside the Node platform modules (`platform/node.js` and what only it imports, `platform/node-*.js`)", () => {
  const dist = `${repo}bindings/dist/`;
  const node = new RegExp(`^platform\\${sep}node(-[a-z-]+)?\\.js$`);
  const files = readdirSync(dist, { recursive: true }).filter((f) => f.endsWith(".js") && !node.test(f));
  assert.ok(files.includes(join("platform", "browser.js")) && !files.includes(join("platform", "node-cache.js")), files.join());
  assert.ok(files.length >= 10, files.join());
  for (const file of files) {
    const text = readFileSync(dist + file, "utf8");
    assert.doesNotMatch(text, /["']node:|\brequire\(|\bprocess\.|\bBuffer\b|__dirname/, `${file} uses a Node-only API`);
    assert.doesNotMatch(text, /\/node(-[a-z-]+)?\.js["']/, `${file} imports a Node platform module`);
  }
});
