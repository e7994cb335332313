// The real control plane (`pennon serve`) for the tests that sync from it: started on
// an empty data directory at a free port, with its admin API at hand.
import { spawn } from "node:child_process";
import { once } from "node:events";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repo } from "./helpers.mjs";

/** The `pennon` binary: `PENNON_BIN`, or the debug build. */
export const PENNON_BIN = process.env.PENNON_BIN ?? `${repo}target/debug/pennon`;

/**
 * `pennon serve` on a new data directory: its URL, admin token, signing key and
 * `development` server SDK key, as its first start prints them; `admin(method, path,
 * body)` calls the admin API (failing the test on an error), `toggle(flag, enabled)`
 * turns a flag of `development` on or off, and `stop()` ends it and removes its data.
 */
export async function controlPlane() {
  const dataDir = mkdtempSync(join(tmpdir(), "pennon-plane-"));
  const child = spawn(PENNON_BIN, ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir], { stdio: ["ignore", "pipe", "pipe"] });
  let banner = "";
  child.stdout.on("data", (chunk) => (banner += chunk));
  child.stderr.on("data", (chunk) => (banner += chunk));
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`pennon serve exited (${code}):\n${banner}`);
  });
  exited.catch(() => {});
  const started = (async () => {
    while (!/listening on /.test(banner)) await new Promise((resolve) => setTimeout(resolve, 20));
  })();
  await Promise.race([started, exited]);
  const field = (pattern) => pattern.exec(banner)?.[1] ?? assert.fail(`${pattern} not in:\n${banner}`);
  const plane = {
    child,
    url: `http://${field(/listening on (\S+)/)}`,
    adminToken: field(/admin token: (\S+)/),
    publicKey: field(/signing key:\s+(\S+)/),
    serverKey: field(/development server SDK key: (\S+)/),
    async admin(method, path, body, headers = {}) {
      const response = await fetch(`${plane.url}${path}`, {
        method, body: body && JSON.stringify(body),
        headers: { Authorization: `Bearer ${plane.adminToken}`, "Content-Type": "application/json", ...headers },
      });
      assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
      return response;
    },
    async toggle(flag, enabled) {
      const path = `/api/v1/environments/development/flags/${flag}`;
      const etag = (await plane.admin("GET", path)).headers.get("ETag");
      await plane.admin("POST", `${path}/toggle`, { enabled }, { "If-Match": etag });
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return plane;
}
