// Run by `runtimes.test.mjs` in Deno without read access to the package's pennon.wasm:
// prints how the server provider's start ended, and what it logged meanwhile.
import { PennonServerProvider } from "pennon/server";

const warnings = [];
const provider = new PennonServerProvider({
  keys: [Deno.args[0]], environment: "test", envelope: "{}", initTimeoutMs: 3_000, logger: { warn: (line) => warnings.push(line) },
});
const outcome = await provider.initialize().then(() => ({ resolved: true }), (error) => ({ rejected: `${error.name}: ${error.message}` }));
console.log(JSON.stringify({ ...outcome, warnings }));
