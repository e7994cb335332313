// The providers' lifecycle through the OpenFeature SDKs, against a local HTTP server on
// 127.0.0.1: what is announced when, closing and starting again, failing storage,
// snapshots that expire with nothing polling, oversized bodies and fatal options.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { once } from "node:events";
import { PennonServerProvider } from "pennon/server";
import { PennonWebProvider } from "pennon/web";
import { OpenFeature as ServerOpenFeature, ProviderEvents as ServerEvents } from "@openfeature/server-sdk";
import { OpenFeature as WebOpenFeature, ProviderEvents as WebEvents } from "@openfeature/web-sdk";
import { boolFlag, envelope, payload, publicKey } from "./sign.mjs";
import { next, quiet, record, sleep, snapshotServer } from "./snapshot-server.mjs";
import { repo } from "./helpers.mjs";
import { instance } from "../../dist/instance.js";

const keys = [publicKey(1)];
const v1 = envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }), steady: boolFlag({ fallthrough: "on" }) }));
const v2 = envelope(payload(2, { beta: boolFlag({ staff: ["ann", "bob"] }), steady: boolFlag({ fallthrough: "on" }) }));
const SDKS = [
  ["server", ServerOpenFeature, ServerEvents, PennonServerProvider],
  ["web", WebOpenFeature, WebEvents, PennonWebProvider],
];

test("READY is announced once, and no change is announced before it", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v2;
  // A bootstrap envelope (v1) older than what the URL serves (v2). The server provider
  // (and the web one with `waitForUrl`) loads both in start; the web provider is ready
  // with the bootstrap, and version 2 comes after READY as a change.
  const cases = [...SDKS.map((sdk) => [...sdk, {}, []]), [...SDKS[1], { waitForUrl: true }, []]];
  cases[1][5] = ["PROVIDER_CONFIGURATION_CHANGED beta"];
  for (const [name, api, events, Provider, extra, after] of cases) {
    const domain = `once-${name}-${Object.keys(extra)}`;
    const provider = new Provider({ keys, environment: "test", envelope: v1, url: server.url, logger: quiet, ...extra });
    const seen = record(api, domain, [events.Ready, events.ConfigurationChanged, events.Stale, events.Error]);
    await api.setProviderAndWait(domain, provider);
    await sleep(50);
    assert.deepEqual(seen, [events.Ready, ...after], domain);
  }
  await ServerOpenFeature.clearProviders();
  await WebOpenFeature.clearProviders();
  await server.close();
});

test("web provider: a context set while it starts waits for the start; STALE and ERROR outlast context changes", async () => {
  const server = await snapshotServer();
  server.body = v1;
  const provider = new PennonWebProvider({
    keys, environment: "test", url: server.url, pollIntervalMs: 20, jitter: 0, backoffInitialMs: 20, backoffMaxMs: 20,
    staleAfterMs: 100, logger: quiet,
  });
  const client = WebOpenFeature.getClient("early");
  const seen = record(WebOpenFeature, "early", [WebEvents.ContextChanged]);
  void WebOpenFeature.setProvider("early", provider);
  await WebOpenFeature.setContext("early", { targetingKey: "ann" }); // the module is still loading
  assert.equal(client.providerStatus, "READY");
  assert.equal(client.getBooleanValue("beta", false), true, "evaluated for the context set while starting");
  await WebOpenFeature.setContext("early", { targetingKey: "bob" });
  assert.equal(client.getBooleanValue("beta", true), false);
  assert.deepEqual(seen, [WebEvents.ContextChanged, WebEvents.ContextChanged], "every change is announced");

  const stale = next(WebOpenFeature, "early", WebEvents.Stale);
  server.status = 503;
  await stale;
  await WebOpenFeature.setContext("early", { targetingKey: "ann" });
  await sleep(0);
  assert.equal(client.providerStatus, "STALE", "a context change does not hide a failing source");
  assert.equal(client.getBooleanValue("beta", false), true, "the held snapshot still serves the new context");

  const failing = new PennonWebProvider({ keys, environment: "test", url: server.url, initTimeoutMs: 200, logger: quiet });
  await assert.rejects(WebOpenFeature.setProviderAndWait("failing", failing));
  const silent = { error() {}, warn() {}, info() {}, debug() {} };
  WebOpenFeature.setLogger(silent); // the SDK logs the refused context change
  await WebOpenFeature.setContext("failing", { targetingKey: "ann" });
  assert.equal(WebOpenFeature.getClient("failing").providerStatus, "ERROR", "no snapshot: not READY after a context change");
  await WebOpenFeature.clearProviders();
  await server.close();
});

