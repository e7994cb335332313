// A start's first request goes out while the module downloads, not after it: a round
// trip (and a browser's CORS preflight) off the time to READY. Its `If-None-Match` is
// the stored record's ETag, sent before the module can verify the stored envelope, so
// a 304 to it counts only if that envelope verified as the version its record names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { PennonWebProvider } from "pennon/web";
import { boolFlag, envelope, payload, publicKey, tamper } from "./sign.mjs";
import { quiet, sleep } from "./snapshot-server.mjs";

const keys = [publicKey(1)];
const v1 = envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }) }));
const v2 = envelope(payload(2, { beta: boolFlag({ staff: ["ann", "bob"] }) }));
const text = (bytes) => new TextDecoder().decode(bytes);
const wasmPath = fileURLToPath(import.meta.resolve("pennon/pennon.wasm"));

/** Serves version 2 under ETag "v2", a 304 to `If-None-Match: "v2"`; records when each
 *  request arrived, what it sent and the status it got. Closed after test `t`. */
async function snapshotServer(t) {
  const requests = [];
  const server = createServer((request, response) => {
    const ifNoneMatch = request.headers["if-none-match"];
    const status = ifNoneMatch === '"v2"' ? 304 : 200;
    requests.push({ at: Date.now(), ifNoneMatch, status });
    if (status === 304) return response.writeHead(304, { ETag: '"v2"' }).end();
    response.writeHead(200, { ETag: '"v2"', "Content-Type": "application/json" }).end(v2);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${server.address().port}/snapshot`, requests };
}

/** Web storage holding `envelopeText` under a record of `version` and `etag`. */
function storage(envelopeText, version, etag) {
  const items = new Map([["pennon:test", envelopeText], ["pennon:test:meta", JSON.stringify({ version, etag })]]);
  return { items, getItem: (key) => items.get(key) ?? null, setItem: (key, value) => items.set(key, value) };
}

/** A web provider that waits for the URL, with `stored` as its storage. */
const waiting = (url, stored, more = {}) =>
  new PennonWebProvider({ keys, environment: "test", url, storage: stored, waitForUrl: true, pollIntervalMs: 0, logger: quiet, ...more });

// First in this file: the module is instantiated once per process.
test("the first request goes out while the module loads, revalidating the stored envelope", async (t) => {
  const server = await snapshotServer(t);
  const compiled = await WebAssembly.compile(readFileSync(wasmPath));
  let moduleAt;
  const wasm = sleep(300).then(() => {
    moduleAt = Date.now();
    return compiled;
  });
  const provider = waiting(server.url, storage(text(v2), 2, '"v2"'), { wasm });
  await provider.initialize({ targetingKey: "bob" });
  assert.equal(provider.resolveBooleanEvaluation("beta", false).value, true, "version 2, from storage");
  assert.deepEqual(server.requests.map((r) => [r.ifNoneMatch, r.status]), [['"v2"', 304]], "one request, a 304");
  assert.ok(server.requests[0].at < moduleAt, `the request arrived ${server.requests[0].at - moduleAt} ms after the module`);
  await provider.onClose();
});

test("a 304 to the stored record's ETag counts only if the stored envelope verified as the record's version", async (t) => {
  const server = await snapshotServer(t);
  const cases = [
    ["version 2, as its record says", text(v2), [['"v2"', 304]]],
    ["tampered with", text(tamper(v2)), [['"v2"', 304], [undefined, 200]]],
    ["version 1, where its record says 2", text(v1), [['"v2"', 304], [undefined, 200]]],
  ];
  for (const [name, stored, requests] of cases) {
    server.requests.length = 0;
    const kept = storage(stored, 2, '"v2"');
    const provider = waiting(server.url, kept);
    await provider.initialize({ targetingKey: "bob" });
    assert.equal(provider.resolveBooleanEvaluation("beta", false).value, true, `${name}: version 2 served`);
    assert.deepEqual(server.requests.map((r) => [r.ifNoneMatch, r.status]), requests, `${name}: the requests`);
    assert.equal(kept.items.get("pennon:test"), text(v2), `${name}: version 2 stored`);
    await provider.onClose();
  }
});
