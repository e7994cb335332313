// Provider behaviour against a local HTTP server on 127.0.0.1: polling with ETags,
// a tampered snapshot refused while the old one is served, STALE and recovery,
// context changes re-evaluating, flagsChanged, storage and telemetry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, init, isPennonError } from "pennon";
import { PennonServerProvider } from "pennon/server";
import { PennonWebProvider } from "pennon/web";
import { OpenFeature as ServerOpenFeature, ProviderEvents as ServerEvents } from "@openfeature/server-sdk";
import { OpenFeature as WebOpenFeature, ProviderEvents as WebEvents } from "@openfeature/web-sdk";
import { boolFlag, envelope, payload, publicKey, tamper } from "./sign.mjs";
import { next, quiet, snapshotServer } from "./snapshot-server.mjs";

const v1Flags = {
  beta: boolFlag({ staff: ["ann"] }),
  "by-segment": boolFlag({ segment: "vip" }),
  steady: boolFlag({ fallthrough: "on" }),
};
const v1 = envelope(payload(1, v1Flags, { vip: { included: ["zoe"] } }));
// v2 changes `beta` directly and `by-segment` only through its segment.
const v2Flags = { ...v1Flags, beta: boolFlag({ staff: ["ann", "bob"] }) };
const v2 = envelope(payload(2, v2Flags, { vip: { included: ["zoe", "yan"] } }));
const v3 = envelope(payload(3, { ...v2Flags, added: boolFlag() }, { vip: { included: ["zoe", "yan"] } }));

test("server provider: polls with ETags, reports flagsChanged, refuses tampering, goes STALE and back", async () => {
  const server = await snapshotServer();
  server.body = v1;
  const provider = new PennonServerProvider({
    keys: [publicKey(1)], environment: "test", url: server.url, pollIntervalMs: 30, jitter: 0,
    backoffInitialMs: 30, backoffMaxMs: 30, staleAfterMs: 150, logger: quiet, exposureCapacity: 2, exposures: "all",
  });
  await ServerOpenFeature.setProviderAndWait("poll", provider);
  const client = ServerOpenFeature.getClient("poll");
  assert.equal(await client.getBooleanValue("beta", false, { targetingKey: "bob" }), false);

  const changed = next(ServerOpenFeature, "poll", ServerEvents.ConfigurationChanged);
  server.body = v2;
  assert.deepEqual((await changed).flagsChanged, ["beta", "by-segment"], "segment changes reach dependent flags");
  assert.equal(await client.getBooleanValue("beta", false, { targetingKey: "bob" }), true);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(server.notModified >= 1, "unchanged polls are answered 304 Not Modified");

  const stale = next(ServerOpenFeature, "poll", ServerEvents.Stale);
  server.body = tamper(v3);
  await stale;
  assert.equal(client.providerStatus, "STALE");
  assert.equal(await client.getBooleanValue("beta", false, { targetingKey: "bob" }), true, "v2 is still served");
  assert.equal((await client.getBooleanDetails("added", false, {})).errorCode, "FLAG_NOT_FOUND");

  const ready = next(ServerOpenFeature, "poll", ServerEvents.Ready);
  const changedAgain = next(ServerOpenFeature, "poll", ServerEvents.ConfigurationChanged);
  server.body = v3;
  assert.deepEqual((await changedAgain).flagsChanged, ["added"]);
  await ready;
  assert.equal(client.providerStatus, "READY");

  const counts = provider.telemetry.counts();
  assert.ok(counts.counts.some((c) => c.flag === "beta" && c.variant === "on" && c.count >= 2));
  assert.equal(counts.flagNotFound, 1);
  const exposures = provider.telemetry.drainExposures().map(({ flag, variant, reason, ruleId, targetingKey, snapshotVersion }) => ({ flag, variant, reason, ruleId, targetingKey, snapshotVersion }));
  assert.deepEqual(exposures, [
    { flag: "beta", variant: "off", reason: "DEFAULT", ruleId: undefined, targetingKey: "bob", snapshotVersion: 1 },
    { flag: "beta", variant: "on", reason: "TARGETING_MATCH", ruleId: "staff", targetingKey: "bob", snapshotVersion: 2 },
  ]);
  assert.ok(provider.telemetry.exposuresDropped >= 1, "the bounded queue counts what it drops");
  await ServerOpenFeature.clearProviders();
  await server.close();
});