test("recovering after a long failing start announces READY, not STALE first", async () => {
  const server = await snapshotServer();
  server.status = 500;
  const provider = new PennonServerProvider({
    keys, environment: "test", url: server.url, pollIntervalMs: 20, jitter: 0, backoffInitialMs: 20, backoffMaxMs: 20,
    initTimeoutMs: 100, staleAfterMs: 50, logger: quiet,
  });
  await assert.rejects(ServerOpenFeature.setProviderAndWait("recovering", provider));
  const seen = [];
  for (const event of [ServerEvents.Ready, ServerEvents.Stale]) provider.events.addHandler(event, () => seen.push(event));
  await sleep(120); // failing for longer than staleAfterMs
  server.status = 200;
  server.body = v1;
  for (let waited = 0; !seen.includes(ServerEvents.Ready) && waited < 5000; waited += 10) await sleep(10);
  await sleep(50);
  assert.deepEqual(seen, [ServerEvents.Ready]);
  await ServerOpenFeature.clearProviders();
  await server.close();
});

test("recovering from STALE with a new snapshot announces READY, then CONFIGURATION_CHANGED, whose handlers see READY", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  // The SDKs take a status from READY and none from CONFIGURATION_CHANGED (spec 5.3):
  // a change announced first reached handlers still saying STALE, with v2 served.
  for (const [name, api, events, Provider] of SDKS) {
    server.status = 200;
    server.body = v1;
    const domain = `recover-${name}`;
    const provider = new Provider({
      keys, environment: "test", url: server.url, pollIntervalMs: 20, jitter: 0, backoffInitialMs: 20, backoffMaxMs: 20,
      staleAfterMs: 60, logger: quiet,
    });
    if (name === "web") await api.setContext(domain, { targetingKey: "bob" });
    await api.setProviderAndWait(domain, provider);
    const client = api.getClient(domain);
    const stale = next(api, domain, events.Stale);
    server.status = 503;
    await stale;
    const seen = [];
    // What a handler sees: the client's status, and what `bob` is served (v2 adds him).
    const look = async (event) => {
      const status = client.providerStatus; // as the handler is called, before any await
      const served = name === "web" ? client.getBooleanValue("beta", false) : await client.getBooleanValue("beta", false, { targetingKey: "bob" });
      seen.push(`${event} ${status} bob=${served}`);
    };
    const order = [];
    client.addHandler(events.Ready, () => order.push("READY") && look("READY"));
    client.addHandler(events.ConfigurationChanged, (details) => order.push("CHANGED") && look(`CHANGED ${details.flagsChanged}`));
    const changed = next(api, domain, events.ConfigurationChanged);
    server.body = v2;
    server.status = 200;
    await changed;
    await sleep(10); // the server client's evaluations in the handlers
    assert.deepEqual(seen.sort(), ["CHANGED beta READY bob=true", "READY READY bob=true"], name);
    assert.deepEqual(order, ["READY", "CHANGED"], name);
    await api.clearProviders();
  }
  // An expired snapshot, recovered by a pushed one (the server provider's `load`).
  const soon = new Date(Date.now() + 300).toISOString();
  const expiring = envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }), steady: boolFlag({ fallthrough: "on" }) }, {}, soon));
  const provider = new PennonServerProvider({ keys, environment: "test", envelope: expiring });
  await ServerOpenFeature.setProviderAndWait("recover-push", provider);
  const alive = setInterval(() => {}, 1000); // the provider's timers never keep a process alive
  await next(ServerOpenFeature, "recover-push", ServerEvents.Stale);
  clearInterval(alive);
  const client = ServerOpenFeature.getClient("recover-push");
  const seen = [];
  client.addHandler(ServerEvents.Ready, () => seen.push(`READY ${client.providerStatus}`));
  client.addHandler(ServerEvents.ConfigurationChanged, (details) => seen.push(`CHANGED ${details.flagsChanged} ${client.providerStatus}`));
  assert.equal(provider.load(v2), true);
  await sleep(0);
  assert.deepEqual(seen, ["READY READY", "CHANGED beta READY"]);
  await ServerOpenFeature.clearProviders();
});

