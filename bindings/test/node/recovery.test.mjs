// How the providers come back from what goes wrong outside them, against real HTTP
// servers on 127.0.0.1: a module download that fails once, refused credentials, a
// failing source turning STALE on time, a failed request retried with polling off,
// the network or the page coming back, ETags kept across page loads, reads while a
// context change waits, envelopes of the wrong type, and a synchronous batch of
// `evaluateAll`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { PennonServerProvider } from "pennon/server";
import { PennonWebProvider } from "pennon/web";
import { OpenFeature as WebOpenFeature } from "@openfeature/web-sdk";
import { boolFlag, envelope, payload, publicKey, tamper } from "./sign.mjs";
import { providerEvent, quiet, sleep, snapshotServer } from "./snapshot-server.mjs";
import { fakePage, repo } from "./helpers.mjs";

const keys = [publicKey(1)];
const v1 = envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }) }));
const v2 = envelope(payload(2, { beta: boolFlag({ staff: ["ann", "bob"] }) }));
const wasmPath = fileURLToPath(import.meta.resolve("pennon/pennon.wasm"));


// First in this file: the module is instantiated once per process.
test("a module download that fails once is retried within initTimeoutMs", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.status = 503;
  const wasmUrl = server.url.replace("/snapshot", "/pennon.wasm");
  const lines = [];
  const provider = new PennonServerProvider({
    keys, environment: "test", envelope: v1, wasm: wasmUrl, backoffInitialMs: 50, logger: { warn: (line) => lines.push(line) },
  });
  const started = provider.initialize();
  while (server.requests === 0) await sleep(5);
  server.status = 200;
  server.body = readFileSync(wasmPath);
  await started;
  assert.equal(await provider.resolveBooleanEvaluation("beta", false, { targetingKey: "ann" }).then((r) => r.value), true);
  assert.match(lines[0], /cannot load the WebAssembly module, retrying in 50 ms: pennon: GET http:\/\/127\.0\.0\.1:\d+\/pennon\.wasm: HTTP 503/);
  await provider.onClose();
});

test("refused credentials (401, 403) end a start at once, and make a served snapshot STALE at once", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.status = 401;
  const provider = new PennonServerProvider({ keys, environment: "test", url: server.url, backoffInitialMs: 1_000, logger: quiet });
  await assert.rejects(provider.initialize(), /no snapshot could be loaded: GET http:\/\/127\.0\.0\.1:\d+\/snapshot: HTTP 401/);
  assert.equal(server.requests, 1, "not retried until initTimeoutMs");
  await provider.onClose();

  server.status = 200;
  server.body = v1;
  const serving = new PennonServerProvider({ keys, environment: "test", url: server.url, pollIntervalMs: 0, logger: quiet });
  await serving.initialize();
  server.status = 403;
  const stale = providerEvent(serving, "PROVIDER_STALE");
  assert.equal(await serving.refresh(), "failed");
  assert.match((await stale).message, /the snapshot server refuses this client \(GET .*: HTTP 403\); serving version 1/);
  server.status = 200;
  const ready = providerEvent(serving, "PROVIDER_READY");
  await serving.refresh();
  await ready;
  await serving.onClose();
});

test("a snapshot these options can never take (another environment's or audience's, no trusted key's) ends a start at once, as a 401 does; polling goes on", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  const flags = { beta: boolFlag({ staff: ["ann"] }) };
  const misconfigured = [
    ["wrong_environment", envelope({ ...payload(1, flags), environment: "prod" }), {}],
    ["unknown_key", envelope(payload(1, flags), 2), {}],
    ["wrong_audience", envelope({ ...payload(1, flags), audience: "client" }), { audience: "server" }],
    ["wrong_audience", envelope(payload(1, flags)), { audience: "client" }],
  ];
  for (const [Provider, name] of [[PennonServerProvider, "server"], [PennonWebProvider, "web"]]) {
    for (const [kind, body, extra] of misconfigured) {
      server.status = 200;
      server.body = body;
      server.requests = 0;
      const provider = new Provider({ keys, environment: "test", url: server.url, initTimeoutMs: 10_000, pollIntervalMs: 0, backoffInitialMs: 20, jitter: 0, logger: quiet, ...extra });
      const error = await provider.initialize({}).then(() => ({ message: "ready" }), (e) => e);
      const what = `${name}, ${kind}${extra.audience ? ` (audience ${extra.audience})` : ""}`;
      assert.match(error.message, new RegExp(`^pennon: no snapshot could be loaded: GET http://127\\.0\\.0\\.1:\\d+/snapshot: ${kind}: `), what);
      assert.notEqual(error.code, "PROVIDER_FATAL", `${what}: ERROR, not FATAL: the source may be mended`);
      assert.equal(server.requests, 1, `${what}: not retried until initTimeoutMs`);
      // Mended at the source (the URL fixed, a CDN's copy replaced): the retries after
      // the start load it, and the provider is READY.
      const ready = providerEvent(provider, "PROVIDER_READY");
      server.body = extra.audience === "client" ? envelope({ ...payload(2, flags), audience: "client" }) : v2;
      await ready;
      await provider.onClose();
    }
  }
  // A tampered copy may be a corrupted one, whole at the next request: retried.
  server.body = tamper(v1);
  server.requests = 0;
  const provider = new PennonServerProvider({ keys, environment: "test", url: server.url, initTimeoutMs: 300, backoffInitialMs: 20, backoffMaxMs: 20, jitter: 0, logger: quiet });
  // The deadline may fall while a retry is under way (said so), or between two.
  await assert.rejects(provider.initialize(), /no snapshot within initTimeoutMs \(300 ms\);( a request is still under way;)? the last attempt: GET .*: bad_signature: /);
  assert.ok(server.requests > 2, `${server.requests} requests`);
  await provider.onClose();
});

