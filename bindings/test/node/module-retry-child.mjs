// One scenario of `module-retry.test.mjs`, in a process of its own: the module is
// instantiated once per process, so each scenario needs a process whose module has
// never loaded. Prints one line of JSON, and ends on its own (nothing left holding it).
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { PennonServerProvider } from "pennon/server";
import { PennonWebProvider } from "pennon/web";
import { init } from "pennon";
import { OpenFeature, ProviderEvents } from "@openfeature/server-sdk";
import { boolFlag, envelope, payload, publicKey } from "./sign.mjs";
import { providerEvent, sleep, snapshotServer } from "./snapshot-server.mjs";

const scenario = process.argv[2];
const wasm = await snapshotServer();
const snapshots = await snapshotServer();
wasm.status = 503;
snapshots.body = envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }) }));
const lines = [];
const common = {
  keys: [publicKey(1)], environment: "test", url: snapshots.url, wasm: wasm.url.replace("/snapshot", "/pennon.wasm"),
  logger: { warn: (line) => lines.push(line) },
};
const serveModule = () => Object.assign(wasm, { status: 200, body: readFileSync(fileURLToPath(import.meta.resolve("pennon/pennon.wasm"))) });
const within = (promise, ms, what) => Promise.race([promise, sleep(ms).then(() => { throw new Error(`no ${what} within ${ms} ms`); })]);
const out = {};

