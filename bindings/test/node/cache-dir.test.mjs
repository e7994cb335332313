// The server provider's `cacheDir` in Node, against a real HTTP server on 127.0.0.1:
// the last good envelope in a file named by environment and trust policy, served (and
// STALE) when the URL does not answer at start, the rollback floor of a restarted
// process, a file that does not verify ignored, a directory that cannot be written
// costing a warning, and runtimes with no file system refusing the option.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ProviderFatalError } from "@openfeature/server-sdk";
import { PennonServerProvider } from "pennon/server";
import * as browser from "../../dist/platform/browser.js";
import { boolFlag, envelope, payload, publicKey, tamper } from "./sign.mjs";
import { providerEvent, snapshotServer } from "./snapshot-server.mjs";

const keys = [publicKey(1)];
/** Version `n`: bob is staff from version 2 on. */
const version = (n) => envelope(payload(n, { beta: boolFlag({ staff: n >= 2 ? ["ann", "bob"] : ["ann"] }) }));

/** The file the Rust provider's `cache_dir` names for environment `test` (cache.rs): the
 *  policy tag hashes the audience, the threshold and the sorted key ids. */
function cacheName(keyTexts = keys, threshold = 1, audience = "server") {
  const ids = keyTexts.map((key) => createHash("sha256").update(Buffer.from(key.slice("ed25519:".length), "base64")).digest("hex").slice(0, 16)).sort();
  const tag = createHash("sha256").update(`pennon cache policy 1\n${audience}\n${threshold}\n${ids.join(",")}`).digest("hex").slice(0, 12);
  return `pennon-test.${tag}.envelope.json`;
}