test("a failing poll is logged once while it fails the same way, again when the failure changes, and its end; STALE names the last failure", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v1;
  const lines = [];
  const provider = new PennonServerProvider({
    keys, environment: "test", url: server.url, pollIntervalMs: 10, backoffInitialMs: 10, backoffMaxMs: 10, jitter: 0, staleAfterMs: 100,
    logger: { warn: (line) => lines.push(line.replaceAll(/127\.0\.0\.1:\d+/g, "host")) },
  });
  t.after(() => provider.onClose());
  await provider.initialize();
  const stale = providerEvent(provider, "PROVIDER_STALE");
  server.body = tamper(v2);
  const { message } = await stale;
  assert.match(message, /^syncing has failed for \d+ ms; serving version 1; the last failure: GET http:\/\/127\.0\.0\.1:\d+\/snapshot: bad_signature: /);
  server.status = 503;
  const tampered = server.requests;
  while (server.requests < tampered + 3) await sleep(5);
  const ready = providerEvent(provider, "PROVIDER_READY");
  [server.status, server.body] = [200, v2];
  await ready;
  assert.ok(tampered > 4, `${tampered} requests failed as tampered`);
  const logged = lines.filter((line) => line.startsWith("pennon: GET")).map((line) => line.replace(/: bad_signature: .*/, ": bad_signature: …"));
  const failed = Number(/after (\d+) failed/.exec(logged[2])?.[1]);
  assert.ok(failed >= tampered + 1, `${failed} failed requests`);
  assert.deepEqual(logged, [
    "pennon: GET http://host/snapshot: bad_signature: …",
    "pennon: GET http://host/snapshot: HTTP 503",
    `pennon: GET http://host/snapshot answers again, after ${failed} failed requests (the last: GET http://host/snapshot: HTTP 503)`,
  ]);
});

