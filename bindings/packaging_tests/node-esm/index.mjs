// Plain ESM, for Node, Deno and Bun alike: node index.mjs <vector file> <public key file>
import { readFileSync } from "node:fs";
import { Engine, init } from "pennon";
import { PennonServerProvider } from "pennon/server";
import { OpenFeature } from "@openfeature/server-sdk";

const [vectorPath, keyPath] = process.argv.slice(2);
const envelope = new TextEncoder().encode(JSON.stringify(JSON.parse(readFileSync(vectorPath, "utf8")).envelope));
const key = readFileSync(keyPath, "utf8").trim();
const now = Date.parse("2026-06-01T00:00:00Z");

await init(); // Node's default: the package's own pennon.wasm, read from disk
const engine = new Engine({ keys: [key], environment: "test" });
engine.load(envelope, Date.parse("2026-01-01T00:00:00Z"));
const fromEngine = engine.evaluate("bool-static", { targetingKey: "u" }, now).value;

const wasm = new URL(import.meta.resolve("pennon/pennon.wasm")); // the `wasmBinaryPath` style
const provider = new PennonServerProvider({ keys: [key], environment: "test", envelope, wasm, clock: () => now });
await OpenFeature.setProviderAndWait(provider);
const fromProvider = await OpenFeature.getClient().getBooleanValue("bool-static", false);
console.log(JSON.stringify({ fromEngine, fromProvider }));
