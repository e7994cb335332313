// A process with a provider holding a notification stream open, which it never closes
// (`stream-exit.test.mjs`). Arguments: the snapshot URL and the stream URL. It prints
// "ready" once started, then lives while its stdin is open; after that, nothing of the
// provider may hold it.
import { PennonServerProvider } from "pennon/server";
import { publicKey } from "./sign.mjs";

const [url, notificationUrl] = process.argv.slice(2);
const provider = new PennonServerProvider({ keys: [publicKey(1)], environment: "test", url, notificationUrl, logger: { warn: () => {} } });
await provider.initialize();
console.log("ready");
for await (const line of process.stdin) break;
