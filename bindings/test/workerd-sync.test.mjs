// Syncing in workerd (via miniflare), where a request's fetches and timers end with
// it: work an ended request left running must not hold the provider, `refreshIfDue`
// polls per isolate as timers would elsewhere, and a provider set at a module's top
// level (where no timer or request may start) serves its envelope, then syncs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { read, repo } from "./node/helpers.mjs";
import { COMPATIBILITY_DATES, bundleWorker, worker } from "./node/workerd.mjs";
import { boolFlag, envelope, payload, publicKey } from "./node/sign.mjs";
import { snapshotServer } from "./node/snapshot-server.mjs";
import { telemetryServer } from "./node/telemetry-server.mjs";

const keys = [publicKey(1)];
/** Version `n`, where bob is staff from version 2 on. */
const version = (n) => envelope(payload(n, { beta: boolFlag({ staff: n >= 2 ? ["ann", "bob"] : ["ann"] }) }));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Posts one operation; a hung request fails the test rather than the run. */
async function post(mf, body) {
  const response = await mf.dispatchFetch("http://worker/", { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    assert.fail(`HTTP ${response.status}: ${text.slice(0, 300)}`);
  }
  assert.equal(answer.error, undefined, answer.error);
  return answer;
}

test("workerd: work an ended request left running holds nothing, and refreshIfDue polls once per interval", async () => {
  const mf = worker(await bundleWorker(`${repo}bindings/test/workerd/sync-worker.mjs`));
  const server = await snapshotServer();
  try {
    const options = { keys, environment: "test", url: server.url, pollIntervalMs: 0, requestTimeoutMs: 300, initTimeoutMs: 300 };
    // A refresh left running (no `ctx.waitUntil`) when its request ended.
    server.body = version(1);
    await post(mf, { op: "init", name: "left", options });
    [server.body, server.delayMs] = [version(2), 3_000];
    await post(mf, { op: "refresh-and-leave", name: "left" });
    await sleep(2_000); // past requestTimeoutMs and the slack, by the clock
    server.delayMs = 0;
    assert.deepEqual(await post(mf, { op: "refresh", name: "left" }), { outcome: "updated" });
    assert.equal((await post(mf, { op: "read", name: "left", flag: "beta" })).value, true);

    // An `initialize` left running: the SDK hears READY from the first snapshot loaded.
    [server.body, server.delayMs] = [version(1), 3_000];
    await post(mf, { op: "init-and-leave", name: "late", options });
    await sleep(2_000);
    server.delayMs = 0;
    assert.deepEqual(await post(mf, { op: "refresh", name: "late" }), { outcome: "updated" });
    const read = await post(mf, { op: "read", name: "late", flag: "beta" });
    assert.deepEqual(read, { value: false, reason: "DEFAULT", status: "READY" });

    // Once per interval per isolate, however many requests ask.
    server.body = version(3);
    await post(mf, { op: "init", name: "due", options: { ...options, pollIntervalMs: 60_000 } });
    const before = server.requests;
    for (let i = 0; i < 5; i++) assert.deepEqual(await post(mf, { op: "refresh-if-due", name: "due" }), { outcome: "skipped" });
    assert.equal(server.requests, before, "no request within the interval");

    // After a failure, the server's `Retry-After` holds every isolate's requests back.
    // (Polling every millisecond: with 0, no polling, refreshIfDue would not ask at all.)
    await post(mf, { op: "init", name: "backoff", options: { ...options, pollIntervalMs: 1 } });
    [server.status, server.retryAfter] = [503, "60"];
    const failing = server.requests;
    assert.deepEqual(await post(mf, { op: "refresh-if-due", name: "backoff" }), { outcome: "failed" });
    for (let i = 0; i < 5; i++) assert.deepEqual(await post(mf, { op: "refresh-if-due", name: "backoff" }), { outcome: "skipped" });
    assert.equal(server.requests, failing + 1, "one request, then Retry-After's wait");
  } finally {
    await server.close();
    await mf.dispose();
  }
});

test("workerd: a snapshot for another environment ends the start at once, as elsewhere, and a mended source brings READY", async () => {
  const mf = worker(await bundleWorker(`${repo}bindings/test/workerd/sync-worker.mjs`));
  const server = await snapshotServer();
  try {
    server.body = envelope({ ...payload(1, { beta: boolFlag() }), environment: "prod" });
    const options = { keys, environment: "test", url: server.url, pollIntervalMs: 0, initTimeoutMs: 10_000, backoffInitialMs: 1 };
    const body = JSON.stringify({ op: "init", name: "misconfigured", options });
    const response = await mf.dispatchFetch("http://worker/", { method: "POST", body, signal: AbortSignal.timeout(15_000) });
    const { error } = await response.json();
    assert.match(error ?? "", /^Error: pennon: no snapshot could be loaded: GET http:\/\/127\.0\.0\.1:\d+\/snapshot: wrong_environment: /);
    assert.equal(server.requests, 1, "not retried until initTimeoutMs");
    server.body = version(2);
    assert.deepEqual(await post(mf, { op: "refresh-if-due", name: "misconfigured" }), { outcome: "updated" });
    assert.deepEqual(await post(mf, { op: "read", name: "misconfigured", flag: "beta" }), { value: true, reason: "TARGETING_MATCH", status: "READY" });
  } finally {
    await server.close();
    await mf.dispose();
  }
});

test("workerd: a provider set at a module's top level serves its envelope, and its first refresh in a request syncs", async () => {
  const server = await snapshotServer();
  server.body = version(2);
  const bundle = (extra) => bundleWorker(`${repo}bindings/test/workerd/top-level-worker.mjs`, {
    PENNON_OPTIONS: JSON.stringify({ keys, environment: "test", url: server.url, pollIntervalMs: 0, ...extra }),
  });
  const bootstrapped = worker(await bundle({ envelope: new TextDecoder().decode(version(1)) }));
  const urlOnly = worker(await bundle({}));
  try {
    assert.deepEqual(await post(bootstrapped, { op: "read" }), { value: false, status: "READY" });
    assert.deepEqual(await post(bootstrapped, { op: "refresh-if-due" }), { outcome: "updated", value: true, status: "READY" });

    // Nothing to serve until a request may fetch: ERROR (the SDK's fallback), then READY.
    assert.deepEqual(await post(urlOnly, { op: "read" }), { value: false, errorCode: "PROVIDER_NOT_READY", status: "ERROR" });
    assert.deepEqual(await post(urlOnly, { op: "refresh-if-due" }), { outcome: "updated", value: true, status: "READY" });
  } finally {
    await server.close();
    await bootstrapped.dispose();
    await urlOnly.dispose();
  }
});

test("workerd: a notificationUrl is FATAL, saying why and what to do instead", async () => {
  const mf = worker(await bundleWorker(`${repo}bindings/test/workerd/sync-worker.mjs`));
  try {
    const options = { keys, environment: "test", url: "https://flags.example.com/v1/snapshots/test", notificationUrl: "https://flags.example.com/v1/stream/test" };
    const body = JSON.stringify({ op: "init", name: "stream", options });
    const response = await mf.dispatchFetch("http://worker/", { method: "POST", body, signal: AbortSignal.timeout(15_000) });
    const { error } = await response.json();
    assert.match(error ?? "", /^ProviderFatalError: pennon: `notificationUrl` cannot work in Cloudflare Workers: no request, so no stream, outlives the request that started it\. Leave it out, and call `provider\.refreshIfDue\(\)` from each request/);
  } finally {
    await mf.dispose();
  }
});

test("workerd: a cacheDir is FATAL, saying Workers have no file system and what serves instead", async () => {
  const mf = worker(await bundleWorker(`${repo}bindings/test/workerd/sync-worker.mjs`));
  try {
    const options = { keys, environment: "test", envelope: new TextDecoder().decode(version(1)), cacheDir: "/var/cache/pennon" };
    const body = JSON.stringify({ op: "init", name: "cache", options });
    const response = await mf.dispatchFetch("http://worker/", { method: "POST", body, signal: AbortSignal.timeout(15_000) });
    const { error } = await response.json();
    assert.match(error ?? "", /^ProviderFatalError: pennon: `cacheDir` keeps the last good snapshot in a file, and Cloudflare Workers have no file system: leave it out \(a bootstrap `envelope`, from KV say, serves while the URL is down\)/);
  } finally {
    await mf.dispose();
  }
});

test("workerd: a `wasm` option other than the imported module is refused saying why, and the module works", async () => {
  const mf = worker(await bundleWorker(`${repo}bindings/test/workerd/wasm-option-worker.mjs`));
  try {
    const common = { key: publicKey(1), envelope: new TextDecoder().decode(version(1)) };
    for (const form of ["url", "bytes"]) {
      const { refused } = await post(mf, { form, ...common });
      assert.match(refused ?? "", /^pennon: Cloudflare Workers cannot compile WebAssembly at run time, so `wasm` must be the imported module/, form);
    }
    assert.deepEqual(await post(mf, { form: "module", ...common }), { value: true });
  } finally {
    await mf.dispose();
  }
});

test("workerd: `pennon/workerd` refuses a `wasm` option or `init` source other than its imported module (FATAL, named), and takes that module", async () => {
  const wasmModules = { "copy.wasm": readFileSync(`${repo}bindings/dist/pennon.wasm`), "other.wasm": new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]) };
  const mf = worker(await bundleWorker(`${repo}bindings/test/workerd/entry-wasm-worker.mjs`), { wasmModules });
  const refusal = (what, given) => `pennon: ${what} is ${given}: in Cloudflare Workers, which compile no WebAssembly at run time, ` +
    "`pennon/workerd` (and `pennon` there) uses the pennon.wasm it imports, compiled at deploy time, and can use nothing else: " +
    'not a URL, a path, bytes or a Response. Leave it out (or pass that module: `import wasm from "pennon/pennon.wasm"`)';
  try {
    const common = { key: publicKey(1), envelope: new TextDecoder().decode(version(1)) };
    // Each was ignored (READY, `init` resolved) while the imported module served.
    for (const [form, given] of [["url", '"http://cdn.example.com/pennon.wasm"'], ["bytes", "Uint8Array"], ["other", "a WebAssembly.Module other than pennon.wasm"]]) {
      assert.deepEqual(await post(mf, { form, ...common }), { refused: `ProviderFatalError: ${refusal("`wasm`", given)}` }, form);
      assert.deepEqual(await post(mf, { form, via: "init", ...common }), { refused: `Error: ${refusal("the WebAssembly module given to `init`", given)}` }, form);
    }
    const base64 = await post(mf, { form: "base64", ...common });
    assert.match(base64.refused, /^ProviderFatalError: pennon: `wasm` is base64 text \("AGFzbQEAAAAB…", 4012 characters\), which the package does not take/);
    const base64Init = await post(mf, { form: "base64", via: "init", ...common });
    assert.match(base64Init.refused, /^Error: pennon: the WebAssembly module given to `init` is base64 text/);
    // The imported module, and the same file compiled from another copy, are taken.
    for (const form of ["module", "copy"]) {
      assert.deepEqual(await post(mf, { form, ...common }), { value: true }, form);
      assert.deepEqual(await post(mf, { form, via: "init", ...common }), { value: "initialized" }, form);
    }
  } finally {
    await mf.dispose();
  }
});

