// Chromium (Debian's, driven by playwright-core): a page imports the built package
// and runs the vectors through the engine and the web provider; others poll the real
// control plane (`pennon serve`) from another origin, or hold its event stream open.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";
import { Tally } from "./shared/vectors.mjs";
import { nativeResults, nativeResultsPath, repo, report } from "./node/helpers.mjs";
import { boolFlag, envelope, payload, publicKey, trapEnvelopesBase64 } from "./node/sign.mjs";
import { telemetryServer } from "./node/telemetry-server.mjs";
import { PENNON_BIN, controlPlane } from "./node/control-plane.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json", ".wasm": "application/wasm" };
const bindings = `${repo}bindings/`;
const roots = { "/pkg/": bindings, "/node_modules/": `${bindings}node_modules/`, "/test/": `${bindings}test/`, "/vectors/": `${repo}tests/vectors/` };

/** Serves the package, its dependencies, the tests, the vectors and the trap test's envelopes on 127.0.0.1. */
async function serve() {
  nativeResults(); // fails early with a clear message when the native run is missing
  const traps = JSON.stringify(trapEnvelopesBase64());
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    if (path === "/traps.json") return response.writeHead(200, { "Content-Type": TYPES[".json"] }).end(traps);
    let file;
    if (path === "/") file = `${bindings}test/browser/page.html`;
    else if (path === "/native.json") file = nativeResultsPath;
    else for (const [prefix, dir] of Object.entries(roots)) if (path.startsWith(prefix)) file = join(dir, normalize(path.slice(prefix.length)));
    if (!file || !existsSync(file)) return response.writeHead(404).end();
    response.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

/**
 * Serves a page beside `node_modules`, as a project without a bundler has it: `html` at
 * `/`, the package at `/node_modules/pennon/`, its dependencies under `/node_modules/`.
 */
async function servePage(html) {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    if (path === "/") return response.writeHead(200, { "Content-Type": TYPES[".html"] }).end(html);
    const [prefix, dir] = [["/node_modules/pennon/", bindings], ["/node_modules/", `${bindings}node_modules/`]].find(([p]) => path.startsWith(p)) ?? [];
    const file = dir === undefined ? undefined : join(dir, normalize(path.slice(prefix.length)));
    if (file === undefined || !existsSync(file)) return response.writeHead(404).end();
    response.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

test("Chromium: a page without a bundler, with the README's import map, evaluates through the engine and the web provider", { skip: !existsSync(CHROMIUM) && `${CHROMIUM} is missing` }, async () => {
  const readme = readFileSync(`${bindings}README.md`, "utf8");
  const section = readme.slice(readme.indexOf("### A page without a bundler"));
  const map = section.slice(section.indexOf('<script type="importmap">'), section.indexOf("</script>") + "</script>".length);
  const v1 = Buffer.from(envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }) }))).toString("base64");
  const html = `<!doctype html><meta charset="utf-8">${map}
<script type="module">
  import { OpenFeature } from "@openfeature/web-sdk";
  import { PennonWebProvider } from "pennon/web";
  import { Engine, init } from "pennon";
  const NOW = Date.parse("2026-06-01T00:00:00Z");
  const bytes = Uint8Array.from(atob(${JSON.stringify(v1)}), (c) => c.charCodeAt(0));
  await init();
  const engine = new Engine({ keys: [${JSON.stringify(publicKey(1))}], environment: "test" });
  engine.load(bytes, NOW);
  const fromEngine = engine.evaluate("beta", { targetingKey: "ann" }, NOW).value;
  await OpenFeature.setProviderAndWait(new PennonWebProvider({ keys: [${JSON.stringify(publicKey(1))}], environment: "test", envelope: bytes, clock: () => NOW }), { targetingKey: "ann" });
  window.__pennon = { fromEngine, fromProvider: OpenFeature.getClient().getBooleanValue("beta", false) };
</script>`;
  const server = await servePage(html);
  const profile = mkdtempSync(join(tmpdir(), "pennon-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("response", (response) => response.status() >= 400 && !response.url().endsWith("/favicon.ico") && errors.push(`${response.status()} ${response.url()}`));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    // Without `#platform` in the map, the page never gets there: "Failed to resolve module specifier".
    await page.waitForFunction(() => window.__pennon !== undefined, null, { timeout: 30_000 }).catch(() => assert.fail(errors.join("\n") || "no answer"));
    assert.deepEqual(await page.evaluate(() => window.__pennon), { fromEngine: true, fromProvider: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test("Chromium: vectors through the engine and the web provider", { skip: !existsSync(CHROMIUM) && `${CHROMIUM} is missing` }, async (t) => {
  const server = await serve();
  const profile = mkdtempSync(join(tmpdir(), "pennon-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => window.__pennon !== undefined, null, { timeout: 300_000 });
    const outcome = await page.evaluate(() => window.__pennon);
    assert.equal(outcome.error, undefined, `${outcome.error}\n${errors.join("\n")}`);
    const tally = new Tally();
    tally.merge(outcome.result);
    report(t, tally);
    t.diagnostic(`chromium ${context.browser()?.version() ?? ""}`);
    assert.ok(tally.passed > 1000, `only ${tally.passed} checks ran`);
    assert.equal(tally.failed, 0, tally.failures.join("\n"));
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test("Chromium: the web provider polls the control plane from another origin", {
  skip: (!existsSync(CHROMIUM) && `${CHROMIUM} is missing`) || (!existsSync(PENNON_BIN) && `${PENNON_BIN} is missing: cargo build --bin pennon`),
}, async () => {
  const plane = await controlPlane();
  const { admin } = plane;
  const toggle = (enabled) => plane.toggle("new-checkout", enabled);
  const server = await serve();
  const profile = mkdtempSync(join(tmpdir(), "pennon-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    await admin("POST", "/api/v1/flags", { key: "new-checkout", type: "boolean", client_visible: true });
    await toggle(true);
    const { key: sdkKey } = await (await admin("POST", "/api/v1/environments/development/sdk-keys", { kind: "client" })).json();
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    const statuses = [];
    page.on("response", (response) => {
      if (response.url().startsWith(`${plane.url}/v1/snapshots/`)) statuses.push(response.status());
      if (response.status() >= 400 && !response.url().endsWith("/favicon.ico")) errors.push(`${response.status()} ${response.url()}`);
    });
    const query = new URLSearchParams({ controlPlane: plane.url, sdkKey, publicKey: plane.publicKey, flag: "new-checkout" });
    await page.goto(`http://127.0.0.1:${server.address().port}/?run=control-plane&${query}`);
    const report = () => page.evaluate(() => window.__pennon && JSON.parse(JSON.stringify(window.__pennon)));
    await page.waitForFunction(() => window.__pennon?.first !== undefined || window.__pennon?.error !== undefined, null, { timeout: 30_000 });
    const first = await report();
    assert.equal(first.error, undefined, `${first.error}\n${errors.join("\n")}`);
    assert.equal(first.first.value, true);
    assert.equal(first.first.reason, "STATIC");
    // The ETag is readable across origins, so polls revalidate: 304, no body.
    for (let waited = 0; !statuses.includes(304); waited += 50) {
      assert.ok(waited < 10_000, `no 304 within 10 s: ${statuses}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await toggle(false);
    await page.waitForFunction(() => window.__pennon.changes.length > 0, null, { timeout: 10_000 });
    const after = await report();
    assert.deepEqual(after.changes[0], { flagsChanged: ["new-checkout"], value: false });
    assert.deepEqual([...new Set(statuses)].sort(), [200, 304]);
    // What the page evaluated reaches the control plane's usage report, across origins
    // (the POST preflighted for Authorization) and with the client key.
    assert.equal(await page.evaluate(() => window.__pennonFlush()), "accepted");
    const usage = await (await admin("GET", "/api/v1/reports/usage?environment=development&flag=new-checkout")).json();
    const [reporting] = usage.environments[0].sdks;
    assert.match(reporting.sdk, /^pennon-js-web\//);
    assert.equal(reporting.kind, "client");
    const [used] = usage.environments[0].flags;
    assert.ok(used.variants.on >= 1 && used.variants.off >= 1, JSON.stringify(used));
    assert.equal(used.evaluations, used.variants.on + used.variants.off);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    server.close();
    await plane.stop();
    rmSync(profile, { recursive: true, force: true });
  }
});

test("Chromium: with polling off, a change reaches the web provider over the control plane's stream, from another origin", {
  skip: (!existsSync(CHROMIUM) && `${CHROMIUM} is missing`) || (!existsSync(PENNON_BIN) && `${PENNON_BIN} is missing: cargo build --bin pennon`),
}, async () => {
  const plane = await controlPlane();
  const server = await serve();
  const profile = mkdtempSync(join(tmpdir(), "pennon-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    await plane.admin("POST", "/api/v1/flags", { key: "new-checkout", type: "boolean", client_visible: true });
    await plane.toggle("new-checkout", true);
    const { key: sdkKey } = await (await plane.admin("POST", "/api/v1/environments/development/sdk-keys", { kind: "client" })).json();
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("requestfailed", (request) => errors.push(`${request.failure()?.errorText} ${request.url()}`));
    const snapshots = [];
    let streamed;
    page.on("response", (response) => {
      if (response.url().startsWith(`${plane.url}/v1/snapshots/`)) snapshots.push(response.status());
      if (response.url() === `${plane.url}/v1/stream/development`) streamed ??= response;
      if (response.status() >= 400 && !response.url().endsWith("/favicon.ico")) errors.push(`${response.status()} ${response.url()}`);
    });
    const query = new URLSearchParams({ controlPlane: plane.url, sdkKey, publicKey: plane.publicKey, flag: "new-checkout", stream: "1" });
    await page.goto(`http://127.0.0.1:${server.address().port}/?run=control-plane&${query}`);
    const report = () => page.evaluate(() => window.__pennon && JSON.parse(JSON.stringify(window.__pennon)));
    await page.waitForFunction(() => window.__pennon?.first !== undefined || window.__pennon?.error !== undefined, null, { timeout: 30_000 });
    const first = await report();
    assert.equal(first.error, undefined, `${first.error}\n${errors.join("\n")}`);
    assert.equal(first.first.value, true);
    // The stream is open (its answer came: 200, an event stream, readable across origins).
    for (let waited = 0; streamed === undefined; waited += 50) {
      assert.ok(waited < 10_000, `no stream within 10 s: ${errors.join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(streamed.status(), 200);
    assert.match(await streamed.headerValue("content-type"), /^text\/event-stream/);
    // Preflighted for Authorization; `Cache-Control` added by the browser (`cache:
    // "no-store"`), after the preflight, which does not allow it.
    const sent = await streamed.request().allHeaders();
    assert.equal(sent.authorization, `Bearer ${sdkKey}`);
    assert.equal(sent.accept, "text/event-stream");
    assert.equal(sent["cache-control"], "no-cache");
    await plane.toggle("new-checkout", false);
    await page.waitForFunction(() => window.__pennon.changes.length > 0, null, { timeout: 10_000 });
    const after = await report();
    assert.deepEqual(after.changes, [{ flagsChanged: ["new-checkout"], value: false }]);
    // The start's request and the announced one: no poll, and the connect's announcement
    // of the version served fetched nothing.
    assert.deepEqual(snapshots, [200, 200]);
    assert.deepEqual(after.warnings, []);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    server.close();
    await plane.stop();
    rmSync(profile, { recursive: true, force: true });
  }
});

test("Chromium: a static host on another origin with Last-Modified only is revalidated by the browser's cache: 304s, no preflight, a change arrives", { skip: !existsSync(CHROMIUM) && `${CHROMIUM} is missing` }, async () => {
  const server = await serve();
  const v1 = envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }) }));
  const v2 = envelope(payload(2, { beta: boolFlag({ fallthrough: "on" }) }));
  const host = { body: v1, modified: "Thu, 01 Jan 2026 00:00:00 GMT", seen: [] };
  // No ETag, no Cache-Control, CORS for simple requests only: a preflight is refused.
  const bucket = createServer((request, response) => {
    const conditional = request.headers["if-modified-since"];
    const status = request.method !== "GET" ? 405 : conditional === host.modified ? 304 : 200;
    host.seen.push([request.method, conditional, status]);
    const headers = { "Access-Control-Allow-Origin": "*", "Last-Modified": host.modified };
    if (status !== 200) return response.writeHead(status, headers).end();
    response.writeHead(200, { ...headers, "Content-Type": "application/json" }).end(host.body);
  });
  bucket.listen(0, "127.0.0.1");
  await once(bucket, "listening");
  const profile = mkdtempSync(join(tmpdir(), "pennon-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("requestfailed", (request) => errors.push(`${request.failure()?.errorText} ${request.url()}`));
    const url = `http://127.0.0.1:${bucket.address().port}/test/latest.json`;
    await page.goto(`http://127.0.0.1:${server.address().port}/?${new URLSearchParams({ run: "static-host", publicKey: publicKey(1), url })}`);
    await page.waitForFunction(() => window.__pennon?.first !== undefined || window.__pennon?.error !== undefined, null, { timeout: 30_000 });
    const first = await page.evaluate(() => window.__pennon);
    assert.equal(first.error, undefined, `${first.error}\n${errors.join("\n")}`);
    assert.equal(first.first.value, false);
    // Polls are asked, not answered from the cache by a guess of freshness; the browser
    // revalidates by the date itself, so no page header needs a preflight.
    for (let waited = 0; host.seen.filter(([, , status]) => status === 304).length < 3; waited += 50) {
      assert.ok(waited < 10_000, `no three 304s within 10 s: ${JSON.stringify(host.seen)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    [host.body, host.modified] = [v2, "Thu, 01 Jan 2026 00:01:00 GMT"];
    await page.waitForFunction(() => window.__pennon.changes.length > 0, null, { timeout: 10_000 });
    const after = await page.evaluate(() => window.__pennon);
    assert.deepEqual(after.changes[0], { flagsChanged: ["beta"], value: true });
    assert.deepEqual(host.seen.filter(([method]) => method !== "GET"), [], "no preflight");
    assert.deepEqual(host.seen[0], ["GET", undefined, 200]);
    assert.deepEqual(after.warnings.filter((line) => !line.includes("`pollIntervalMs` is 100")), []);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    server.close();
    bucket.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test("Chromium: a page closed sends its telemetry as it is hidden, across origins, its keepalive POST preflighted", { skip: !existsSync(CHROMIUM) && `${CHROMIUM} is missing` }, async () => {
  const server = await serve();
  const telemetry = await telemetryServer();
  const profile = mkdtempSync(join(tmpdir(), "pennon-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    const snapshot = Buffer.from(envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }) }))).toString("base64");
    const query = new URLSearchParams({ run: "telemetry", publicKey: publicKey(1), envelope: snapshot, telemetry: telemetry.base });
    await page.goto(`http://127.0.0.1:${server.address().port}/?${query}`);
    await page.waitForFunction(() => window.__pennon?.ready !== undefined || window.__pennon?.error !== undefined, null, { timeout: 30_000 });
    const ready = await page.evaluate(() => window.__pennon);
    assert.deepEqual(ready, { ready: "visible" }, errors.join("\n"));
    assert.equal(telemetry.posts.length, 0, "nothing sent while the page is shown");
    await page.close();
    const posted = await Promise.race([telemetry.waitPosts(1).then(() => true), new Promise((resolve) => setTimeout(resolve, 10_000, false))]);
    assert.ok(posted, "the report arrived after the page was closed");
    const [report] = telemetry.accepted();
    assert.deepEqual(report.counts, [{ flag: "beta", variant: "on", count: 3 }]);
    assert.match(report.sdk, /^pennon-js-web\//);
    assert.equal(telemetry.posts[0].authorization, "Bearer pnc_browser");
    assert.equal(telemetry.preflights, 1, "Authorization needs a CORS preflight, and got one");
  } finally {
    await context.close();
    server.close();
    await telemetry.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