test("closed or replaced while it starts, a provider is announced neither READY nor ERROR, and leaves nothing running", async (t) => {
  // The start waits for a first snapshot: on a request that gets no answer, or on the
  // backoff after a 503 (retrying within initTimeoutMs).
  const failing = await snapshotServer();
  failing.status = 503;
  const silent = createServer(() => {}); // never answers
  silent.listen(0, "127.0.0.1");
  await once(silent, "listening");
  let silentRequests = 0;
  silent.on("request", () => silentRequests++);
  t.after(() => {
    silent.closeAllConnections();
    silent.close();
    return failing.close();
  });
  const waits = {
    request: { url: `http://127.0.0.1:${silent.address().port}/snapshot`, requests: () => silentRequests },
    backoff: { url: failing.url, requests: () => failing.requests },
  };
  const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
  for (const [wait, { url, requests }] of Object.entries(waits)) {
    for (const [name, api, events, Provider] of SDKS) {
      api.setLogger({ error() {}, warn() {}, info() {}, debug() {} });
      for (const how of ["close", "clearProviders", "setProvider"]) {
        const label = `${name}, ${how} during the ${wait}`;
        const before = timers();
        const starting = new Provider({ keys, environment: "test", url, initTimeoutMs: 60_000, backoffInitialMs: 60_000, logger: quiet });
        const seen = [];
        const client = api.getClient();
        const handlers = [events.Ready, events.Error].map((event) => [event, (details) => seen.push(`${event} ${details.message ?? ""}`.trim())]);
        for (const [event, handler] of handlers) client.addHandler(event, handler);
        let settled = "pending";
        void api.setProviderAndWait(starting).then(() => (settled = "resolved"), (error) => (settled = `rejected: ${error.message}`));
        const sent = requests();
        while (requests() === sent) await sleep(5);
        if (wait === "backoff") await sleep(20); // the 503 is in: the start waits out its backoff
        if (how === "close") await api.close();
        else if (how === "clearProviders") await api.clearProviders();
        else await api.setProviderAndWait(new Provider({ keys, environment: "test", envelope: v1, logger: quiet }));
        await sleep(20); // what the closed start still had to do (an aborted request's end)
        // The SDK announces whatever `initialize` settles with, to the domain's clients as
        // they are then: READY for a closed provider, or ERROR beside its replacement.
        assert.equal(settled, "pending", label);
        assert.deepEqual(seen, how === "setProvider" ? [events.Ready] : [], label);
        assert.equal(client.providerStatus, how === "setProvider" ? "READY" : "NOT_READY", label);
        assert.equal(requests(), sent + 1, `${label}: no request after closing`);
        assert.equal(timers(), before, `${label}: no timer left (the start's backoff and initTimeoutMs)`);
        for (const [event, handler] of handlers) client.removeHandler(event, handler);
        await api.clearProviders();
      }
    }
  }
});

