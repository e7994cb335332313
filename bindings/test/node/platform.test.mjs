// Where the module comes from by default, per platform (src/platform/): a page served in
// place of pennon.wasm is named as such, not compiled into "expected magic word".
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { resolveWasm } from "../../dist/platform/browser.js";

const wasm = readFileSync(new URL("../../dist/pennon.wasm", import.meta.url));

test("browsers: a URL that serves a page instead of pennon.wasm is refused by name", async () => {
  const server = createServer((request, response) => {
    if (request.url === "/pennon.wasm") {
      response.writeHead(200, { "content-type": "application/wasm" }).end(wasm);
    } else if (request.url === "/missing.wasm") {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found");
    } else {
      // A dev server's fallback: its index.html for any path it does not know.
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!doctype html><title>app</title>");
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    const served = await resolveWasm(new URL(`${base}/pennon.wasm`));
    assert.ok(served instanceof Response);
    assert.ok((await WebAssembly.compileStreaming(served)) instanceof WebAssembly.Module);
    await assert.rejects(resolveWasm(`${base}/node_modules/.vite/pennon.wasm`), {
      message: `pennon: ${base}/node_modules/.vite/pennon.wasm did not serve pennon.wasm (HTTP 200, text/html; charset=utf-8): ` +
        "pass `wasm` with the URL your bundler gives it (Vite: `import wasmUrl from \"pennon/pennon.wasm?url\"`)",
    });
    await assert.rejects(resolveWasm(`${base}/missing.wasm`), { message: /did not serve pennon\.wasm \(HTTP 404, text\/plain\)/ });
    const module = await WebAssembly.compile(wasm);
    assert.equal(await resolveWasm(module), module, "a compiled module passes through");
  } finally {
    server.close();
  }
});
