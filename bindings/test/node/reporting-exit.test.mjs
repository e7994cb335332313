// A control plane that never answers holds no Node process: a report the timer started
// does not keep the process alive once its work is done, and close ends within
// `requestTimeoutMs`, aborting the post under way and starting none after, so the
// process exits as close returns. Measured on a child process, with bounds far from
// what the request timeouts would cost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { telemetryServer } from "./telemetry-server.mjs";

const CHILD = fileURLToPath(new URL("./reporting-hang-child.mjs", import.meta.url));

/** The child in `mode`, reporting to a control plane that never answers: its lines as
 *  they come (`next()`), and when it exited. */
async function hanging(t, mode, requestTimeoutMs) {
  const server = await telemetryServer();
  server.script.push("hang", "hang", "hang");
  t.after(server.close);
  const child = spawn(process.execPath, [CHILD, server.base, mode, String(requestTimeoutMs)], { stdio: ["pipe", "pipe", "inherit"] });
  t.after(() => child.kill());
  const exited = once(child, "exit").then(([code]) => ({ code, at: Date.now() }));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => (await lines.next()).value;
  assert.equal(await next(), "ready");
  return { server, child, exited, next };
}

test("server: a report under way from the timer does not keep a Node process alive", async (t) => {
  const { server, child, exited } = await hanging(t, "background", 60_000);
  await server.waitPosts(1); // the timer's report, at 10 s: it hangs
  const released = Date.now();
  child.stdin.end();
  const { code, at } = await exited;
  assert.equal(code, 0);
  // The post would hold it for its 60 s timeout: it ends at once, well within 10 s.
  assert.ok(at - released < 10_000, `exited ${at - released} ms after its own work ended`);
  assert.equal(server.posts.length, 1);
});

test("server: close ends within requestTimeoutMs, aborting the post under way, and the process exits with it", async (t) => {
  const timeout = 15_000;
  const { server, child, exited, next } = await hanging(t, "close", timeout);
  await server.waitPosts(1); // the flush's post: it hangs
  child.stdin.write("close\n");
  const closed = await next();
  const returned = Date.now();
  const took = Number(/^closed (\d+)$/.exec(closed)?.[1]);
  assert.ok(took >= timeout - 1_000 && took < timeout + 5_000, `close took ${took} ms`);
  const { code, at } = await exited;
  assert.equal(code, 0);
  // The flush's post times out just before close's deadline, and close's last post may
  // start then: at the deadline it is aborted. Left running, it would hold the process
  // for 15 s more.
  assert.ok(at - returned < 7_000, `exited ${at - returned} ms after close returned`);
  const batches = server.posts.map((post) => post.body.batch);
  assert.ok(batches.length <= 2 && batches.every((batch) => batch === batches[0]), `the batch, sent again unchanged if at all: ${batches}`);
});