test("closing aborts the request under way and announces nothing after it", async () => {
  const server = await snapshotServer();
  server.body = v1;
  const provider = new PennonServerProvider({ keys, environment: "test", url: server.url, pollIntervalMs: 20, jitter: 0, logger: quiet });
  await ServerOpenFeature.setProviderAndWait("closing", provider);
  // The provider's own emitter: after closing, the SDK binds the domain to its default.
  const seen = [];
  for (const event of [ServerEvents.ConfigurationChanged, ServerEvents.Stale, ServerEvents.Ready, ServerEvents.Error]) {
    provider.events.addHandler(event, () => seen.push(event));
  }
  server.delayMs = 150;
  server.body = v2;
  const before = server.requests;
  while (server.requests === before) await sleep(5); // a poll is waiting for its answer
  await ServerOpenFeature.clearProviders();
  const after = server.requests;
  await sleep(300);
  assert.equal(server.requests, after, "no request after closing");
  assert.deepEqual(seen, []);
  server.delayMs = 0;
  assert.equal(await provider.refresh(), "updated", "a refresh asked for after closing still loads, on a new engine");
  await server.close();
});

test("server provider: evaluations after closing say the provider is closed, not that nothing loaded", async () => {
  const provider = new PennonServerProvider({ keys, environment: "test", envelope: v1, logger: quiet });
  const context = { targetingKey: "ann" };
  const early = await provider.resolveBooleanEvaluation("beta", false, context);
  assert.match(early.errorMessage, /no snapshot is loaded yet/);
  await provider.initialize();
  assert.equal((await provider.resolveBooleanEvaluation("beta", false, context)).value, true);
  await provider.onClose();
  const late = await provider.resolveBooleanEvaluation("beta", false, context);
  assert.equal(late.errorCode, "PROVIDER_NOT_READY");
  assert.equal(late.errorMessage, "pennon: the provider is closed (onClose); serving defaults");
});

test("closing frees the engine's module memory: a provider per request does not grow the module", async () => {
  // About 1 MB of module memory per engine: where nothing is finalized (Workers), a
  // provider made and closed per request kept every one.
  const flags = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`flag-${i}`, boolFlag({ staff: [`user-${i}`] })]));
  const big = envelope(payload(1, flags));
  const cycle = async () => {
    const provider = new PennonServerProvider({ keys, environment: "test", envelope: big, logger: quiet });
    await provider.initialize();
    await provider.onClose();
  };
  for (let i = 0; i < 5; i++) await cycle();
  const before = instance().memory().buffer.byteLength;
  for (let i = 0; i < 100; i++) await cycle();
  const grown = instance().memory().buffer.byteLength - before;
  assert.ok(grown < 4 * 2 ** 20, `the module grew ${(grown / 2 ** 20).toFixed(1)} MB over 100 providers`);
});

test("initializing twice, or again after closing during a poll, runs one polling loop", async () => {
  const server = await snapshotServer();
  server.body = v1;
  const interval = 25;
  const provider = new PennonServerProvider({ keys, environment: "test", url: server.url, pollIntervalMs: interval, jitter: 0, logger: quiet });
  // One loop waits `interval` after each answer, so a window holds at most this many polls.
  // The window is measured: under load a 500 ms sleep can last much longer, and two loops
  // are told apart by the rate, not by a count that assumes the sleep was on time.
  const polls = async (ms) => {
    const [start, began] = [server.requests, performance.now()];
    await sleep(ms);
    const elapsed = performance.now() - began;
    return { count: server.requests - start, elapsed, atMost: Math.floor(elapsed / interval) + 2 };
  };
  const oneLoop = ({ count, elapsed, atMost }, what) =>
    assert.ok(count >= 1 && count <= atMost, `${count} polls in ${elapsed.toFixed(0)} ms ${what}`);
  await provider.initialize();
  await provider.initialize();
  oneLoop(await polls(500), "after initializing twice");

  server.delayMs = 60;
  const before = server.requests;
  while (server.requests === before) await sleep(5);
  await provider.onClose();
  await provider.initialize();
  server.delayMs = 0;
  oneLoop(await polls(500), "after closing during a poll");
  await provider.onClose();
  assert.equal((await polls(200)).count, 0, "closing stops the loop");
  await server.close();
});

