// An open notification stream does not keep a Node process alive: a script that
// forgets `close()` exits once its own work is done, as it does with polling alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { boolFlag, envelope, payload } from "./sign.mjs";
import { streamServer } from "./stream-server.mjs";

const CHILD = fileURLToPath(new URL("./stream-child.mjs", import.meta.url));

test("server: a process with an open stream and no close() exits on its own", async (t) => {
  const server = await streamServer();
  t.after(server.close);
  server.body = envelope(payload(1, { beta: boolFlag() }));
  const child = spawn(process.execPath, [CHILD, server.url, server.streamUrl], { stdio: ["pipe", "pipe", "inherit"] });
  t.after(() => child.kill());
  const exited = once(child, "exit").then(([code]) => code);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  assert.equal((await lines.next()).value, "ready");
  const stream = await server.stream(1);
  stream.write(": heartbeat\n\n");
  child.stdin.end(); // its own work is done
  // Held by the stream, it would live on for good (its idle timeout reconnects).
  const limit = new Promise((resolve) => setTimeout(resolve, 20_000, "still running after 20 s").unref());
  const ended = await Promise.race([exited, limit]);
  assert.equal(ended, 0);
  await stream.closed;
  assert.equal(server.streams.length, 1);
});
