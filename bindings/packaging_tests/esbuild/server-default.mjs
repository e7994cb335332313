// A Node server bundled by esbuild that relies on Node's default module: the bundle no
// longer sits beside the package's pennon.wasm, so the package finds it installed.
// node out/server/server-default.js <vector file> <public key file>
import { readFileSync } from "node:fs";
import { Engine, init } from "pennon";

const [vectorPath, keyPath] = process.argv.slice(2);
const envelope = new TextEncoder().encode(JSON.stringify(JSON.parse(readFileSync(vectorPath, "utf8")).envelope));
try {
  await init();
  const engine = new Engine({ keys: [readFileSync(keyPath, "utf8").trim()], environment: "test" });
  engine.load(envelope, Date.parse("2026-01-01T00:00:00Z"));
  console.log(JSON.stringify({ value: engine.evaluate("bool-static", { targetingKey: "u" }, Date.parse("2026-06-01T00:00:00Z")).value }));
} catch (error) {
  console.log(JSON.stringify({ error: String(error) }));
}