test("web provider: storage that throws is skipped with a warning", async () => {
  const denied = () => {
    throw new Error("SecurityError: access denied");
  };
  const warnings = [];
  const provider = new PennonWebProvider({
    keys, environment: "test", envelope: v1, storage: { getItem: denied, setItem: denied }, logger: { warn: (m) => warnings.push(m) },
  });
  await WebOpenFeature.setProviderAndWait("denied", provider);
  assert.equal(WebOpenFeature.getClient("denied").getBooleanValue("steady", false), true);
  assert.match(warnings.join("\n"), /cannot read the stored envelope: Error: SecurityError/);
  assert.match(warnings.join("\n"), /cannot store the envelope/);
  // `localStorage` itself throws when read where storage is blocked.
  Object.defineProperty(globalThis, "localStorage", { get: denied, configurable: true });
  try {
    const blocked = new PennonWebProvider({ keys, environment: "test", envelope: v1, storage: true, logger: quiet });
    await WebOpenFeature.setProviderAndWait("blocked", blocked);
    assert.equal(WebOpenFeature.getClient("blocked").getBooleanValue("steady", false), true);
  } finally {
    delete globalThis.localStorage;
  }
  await WebOpenFeature.clearProviders();
});

test("without a URL, a snapshot that expires makes it STALE on time, and a pushed one READY again", async () => {
  const soon = new Date(Date.now() + 300).toISOString();
  const provider = new PennonServerProvider({ keys, environment: "test", envelope: envelope(payload(1, { steady: boolFlag({ fallthrough: "on" }) }, {}, soon)) });
  await ServerOpenFeature.setProviderAndWait("push", provider);
  const client = ServerOpenFeature.getClient("push");
  assert.equal(client.providerStatus, "READY");
  // The provider's timers never keep a process alive; this test's must.
  const alive = setInterval(() => {}, 1000);
  assert.match((await next(ServerOpenFeature, "push", ServerEvents.Stale)).message, /expired/);
  clearInterval(alive);
  assert.equal(client.providerStatus, "STALE");
  const ready = next(ServerOpenFeature, "push", ServerEvents.Ready);
  assert.equal(provider.load(v2), true);
  await ready;
  assert.equal(client.providerStatus, "READY");
  await ServerOpenFeature.clearProviders();
});

test("an envelope over maxBytes is refused before it is read whole, with or without Content-Length", async () => {
  const big = envelope(payload(1, { beta: boolFlag({ staff: Array.from({ length: 500 }, (_, i) => `user-${i}`) }) }));
  const server = await snapshotServer();
  server.body = big;
  for (const chunked of [false, true]) {
    server.chunked = chunked;
    const warnings = [];
    const logger = { warn: (m) => warnings.push(m) };
    const tight = new PennonServerProvider({ keys, environment: "test", url: server.url, maxBytes: 4096, pollIntervalMs: 0, initTimeoutMs: 200, logger });
    await assert.rejects(tight.initialize(), /no snapshot could be loaded/);
    const size = chunked ? "more than 4096" : String(big.length);
    assert.ok(warnings.some((m) => m.includes(`the envelope is ${size} bytes, over maxBytes (4096)`)), warnings.join("\n"));
    // The same body within the limit loads, read chunk by chunk or whole.
    const roomy = new PennonServerProvider({ keys, environment: "test", url: server.url, maxBytes: big.length, pollIntervalMs: 0, logger: quiet });
    await roomy.initialize();
    assert.equal(await roomy.resolveBooleanEvaluation("beta", false, { targetingKey: "user-499" }).then((d) => d.value), true);
  }
  await server.close();
});

