// The notification stream against the real control plane (`pennon serve`): with
// polling off, a flag turned off through the admin API reaches the server provider
// over `GET /v1/stream/{env}`, and the provider logs nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { PennonServerProvider } from "pennon/server";
import { PENNON_BIN, controlPlane } from "./control-plane.mjs";
import { providerEvent } from "./snapshot-server.mjs";
import { warnings } from "./stream-server.mjs";

test("server provider: with polling off, a change made through the admin API arrives over the control plane's stream", {
  skip: !existsSync(PENNON_BIN) && `${PENNON_BIN} is missing: cargo build --bin pennon (or set PENNON_BIN)`,
}, async (t) => {
  const plane = await controlPlane();
  t.after(plane.stop);
  await plane.admin("POST", "/api/v1/flags", { key: "new-checkout", type: "boolean" });
  await plane.toggle("new-checkout", true);
  const log = warnings();
  const provider = new PennonServerProvider({
    keys: [plane.publicKey], environment: "development",
    url: `${plane.url}/v1/snapshots/development`,
    notificationUrl: `${plane.url}/v1/stream/development`,
    headers: { Authorization: `Bearer ${plane.serverKey}` },
    pollIntervalMs: 0, logger: log.logger,
  });
  t.after(() => provider.onClose());
  await provider.initialize();
  const read = () => provider.resolveBooleanEvaluation("new-checkout", false, { targetingKey: "user-42" });
  assert.equal((await read()).value, true);
  // Changed before the stream is open or after: either its connect event or the
  // change's names a version above the one served.
  for (const enabled of [false, true]) {
    const changed = providerEvent(provider, "PROVIDER_CONFIGURATION_CHANGED");
    await plane.toggle("new-checkout", enabled);
    assert.deepEqual((await changed).flagsChanged, ["new-checkout"]);
    assert.equal((await read()).value, enabled);
  }
  assert.deepEqual(log.lines, []);
});
