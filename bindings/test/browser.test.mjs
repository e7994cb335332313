// Chromium (Debian's, driven by playwright-core): a page imports the built package
// and runs the vectors through the engine and the web provider.
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

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json", ".wasm": "application/wasm" };
const bindings = `${repo}bindings/`;
const roots = { "/pkg/": bindings, "/node_modules/": `${bindings}node_modules/`, "/test/": `${bindings}test/`, "/vectors/": `${repo}tests/vectors/` };

/** Serves the package, its dependencies, the tests and the vectors on 127.0.0.1. */
async function serve() {
  nativeResults(); // fails early with a clear message when the native run is missing
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
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