test("keys that can never verify make the provider FATAL; a context it cannot convert is INVALID_CONTEXT", async () => {
  for (const [name, api, , Provider] of SDKS) {
    await assert.rejects(api.setProviderAndWait(`fatal-${name}`, new Provider({ keys: ["ed25519:AAAA"], environment: "test", logger: quiet })));
    assert.equal(api.getClient(`fatal-${name}`).providerStatus, "FATAL", name);
  }
  const cyclic = { name: "loop" };
  cyclic.self = cyclic;
  await ServerOpenFeature.setProviderAndWait("context", new PennonServerProvider({ keys, environment: "test", envelope: v1 }));
  const served = await ServerOpenFeature.getClient("context").getBooleanDetails("beta", false, { targetingKey: cyclic });
  assert.deepEqual([served.errorCode, served.value], ["INVALID_CONTEXT", false]);
  assert.match(served.errorMessage, /^invalid_context: /);
  // A flag the snapshot lacks is FLAG_NOT_FOUND whatever the context (SPEC 5.3 step 1),
  // in both providers and the Rust one.
  const missing = await ServerOpenFeature.getClient("context").getBooleanDetails("nope", false, { targetingKey: "u", odd: cyclic });
  assert.equal(missing.errorCode, "FLAG_NOT_FOUND", missing.errorMessage);
  await WebOpenFeature.setContext("context", { targetingKey: cyclic });
  const web = new PennonWebProvider({ keys, environment: "test", envelope: v1 });
  await WebOpenFeature.setProviderAndWait("context", web);
  const read = WebOpenFeature.getClient("context").getBooleanDetails("beta", false);
  assert.deepEqual([read.errorCode, read.value], ["INVALID_CONTEXT", false]);
  assert.equal(WebOpenFeature.getClient("context").getStringDetails("beta", "x").errorCode, "TYPE_MISMATCH");
  assert.deepEqual(web.telemetry.counts().counts, [{ flag: "beta", count: 2 }], "both reads counted as errors of the flag");
  // An attribute no flag reads fails nothing, in either provider (it failed every web
  // flag before: the web provider converted the whole context at once).
  for (const odd of [cyclic, "Zo\u00eb \ud83d"]) {
    await WebOpenFeature.setContext("context", { targetingKey: "user-1", odd });
    const webRead = WebOpenFeature.getClient("context").getBooleanDetails("beta", false);
    const serverRead = await ServerOpenFeature.getClient("context").getBooleanDetails("beta", false, { targetingKey: "user-1", odd });
    assert.equal(webRead.errorCode, undefined, webRead.errorMessage);
    assert.deepEqual([webRead.value, webRead.variant, webRead.reason], [serverRead.value, serverRead.variant, serverRead.reason]);
  }
  await ServerOpenFeature.clearProviders();
  await WebOpenFeature.clearProviders();
});

test("in Node, `wasm` may be a file: or data: URL string", () => {
  const fileUrl = 'import.meta.resolve("pennon/pennon.wasm")'; // what import.meta.resolve gives
  const dataUrl = '"data:application/wasm;base64," + (await import("node:fs")).readFileSync(new URL(import.meta.resolve("pennon/pennon.wasm"))).toString("base64")';
  for (const source of [fileUrl, dataUrl]) {
    const script = `import { init, Engine } from "pennon"; await init(${source}); console.log(typeof new Engine({ keys: ["${keys[0]}"], environment: "test" }).load);`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: `${repo}bindings`, encoding: "utf8" });
    assert.equal(child.stderr, "", source);
    assert.equal(child.stdout.trim(), "function", source);
  }
});

test("the expiry timer is set once per due time, not at every poll (Node keeps a timer list per delay)", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v1; // expires a week out: every poll answers 304
  const realSetTimeout = globalThis.setTimeout;
  let long = 0;
  globalThis.setTimeout = (callback, delay, ...rest) => {
    if (delay > 3_600_000) long++; // the expiry watch; polls wait 20 ms
    return realSetTimeout(callback, delay, ...rest);
  };
  t.after(() => (globalThis.setTimeout = realSetTimeout));
  const provider = new PennonServerProvider({ keys, environment: "test", url: server.url, pollIntervalMs: 20, jitter: 0, logger: quiet });
  await provider.initialize();
  while (server.notModified < 30) await sleep(10);
  await provider.onClose();
  assert.ok(long <= 2, `set ${long} times over ${server.requests} polls`); // was once per poll
});
