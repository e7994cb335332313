// Runs in Chromium on another origin than the telemetry endpoint: the web provider
// counts evaluations, and the test closes the page, whose hiding must send them: a
// `keepalive` POST, which Chromium sends after a CORS preflight for `Authorization`.
// (That it carries `keepalive` is checked in Node, `reporting.test.mjs`: here a plain
// POST started as the page closes arrived too.)
import { PennonWebProvider } from "pennon/web";
import { OpenFeature } from "@openfeature/web-sdk";

const params = new URLSearchParams(location.search);
const provider = new PennonWebProvider({
  keys: [params.get("publicKey")],
  environment: "test",
  envelope: atob(params.get("envelope")),
  telemetry: { url: params.get("telemetry"), sdkKey: "pnc_browser" },
});

const report = (window.__pennon = {});
try {
  await OpenFeature.setContext({ targetingKey: "ann" });
  await OpenFeature.setProviderAndWait(provider);
  const client = OpenFeature.getClient();
  for (let i = 0; i < 3; i++) client.getBooleanValue("beta", false);
  report.ready = document.visibilityState;
} catch (error) {
  report.error = String(error);
}
