// Conditional requests to a host that sends `Last-Modified` and no ETag (a static host
// such as `python3 -m http.server`, many buckets), against a real server on 127.0.0.1:
// each poll asks `If-Modified-Since` with the date as sent, and its 304 costs no body;
// an ETag, where there is one, is preferred; the web provider's storage keeps the date.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PennonServerProvider } from "pennon/server";
import { PennonWebProvider } from "pennon/web";
import { boolFlag, envelope, payload, publicKey } from "./sign.mjs";
import { lastModifiedOf, quiet, sleep, snapshotServer } from "./snapshot-server.mjs";

const keys = [publicKey(1)];
const v1 = envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }) }));
const v2 = envelope(payload(2, { beta: boolFlag({ staff: ["ann", "bob"] }) }));
const bob = { targetingKey: "bob" };

/** Waits until `server` has answered `n` snapshot requests. */
async function requests(server, n) {
  while (server.requests < n) await sleep(5);
}

test("a host without ETags is polled with If-Modified-Since: the 304s cost no body, and a new date brings the new version", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.validators = "last-modified";
  server.body = v1;
  const provider = new PennonServerProvider({ keys, environment: "test", url: server.url, pollIntervalMs: 20, jitter: 0, logger: quiet });
  t.after(() => provider.onClose());
  await provider.initialize(bob);
  await requests(server, 4);
  const [first, ...later] = server.conditions.slice(0, 4);
  assert.deepEqual(first, [undefined, undefined, 200]);
  for (const request of later) assert.deepEqual(request, [undefined, lastModifiedOf(v1), 304]);
  assert.equal(server.bodyBytes, v1.length, "the body was downloaded once");

  const changed = new Promise((resolve) => provider.events.addHandler("PROVIDER_CONFIGURATION_CHANGED", resolve));
  server.body = v2;
  await changed;
  assert.equal((await provider.resolveBooleanEvaluation("beta", false, bob)).value, true);
  const served = server.requests;
  await requests(server, served + 2);
  assert.deepEqual(server.conditions.at(-1), [undefined, lastModifiedOf(v2), 304]);
});

test("with an ETag and a Last-Modified date, only If-None-Match is sent (RFC 9110 13.1.3)", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.validators = "both";
  server.body = v1;
  const provider = new PennonServerProvider({ keys, environment: "test", url: server.url, pollIntervalMs: 20, jitter: 0, logger: quiet });
  t.after(() => provider.onClose());
  await provider.initialize(bob);
  await requests(server, 3);
  for (const [ifNoneMatch, ifModifiedSince, status] of server.conditions.slice(1, 3)) {
    assert.match(ifNoneMatch, /^".+"$/);
    assert.deepEqual([ifModifiedSince, status], [undefined, 304]);
  }
});

test("web provider storage keeps the Last-Modified date: the next page load revalidates with a 304", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.validators = "last-modified";
  server.body = v1;
  const items = new Map();
  const storage = { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => items.set(key, value) };
  const page = () => new PennonWebProvider({ keys, environment: "test", url: server.url, storage, pollIntervalMs: 0, logger: quiet });
  const first = page();
  await first.initialize(bob);
  await first.onClose();
  assert.deepEqual(JSON.parse(items.get("pennon:test:meta")), { version: 1, lastModified: lastModifiedOf(v1) });
  const second = page();
  t.after(() => second.onClose());
  await second.initialize(bob);
  await requests(server, 2);
  assert.deepEqual(server.conditions, [[undefined, undefined, 200], [undefined, lastModifiedOf(v1), 304]]);
  assert.equal(server.bodyBytes, v1.length);
});
