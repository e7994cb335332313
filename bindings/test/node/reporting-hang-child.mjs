// A process whose provider reports to a control plane that never answers
// (`reporting-exit.test.mjs`). Arguments: the control plane's base, the mode, and
// `requestTimeoutMs`. It prints "ready", then lives while its stdin is open:
// - "background": the report timer's post (at 10 s) hangs; stdin closing ends the
//   process's own work, and nothing of the provider may hold it after.
// - "close": a flush it does not wait for hangs; the line "close" on stdin closes the
//   provider, which prints "closed <ms>", how long close took.
import { PennonServerProvider } from "pennon/server";
import { boolFlag, envelope, payload, publicKey } from "./sign.mjs";

const [base, mode, timeout] = process.argv.slice(2);
const provider = new PennonServerProvider({
  keys: [publicKey(1)], environment: "test", envelope: envelope(payload(1, { beta: boolFlag() })), jitter: 0,
  requestTimeoutMs: Number(timeout), logger: { warn: () => {} },
  telemetry: { url: base, sdkKey: "pns_secret", intervalMs: 10_000 },
});
await provider.initialize();
await provider.resolveBooleanEvaluation("beta", true, {});
if (mode === "close") void provider.flushTelemetry();
console.log("ready");
for await (const line of process.stdin) {
  if (mode === "close" && String(line).startsWith("close")) {
    const began = Date.now();
    await provider.onClose();
    console.log(`closed ${Date.now() - began}`);
  }
  break;
}
