// A process with a reporting provider it never closes: it must exit on its own, its
// report timer unref'd (`reporting.test.mjs`).
import { PennonServerProvider } from "pennon/server";
import { boolFlag, envelope, payload, publicKey } from "./sign.mjs";

const provider = new PennonServerProvider({
  keys: [publicKey(1)], environment: "test", envelope: envelope(payload(1, { beta: boolFlag() })),
  telemetry: { url: process.argv[2], sdkKey: "pns_secret" },
});
await provider.initialize();
await provider.resolveBooleanEvaluation("beta", true, {});
console.log("initialized");