test("workerd: the README's Workers recipe, verbatim, serves from its URL and polls no more than once per interval", async () => {
  const readme = read(`${repo}bindings/README.md`);
  const section = readme.slice(readme.indexOf("## Cloudflare Workers"));
  const contents = section.slice(section.indexOf("```js") + 5, section.indexOf("```", section.indexOf("```js") + 5));
  const production = (n, staff) => envelope({ ...payload(n, { "new-checkout": boolFlag({ staff }) }), environment: "production" });
  const server = await snapshotServer();
  server.body = production(1, []);
  const bindings = { PENNON_TRUSTED_KEY: publicKey(1), PENNON_URL: server.url.replace(/\/snapshot$/, ""), PENNON_SDK_KEY: "pns_test" };
  // At a recent date, as a worker made today would have.
  const compatibilityDate = COMPATIBILITY_DATES.at(-1);
  const mf = worker(await bundleWorker({ contents, resolveDir: `${repo}bindings/test/workerd` }), { bindings, compatibilityDate });
  const get = async () => (await mf.dispatchFetch("http://worker/", { signal: AbortSignal.timeout(15_000) })).text();
  try {
    assert.equal(await get(), "old");
    server.body = production(2, ["user-42"]);
    const before = server.requests;
    for (let i = 0; i < 5; i++) assert.equal(await get(), "old", "within the poll interval, no poll");
    assert.equal(server.requests, before);
    assert.equal(before, 1, "the first request's initialize fetched once");
  } finally {
    await server.close();
    await mf.dispose();
  }
});