test("an error answer is logged with the server's own words; a 401 after a redirect to another origin says the headers stayed behind", async (t) => {
  const answers = {
    "/json": [401, "application/json", JSON.stringify({ error: { code: "unauthorized", message: "unknown or revoked SDK key" } })],
    "/text": [403, "text/plain; charset=utf-8", "this SDK key is for environment `development`,\n not `prod`"],
    "/page": [401, "text/html", "<html><body>Sign in</body></html>"],
  };
  const server = createServer((request, response) => {
    const [status, type, body] = answers[request.url] ?? [404, "text/plain", "no such path"];
    response.writeHead(status, { "Content-Type": type }).end(body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  const base = `http://127.0.0.1:${server.address().port}`;
  // Another origin (another host name for the same server) that redirects to it.
  const redirector = createServer((request, response) => response.writeHead(307, { Location: `${base}/json` }).end());
  redirector.listen(0, "127.0.0.1");
  await once(redirector, "listening");
  t.after(() => redirector.close());
  const start = async (url) => {
    const provider = new PennonServerProvider({ keys, environment: "test", url, headers: { Authorization: "Bearer pns_x" }, logger: quiet });
    const error = await provider.initialize().catch((e) => e);
    await provider.onClose();
    return error.message.replace(/^pennon: no snapshot could be loaded: /, "");
  };
  assert.equal(await start(`${base}/json`), `GET ${base}/json: HTTP 401: unknown or revoked SDK key`);
  assert.equal(await start(`${base}/text`), `GET ${base}/text: HTTP 403: this SDK key is for environment \`development\`, not \`prod\``);
  assert.equal(await start(`${base}/page`), `GET ${base}/page: HTTP 401`, "a page says nothing worth a log line");
  const redirected = `http://localhost:${redirector.address().port}/s`;
  assert.equal(
    await start(redirected),
    `GET ${redirected}: HTTP 401 from ${base}/json (redirected to another origin, so \`headers\` were not sent): unknown or revoked SDK key`,
  );
});

test("polling off (pollIntervalMs 0): a failed request is retried until one succeeds, then no more are sent", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  const PROVIDERS = [["server", PennonServerProvider], ["web", PennonWebProvider]];
  for (const [name, Provider] of PROVIDERS) {
    server.status = 503;
    server.requests = 0;
    const provider = new Provider({ keys, environment: "test", envelope: v1, url: server.url, pollIntervalMs: 0, backoffInitialMs: 20, backoffMaxMs: 20, jitter: 0, initTimeoutMs: 100, logger: quiet });
    const changed = providerEvent(provider, "PROVIDER_CONFIGURATION_CHANGED");
    await provider.initialize({ targetingKey: "bob" });
    while (server.requests < 3) await sleep(5);
    server.status = 200;
    server.body = v2;
    assert.deepEqual((await changed).flagsChanged, ["beta"], `${name}: version 2 came by a retry`);
    const sent = server.requests;
    await sleep(200);
    assert.equal(server.requests, sent, `${name}: after the success, polling stays off`);
    await provider.onClose();
  }
});

test("a failing source turns STALE once staleAfterMs has passed, not at the next request", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v1;
  const provider = new PennonServerProvider({
    keys, environment: "test", url: server.url, pollIntervalMs: 20, jitter: 0, backoffInitialMs: 20_000, staleAfterMs: 200, logger: quiet,
  });
  await provider.initialize();
  server.status = 503;
  const stale = providerEvent(provider, "PROVIDER_STALE");
  const came = await Promise.race([stale.then(() => "stale"), sleep(5_000).then(() => "not within 5 s")]);
  assert.equal(came, "stale", "the next request is 20 s away");
  await provider.onClose();
});

test("web provider: a page shown again polls if a poll is overdue; the network back retries a failing sync", async (t) => {
  const { scope, page } = fakePage(t);
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v1;
  let now = Date.parse("2026-06-01T00:00:00Z");
  const provider = new PennonWebProvider({
    keys, environment: "test", url: server.url, pollIntervalMs: 60_000, backoffInitialMs: 60_000, clock: () => now, logger: quiet,
  });
  await provider.initialize({ targetingKey: "bob" });
  server.body = v2;
  now += 10_000; // shown again before a poll is due: no request
  page.dispatchEvent(new Event("visibilitychange"));
  await sleep(100);
  assert.equal(server.requests, 1);
  now += 60_000; // a throttled timer has not fired: the page polls as it is shown
  const changed = providerEvent(provider, "PROVIDER_CONFIGURATION_CHANGED");
  page.dispatchEvent(new Event("visibilitychange"));
  assert.deepEqual((await changed).flagsChanged, ["beta"]);
  assert.equal(provider.resolveBooleanEvaluation("beta", false).value, true);
  await sleep(20); // that poll has ended (a page shown during one waits for it)
  // Offline: the poll fails, and the next waits a 60 s backoff; `online` retries now.
  server.status = 503;
  now += 60_000;
  page.dispatchEvent(new Event("visibilitychange"));
  while (server.requests < 3) await sleep(5);
  server.status = 200;
  server.body = envelope(payload(3, { beta: boolFlag() }));
  const back = providerEvent(provider, "PROVIDER_CONFIGURATION_CHANGED");
  scope.dispatchEvent(new Event("online"));
  await back;
  assert.equal(server.requests, 4);
  // Closed: no listener polls.
  await provider.onClose();
  now += 120_000;
  scope.dispatchEvent(new Event("online"));
  page.dispatchEvent(new Event("visibilitychange"));
  await sleep(100);
  assert.equal(server.requests, 4);
});

test("web storage: every later page load revalidates with the stored ETag (a 304)", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v1;
  const items = new Map();
  const storage = { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => items.set(key, value) };
  for (let load = 1; load <= 3; load++) {
    const page = new PennonWebProvider({ keys, environment: "test", url: server.url, storage, pollIntervalMs: 0, logger: quiet });
    await page.initialize({});
    while (server.requests < load) await sleep(5);
    await sleep(50); // its answer handled
    await page.onClose();
  }
  assert.deepEqual([server.requests - server.notModified, server.notModified], [1, 2], "one download, then 304s");
  // A store that kept no ETag gets the server's with the same version.
  items.set("pennon:test:meta", JSON.stringify({ version: 1 }));
  const page = new PennonWebProvider({ keys, environment: "test", url: server.url, storage, pollIntervalMs: 0, logger: quiet });
  await page.initialize({});
  while (server.requests < 4) await sleep(5);
  await sleep(50);
  assert.match(JSON.parse(items.get("pennon:test:meta")).etag, /^"/);
  await page.onClose();
});

test("web provider: reads while a context change waits for the start evaluate the loaded snapshot", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v2;
  server.delayMs = 300;
  const provider = new PennonWebProvider({ keys, environment: "test", envelope: v1, url: server.url, waitForUrl: true, logger: quiet });
  const client = WebOpenFeature.getClient("reconciling");
  void WebOpenFeature.setProvider("reconciling", provider);
  await sleep(100); // v1 loaded, the request for v2 under way
  const changing = WebOpenFeature.setContext("reconciling", { targetingKey: "ann" });
  const during = client.getBooleanDetails("beta", false);
  assert.deepEqual([during.value, during.errorCode], [true, undefined], `ann on version 1, not ${during.errorCode}`);
  await changing;
  assert.equal(client.getBooleanValue("beta", false), true);
  await WebOpenFeature.clearProviders();
});

