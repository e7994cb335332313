// The notification stream (`notificationUrl`) against a real server on 127.0.0.1 that
// serves the snapshot and a scripted event stream: announcements fetch at once with
// polling off, a served version fetches nothing, a stream cut at awkward places is
// read, a silent one is reconnected, a refusal's Retry-After is waited out, a broken
// stream is logged once, and close ends the connection.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PennonServerProvider } from "pennon/server";
import { PennonWebProvider } from "pennon/web";
import { boolFlag, envelope, payload, publicKey } from "./sign.mjs";
import { providerEvent, sleep } from "./snapshot-server.mjs";
import { streamServer, warnings } from "./stream-server.mjs";
import { fakePage } from "./helpers.mjs";

const keys = [publicKey(1)];
const v1 = envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }) }));
const v2 = envelope(payload(2, { beta: boolFlag({ staff: ["ann", "bob"] }) }));
const PROVIDERS = [["server", PennonServerProvider], ["web", PennonWebProvider]];
const bob = { targetingKey: "bob" };

/** A provider of `Provider` on `server`'s snapshot and stream, polling off, started. */
async function started(t, server, Provider = PennonServerProvider, options = {}) {
  const log = warnings();
  const provider = new Provider({
    keys, environment: "test", audience: "server", url: server.url, notificationUrl: server.streamUrl, pollIntervalMs: 0,
    headers: { Authorization: "Bearer pns_stream" }, waitForUrl: true, logger: log.logger, ...options,
  });
  t.after(() => provider.onClose());
  await provider.initialize(bob);
  return { provider, log };
}

const resolve = (provider) => provider.resolveBooleanEvaluation("beta", false, bob);

test("with polling off, a new version reaches both providers through the stream at once", async (t) => {
  for (const [name, Provider] of PROVIDERS) {
    const server = await streamServer();
    t.after(server.close);
    server.body = v1;
    const { provider, log } = await started(t, server, Provider);
    assert.equal((await resolve(provider)).value, false, name);
    const stream = await server.stream(1);
    assert.equal(stream.headers.accept, "text/event-stream", name);
    assert.equal(stream.headers["cache-control"], "no-cache", name);
    assert.equal(stream.headers.authorization, "Bearer pns_stream", name);
    server.body = v2;
    const changed = providerEvent(provider, "PROVIDER_CONFIGURATION_CHANGED");
    stream.write("event: version\ndata: 2\n\n");
    assert.deepEqual((await changed).flagsChanged, ["beta"], name);
    assert.equal((await resolve(provider)).value, true, name);
    assert.equal(server.requests, 2, `${name}: the start's request and the announced one`);
    assert.deepEqual(log.lines, [], name);
  }
});

test("an event naming the served version fetches nothing; a reconnect fetches once", async (t) => {
  const server = await streamServer();
  t.after(server.close);
  server.body = v1;
  // The first stream says version 1 (served), in two forms, then ends.
  server.answers.push((response) => {
    response.writeHead(200, { "Content-Type": "text/event-stream" });
    response.end(': hi\n\nevent: version\ndata: 1\n\ndata: {"version": 1, "environment": "test"}\n\n');
  });
  const { log } = await started(t, server, PennonServerProvider, { backoffInitialMs: 20 });
  await server.stream(2);
  // Once reconnected, the provider fetches (announcements may have been missed).
  while (!server.duringStream.includes(2)) await sleep(5);
  assert.deepEqual(server.duringStream, [0, 2], "nothing fetched while the first stream named the served version");
  assert.equal(log.count(/the server closed the stream; reconnecting in \d+ ms/), 1);
});

