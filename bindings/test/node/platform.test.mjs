// Where the module comes from, per platform (src/platform/): a page or a 404 served in
// place of pennon.wasm is named as such, and not retried, instead of compiled into
// "expected magic word"; a failing server is retried; a `Response` not served as
// `application/wasm` is read into bytes (the glue would warn, then read it anyway).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as browser from "../../dist/platform/browser.js";
import * as node from "../../dist/platform/node.js";

const wasm = readFileSync(new URL("../../dist/pennon.wasm", import.meta.url));
const hint = "pass `wasm` with the URL your bundler gives it (Vite: `import wasmUrl from \"pennon/pennon.wasm?url\"`)";

for (const [platform, { resolveWasm }] of [["browsers", browser], ["Node", node]]) {
  test(`${platform}: a URL that serves a page or a 404 instead of pennon.wasm is refused by name, for good`, async (t) => {
    const server = createServer((request, response) => {
      if (request.url === "/pennon.wasm") response.writeHead(200, { "content-type": "application/wasm" }).end(wasm);
      else if (request.url === "/octet.wasm") response.writeHead(200, { "content-type": "application/octet-stream" }).end(wasm);
      else if (request.url === "/text.wasm") response.writeHead(200, { "content-type": "application/octet-stream" }).end("Service Unavailable, try later");
      else if (request.url === "/missing.wasm") response.writeHead(404, { "content-type": "text/plain" }).end("not found");
      else if (request.url === "/busy.wasm") response.writeHead(503).end();
      // A dev server's fallback: its index.html for any path it does not know.
      else response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!doctype html><title>app</title>");
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => server.close());
    const base = `http://127.0.0.1:${server.address().port}`;

    const served = await resolveWasm(new URL(`${base}/pennon.wasm`));
    assert.ok(served instanceof Response, "application/wasm streams into the compiler");
    assert.ok((await WebAssembly.compileStreaming(served)) instanceof WebAssembly.Module);
    const octets = await resolveWasm(`${base}/octet.wasm`);
    assert.ok(octets instanceof Uint8Array && WebAssembly.validate(octets), "another type is read into bytes");

    await assert.rejects(resolveWasm(`${base}/node_modules/.vite/pennon.wasm?v=1`), {
      message: `pennon: ${base}/node_modules/.vite/pennon.wasm did not serve pennon.wasm (HTTP 200, text/html; charset=utf-8): ${hint}`,
      permanent: true,
    });
    await assert.rejects(resolveWasm(`${base}/missing.wasm`), { message: /did not serve pennon\.wasm \(HTTP 404, text\/plain\)/, permanent: true });
    await assert.rejects(resolveWasm(`${base}/text.wasm`), { message: /did not serve pennon\.wasm \(it starts "Service Unavaila"\)/, permanent: true });
    const busy = await resolveWasm(`${base}/busy.wasm`).catch((error) => error);
    assert.deepEqual([busy.message, busy.permanent], [`pennon: GET ${base}/busy.wasm: HTTP 503`, undefined], "a failing server is retried");
    // No answer at all (offline: a browser says only "Failed to fetch"): named, and retried.
    const nowhere = await resolveWasm("http://127.0.0.1:9/pennon.wasm?token=secret").catch((error) => error);
    assert.match(nowhere.message, /^pennon: cannot download the WebAssembly module from http:\/\/127\.0\.0\.1:9\/pennon\.wasm: fetch failed$/);
    assert.equal(nowhere.permanent, undefined);

    const module = await WebAssembly.compile(wasm);
    assert.equal(await resolveWasm(module), module, "a compiled module passes through");
    const given = await resolveWasm(new Response(wasm));
    assert.ok(given instanceof Uint8Array && WebAssembly.validate(given), "a Response with no type is read into bytes");
  });
}

// Node's permission model, allowed to read the package but its pennon.wasm: a refusal
// no wait mends, failed at once saying what to grant, where the provider retried it
// until `initTimeoutMs` (Deno's `NotCapable`: test/runtimes.test.mjs).
test("Node: a read of pennon.wasm the permission model denies fails at once, saying what to grant", () => {
  const dist = fileURLToPath(new URL("../../dist/", import.meta.url));
  const files = readdirSync(dist, { recursive: true }).filter((file) => file.endsWith(".js")).map((file) => `${dist}${file}`);
  const allowed = [...files, `${dist}../package.json`].map((path) => `--allow-fs-read=${path}`);
  const permission = process.allowedNodeEnvironmentFlags.has("--permission") ? "--permission" : "--experimental-permission";
  const script = 'import { init } from "pennon"; await init().catch((error) => console.log(JSON.stringify([error.message, error.permanent])));';
  const out = execFileSync(process.execPath, [permission, ...allowed, "--no-warnings", "--input-type=module", "-e", script], { cwd: `${dist}..`, encoding: "utf8" });
  const wasmPath = `${dist}pennon.wasm`;
  assert.deepEqual(JSON.parse(out), [`pennon: read access to pennon.wasm, the WebAssembly module, is denied: ${wasmPath} (ERR_ACCESS_DENIED). ` +
    `Grant read access to that file (Node: \`--allow-fs-read=${wasmPath}\`), or pass the module as the \`wasm\` option (its bytes, or a compiled WebAssembly.Module)`, true]);
});