test("server provider: a failed start is ERROR, and the first good snapshot makes it READY", async () => {
  const server = await snapshotServer();
  server.status = 500;
  const provider = new PennonServerProvider({
    keys: [publicKey(1)], environment: "test", url: server.url, pollIntervalMs: 30, jitter: 0,
    backoffInitialMs: 20, backoffMaxMs: 20, initTimeoutMs: 500, logger: quiet,
  });
  await assert.rejects(ServerOpenFeature.setProviderAndWait("failing", provider));
  const client = ServerOpenFeature.getClient("failing");
  assert.equal(client.providerStatus, "ERROR");
  const ready = next(ServerOpenFeature, "failing", ServerEvents.Ready);
  server.status = 200;
  server.body = v1;
  await ready;
  assert.equal(await client.getBooleanValue("steady", false), true);
  await ServerOpenFeature.clearProviders();
  await server.close();
});

test("server provider: a snapshot that expires while served makes it STALE", async () => {
  let clock = Date.parse("2026-06-01T00:00:00Z");
  const server = await snapshotServer();
  server.body = envelope(payload(1, v1Flags, { vip: {} }, "2026-07-01T00:00:00Z"));
  const provider = new PennonServerProvider({
    keys: [publicKey(1)], environment: "test", url: server.url, pollIntervalMs: 20, jitter: 0, clock: () => clock, logger: quiet,
  });
  await ServerOpenFeature.setProviderAndWait("expiry", provider);
  const stale = next(ServerOpenFeature, "expiry", ServerEvents.Stale);
  clock = Date.parse("2026-07-02T00:00:00Z");
  assert.match((await stale).message, /expired/);
  assert.equal(await ServerOpenFeature.getClient("expiry").getBooleanValue("steady", false), true, "still served");
  await ServerOpenFeature.clearProviders();
  await server.close();
});

test("web provider: context changes re-evaluate; new snapshots announce flagsChanged; storage", async () => {
  const server = await snapshotServer();
  server.body = v1;
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  const provider = new PennonWebProvider({
    keys: [publicKey(1)], environment: "test", url: server.url, pollIntervalMs: 30, jitter: 0, storage, logger: quiet, exposureCapacity: 10, exposures: "all",
  });
  await WebOpenFeature.setContext("web", { targetingKey: "bob" });
  await WebOpenFeature.setProviderAndWait("web", provider);
  const client = WebOpenFeature.getClient("web");
  assert.equal(client.getBooleanValue("beta", true), false);
  await WebOpenFeature.setContext("web", { targetingKey: "ann" });
  assert.equal(client.getBooleanValue("beta", false), true, "the new context was evaluated");
  assert.equal(client.getStringDetails("beta", "x").errorCode, "TYPE_MISMATCH");
  const exposed = provider.telemetry.drainExposures().map(({ variant, reason, ruleId, targetingKey }) => ({ variant, reason, ruleId, targetingKey }));
  assert.deepEqual(exposed, [
    { variant: "off", reason: "DEFAULT", ruleId: undefined, targetingKey: "bob" },
    { variant: "on", reason: "TARGETING_MATCH", ruleId: "staff", targetingKey: "ann" },
  ]);

  await WebOpenFeature.setContext("web", { targetingKey: "yan" });
  const changed = next(WebOpenFeature, "web", WebEvents.ConfigurationChanged);
  server.body = v2;
  assert.deepEqual((await changed).flagsChanged, ["beta", "by-segment"]);
  assert.equal(client.getBooleanValue("by-segment", false), true, "the cache was re-evaluated");
  assert.match(store.get("pennon:test"), /payloadType/, "the last good envelope is stored");
  await WebOpenFeature.clearProviders();
  await server.close();

  // Offline start: the stored envelope (v2) is verified and served.
  const offline = new PennonWebProvider({
    keys: [publicKey(1)], environment: "test", url: server.url, storage, initTimeoutMs: 300, logger: quiet,
  });
  await WebOpenFeature.setContext("offline", { targetingKey: "bob" });
  await WebOpenFeature.setProviderAndWait("offline", offline);
  assert.equal(WebOpenFeature.getClient("offline").getBooleanValue("beta", false), true);
  await WebOpenFeature.clearProviders();
});

test("web provider: a tampered stored envelope is refused", async () => {
  const store = new Map([["pennon:test", new TextDecoder().decode(tamper(v1))]]);
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  const warnings = [];
  const provider = new PennonWebProvider({
    keys: [publicKey(1)], environment: "test", storage, logger: { warn: (m) => warnings.push(m) },
  });
  await assert.rejects(WebOpenFeature.setProviderAndWait("tampered", provider));
  assert.match(warnings.join("\n"), /bad_signature/);
  await WebOpenFeature.clearProviders();
});

