// Runs in Chromium on another origin than a static host that sends `Last-Modified` and
// no ETag, and answers no CORS preflight (a bucket's plain setup): the web provider
// polls it every 100 ms. Reports to `window.__pennon`: the first read, the changes
// announced, and what the provider logged.
import { PennonWebProvider } from "pennon/web";
import { OpenFeature, ProviderEvents } from "@openfeature/web-sdk";

const params = new URLSearchParams(location.search);
const report = (window.__pennon = { changes: [], warnings: [] });
const provider = new PennonWebProvider({
  keys: [params.get("publicKey")],
  environment: "test",
  audience: "server", // the test's snapshots are server snapshots
  url: params.get("url"),
  pollIntervalMs: 100,
  jitter: 0,
  logger: { warn: (line) => report.warnings.push(line) },
});
try {
  await OpenFeature.setProviderAndWait(provider);
  const client = OpenFeature.getClient();
  client.addHandler(ProviderEvents.ConfigurationChanged, (details) => {
    report.changes.push({ flagsChanged: details.flagsChanged, value: client.getBooleanValue("beta", false) });
  });
  report.first = client.getBooleanDetails("beta", false);
} catch (error) {
  report.error = String(error);
}
