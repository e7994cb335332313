// Telemetry reports posted to a control plane on 127.0.0.1 that checks each against the
// wire format, by both providers through the OpenFeature SDKs: exact deltas, failures
// carried over, `Retry-After`, a refused batch dropped, the last report at close,
// not-found keys and their bound, exposures; the timer, chunking and the options.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { PennonServerProvider } from "pennon/server";
import { PennonWebProvider } from "pennon/web";
import { boolFlag, envelope, payload } from "./sign.mjs";
import { sleep } from "./snapshot-server.mjs";
import { telemetryServer } from "./telemetry-server.mjs";
import { KINDS, START, ann, bob, keys, reporting, times, v1 } from "./reporting-setup.mjs";
import { fakePage } from "./helpers.mjs";

for (const kind of Object.keys(KINDS)) {
  test(`${kind}: reports carry the exact deltas since the last accepted one`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    const { provider, clock, evaluate } = await reporting(t, kind, server);
    await times(3, () => evaluate("beta", ann));
    await times(2, () => evaluate("beta", bob));
    assert.equal((await evaluate("beta", bob, "String")).errorCode, "TYPE_MISMATCH");
    assert.equal((await evaluate("old-banner", bob)).errorCode, "FLAG_NOT_FOUND");
    clock.now = START + 60_000;
    assert.equal(await provider.flushTelemetry(), "accepted");
    await evaluate("beta", ann);
    clock.now = START + 120_000;
    assert.equal(await provider.flushTelemetry(), "accepted");
    assert.equal(await provider.flushTelemetry(), "empty", "nothing since: nothing sent");

    assert.equal(server.posts.length, 2);
    for (const post of server.posts) assert.deepEqual([post.path, post.authorization], ["/v1/telemetry/test", "Bearer pns_secret"]);
    const [first, second] = server.accepted();
    assert.deepEqual(first.counts, [
      { flag: "beta", variant: null, count: 1 },
      { flag: "beta", variant: "off", count: 2 },
      { flag: "beta", variant: "on", count: 3 },
    ]);
    assert.deepEqual(first.flag_not_found, [{ flag: "old-banner", count: 1 }]);
    assert.deepEqual(first.window, { start_ms: START, end_ms: START + 60_000 });
    assert.deepEqual([first.snapshot_version, first.exposures_dropped, first.exposures], [1, 0, []]);
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    assert.equal(first.sdk, `pennon-js-${kind}/${version}`, "the SDK's name carries the provider and the package's version");
    assert.match(first.instance, /^[0-9a-f]{16}$/);
    // Deltas, not readings: only what came after the first report.
    assert.deepEqual(second.counts, [{ flag: "beta", variant: "on", count: 1 }]);
    assert.deepEqual(second.flag_not_found, []);
    assert.deepEqual(second.window, { start_ms: START + 60_000, end_ms: START + 120_000 });
    assert.equal(second.instance, first.instance);
  });

  test(`${kind}: a failed post (503) is sent again unchanged, before the counts made since`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    server.script.push({ status: 503, message: "the database is unreachable" });
    const { provider, clock, evaluate, warnings } = await reporting(t, kind, server);
    await times(4, () => evaluate("beta", ann));
    await evaluate("beta", bob);
    clock.now = START + 60_000;
    assert.equal(await provider.flushTelemetry(), "failed");
    assert.match(warnings.join("\n"), /telemetry: POST http:\/\/127\.0\.0\.1:\d+\/v1\/telemetry\/test: HTTP 503: the database is unreachable; the report is sent again with the next/);
    await times(2, () => evaluate("beta", ann));
    await times(3, () => evaluate("beta", bob));
    clock.now = START + 120_000;
    assert.equal(await provider.flushTelemetry(), "accepted");
    assert.equal(server.posts.length, 3);
    assert.deepEqual(server.posts[0].violations, []);
    assert.deepEqual(server.posts[1].body, server.posts[0].body, "the same batch, id and all");
    const [again, newer, ...more] = server.accepted();
    assert.deepEqual(more, []);
    assert.deepEqual(again.counts, [{ flag: "beta", variant: "off", count: 1 }, { flag: "beta", variant: "on", count: 4 }]);
    assert.deepEqual(again.window, { start_ms: START, end_ms: START + 60_000 });
    assert.match(again.batch, /^[0-9a-f]{32}$/);
    assert.deepEqual(newer.counts, [{ flag: "beta", variant: "off", count: 3 }, { flag: "beta", variant: "on", count: 2 }], "what came since, once");
    assert.deepEqual(newer.window, { start_ms: START + 60_000, end_ms: START + 120_000 });
    assert.notEqual(newer.batch, again.batch);
  });

  test(`${kind}: a post stored but answered after requestTimeoutMs counts once`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    // Stored, then answered too late (a slow proxy), then stored and never answered.
    server.script.push({ status: 202, delayMs: 600 }, "hang");
    const { provider, clock, evaluate } = await reporting(t, kind, server, { requestTimeoutMs: 200 });
    await times(100, () => evaluate("beta", ann));
    clock.now = START + 60_000;
    assert.equal(await provider.flushTelemetry(), "failed");
    await times(7, () => evaluate("beta", bob));
    clock.now = START + 120_000;
    assert.equal(await provider.flushTelemetry(), "failed");
    clock.now = START + 180_000;
    assert.equal(await provider.flushTelemetry(), "accepted");
    assert.equal(server.posts.length, 4);
    assert.deepEqual([server.posts[1].body, server.posts[2].body], [server.posts[0].body, server.posts[0].body]);
    assert.equal(server.posts[3].body.batch !== server.posts[0].body.batch, true);
    const counted = server.stored.flatMap((report) => report.counts).reduce((sum, c) => sum + c.count, 0);
    assert.deepEqual([server.stored.length, counted], [2, 107], "every evaluation once");
  });

  test(`${kind}: a batch failing for a day is sent afresh, with newer counts`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    server.script.push({ status: 503 }, { status: 503 });
    const { provider, clock, evaluate } = await reporting(t, kind, server);
    await times(3, () => evaluate("beta", ann));
    assert.equal(await provider.flushTelemetry(), "failed");
    await evaluate("beta", ann);
    clock.now = START + 86_400_000;
    assert.equal(await provider.flushTelemetry(), "failed");
    clock.now = START + 86_400_001;
    assert.equal(await provider.flushTelemetry(), "accepted");
    assert.equal(server.posts.length, 3);
    assert.deepEqual(server.posts[1].body, server.posts[0].body, "within a day: the same batch");
    const [afresh] = server.accepted();
    assert.notEqual(afresh.batch, server.posts[0].body.batch);
    assert.deepEqual(afresh.counts, [{ flag: "beta", variant: "on", count: 4 }]);
    assert.deepEqual(afresh.window, { start_ms: START, end_ms: START + 86_400_001 });
  });

  test(`${kind}: a 429 is retried no sooner than its Retry-After`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    server.script.push({ status: 429, retryAfter: "30", message: "too many reports" });
    const { provider, clock, evaluate } = await reporting(t, kind, server);
    await times(2, () => evaluate("beta", ann));
    assert.equal(await provider.flushTelemetry(), "failed");
    await evaluate("beta", ann);
    clock.now = START + 29_000;
    assert.equal(await provider.flushTelemetry(), "deferred");
    assert.equal(server.posts.length, 1, "nothing is posted while the server asks to wait");
    clock.now = START + 30_000;
    assert.equal(await provider.flushTelemetry(), "accepted");
    assert.deepEqual(server.accepted().map((r) => r.counts), [[{ flag: "beta", variant: "on", count: 2 }], [{ flag: "beta", variant: "on", count: 1 }]], "the refused batch, then the newer counts");
  });

  test(`${kind}: a refused batch (422) is logged once and dropped`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    const message = "counts[0].count: must be at least 1";
    server.script.push({ status: 422, message }, { status: 422, message });
    const { provider, clock, evaluate, warnings } = await reporting(t, kind, server);
    await times(5, () => evaluate("beta", ann));
    clock.now = START + 10_000;
    assert.equal(await provider.flushTelemetry(), "rejected");
    await evaluate("beta", ann);
    clock.now = START + 20_000;
    assert.equal(await provider.flushTelemetry(), "rejected");
    assert.equal(warnings.filter((w) => w.includes(message)).length, 1, `logged once: ${warnings.join("\n")}`);
    assert.match(warnings.find((w) => w.includes(message)), /HTTP 422: counts\[0\]\.count: must be at least 1; the report is dropped/);
    await times(2, () => evaluate("beta", bob));
    clock.now = START + 60_000;
    assert.equal(await provider.flushTelemetry(), "accepted");
    const [accepted] = server.accepted();
    assert.deepEqual(accepted.counts, [{ flag: "beta", variant: "off", count: 2 }], "refused batches are not sent again");
    assert.deepEqual(accepted.window, { start_ms: START + 20_000, end_ms: START + 60_000 });
  });

  test(`${kind}: close sends a last report, and waits no longer than requestTimeoutMs`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    const { OpenFeature, domain, evaluate } = await reporting(t, kind, server);
    await times(2, () => evaluate("beta", ann));
    await evaluate("beta", bob);
    await OpenFeature.clearProviders(domain);
    assert.deepEqual(server.accepted().map((r) => [r.counts, r.snapshot_version]), [[[{ flag: "beta", variant: "off", count: 1 }, { flag: "beta", variant: "on", count: 2 }], 1]]);

    const hanging = await telemetryServer();
    t.after(hanging.close);
    hanging.script.push("hang");
    const second = await reporting(t, kind, hanging, { requestTimeoutMs: 300 });
    await second.evaluate("beta", ann);
    const began = Date.now();
    await second.provider.onClose();
    assert.equal(hanging.posts.length, 1);
    assert.ok(Date.now() - began < 5_000, `close waited ${Date.now() - began} ms`);
  });

  test(`${kind}: not-found keys are counted per key, up to 1,000 a window`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    const { provider, evaluate } = await reporting(t, kind, server);
    for (let i = 0; i < 1_005; i++) await evaluate(`gone-${String(i).padStart(4, "0")}`, bob);
    await evaluate("gone-0000", bob);
    for (const odd of ["with space", ".hidden", "x".repeat(129), "\u00e9t\u00e9"]) await evaluate(odd, bob);
    const read = provider.telemetry.counts();
    assert.deepEqual([read.flagNotFound, read.notFound.length], [1_010, 1_001]);
    assert.equal(await provider.flushTelemetry(), "accepted");
    await evaluate("gone-1004", bob);
    await evaluate("with space", bob);
    assert.equal(await provider.flushTelemetry(), "accepted");
    const [first, second] = server.accepted();
    assert.equal(first.flag_not_found.length, 1_001);
    assert.deepEqual(first.flag_not_found[0], { flag: "gone-0000", count: 2 });
    assert.deepEqual(first.flag_not_found[999], { flag: "gone-0999", count: 1 });
    assert.deepEqual(first.flag_not_found[1_000], { flag: null, count: 5 + 4 }, "the keys past the bound, and the odd ones");
    assert.deepEqual(second.flag_not_found, [{ flag: "gone-1004", count: 1 }, { flag: null, count: 1 }], "a new window names new keys again, and never keys no flag can have");
  });

  test(`${kind}: exposures go with the report, and the queue's drops per window`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    const { provider, clock, evaluate } = await reporting(t, kind, server, { exposureCapacity: 2, exposures: "all" });
    await times(5, () => evaluate("beta", ann)); // 2 queued, 3 dropped
    assert.equal(await provider.flushTelemetry(), "accepted");
    await evaluate("beta", { targetingKey: "line\nbreak" }); // queued; the server could not take it
    await times(2, () => evaluate("beta", bob)); // 1 queued, 1 dropped
    assert.equal(await provider.flushTelemetry(), "accepted");
    for (const bytes of [1_025, 1_024]) await evaluate("beta", { targetingKey: "k".repeat(bytes) });
    assert.equal(await provider.flushTelemetry(), "accepted");
    assert.equal(provider.telemetry.exposuresDropped, 4, "the provider's reading is still cumulative");
    // Held through an outage of 6 days: an exposure over 5 days old is not sent.
    server.script.push({ status: 503 });
    await evaluate("beta", ann);
    assert.equal(await provider.flushTelemetry(), "failed");
    clock.now = START + 6 * 86_400_000 + 1;
    assert.equal(await provider.flushTelemetry(), "accepted");
    const [first, second, third, fourth] = server.accepted();
    const exposure = { flag: "beta", variant: "on", reason: "TARGETING_MATCH", rule_id: "staff", targeting_key: "ann", snapshot_version: 1, timestamp_ms: START };
    assert.deepEqual([first.exposures, first.exposures_dropped], [[exposure, exposure], 3]);
    const fallthrough = { flag: "beta", variant: "off", reason: "DEFAULT", targeting_key: "bob", snapshot_version: 1, timestamp_ms: START };
    assert.deepEqual([second.exposures, second.exposures_dropped], [[fallthrough], 1 + 1], "a delta: one the queue dropped, one the server could not take");
    assert.deepEqual([third.exposures.map((e) => e.targeting_key.length), third.exposures_dropped], [[1_024], 1], "a targeting key over 1,024 bytes is not sent");
    assert.deepEqual([fourth.exposures, fourth.exposures_dropped, fourth.counts], [[], 1, [{ flag: "beta", variant: "on", count: 1 }]], "too old to send");
  });
}

