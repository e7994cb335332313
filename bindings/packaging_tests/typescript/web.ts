// Type-checked, never run (`tsconfig.web.json`): a browser app on `lib: ["es2022",
// "dom"]`, without `@types/node` and without `skipLibCheck`.
import { Engine, init, type Resolution } from "pennon";
import { PennonWebProvider } from "pennon/web";

export async function evaluate(envelope: Uint8Array, key: string): Promise<Resolution> {
  await init(new URL("pennon.wasm", import.meta.url));
  const engine = new Engine({ keys: [key], environment: "production" });
  engine.load(envelope, Date.now());
  return engine.evaluate("new-checkout", { targetingKey: "user-1" }, Date.now());
}

export const provider = new PennonWebProvider({ keys: [], environment: "production", url: "https://flags.example/v1/snapshots/production" });