if (scenario === "background") {
  // Through the SDK: the start fails past initTimeoutMs, then the provider recovers alone.
  const provider = new PennonServerProvider({ ...common, initTimeoutMs: 150, backoffInitialMs: 40, backoffMaxMs: 40 });
  out.started = await OpenFeature.setProviderAndWait(provider).then(() => "ready", (error) => `rejected: ${error.message}`);
  const client = OpenFeature.getClient();
  out.statusAfterStart = client.providerStatus;
  const ready = new Promise((resolve) => client.addHandler(ProviderEvents.Ready, resolve));
  serveModule();
  await within(ready, 5_000, "READY");
  out.statusAfterModule = client.providerStatus;
  out.ann = await client.getBooleanValue("beta", false, { targetingKey: "ann" });
  out.retryLogged = lines.some((line) => /cannot load the WebAssembly module, retrying in 40 ms: .*HTTP 503/.test(line));
  await OpenFeature.close();
} else if (scenario === "online") {
  // A page opened offline: backoff 60 s, and `online` downloads the module at once.
  const scope = new EventTarget();
  Object.assign(globalThis, { addEventListener: scope.addEventListener.bind(scope) });
  const provider = new PennonWebProvider({ ...common, initTimeoutMs: 0, backoffInitialMs: 60_000 });
  out.started = await provider.initialize({ targetingKey: "ann" }).then(() => "ready", () => "rejected");
  const ready = providerEvent(provider, ProviderEvents.Ready);
  serveModule();
  await sleep(100);
  out.moduleRequestsBeforeOnline = wasm.requests;
  scope.dispatchEvent(new Event("online"));
  await within(ready, 5_000, "READY");
  out.ann = provider.resolveBooleanEvaluation("beta", false).value;
  out.moduleRequests = wasm.requests;
  await provider.onClose();
} else if (scenario === "refresh") {
  // `refresh` downloads the module, then fetches the snapshot.
  const provider = new PennonServerProvider({ ...common, initTimeoutMs: 0, backoffInitialMs: 60_000 });
  out.started = await provider.initialize().then(() => "ready", () => "rejected");
  await sleep(100); // the start's own request, sent beside the module's download, has come and gone with it
  const before = snapshots.requests;
  serveModule();
  out.refreshed = await provider.refresh();
  out.ann = (await provider.resolveBooleanEvaluation("beta", false, { targetingKey: "ann" })).value;
  out.snapshotRequests = snapshots.requests - before;
  await provider.onClose();
} else if (scenario === "closed") {
  // Closed while a retry waits: the retry is dropped, and the process ends on its own.
  const provider = new PennonServerProvider({ ...common, initTimeoutMs: 0, backoffInitialMs: 200 });
  out.started = await provider.initialize().then(() => "ready", () => "rejected");
  await provider.onClose();
  serveModule();
  await sleep(400);
  out.moduleRequests = wasm.requests;
} else if (scenario === "dropped") {
  // The start's request, sent beside the module's download, is dropped when the module
  // fails: its connection closes at once, and its timer (60 s) does not hold the process.
  const request = { sent: false, closed: false };
  const silent = createServer((incoming) => { // never answers
    request.sent = true;
    incoming.socket.on("close", () => (request.closed = true));
  });
  silent.listen(0, "127.0.0.1");
  await once(silent, "listening");
  wasm.delayMs = 200; // the module fails once the request is under way
  const url = `http://127.0.0.1:${silent.address().port}/snapshot`;
  const provider = new PennonServerProvider({ ...common, url, initTimeoutMs: 0, backoffInitialMs: 60_000, requestTimeoutMs: 60_000 });
  out.started = await provider.initialize().then(() => "ready", () => "rejected");
  for (const began = Date.now(); !request.closed && Date.now() - began < 2_000;) await sleep(10);
  out.request = request;
  silent.closeAllConnections();
  silent.close();
} else if (scenario === "closed-downloading" || scenario === "closed-backoff") {
  // Closed while the module downloads (a slow answer), or while it waits to download it
  // again (an HTTP 503, then a backoff of a minute): nothing is announced for it, ever,
  // the SDK's wait never settles, and nothing holds the process.
  const seen = [];
  OpenFeature.setLogger({ error() {}, warn() {}, info() {}, debug() {} });
  for (const event of [ProviderEvents.Ready, ProviderEvents.Error]) OpenFeature.addHandler(event, () => seen.push(event));
  if (scenario === "closed-downloading") Object.assign(serveModule(), { delayMs: 300 });
  const provider = new PennonServerProvider({ ...common, initTimeoutMs: 120_000, backoffInitialMs: 60_000 });
  let settled = "pending";
  void OpenFeature.setProviderAndWait(provider).then(() => (settled = "resolved"), (error) => (settled = `rejected: ${error.message}`));
  while (wasm.requests === 0) await sleep(5);
  if (scenario === "closed-backoff") while (lines.length === 0) await sleep(5); // the 503 is in, the backoff begun
  await OpenFeature.close();
  if (scenario === "closed-downloading") {
    await init(common.wasm); // the download the start waited for, now in
    await sleep(0);
  }
  Object.assign(out, { settled, seen, status: OpenFeature.getClient().providerStatus, moduleRequests: wasm.requests });
} else if (scenario === "restarted") {
  // Started again after a start the module failed: the new start's download replaces
  // the background one the old start left due, whose timer was left running (unref'd,
  // a minute), one more with every start that failed; closing cleared only the newest.
  const retryMs = 61_000; // no other timer of the provider waits this long
  const live = new Set();
  const { setTimeout: set, clearTimeout: clear } = globalThis;
  globalThis.setTimeout = (callback, ms, ...rest) => {
    const timer = set((...args) => {
      live.delete(timer);
      callback(...args);
    }, ms, ...rest);
    if (ms === retryMs) live.add(timer);
    return timer;
  };
  globalThis.clearTimeout = (timer) => {
    live.delete(timer);
    clear(timer);
  };
  const provider = new PennonServerProvider({ ...common, initTimeoutMs: 0, backoffInitialMs: retryMs, backoffMaxMs: retryMs });
  const start = () => provider.initialize().then(() => "ready", () => "rejected");
  const steps = [];
  const step = (name, started) => steps.push({ step: name, started, retryTimers: live.size, moduleRequests: wasm.requests });
  step("first start", await start());
  step("second start", await start());
  serveModule();
  step("third start", await start());
  await provider.onClose();
  step("closed", undefined);
  out.steps = steps;
} else if (scenario === "rejected") {
  // A `wasm` promise that rejected can never resolve: no retry, at once.
  const rejected = Promise.reject(new Error("the chunk failed to load"));
  const provider = new PennonServerProvider({ ...common, wasm: rejected, backoffInitialMs: 20 });
  const began = Date.now();
  out.started = await provider.initialize().then(() => "ready", (error) => error.message);
  out.atOnce = Date.now() - began < 1_000; // not after initTimeoutMs (5 s) of retries
  out.warnings = lines.length;
}
await wasm.close();
await snapshots.close();
console.log(JSON.stringify(out));