test("server: the timer reports on its own, every intervalMs", async (t) => {
  const server = await telemetryServer();
  t.after(server.close);
  const { evaluate } = await reporting(t, "server", server, { telemetry: { url: server.base, sdkKey: "pns_secret", intervalMs: 10_000 } });
  await evaluate("beta", ann);
  const posted = await Promise.race([server.waitPosts(1).then(() => true), sleep(20_000).then(() => false)]);
  assert.ok(posted, "a report within 20 s");
  assert.deepEqual(server.accepted().map((r) => r.counts), [[{ flag: "beta", variant: "on", count: 1 }]]);
});

test("server: more counts than one report holds go in several, none over 10,000", async (t) => {
  const server = await telemetryServer();
  t.after(server.close);
  const flags = Object.fromEntries(Array.from({ length: 10_050 }, (_, i) => [`f${String(i).padStart(5, "0")}`, boolFlag({ fallthrough: "on" })]));
  const { provider, evaluate } = await reporting(t, "server", server, { envelope: envelope(payload(1, flags)) });
  for (const flag of Object.keys(flags)) await evaluate(flag, bob);
  assert.equal(await provider.flushTelemetry(), "accepted");
  const reports = server.accepted();
  assert.deepEqual(reports.map((r) => r.counts.length), [10_000, 50]);
  assert.equal(reports.flatMap((r) => r.counts).reduce((sum, c) => sum + c.count, 0), 10_050);
  assert.deepEqual(reports[0].window, reports[1].window, "the same window, split");
});