test("a stream that was up and cannot reopen fetches at once, so STALE comes with polling off", async (t) => {
  for (const [name, Provider] of PROVIDERS) {
    const server = await streamServer();
    t.after(server.close);
    server.body = v1;
    const { provider } = await started(t, server, Provider, { backoffInitialMs: 20, backoffMaxMs: 200, staleAfterMs: 100 });
    const first = await server.stream(1);
    first.write(": heartbeat\n\n"); // heard: it was up
    const refuse = (response) => response.writeHead(503, { "Retry-After": "0" }).end();
    server.answers.push(...Array(1_000).fill(refuse)); // never reopens within the test
    server.status = 503;
    const stale = providerEvent(provider, "PROVIDER_STALE");
    first.end();
    assert.match((await stale).message, /HTTP 503/, name);
    assert.ok(server.requests >= 2, `${name}: the start's request and the one when the stream could not reopen`);
  }
});

test("a stream cut and reopened at once fetches once, on reconnecting", async (t) => {
  const server = await streamServer();
  t.after(server.close);
  server.body = v1;
  await started(t, server, PennonServerProvider, { backoffInitialMs: 20 });
  const first = await server.stream(1);
  first.write(": heartbeat\n\n");
  first.end();
  await server.stream(2);
  while (!server.duringStream.includes(2)) await sleep(5);
  await sleep(200);
  assert.deepEqual(server.duringStream, [0, 2], "the start's request and the reconnect's, nothing more");
});

test("an event cut anywhere (inside a UTF-8 character, between CR and LF) is read", async (t) => {
  const server = await streamServer();
  t.after(server.close);
  server.body = v1;
  const { provider } = await started(t, server);
  const stream = await server.stream(1);
  server.body = v2;
  const changed = providerEvent(provider, "PROVIDER_CONFIGURATION_CHANGED");
  const bytes = Buffer.from(': caf\u00e9\r\nretry: 10\revent: vers\u00efon\r\ndata: {"version":\r\ndata:  2, "note": "\u00e9"}\r\n\r\n');
  // Cut after `caf` and inside `é`, between CR and LF, inside `ï`, in `"version":`.
  const cuts = [5, 6, 8, 19, 31, 34, 54, 75, 79, bytes.length - 1, bytes.length];
  let at = 0;
  for (const cut of cuts) {
    stream.write(bytes.subarray(at, cut));
    at = cut;
    await new Promise((done) => setTimeout(done, 5)); // each piece its own read, most likely
  }
  assert.deepEqual((await changed).flagsChanged, ["beta"]);
});

test("a silent stream is dropped after streamIdleTimeoutMs and reconnected", async (t) => {
  const server = await streamServer();
  t.after(server.close);
  server.body = v1;
  const { log } = await started(t, server, PennonServerProvider, { streamIdleTimeoutMs: 200, backoffInitialMs: 10 });
  const first = await server.stream(1);
  first.write(": heartbeat\n\n"); // heard: the silence is counted from here
  await first.closed;
  await server.stream(2);
  assert.equal(log.count(/notification stream http:\/\/127\.0\.0\.1:\d+\/stream: silent for 200 ms \(no event or heartbeat\); reconnecting in \d+ ms/), 1, log.lines.join("\n"));
});

test("a refused stream (429 with Retry-After) is opened again no sooner than asked", async (t) => {
  const server = await streamServer();
  t.after(server.close);
  server.body = v1;
  server.answers.push((response) => {
    response.writeHead(429, { "Retry-After": "1", "Content-Type": "application/json" });
    response.end(JSON.stringify({ error: { code: "too_many_streams", message: "this SDK key already has 2 streams open" } }));
  });
  const { log } = await started(t, server, PennonServerProvider, { backoffInitialMs: 10, backoffMaxMs: 5_000, jitter: 0.5 });
  const first = await server.stream(1);
  const second = await server.stream(2);
  assert.ok(second.at - first.at >= 990, `reconnected after ${second.at - first.at} ms`);
  const [line] = log.lines;
  assert.match(line, /^pennon: notification stream http:\/\/127\.0\.0\.1:\d+\/stream: HTTP 429 \(Retry-After: 1 s\): this SDK key already has 2 streams open; reconnecting in (\d+) ms \(polling goes on\)$/);
  assert.ok(Number(/reconnecting in (\d+) ms/.exec(line)[1]) >= 1_000, line);
  assert.equal(log.lines.length, 1);
});