test("workerd: telemetry is reported by refreshIfDue, inside the request, once due", async () => {
  const mf = worker(await bundleWorker(`${repo}bindings/test/workerd/sync-worker.mjs`));
  const server = await telemetryServer();
  try {
    const options = {
      keys, environment: "test", envelope: new TextDecoder().decode(version(1)), movableClock: true,
      telemetry: { url: server.base, sdkKey: "pns_secret", intervalMs: 10_000 },
    };
    await post(mf, { op: "init", name: "reports", options });
    for (let i = 0; i < 3; i++) assert.equal((await post(mf, { op: "read", name: "reports", flag: "beta" })).value, false);
    assert.deepEqual(await post(mf, { op: "refresh-if-due", name: "reports" }), { outcome: "unchanged" });
    assert.equal(server.posts.length, 0, "no report before the interval");
    await post(mf, { op: "advance", name: "reports", ms: 10_000 });
    await post(mf, { op: "refresh-if-due", name: "reports" });
    assert.equal(server.posts.length, 1, "posted, and answered, within the request");
    const [report] = server.accepted();
    assert.deepEqual(report.counts, [{ flag: "beta", variant: "off", count: 3 }]);
    assert.equal(report.window.end_ms - report.window.start_ms >= 10_000, true);
    assert.equal(server.posts[0].authorization, "Bearer pns_secret");
    assert.deepEqual(await post(mf, { op: "refresh-if-due", name: "reports" }), { outcome: "unchanged" });
    assert.equal(server.posts.length, 1, "the next is an interval later");
  } finally {
    await server.close();
    await mf.dispose();
  }
});