test("web: a page being hidden sends what is pending, with keepalive", async (t) => {
  const { page } = fakePage(t);
  const server = await telemetryServer();
  t.after(server.close);
  const sent = [];
  const fetch = (input, init) => {
    sent.push({ method: init?.method ?? "GET", keepalive: init?.keepalive });
    return globalThis.fetch(input, init);
  };
  const { evaluate } = await reporting(t, "web", server, { fetch });
  await times(2, () => evaluate("beta", ann));
  page.visibilityState = "hidden";
  page.dispatchEvent(new Event("visibilitychange"));
  await server.waitPosts(1);
  assert.deepEqual(sent, [{ method: "POST", keepalive: true }]);
  assert.deepEqual(server.posts[0].body.counts, [{ flag: "beta", variant: "on", count: 2 }]);
  page.visibilityState = "visible"; // shown again: a poll if due, no report
  page.dispatchEvent(new Event("visibilitychange"));
  await sleep(50);
  assert.equal(server.posts.length, 1);
});

test("telemetry options that can never work are FATAL, naming what is wrong", async () => {
  const cases = [
    [{ url: "https://flags.example.com" }, /`telemetry\.sdkKey` must be the environment's SDK key, a non-empty string, not undefined/],
    [{ url: "https://flags.example.com", sdkKey: "pns_x", intervalMs: 5_000 }, /`telemetry\.intervalMs` must be a number of milliseconds from 10000 to 2147483647; got 5000/],
    [{ url: "https://flags.example.com", sdkKey: "pns_x", interval: 60_000 }, /unknown option `telemetry\.interval` \(did you mean `telemetry\.intervalMs`\?\)/],
    [{ url: "https://flags.example.com/v1/telemetry/test", sdkKey: "pns_x" }, /`telemetry\.url` must be the control plane's base URL \(`https:\/\/flags\.example\.com`\), not an endpoint under it/],
    [{ url: "ftp://flags.example.com", sdkKey: "pns_x" }, /`telemetry\.url` must be http: or https:, not ftp:/],
    [{ url: "https://flags.example.com", sdkKey: "pns\nx" }, /`telemetry\.sdkKey` has a line break/],
    ["https://flags.example.com", /`telemetry` must be an object \(\{ url, sdkKey, intervalMs\? \}\), not "https:\/\/flags\.example\.com"/],
  ];
  for (const [telemetry, message] of cases) {
    for (const Provider of [PennonServerProvider, PennonWebProvider]) {
      const provider = new Provider({ keys, environment: "test", envelope: v1, telemetry });
      await assert.rejects(provider.initialize(), (error) => error.name === "ProviderFatalError" && message.test(error.message), `${Provider.name} ${JSON.stringify(telemetry)}`);
    }
  }
  // A base with a path prefix is fine; the report path is added to it.
  const provider = new PennonServerProvider({ keys, environment: "test", envelope: v1, telemetry: { url: "http://127.0.0.1:9/pennon/", sdkKey: "pns_x" } });
  await provider.initialize();
  await provider.onClose();
  assert.equal(await new PennonServerProvider({ keys, environment: "test", envelope: v1 }).flushTelemetry(), "disabled");
});

test("server: the report timer does not keep a Node process alive", async (t) => {
  const server = await telemetryServer();
  t.after(server.close);
  const child = fileURLToPath(new URL("./reporting-child.mjs", import.meta.url));
  // Within 15 s: a timer left ref'd would hold it for the 60 s interval.
  const { stdout } = await promisify(execFile)(process.execPath, [child, server.base], { timeout: 15_000 });
  assert.equal(stdout.trim(), "initialized");
  assert.equal(server.posts.length, 0, "no report: the process ended first");
});
