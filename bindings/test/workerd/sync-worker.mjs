// A Cloudflare Worker holding server providers across requests, as a real worker does
// (one per isolate), to check syncing where no timer or fetch outlives its request.
import { PennonServerProvider } from "pennon/workerd";
import { OpenFeature } from "@openfeature/server-sdk";

const providers = new Map();
/** Added to the clock of providers made with `movableClock` (`advance` moves it). */
let skewMs = 0;

function provider(name, options) {
  if (!providers.has(name)) {
    const { movableClock, ...rest } = options ?? {};
    providers.set(name, new PennonServerProvider(movableClock ? { ...rest, clock: () => Date.now() + skewMs } : rest));
  }
  return providers.get(name);
}

async function run({ op, name, options, flag, ms }) {
  const p = provider(name, options);
  const client = OpenFeature.getClient(name);
  switch (op) {
    case "init":
      await OpenFeature.setProviderAndWait(name, p);
      return {};
    case "init-and-leave":
      // The SDK's non-blocking form, neither awaited nor under `waitUntil`: the request
      // ends while `initialize` waits for the server.
      void OpenFeature.setProvider(name, p);
      return {};
    case "refresh-and-leave":
      void p.refresh().catch(() => {});
      return {};
    case "refresh":
      return { outcome: await p.refresh() };
    case "refresh-if-due":
      return { outcome: await p.refreshIfDue() };
    case "advance":
      skewMs += ms;
      return {};
    case "read": {
      const details = await client.getBooleanDetails(flag, false, { targetingKey: "bob" });
      return { value: details.value, reason: details.reason, errorCode: details.errorCode, status: client.providerStatus };
    }
  }
  throw new Error(`unknown op ${op}`);
}

export default {
  async fetch(request) {
    try {
      return Response.json(await run(await request.json()));
    } catch (error) {
      return Response.json({ error: `${error?.stack ?? error}` });
    }
  },
};
