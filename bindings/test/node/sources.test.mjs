// How the providers fetch, against real HTTP servers on 127.0.0.1: options checked at
// start, loggers that throw, error bodies, redirects to other origins, `fetch`
// options that drop the abort signal, and starts that end without a snapshot saying why.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { once } from "node:events";
import { PennonServerProvider } from "pennon/server";
import { PennonWebProvider } from "pennon/web";
import { OpenFeature as ServerOpenFeature } from "@openfeature/server-sdk";
import { OpenFeature as WebOpenFeature } from "@openfeature/web-sdk";
import { boolFlag, envelope, payload, publicKey } from "./sign.mjs";
import { providerEvent, quiet, sleep, snapshotServer } from "./snapshot-server.mjs";

const keys = [publicKey(1)];
const v1 = envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }) }));
const v2 = envelope(payload(2, { beta: boolFlag({ staff: ["ann", "bob"] }) }));
const PROVIDERS = [["server", PennonServerProvider], ["web", PennonWebProvider]];

/** An HTTP server on 127.0.0.1 answering with `handle`, closed after test `t`; counts
 *  requests, and the most connections open at once. `received(n)` resolves once it has
 *  had `n` requests in all. */
async function httpServer(t, handle) {
  const server = createServer(handle);
  const state = { open: 0, mostOpen: 0, requests: [] };
  server.on("connection", (socket) => {
    state.mostOpen = Math.max(state.mostOpen, ++state.open);
    socket.on("close", () => state.open--);
  });
  const waiting = new Set();
  server.on("request", (request) => {
    state.requests.push({ url: request.url, headers: request.headers });
    for (const waiter of waiting) waiter();
  });
  state.received = (n) => new Promise((resolve) => {
    const check = () => state.requests.length >= n && (waiting.delete(check), resolve());
    waiting.add(check);
    check();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  state.origin = `http://127.0.0.1:${server.address().port}`;
  state.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  t.after(state.close);
  return state;
}


/** A logger keeping what it is told. */
const collecting = () => {
  const lines = [];
  return { lines, warn: (line) => lines.push(line) };
};

test("timing options and URLs that can never work are FATAL, naming the option", async () => {
  const server = await snapshotServer();
  server.body = v1;
  const cases = [
    [{ pollIntervalMs: Number.NaN }, /`pollIntervalMs` must be a number of milliseconds from 0 to 2147483647; got NaN/],
    [{ backoffInitialMs: Number.NaN }, /`backoffInitialMs` must be .*got NaN/],
    [{ backoffMaxMs: -1 }, /`backoffMaxMs` must be .*got -1/],
    [{ requestTimeoutMs: 0 }, /`requestTimeoutMs` must be a number of milliseconds from 1 to 2147483647; got 0/],
    [{ requestTimeoutMs: 2 ** 31 }, /`requestTimeoutMs` must be .*; got 2147483648/], // setTimeout would fire at once
    [{ initTimeoutMs: Number.POSITIVE_INFINITY }, /`initTimeoutMs`/],
    [{ staleAfterMs: "300" }, /`staleAfterMs` must be .*got "300"/],
    [{ jitter: 2 }, /`jitter` must be a number from 0 to 1; got 2/],
    [{ url: "flags.example.com/prod.json?token=secret" }, /`url` is not a URL: "flags.example.com\/prod.json"$/],
    [{ url: "ftp://flags.example.com/prod.json" }, /`url` must be http: or https:, not ftp:/],
    [{ url: "http://user:secret@127.0.0.1:9/x" }, /`url` must not hold credentials/],
    [{ exposureCapacity: "1000" }, /`exposureCapacity` must be a whole number from 0; got "1000"/], // was: exposures off
    [{ exposureCapacity: 2.5 }, /`exposureCapacity` must be .*got 2.5/],
    [{ exposureCapacity: -1 }, /`exposureCapacity` must be .*got -1/],
    [{ exposures: "ALL" }, /`exposures` must be "split" \(the default: evaluations a rollout decided\) or "all", not "ALL"/],
    [{ onExposure: "console.log" }, /`onExposure` must be a function taking an exposure, not "console.log"/],
    [{ clock: () => Date.now() / 1000 }, /`clock` returned [\d.]+, which as Unix milliseconds is 1970-01-\d\dT.*not seconds or `performance.now\(\)`/],
    [{ clock: () => 12.5 }, /`clock` returned 12.5, which as Unix milliseconds is 1970-01-01T00:00:00.012Z/],
    [{ clock: () => BigInt(Date.now()) }, /`clock` must return Unix milliseconds, a finite number; it returned \d+n \(a BigInt\)/],
    [{ clock: () => new Date() }, /`clock` must return Unix milliseconds, a finite number; it returned Date/],
    [{ clock: Date.now() }, /`clock` must be a function returning Unix milliseconds; got \d+/],
  ];
  for (const [name, Provider] of PROVIDERS) {
    for (const [options, message] of cases) {
      const provider = new Provider({ keys, environment: "test", url: server.url, logger: quiet, ...options });
      await assert.rejects(provider.initialize(), (error) => {
        assert.equal(error.name, "ProviderFatalError", `${name} ${JSON.stringify(options)}`);
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      });
      await provider.onClose();
    }
  }
  assert.equal(server.requests, 0, "nothing was fetched");
  await server.close();
});

test("refresh before initialize, or after a FATAL start, rejects saying so", async () => {
  const server = await snapshotServer();
  server.body = v1;
  for (const [name, Provider] of PROVIDERS) {
    const early = new Provider({ keys, environment: "test", url: server.url, logger: quiet });
    await assert.rejects(early.refresh(), { message: "pennon: refresh before initialize: set the provider first (`OpenFeature.setProvider`)" }, name);
    const fatal = new Provider({ keys, environment: "test", url: server.url, jitter: 2, logger: quiet });
    await assert.rejects(fatal.initialize(), { name: "ProviderFatalError" });
    await assert.rejects(fatal.refresh(), { message: /^pennon: refresh: the provider cannot start: `jitter` must be a number from 0 to 1; got 2$/ }, name);
  }
  assert.equal(server.requests, 0, "nothing was fetched");
  await server.close();
});

test("a logger that throws neither crashes the process nor stops polling", async () => {
  const server = await snapshotServer();
  server.body = v1;
  const unbound = { warn() { this.lines.push("never reached: this logger has no `lines`"); } };
  for (const [name, Provider] of PROVIDERS) {
    server.body = v1;
    const provider = new Provider({ keys, environment: "test", url: server.url, pollIntervalMs: 20, backoffInitialMs: 20, jitter: 0, logger: { warn: unbound.warn } });
    await provider.initialize({ targetingKey: "bob" });
    server.status = 500;
    await sleep(100); // failing polls, each logged by a logger that throws
    server.status = 200;
    server.body = v2;
    const read = async () => (name === "web"
      ? provider.resolveBooleanEvaluation("beta", false)
      : await provider.resolveBooleanEvaluation("beta", false, { targetingKey: "bob" }));
    for (const started = Date.now(); !(await read()).value && Date.now() - started < 2_000;) await sleep(20);
    assert.equal((await read()).value, true, `${name}: version 2 arrived by polling after the failures`);
    await provider.onClose();
  }
  await server.close();
});

test("error bodies are cancelled, so failing polls do not pile up open connections", async (t) => {
  const page = "x".repeat(200_000);
  const server = await httpServer(t, (request, response) => response.writeHead(500, { "Content-Type": "text/html" }).end(page));
  const provider = new PennonServerProvider({ keys, environment: "test", envelope: v1, url: `${server.origin}/snapshot`, pollIntervalMs: 10, backoffInitialMs: 10, backoffMaxMs: 10, jitter: 0, logger: quiet });
  await provider.initialize();
  await sleep(800);
  await provider.onClose();
  assert.ok(server.requests.length >= 20, `only ${server.requests.length} polls`);
  // Before: every unread body kept its socket open until collected (32-120 at once).
  assert.ok(server.mostOpen <= 3, `${server.mostOpen} connections open at once, over ${server.requests.length} polls`);
});

test("redirects are followed, and `headers` stay with their origin", async (t) => {
  const elsewhere = await httpServer(t, (request, response) => response.writeHead(200, { ETag: '"e2"' }).end(v2));
  const origin = await httpServer(t, (request, response) => {
    if (request.url === "/snapshot") return response.writeHead(302, { Location: "/moved" }).end("see /moved");
    response.writeHead(307, { Location: `${elsewhere.origin}/cdn/snapshot` }).end();
  });
  const warnings = collecting();
  const provider = new PennonServerProvider({ keys, environment: "test", url: `${origin.origin}/snapshot`, headers: { "x-pennon-key": "sdk-secret" }, pollIntervalMs: 0, logger: warnings });
  await provider.initialize();
  assert.equal((await provider.resolveBooleanEvaluation("beta", false, { targetingKey: "bob" })).value, true, "version 2, from the other origin");
  assert.deepEqual(origin.requests.map((r) => [r.url, r.headers["x-pennon-key"]]), [["/snapshot", "sdk-secret"], ["/moved", "sdk-secret"]]);
  assert.deepEqual(elsewhere.requests.map((r) => [r.url, r.headers["x-pennon-key"]]), [["/cdn/snapshot", undefined]]);
  await provider.onClose();
  // A loop ends, saying so.
  const looping = await httpServer(t, (request, response) => response.writeHead(302, { Location: "/again" }).end());
  const stuck = new PennonServerProvider({ keys, environment: "test", url: `${looping.origin}/snapshot`, pollIntervalMs: 0, initTimeoutMs: 150, backoffInitialMs: 1_000, logger: warnings });
  await assert.rejects(stuck.initialize(), /; the last attempt: GET http:\/\/127\.0\.0\.1:\d+\/snapshot: more than 5 redirects$/);
  assert.equal(looping.requests.length, 6, "the first request and 5 redirects");
  await stuck.onClose();
});

test("a start that loads nothing says why: a 304 to nothing held, a request still under way, a refused connection", async (t) => {
  const notModified = await httpServer(t, (request, response) => response.writeHead(304).end());
  const silent = await httpServer(t, () => {}); // accepts, never answers
  const refused = await httpServer(t, () => {});
  const refusedUrl = `${refused.origin}/snapshot?token=hidden`;
  await refused.close();
  const url = String.raw`GET http://127\.0\.0\.1:\d+/snapshot`;
  const cases = [
    [`${notModified.origin}/snapshot`, new RegExp(String.raw`: no snapshot within initTimeoutMs \(300 ms\).*; the last attempt: ${url}: HTTP 304 to a request without If-None-Match or If-Modified-Since$`)],
    [`${silent.origin}/snapshot`, /: no snapshot within initTimeoutMs \(300 ms\); a request is still under way$/],
    [refusedUrl, new RegExp(String.raw`; the last attempt: ${url}: TypeError: fetch failed \(connect ECONNREFUSED`)],
  ];
  for (const [url, message] of cases) {
    for (const [name, Provider] of PROVIDERS) {
      const warnings = collecting();
      const provider = new Provider({ keys, environment: "test", url, pollIntervalMs: 0, backoffInitialMs: 50, initTimeoutMs: 300, logger: warnings });
      await assert.rejects(provider.initialize(), (error) => {
        assert.match(error.message, message, name);
        return true;
      });
      assert.ok(warnings.lines.length > 0, `${name}: the cause was logged too`);
      assert.ok(warnings.lines.every((line) => !line.includes("hidden")), "queries stay out of logs");
      await provider.onClose();
    }
  }
});

test("a start retries failed requests until initTimeoutMs, and waits as long as Retry-After asks", async (t) => {
  let failing = 3;
  const times = [];
  const server = await httpServer(t, (request, response) => {
    times.push(Date.now());
    if (failing-- > 0) return response.writeHead(503, { "Retry-After": failing === 0 ? "1" : "0" }).end("restarting");
    response.writeHead(200, { ETag: '"v1"' }).end(v1);
  });
  const provider = new PennonServerProvider({ keys, environment: "test", url: `${server.origin}/snapshot`, backoffInitialMs: 20, jitter: 0, initTimeoutMs: 5_000, pollIntervalMs: 0, logger: quiet });
  await provider.initialize(); // resolves: served on the fourth request
  assert.equal(times.length, 4);
  assert.ok(times[3] - times[2] >= 990, `waited ${times[3] - times[2]} ms where Retry-After asked for 1 s`);
  assert.ok(times[1] - times[0] < 900, "without Retry-After, the backoff");
  await provider.onClose();
});

test("jitter shortens the backoff, never the wait a Retry-After asks for", async (t) => {
  // Jitter at its most: every wait cut by 99.9%. A 429 asking for 30 s must still hold
  // the next request back that long, so none comes before `initialize` gives up (it
  // came after 30 ms, and again every 30 ms, a rate-limited client hammering its limit).
  t.mock.method(Math, "random", () => 0.999);
  for (const [name, Provider] of PROVIDERS) {
    let requests = 0;
    const server = await httpServer(t, (request, response) => {
      requests++;
      response.writeHead(429, { "Retry-After": "30" }).end("slow down");
    });
    const provider = new Provider({ keys, environment: "test", url: `${server.origin}/snapshot`, jitter: 1, backoffInitialMs: 1, initTimeoutMs: 300, pollIntervalMs: 0, logger: quiet });
    await assert.rejects(provider.initialize(), /no snapshot within initTimeoutMs \(300 ms\); the last attempt: GET .* HTTP 429 \(Retry-After: 30 s\)/, name);
    assert.equal(requests, 1, `${name}: ${requests} requests where Retry-After asked for 30 s`);
    await provider.onClose();
  }
});

test("a `fetch` option that drops the abort signal cannot hold polling: requests time out, and STALE comes", async (t) => {
  const hanging = await httpServer(t, () => {});
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v1;
  let target = server.url;
  const dropsSignal = (url, init) => fetch(target, { headers: init.headers }); // a wrapper that forgets `signal`
  const provider = new PennonServerProvider({ keys, environment: "test", url: server.url, fetch: dropsSignal, requestTimeoutMs: 100, pollIntervalMs: 20, backoffInitialMs: 20, backoffMaxMs: 20, jitter: 0, staleAfterMs: 300, logger: quiet });
  t.after(() => provider.onClose());
  await provider.initialize();
  const stale = new Promise((resolve) => provider.events.addHandler("PROVIDER_STALE", resolve));
  target = `${hanging.origin}/snapshot`;
  // Each request to the hung server ends only by its timeout: a third one proves two
  // timed out and polling went on. Awaited, not counted when STALE comes: how many
  // fit in staleAfterMs depends on how late a busy machine runs the timers (two, once
  // in 45 runs of the suite, where three had been asserted).
  await hanging.received(hanging.requests.length + 3);
  assert.match((await stale).message, /^syncing has failed for \d+ ms; serving version 1; the last failure: GET http:\/\/127\.0\.0\.1:\d+\/snapshot: .*requestTimeoutMs \(100 ms\)/);
  await provider.onClose();
  // Closing settles a request such a `fetch` holds at once, not at its timeout: before
  // any timer or socket could, as the abort settles it in microtasks alone.
  const patient = new PennonServerProvider({ keys, environment: "test", url: server.url, envelope: v1, fetch: dropsSignal, requestTimeoutMs: 10_000, initTimeoutMs: 100, pollIntervalMs: 0, logger: quiet });
  t.after(() => patient.onClose());
  const sent = hanging.received(hanging.requests.length + 1);
  await patient.initialize();
  const pending = patient.refresh();
  await sent; // the start's request, which `refresh` joined, hangs at the server
  await patient.onClose();
  const nextTurn = new Promise((resolve) => setImmediate(() => resolve("still pending")));
  assert.equal(await Promise.race([pending, nextTurn]), "failed");
});

test("closing during start, then starting again (React StrictMode), announces nothing before the second start's READY", async () => {
  const server = await snapshotServer();
  server.body = v2;
  const saved = [];
  const storage = { getItem: () => null, setItem: (key, text) => saved.push(text.length) };
  const provider = new PennonWebProvider({ keys, environment: "test", envelope: v1, url: server.url, storage, logger: quiet });
  const events = [];
  provider.events.addHandler("PROVIDER_CONFIGURATION_CHANGED", () => events.push("changed"));
  // An `initialize` that closing overtook never settles: the SDK would announce
  // whatever it settled with, READY or ERROR, for a provider that is closed.
  const settled = [];
  const track = (initializing) => void initializing.then(() => settled.push("resolved"), (error) => settled.push(`rejected: ${error.message}`));
  track(provider.initialize({ targetingKey: "bob" }));
  await provider.onClose();
  await sleep(0);
  assert.deepEqual([server.requests, saved.length], [0, 0], "the closed start fetched and stored nothing");
  track(provider.initialize({ targetingKey: "bob" }));
  await provider.onClose();
  // Version 2 comes half a second after the third start's first request: else it could
  // arrive within the tick the checks below wait (18 runs in 300 under load), and be
  // announced, rightly, after READY but before they look.
  server.delayMs = 500;
  const third = provider.initialize({ targetingKey: "bob" });
  const changed = providerEvent(provider, "PROVIDER_CONFIGURATION_CHANGED");
  await third;
  await sleep(0);
  assert.deepEqual(settled, [], "neither closed start settled");
  assert.deepEqual(events, [], "nothing announced before READY");
  assert.equal(provider.resolveBooleanEvaluation("beta", false).value, false, "the bootstrap served at once");
  await changed;
  assert.equal(provider.resolveBooleanEvaluation("beta", false).value, true, "version 2 served");
  await provider.onClose();
  server.delayMs = 0;
  // A context change that waited for a start which closing overtook goes to the next.
  const fresh = new PennonWebProvider({ keys, environment: "test", url: server.url, logger: quiet });
  track(fresh.initialize({ targetingKey: "ann" }));
  const change = fresh.onContextChange({ targetingKey: "ann" }, { targetingKey: "bob" });
  await fresh.onClose();
  const again = fresh.initialize({ targetingKey: "bob" });
  await Promise.all([change, again]);
  assert.deepEqual(settled, [], "the closed start did not settle");
  assert.equal(fresh.resolveBooleanEvaluation("beta", false).value, true, "bob, after the start that carried on");
  await fresh.onClose();
  await server.close();
});

test("web provider: a scheduled rollout changes its reads when a step passes, with no new snapshot", async () => {
  const step = Date.parse("2026-06-01T12:00:00Z");
  const scheduled = { type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off",
    fallthrough: { rollout: { variants: [{ variant: "on", weight: 0 }, { variant: "off", weight: 1 }],
      schedule: { steps: [{ at: "2026-06-01T12:00:00Z", weights: [1, 0] }, { at: "2026-06-01T13:00:00Z", weights: [0, 1] }] } } } };
  let now = step - 60_000;
  // A bootstrap and nothing else: no poll would ever re-evaluate.
  const provider = new PennonWebProvider({ keys, environment: "test", envelope: envelope(payload(1, { scheduled, beta: boolFlag() })), clock: () => now, logger: quiet });
  const changes = [];
  provider.events.addHandler("PROVIDER_CONFIGURATION_CHANGED", (details) => changes.push(details.flagsChanged));
  await provider.initialize({ targetingKey: "ann" });
  assert.equal(provider.resolveBooleanEvaluation("scheduled", true).value, false);
  now = step;
  for (const started = Date.now(); changes.length === 0 && Date.now() - started < 3_000;) await sleep(50);
  assert.deepEqual(changes, [["scheduled"]], "only the scheduled flag changed");
  assert.equal(provider.resolveBooleanEvaluation("scheduled", false).value, true);
  await provider.onClose();
  // Closed, its engine is freed: reads keep the last values, and nothing is announced.
  now = step + 3_600_000;
  assert.equal(await provider.refresh(), "unchanged");
  assert.equal(provider.resolveBooleanEvaluation("scheduled", false).value, true);
  assert.equal(changes.length, 1, "nothing announced after close");
});

test("web provider: the schedule is followed also when the first snapshot came after a failed start", async (t) => {
  let now = Date.parse("2026-06-01T11:59:00Z");
  const scheduled = { type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off",
    fallthrough: { rollout: { variants: [{ variant: "on", weight: 0 }, { variant: "off", weight: 1 }],
      schedule: { steps: [{ at: "2026-06-01T12:00:00Z", weights: [1, 0] }] } } } };
  const server = await snapshotServer();
  server.status = 503;
  t.after(server.close);
  const provider = new PennonWebProvider({ keys, environment: "test", url: server.url, initTimeoutMs: 100, backoffInitialMs: 20, backoffMaxMs: 20, jitter: 0, clock: () => now, logger: quiet });
  await assert.rejects(provider.initialize({ targetingKey: "ann" }));
  const ready = new Promise((resolve) => provider.events.addHandler("PROVIDER_READY", resolve));
  server.status = 200;
  server.body = envelope(payload(1, { scheduled }));
  await ready;
  await sleep(100); // the poll that loaded it has re-evaluated; only the ticker is left
  assert.equal(provider.resolveBooleanEvaluation("scheduled", true).value, false);
  now = Date.parse("2026-06-01T12:00:00Z");
  for (const started = Date.now(); !provider.resolveBooleanEvaluation("scheduled", false).value && Date.now() - started < 3_000;) await sleep(50);
  assert.equal(provider.resolveBooleanEvaluation("scheduled", false).value, true, "the step reached reads");
  await provider.onClose();
});

test("web provider: a context set during a start waits for it, even with a stored snapshot served", async () => {
  const server = await snapshotServer();
  server.body = v2;
  server.delayMs = 200;
  const stored = new TextDecoder().decode(v1);
  const storage = { getItem: () => stored, setItem() {} };
  const provider = new PennonWebProvider({ keys, environment: "test", url: server.url, storage, waitForUrl: true, logger: quiet });
  const starting = provider.initialize({ targetingKey: "ann" });
  await sleep(20); // v1 from storage is served; the request for v2 is under way, and waited for
  const changed = provider.onContextChange({ targetingKey: "ann" }, { targetingKey: "bob" });
  assert.ok(changed instanceof Promise, "the change waits (RECONCILING)");
  await Promise.all([starting, changed]);
  assert.equal(provider.resolveBooleanEvaluation("beta", false).value, true, "bob, evaluated on version 2");
  // After closing, a refresh that loads still updates what reads see.
  await provider.onClose();
  server.body = envelope(payload(3, { beta: boolFlag({ staff: ["ann"] }) }));
  server.delayMs = 0;
  assert.equal(await provider.refresh(), "updated");
  assert.equal(provider.resolveBooleanEvaluation("beta", true).value, false, "bob, on version 3");
  await server.close();
});

test("web provider storage: a page load with a current stored snapshot costs a 304, and an older version never overwrites a newer one", async () => {
  const server = await snapshotServer();
  server.body = v2;
  const items = new Map();
  const storage = { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => items.set(key, value) };
  const page = () => new PennonWebProvider({ keys, environment: "test", url: server.url, storage, pollIntervalMs: 0, logger: quiet });
  const first = page();
  await first.initialize({ targetingKey: "bob" });
  await first.onClose();
  assert.deepEqual([server.requests, server.notModified], [1, 0]);
  const second = page();
  await second.initialize({ targetingKey: "bob" });
  assert.equal(second.resolveBooleanEvaluation("beta", false).value, true, "the stored v2, at once");
  while (server.requests < 2) await sleep(5);
  assert.deepEqual([server.requests, server.notModified], [2, 1], "the second page load revalidated its stored v2");
  assert.equal(second.resolveBooleanEvaluation("beta", false).value, true);
  await second.onClose();
  // Another tab stored v3 meanwhile; a tab still loading v2 leaves it.
  const v3 = envelope(payload(3, { beta: boolFlag() }));
  const tab = new PennonWebProvider({ keys, environment: "test", envelope: v3, storage, logger: quiet });
  await tab.initialize({});
  items.delete("pennon:test"); // a fresh start below takes v2 from the server, with v3's record in place
  const lagging = page();
  await lagging.initialize({ targetingKey: "bob" });
  assert.equal(items.get("pennon:test"), undefined, "v2 was not written over v3's record");
  assert.equal(JSON.parse(items.get("pennon:test:meta")).version, 3);
  await Promise.all([tab.onClose(), lagging.onClose()]);
  await server.close();
});

test("web provider storage: what storage serves is STALE at the first failed request, however long staleAfterMs, until the server answers", async () => {
  const server = await snapshotServer();
  server.body = v1;
  const items = new Map();
  const storage = { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => items.set(key, value) };
  const options = { keys, environment: "test", url: server.url, storage, staleAfterMs: 3_600_000, backoffInitialMs: 20, backoffMaxMs: 50, logger: quiet };
  const first = new PennonWebProvider({ ...options, pollIntervalMs: 0 });
  await first.initialize({});
  await first.onClose(); // v1 stored
  server.status = 503;
  const page = new PennonWebProvider(options);
  const stale = providerEvent(page, "PROVIDER_STALE");
  await page.initialize({ targetingKey: "ann" });
  assert.equal(page.resolveBooleanEvaluation("beta", false).value, true, "storage's v1 is served");
  assert.match((await stale).message, /^serving version 1 from storage: the snapshot server has not answered since the start \(the last failure: GET http:\/\/127\.0\.0\.1:\d+\/snapshot: HTTP 503\)$/);
  const ready = providerEvent(page, "PROVIDER_READY");
  server.status = 200;
  await ready; // the server's 304 says v1 is current
  await page.onClose();
  // An inline envelope that verifies is current: a failing server waits staleAfterMs.
  const inline = new PennonWebProvider({ ...options, envelope: v1, staleAfterMs: 60_000 });
  const staleness = [];
  inline.events.addHandler("PROVIDER_STALE", (details) => staleness.push(details.message));
  server.status = 503;
  const requests = server.requests;
  try {
    await inline.initialize({});
    while (server.requests < requests + 2) await sleep(5);
    assert.deepEqual(staleness, [], "failed requests, and no STALE before staleAfterMs");
  } finally {
    await inline.onClose();
    await server.close();
  }
});

test("web provider storage: a stored envelope that does not verify, or a record naming another version, does not hold back what loads", async () => {
  const server = await snapshotServer();
  server.body = v2;
  const items = new Map();
  const storage = { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => items.set(key, value) };
  const page = () => new PennonWebProvider({ keys, environment: "test", url: server.url, storage, pollIntervalMs: 0, logger: quiet });
  // Another control plane's (another key), at a higher version: a move, or a reset.
  items.set("pennon:test", new TextDecoder().decode(envelope(payload(33, { beta: boolFlag() }), 2)));
  items.set("pennon:test:meta", JSON.stringify({ version: 33, etag: '"old"' }));
  const moved = page();
  await moved.initialize({ targetingKey: "bob" });
  await moved.onClose();
  assert.equal(JSON.parse(items.get("pennon:test:meta")).version, 2, "v2 replaced the envelope that did not verify");
  // So the next page load, with the control plane down, serves v2 from storage.
  server.status = 503;
  const offline = page();
  await offline.initialize({ targetingKey: "bob" });
  assert.equal(offline.resolveBooleanEvaluation("beta", false).value, true);
  await offline.onClose();
  // A record edited by hand to a version its envelope is not: the next version is kept.
  items.set("pennon:test:meta", JSON.stringify({ version: 999_999 }));
  [server.status, server.body] = [200, envelope(payload(3, { beta: boolFlag() }))];
  const edited = page();
  await edited.initialize({ targetingKey: "bob" }); // v2 from storage, at once
  assert.equal(await edited.refresh(), "updated");
  await edited.onClose();
  assert.equal(JSON.parse(items.get("pennon:test:meta")).version, 3);
  await server.close();
});

test("a served bootstrap: the web provider is READY at once, the server provider waits for the URL", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v2;
  server.delayMs = 300;
  // Web: bob is not in version 1; READY comes before the request answers, and version 2
  // arrives after it as a change.
  await WebOpenFeature.setContext("bootstrap", { targetingKey: "bob" });
  const seen = [];
  const client = WebOpenFeature.getClient("bootstrap");
  for (const event of ["PROVIDER_READY", "PROVIDER_CONFIGURATION_CHANGED"]) client.addHandler(event, (d) => seen.push(d?.flagsChanged ? `${event} ${d.flagsChanged}` : event));
  const web = new PennonWebProvider({ keys, environment: "test", envelope: v1, url: server.url, logger: quiet });
  await WebOpenFeature.setProviderAndWait("bootstrap", web);
  assert.deepEqual([client.getBooleanValue("beta", true), server.notModified], [false, 0], "version 1 served");
  await providerEvent(web, "PROVIDER_CONFIGURATION_CHANGED");
  assert.equal(client.getBooleanValue("beta", false), true, "version 2 served once it came");
  assert.deepEqual(seen, ["PROVIDER_READY", "PROVIDER_CONFIGURATION_CHANGED beta"]);
  await WebOpenFeature.clearProviders();
  // `waitForUrl: true`, and the server provider by default, are ready with version 2.
  const waiting = new PennonWebProvider({ keys, environment: "test", envelope: v1, url: server.url, waitForUrl: true, logger: quiet });
  await WebOpenFeature.setContext("bootstrap", { targetingKey: "bob" }); // cleared with the providers
  await WebOpenFeature.setProviderAndWait("bootstrap", waiting);
  assert.equal(WebOpenFeature.getClient("bootstrap").getBooleanValue("beta", false), true, "web, waitForUrl: true");
  await WebOpenFeature.clearProviders();
  const backend = new PennonServerProvider({ keys, environment: "test", envelope: v1, url: server.url, logger: quiet });
  await ServerOpenFeature.setProviderAndWait("bootstrap", backend);
  const bob = await ServerOpenFeature.getClient("bootstrap").getBooleanValue("beta", false, { targetingKey: "bob" });
  assert.equal(bob, true, "server: version 2 before READY");
  await ServerOpenFeature.clearProviders();
  // A refused bootstrap (expired) serves nothing: the web provider waits for the URL.
  const expired = envelope(payload(1, { beta: boolFlag() }, {}, "2020-01-01T00:00:00Z"));
  const fallback = new PennonWebProvider({ keys, environment: "test", envelope: expired, url: server.url, logger: quiet });
  await WebOpenFeature.setContext("bootstrap", { targetingKey: "bob" });
  await WebOpenFeature.setProviderAndWait("bootstrap", fallback);
  assert.equal(WebOpenFeature.getClient("bootstrap").getBooleanValue("beta", false), true, "version 2, waited for");
  await WebOpenFeature.clearProviders();
});
