// A snapshot server that also serves a notification stream (server-sent events) at
// `/stream`, scripted connection by connection, for the stream tests.
import { once } from "node:events";
import { snapshotServer } from "./snapshot-server.mjs";

/** Answers a stream request as a healthy stream does: 200, `text/event-stream`, open. */
export function openStream(response) {
  response.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  response.flushHeaders();
}

/**
 * `snapshotServer()`, plus `state.streamUrl`. Each stream request is answered by the
 * next function of `state.answers` (default `openStream`), given the response, and kept
 * in `state.streams` as `{ headers, at, write(text), end(), closed }`: `at` is when it
 * arrived (`performance.now()`), `closed` settles when its connection ends.
 * `state.stream(n)` waits for the n-th (from 1). Each snapshot request notes in
 * `state.duringStream` how many streams had arrived by then.
 */
export async function streamServer() {
  const state = await snapshotServer();
  state.streamUrl = state.url.replace(/\/snapshot$/, "/stream");
  state.streams = [];
  state.answers = [];
  state.duringStream = [];
  const waiters = [];
  state.onRequest = () => state.duringStream.push(state.streams.length);
  state.onStream = (request, response) => {
    const connection = {
      headers: request.headers,
      at: performance.now(),
      write: (text) => response.write(text),
      end: () => response.end(),
      closed: once(response, "close").then(() => undefined),
    };
    state.streams.push(connection);
    (state.answers.shift() ?? openStream)(response);
    for (const waiter of waiters.splice(0)) waiter();
  };
  state.stream = async (n) => {
    while (state.streams.length < n) await new Promise((resolve) => waiters.push(resolve));
    return state.streams[n - 1];
  };
  return state;
}

/** A logger keeping every warning, for assertions on what was logged and how often. */
export function warnings() {
  const lines = [];
  return { lines, logger: { warn: (line) => lines.push(line) }, count: (pattern) => lines.filter((line) => pattern.test(line)).length };
}
