// Runs in Chromium on another origin than the control plane (`pennon serve`): the web
// provider polls its snapshot endpoint with a client SDK key, as a browser app would.
// Reports to `window.__pennon`: the first read, and the change announced after the
// test turns the flag off. It reports telemetry to the same control plane, sent when the
// test calls `window.__pennonFlush()`.
import { PennonWebProvider } from "pennon/web";
import { OpenFeature, ProviderEvents } from "@openfeature/web-sdk";

const params = new URLSearchParams(location.search);
const flag = params.get("flag");
const provider = new PennonWebProvider({
  keys: [params.get("publicKey")],
  environment: "development",
  url: `${params.get("controlPlane")}/v1/snapshots/development`,
  headers: { Authorization: `Bearer ${params.get("sdkKey")}` },
  pollIntervalMs: 100,
  jitter: 0,
  telemetry: { url: params.get("controlPlane"), sdkKey: params.get("sdkKey") },
  // No `fetch` option: the page's own, as a user's app has it (the test counts answers).
});

const report = (window.__pennon = { changes: [] });
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
