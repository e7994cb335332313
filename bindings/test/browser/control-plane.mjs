// Runs in Chromium on another origin than the control plane (`pennon serve`): the web
// provider polls its snapshot endpoint with a client SDK key, as a browser app would,
// or with `stream=1` polls not at all and holds its event stream open instead.
// Reports to `window.__pennon`: the first read, the change announced after the test
// turns the flag off, and what the provider logged. It reports telemetry to the same
// control plane, sent when the test calls `window.__pennonFlush()`.
import { PennonWebProvider } from "pennon/web";
import { OpenFeature, ProviderEvents } from "@openfeature/web-sdk";

const params = new URLSearchParams(location.search);
const flag = params.get("flag");
const controlPlane = params.get("controlPlane");
const stream = params.get("stream") === "1";
const report = (window.__pennon = { changes: [], warnings: [] });
const provider = new PennonWebProvider({
  keys: [params.get("publicKey")],
  environment: "development",
  url: `${controlPlane}/v1/snapshots/development`,
  headers: { Authorization: `Bearer ${params.get("sdkKey")}` },
  ...(stream ? { notificationUrl: `${controlPlane}/v1/stream/development`, pollIntervalMs: 0 } : { pollIntervalMs: 100 }),
  jitter: 0,
  telemetry: { url: controlPlane, sdkKey: params.get("sdkKey") },
  logger: { warn: (line) => report.warnings.push(line) },
  // No `fetch` option: the page's own, as a user's app has it (the test counts answers).
});

window.__pennonFlush = () => provider.flushTelemetry();
try {
  await OpenFeature.setProviderAndWait(provider);
  const client = OpenFeature.getClient();
  client.addHandler(ProviderEvents.ConfigurationChanged, (details) => {
    report.changes.push({ flagsChanged: details.flagsChanged, value: client.getBooleanValue(flag, true) });
  });
  report.first = client.getBooleanDetails(flag, false);
} catch (error) {
  report.error = String(error);
}