test("an envelope of the wrong type is refused by name; bytes of any view, buffers and text load", async () => {
  const fatal = new PennonServerProvider({ keys, environment: "test", envelope: JSON.parse(new TextDecoder().decode(v1)), logger: quiet });
  await assert.rejects(fatal.initialize(), (error) => {
    assert.equal(error.code, "PROVIDER_FATAL");
    assert.match(error.message, /`envelope` must be the envelope's bytes \(a Uint8Array or ArrayBuffer\) or its JSON text, not Object \(a parsed envelope\? pass its text\)/);
    return true;
  });
  const text = new TextDecoder().decode(v2);
  for (const given of [Buffer.from(v1), v1.buffer.slice(v1.byteOffset, v1.byteOffset + v1.byteLength), new DataView(v1.buffer, v1.byteOffset, v1.byteLength)]) {
    const provider = new PennonServerProvider({ keys, environment: "test", envelope: given, logger: quiet });
    await provider.initialize();
    assert.equal(provider.load(text), true, "text, as `envelope` takes it");
    assert.throws(() => provider.load({}), /load's argument must be the envelope's bytes .* not Object/);
    await provider.onClose();
  }
});

test("a synchronous batch of evaluateAll keeps no context alive", () => {
  // Each call prepares and frees a context; a `WeakRef` per context (as before) kept
  // all of them, JSON text included, until the loop ended.
  const script = `
    import { Engine, init } from "pennon";
    import { boolFlag, envelope, payload, publicKey } from "${repo}bindings/test/node/sign.mjs";
    await init();
    const engine = new Engine({ keys: [publicKey(1)], environment: "test" });
    engine.load(envelope(payload(1, { a: boolFlag({ staff: ["u1"] }), b: boolFlag() })), Date.now());
    const note = "an attribute of a typical size ".repeat(4);
    for (let i = 0; i < 400_000; i++) engine.evaluateAll({ targetingKey: "user-" + i, plan: "pro", note }, Date.now());
    console.log("done");`;
  const run = spawnSync(process.execPath, ["--max-old-space-size=40", "--input-type=module", "-e", script], {
    cwd: `${repo}bindings`, encoding: "utf8", timeout: 120_000,
  });
  assert.equal(run.stdout.trim(), "done", `exit ${run.status}: ${run.stderr.slice(-400)}`);
});

test("refreshIfDue with pollIntervalMs 0 polls for the first snapshot and after failures, not on every call", async () => {
  const server = await snapshotServer();
  try {
    server.status = 503;
    const provider = new PennonServerProvider({ keys, environment: "test", url: server.url, pollIntervalMs: 0, backoffInitialMs: 60_000, initTimeoutMs: 200, logger: quiet });
    await assert.rejects(provider.initialize());
    const failed = server.requests;
    assert.equal(await provider.refreshIfDue(), "skipped", "a failure waits its backoff");
    server.status = 200;
    server.body = v1;
    assert.equal(await provider.refresh(), "updated");
    const loaded = server.requests;
    for (let i = 0; i < 5; i++) assert.equal(await provider.refreshIfDue(), "skipped", "no polling: no request");
    assert.equal(server.requests, loaded, `${server.requests - loaded} requests after the load (${failed} while failing)`);
    await provider.onClose();
  } finally {
    await server.close();
  }
});
