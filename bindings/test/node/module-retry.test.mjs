// A module whose download fails past initTimeoutMs is downloaded again in the
// background, as a failed first request is: the start fails (ERROR), and the provider
// becomes READY once the module and a snapshot are in. Each scenario runs in a process
// of its own (`module-retry-child.mjs`), since the module loads once per process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const child = fileURLToPath(new URL("./module-retry-child.mjs", import.meta.url));

async function scenario(name, timeout = 30_000) {
  const { stdout } = await promisify(execFile)(process.execPath, [child, name], { timeout });
  return JSON.parse(stdout);
}

test("after a start the module failed, the provider downloads it again and becomes READY", async () => {
  const { started, ...after } = await scenario("background");
  assert.match(started, /^rejected: pennon: GET http:\/\/127\.0\.0\.1:\d+\/pennon\.wasm: HTTP 503$/);
  assert.deepEqual(after, { statusAfterStart: "ERROR", statusAfterModule: "READY", ann: true, retryLogged: true });
});

test("web provider: the network back downloads the module at once, not after its backoff", async () => {
  assert.deepEqual(await scenario("online"), { started: "rejected", moduleRequestsBeforeOnline: 1, ann: true, moduleRequests: 2 });
});

test("refresh downloads the module first, then fetches the snapshot", async () => {
  assert.deepEqual(await scenario("refresh"), { started: "rejected", refreshed: "updated", ann: true, snapshotRequests: 1 });
});

test("closing drops a pending module retry, and leaves nothing holding the process", async () => {
  assert.deepEqual(await scenario("closed"), { started: "rejected", moduleRequests: 1 });
});

test("closed while the module downloads, or waits to download it again: nothing announced, nothing left holding the process", async () => {
  // Within 10 s: the backoff's timer (a minute) held the process open, and the start
  // then resolved: the SDK announced READY for a closed provider (also once a slow
  // download came in).
  for (const name of ["closed-downloading", "closed-backoff"]) {
    assert.deepEqual(await scenario(name, 10_000), { settled: "pending", seen: [], status: "NOT_READY", moduleRequests: 1 }, name);
  }
});

test("a new start clears the module retry a failed start left due; closing leaves none", async () => {
  assert.deepEqual(await scenario("restarted"), { steps: [
    { step: "first start", started: "rejected", retryTimers: 1, moduleRequests: 1 },
    { step: "second start", started: "rejected", retryTimers: 1, moduleRequests: 2 },
    { step: "third start", started: "ready", retryTimers: 0, moduleRequests: 3 },
    { step: "closed", retryTimers: 0, moduleRequests: 3 },
  ] });
});

test("a module that fails drops the request sent beside its download, leaving nothing open", async () => {
  // Within 10 s: a request left to its timeout (60 s) would hold the process open.
  assert.deepEqual(await scenario("dropped", 10_000), { started: "rejected", request: { sent: true, closed: true } });
});

test("a `wasm` promise that rejected fails the start at once: no retry can settle it again", async () => {
  assert.deepEqual(await scenario("rejected"), {
    started: "pennon: the `wasm` promise rejected: the chunk failed to load", atOnce: true, warnings: 0,
  });
});