test("audience: servers refuse a browser snapshot; the web provider takes either unless pinned", async () => {
  await init();
  const flags = { steady: boolFlag({ fallthrough: "on" }) };
  const forBrowsers = envelope({ ...payload(1, flags), audience: "client" });
  const forServers = envelope({ ...payload(1, flags), audience: "server" });
  const engine = (audience) => new Engine({ keys: [publicKey(1)], environment: "test", audience });
  const now = Date.parse("2026-06-01T00:00:00Z");
  assert.throws(() => engine(undefined).load(forBrowsers, now), (e) => isPennonError(e, "wrong_audience") && /accepts server snapshots, this one is for client/.test(e.message));
  assert.equal(engine("client").load(forBrowsers, now), true);
  assert.throws(() => engine("client").load(forServers, now), (e) => isPennonError(e, "wrong_audience"));
  assert.equal(engine("any").load(forServers, now), true);
  assert.throws(() => engine("browser"), (e) => isPennonError(e, "invalid_options") && /`audience` must be/.test(e.message));

  const options = { keys: [publicKey(1)], environment: "test", envelope: forBrowsers, logger: quiet };
  const server = new PennonServerProvider(options);
  await assert.rejects(server.initialize(), "the server provider refuses the browser snapshot");
  const web = new PennonWebProvider(options);
  await web.initialize({});
  assert.equal(web.resolveBooleanEvaluation("steady", false).value, true, "the web provider takes it");
  const pinned = new PennonWebProvider({ ...options, audience: "server" });
  await assert.rejects(pinned.initialize({}));
});

test("web provider: an expired stored envelope still refuses older versions", async () => {
  const flags = { steady: boolFlag({ fallthrough: "on" }) };
  const expiredV5 = new TextDecoder().decode(envelope(payload(5, flags, {}, "2026-05-08T00:00:00Z")));
  const store = new Map([["pennon:test", expiredV5]]);
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  const june = () => Date.parse("2026-06-01T00:00:00Z");
  const options = { keys: [publicKey(1)], environment: "test", storage, clock: june, logger: quiet };
  const older = new PennonWebProvider({ ...options, envelope: envelope(payload(3, flags, {}, "2026-07-01T00:00:00Z")) });
  await assert.rejects(older.initialize({}), "version 3 is below the stored (expired) version 5");
  assert.equal(store.get("pennon:test"), expiredV5, "the stored envelope was not rolled back");
  const newer = new PennonWebProvider({ ...options, envelope: envelope(payload(6, flags, {}, "2026-07-01T00:00:00Z")) });
  await newer.initialize({});
  assert.equal(newer.resolveBooleanEvaluation("steady", false).value, true);
  assert.match(store.get("pennon:test"), /payload/, "version 6 is stored");
  assert.notEqual(store.get("pennon:test"), expiredV5);
});

test("flag metadata carries the snapshot version, environment, flag set and deciding rule, as the Rust provider's does", async () => {
  // The flag's own metadata names two of the provider's keys: the provider's win.
  const flag = { ...boolFlag({ staff: ["ann"] }), metadata: { team: "growth", flagSetId: "mine", snapshotVersion: 0 } };
  const options = { keys: [publicKey(1)], environment: "test", envelope: envelope(payload(7, { f: flag })) };
  const provided = { team: "growth", snapshotVersion: 7, version: "7", environment: "test", flagSetId: "test" };
  const server = new PennonServerProvider(options);
  await server.initialize();
  assert.deepEqual((await server.resolveBooleanEvaluation("f", false, { targetingKey: "ann" })).flagMetadata, { ...provided, ruleId: "staff" });
  assert.deepEqual((await server.resolveBooleanEvaluation("f", false, { targetingKey: "bob" })).flagMetadata, provided, "no rule decided");
  assert.deepEqual((await server.resolveBooleanEvaluation("nope", false, {})).flagMetadata, {}, "a missing flag has none");
  const web = new PennonWebProvider(options);
  await web.initialize({ targetingKey: "ann" });
  assert.deepEqual(web.resolveBooleanEvaluation("f", false).flagMetadata, { ...provided, ruleId: "staff" });
  await web.onContextChange({}, { targetingKey: "bob" });
  assert.deepEqual(web.resolveBooleanEvaluation("f", false).flagMetadata, provided);
  assert.ok(Object.isFrozen(web.resolveBooleanEvaluation("f", false).flagMetadata), "shared by reads, so frozen");
  await server.onClose();
  await web.onClose();
});