/** A fresh directory, removed after test `t`. */
function tempDir(t) {
  const dir = mkdtempSync(join(tmpdir(), "pennon-cache-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A server provider with `cacheDir`, its warnings collected in `provider.warnings`. */
function provider(options) {
  const warnings = [];
  const made = new PennonServerProvider({ keys, environment: "test", backoffInitialMs: 20, backoffMaxMs: 50, initTimeoutMs: 1_000, logger: { warn: (m) => warnings.push(m) }, ...options });
  return Object.assign(made, { warnings });
}

/** The snapshot version a provider serves, and whether bob gets `beta`. */
async function served(p) {
  const details = await p.resolveBooleanEvaluation("beta", false, { targetingKey: "bob" });
  return { version: details.flagMetadata.snapshotVersion, bob: details.value };
}

/** Starts a provider against `url` that writes `body` into `dir`, and closes it. */
async function written(dir, server, body) {
  server.body = body;
  const first = provider({ url: server.url, cacheDir: dir, pollIntervalMs: 0 });
  await first.initialize();
  await first.onClose(); // ends the write under way
}

test("cacheDir: the verified envelope is written atomically to a file named by environment and trust policy", async (t) => {
  const dir = tempDir(t);
  const server = await snapshotServer();
  t.after(server.close);
  await written(join(dir, "made"), server, version(2));
  assert.deepEqual(readdirSync(join(dir, "made")), [cacheName()], "the directory is made; no temp file is left");
  assert.deepEqual(readFileSync(join(dir, "made", cacheName())), Buffer.from(version(2)));
  // A newer version replaces it; a `file:` URL names the same directory.
  await written(pathToFileURL(join(dir, "made")), server, version(3));
  assert.deepEqual(readFileSync(join(dir, "made", cacheName())), Buffer.from(version(3)));
  // Never written over with an older version than the file verifies as: another
  // process sharing the directory wrote version 5 meanwhile.
  const path = join(dir, "made", cacheName());
  const sharing = provider({ url: server.url, cacheDir: join(dir, "made"), pollIntervalMs: 0 });
  await sharing.initialize();
  writeFileSync(path, version(5));
  server.body = version(4);
  assert.equal(await sharing.refresh(), "updated");
  await sharing.onClose();
  assert.deepEqual(readFileSync(path), Buffer.from(version(5)));
  // A file that does not verify is no such version: written over.
  writeFileSync(path, tamper(version(9)));
  await written(join(dir, "made"), server, version(6));
  assert.deepEqual(readFileSync(path), Buffer.from(version(6)));
  // Another key set (or threshold, or audience) has a file of its own.
  const rotated = provider({ url: server.url, cacheDir: join(dir, "made"), keys: [publicKey(2), publicKey(1)], pollIntervalMs: 0 });
  await rotated.initialize();
  await rotated.onClose();
  assert.deepEqual(readdirSync(join(dir, "made")).sort(), [cacheName(), cacheName([publicKey(1), publicKey(2)])].sort());
});

test("cacheDir: restarted with the URL failing, the cached version is served, STALE naming the file and the failure, until the URL answers", async (t) => {
  const dir = tempDir(t);
  const server = await snapshotServer();
  t.after(server.close);
  await written(dir, server, version(2));
  server.status = 503;
  const restarted = provider({ url: server.url, cacheDir: dir, staleAfterMs: 3_600_000 });
  t.after(() => restarted.onClose());
  const stale = providerEvent(restarted, "PROVIDER_STALE");
  await restarted.initialize();
  assert.deepEqual(await served(restarted), { version: 2, bob: true });
  const path = join(dir, cacheName());
  assert.equal(
    (await stale).message,
    `serving version 2 from the last-known-good cache ${path}: the snapshot server has not answered since the start ` +
      `(the last failure: GET ${server.url}: HTTP 503)`,
  );
  const ready = providerEvent(restarted, "PROVIDER_READY");
  server.status = 200;
  await ready;
  // A server gone altogether (the connection refused): the same.
  await server.close();
  const offline = provider({ url: server.url, cacheDir: dir });
  t.after(() => offline.onClose());
  const refused = providerEvent(offline, "PROVIDER_STALE");
  await offline.initialize();
  assert.deepEqual(await served(offline), { version: 2, bob: true });
  assert.match((await refused).message, /from the last-known-good cache .*: the snapshot server has not answered since the start \(the last failure: GET .*: fetch failed \(connect ECONNREFUSED/);
  // A server that hangs past initTimeoutMs: STALE from the deadline (as the Rust
  // provider's cache), not READY until the request fails.
  const slow = await snapshotServer();
  t.after(slow.close);
  slow.delayMs = 5_000;
  const hanging = provider({ url: slow.url, cacheDir: dir, initTimeoutMs: 300, requestTimeoutMs: 5_000 });
  t.after(() => hanging.onClose());
  const unanswered = providerEvent(hanging, "PROVIDER_STALE");
  await hanging.initialize();
  assert.deepEqual(await served(hanging), { version: 2, bob: true });
  assert.equal(
    (await unanswered).message,
    `serving version 2 from the last-known-good cache ${path}: the snapshot server has not answered since the start ` +
      "(no answer within initTimeoutMs (300 ms); a request is still under way)",
  );
});

test("cacheDir: the cached version is the rollback floor from the start: an older snapshot replayed after a restart is refused as rollback", async (t) => {
  const dir = tempDir(t);
  const server = await snapshotServer();
  t.after(server.close);
  await written(dir, server, version(2));
  // A host replaying version 1: signed, unexpired, and older than what this host saw.
  server.body = version(1);
  const restarted = provider({ url: server.url, cacheDir: dir, staleAfterMs: 3_600_000 });
  const stale = providerEvent(restarted, "PROVIDER_STALE");
  await restarted.initialize();
  assert.deepEqual(await served(restarted), { version: 2, bob: true }, "version 1 is not served");
  assert.match((await stale).message, /^serving version 2 from the last-known-good cache .*\(the last failure: GET .*: rollback: /);
  assert.match(restarted.warnings.join("\n"), /GET .*: rollback: /);
  await restarted.onClose();
  assert.deepEqual(readFileSync(join(dir, cacheName())), Buffer.from(version(2)), "the file still holds version 2");
});

test("cacheDir: a cache file that does not verify is ignored with a warning, never served; the start waits for the URL", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, cacheName());
  const server = await snapshotServer();
  t.after(server.close);
  [server.body, server.delayMs] = [version(2), 100];
  // Tampered (at a higher version, which would be a floor if it counted), then signed
  // for another environment.
  const others = [[tamper(version(5)), /refused: bad_signature/], [envelope({ ...payload(5, {}), environment: "other" }), /refused: wrong_environment/]];
  for (const [bytes, why] of others) {
    writeFileSync(path, bytes);
    const started = provider({ url: server.url, cacheDir: dir, pollIntervalMs: 0 });
    await started.initialize(); // waited for the URL's version 2
    assert.deepEqual(await served(started), { version: 2, bob: true });
    assert.match(started.warnings.join("\n"), new RegExp(`the last-known-good cache ${path.replace(/[.]/g, "\\.")} ${why.source}`));
    await started.onClose();
    assert.deepEqual(readFileSync(path), Buffer.from(version(2)), "version 2 replaced it");
  }
  // With the URL failing, nothing is served from such a file: the start fails.
  writeFileSync(path, tamper(version(5)));
  server.status = 503;
  const failing = provider({ url: server.url, cacheDir: dir, initTimeoutMs: 300 });
  t.after(() => failing.onClose());
  await assert.rejects(failing.initialize(), /no snapshot could be loaded/);
  // An expired file is not served either; its version still refuses older ones.
  writeFileSync(path, envelope({ ...payload(5, {}), issued_at: "2019-01-01T00:00:00Z", expires_at: "2020-01-01T00:00:00Z" }));
  [server.status, server.body] = [200, version(4)];
  const expired = provider({ url: server.url, cacheDir: dir, initTimeoutMs: 300 });
  t.after(() => expired.onClose());
  await assert.rejects(expired.initialize(), /rollback/);
  assert.match(expired.warnings.join("\n"), /the last-known-good cache .* refused: expired/);
});

test("cacheDir: a directory that cannot be made or written costs a warning, never the sync", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "file"), "not a directory");
  const cacheDir = join(dir, "file", "cache");
  const server = await snapshotServer();
  t.after(server.close);
  server.body = version(1);
  const p = provider({ url: server.url, cacheDir, pollIntervalMs: 0 });
  await p.initialize();
  assert.deepEqual(await served(p), { version: 1, bob: false });
  server.body = version(2);
  assert.equal(await p.refresh(), "updated");
  assert.deepEqual(await served(p), { version: 2, bob: true });
  await p.onClose();
  const path = join(cacheDir, cacheName());
  assert.deepEqual(p.warnings.filter((w) => w.includes("last-known-good")), [
    `pennon: cannot read the last-known-good cache ${path}: ENOTDIR: not a directory, open '${path}'; ignoring it`,
    `pennon: cannot write the last-known-good cache ${path}: ENOTDIR: not a directory, mkdir '${cacheDir}'; serving version 1 without it`,
    `pennon: cannot write the last-known-good cache ${path}: ENOTDIR: not a directory, mkdir '${cacheDir}'; serving version 2 without it`,
  ]);
});

test("cacheDir: a value that is not a directory is FATAL, naming the option; runtimes with no file system refuse it", async () => {
  for (const [cacheDir, message] of [
    ["", "pennon: `cacheDir` is empty (an unset environment variable?): give a directory, or leave the option out"],
    [42, "pennon: `cacheDir` must be a directory's path or a `file:` URL, not 42"],
    [new URL("https://example.com/cache"), "pennon: `cacheDir` must be a directory's path or a `file:` URL, not a `https:` URL"],
  ]) {
    const p = provider({ envelope: version(1), cacheDir });
    await assert.rejects(p.initialize(), (error) => error instanceof ProviderFatalError && error.message === message);
  }
  // What `#platform` gives edge runtimes and browsers (workerd's: workerd-sync.test.mjs).
  assert.throws(() => browser.cacheFile({}), { message: /^pennon: `cacheDir` keeps the last good snapshot in a file, and this runtime has no file system/ });
});