test("a wrong Content-Type and an over-long line are each logged once, and retried", async (t) => {
  const server = await streamServer();
  t.after(server.close);
  server.body = v1;
  const html = (response) => response.writeHead(200, { "Content-Type": "text/html" }).end("<html>");
  const endless = (response) => {
    response.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8" });
    response.write(`data: ${"x".repeat(70_000)}`);
  };
  server.answers.push(html, html, html, endless, endless, endless);
  const { log } = await started(t, server, PennonServerProvider, { backoffInitialMs: 5, backoffMaxMs: 20 });
  await server.stream(7);
  assert.equal(log.count(/: not an event stream \(Content-Type `text\/html`\); reconnecting in/), 1, log.lines.join("\n"));
  assert.equal(log.count(/: a line is longer than 65536 bytes; reconnecting in/), 1, log.lines.join("\n"));
  assert.equal(log.lines.length, 2, log.lines.join("\n"));
});

test("close ends the stream's connection; initializing again opens one stream", async (t) => {
  const server = await streamServer();
  t.after(server.close);
  server.body = v1;
  const { provider } = await started(t, server);
  const first = await server.stream(1);
  await provider.onClose();
  await first.closed;
  await provider.initialize(bob);
  const second = await server.stream(2);
  server.body = v2;
  const changed = providerEvent(provider, "PROVIDER_CONFIGURATION_CHANGED");
  second.write("data: 2\n\n");
  assert.deepEqual((await changed).flagsChanged, ["beta"]);
  assert.equal(server.streams.length, 2);
  await provider.onClose();
  await second.closed;
});

test("web provider: the stream is closed while the page is hidden, and reopened (fetching) when shown", async (t) => {
  const { page } = fakePage(t);
  const server = await streamServer();
  t.after(server.close);
  server.body = v1;
  const { provider } = await started(t, server, PennonWebProvider);
  const first = await server.stream(1);
  page.visibilityState = "hidden";
  page.dispatchEvent(new Event("visibilitychange"));
  await first.closed;
  server.body = v2; // published while hidden: no stream says so
  const changed = providerEvent(provider, "PROVIDER_CONFIGURATION_CHANGED");
  page.visibilityState = "visible";
  page.dispatchEvent(new Event("visibilitychange"));
  await server.stream(2);
  assert.deepEqual((await changed).flagsChanged, ["beta"]);
  assert.equal(provider.resolveBooleanEvaluation("beta", false).value, true);
  assert.deepEqual(server.duringStream, [0, 2], "fetched once the stream was open again");
});

test("a stream announcing versions never published costs a bounded number of fetches, and one warning", async (t) => {
  for (const [name, Provider] of PROVIDERS) {
    const server = await streamServer();
    t.after(server.close);
    server.body = v1;
    const { log } = await started(t, server, Provider, { backoffInitialMs: 20 });
    const stream = await server.stream(1);
    const start = server.requests;
    // Ten events every 5 ms: 2,000 over a second or more, each above the version served.
    for (let batch = 0; batch < 200; batch++) {
      let events = "";
      for (let n = 0; n < 10; n++) events += `event: version\ndata: ${1e15 + batch * 10 + n}\n\n`;
      stream.write(events);
      await sleep(5);
    }
    await sleep(200);
    const fetches = server.requests - start;
    // Holds of 20, 40, 80, 160, 320, 640 ms... fill the window with about eight
    // fetches; one per event (as before) was over a hundred.
    assert.ok(fetches >= 1 && fetches < 20, `${name}: ${fetches} snapshot requests for 2,000 announcements`);
    const warned = /notification stream http:\/\/127\.0\.0\.1:\d+\/stream announced version 1\d{15}, and the snapshot fetched then is version 1: announcements are acted on at most every \d+ ms \(doubling up to 60000 ms\)/;
    assert.equal(log.count(warned), 1, `${name}: ${log.lines.join("\n")}`);
    assert.equal(log.lines.length, 1, `${name}: ${log.lines.join("\n")}`);
  }
});
