// Node-side helpers: where the vectors and the native results live.
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const repo = fileURLToPath(new URL("../../../", import.meta.url));
export const vectors = `${repo}tests/vectors/`;
export const testKey = readFileSync(`${vectors}keys/test-key-1.public`, "utf8").trim();

/** Where `cargo test -p pennon-wasm --test identity` writes the native results. */
export const nativeResultsPath = process.env.PENNON_NATIVE_RESULTS ?? `${repo}target/pennon-vectors/native.json`;

/** The native results; a clear error when the native run has not written them. */
export function nativeResults() {
  if (!existsSync(nativeResultsPath)) throw new Error(`${nativeResultsPath} is missing: run \`cargo test -p pennon-wasm --test identity\` first`);
  return JSON.parse(readFileSync(nativeResultsPath, "utf8")).evaluation;
}

export const read = (path) => readFileSync(path, "utf8");

/** Prints a tally's groups as test diagnostics. */
export function report(t, tally) {
  for (const [name, g] of Object.entries(tally.groups)) {
    t.diagnostic(`${name}: ${g.passed} passed, ${g.failed} failed${g.skipped ? `, ${g.skipped} skipped` : ""}`);
  }
}

/**
 * How Deno and Bun run a script: the command and the arguments before the script's
 * path. Bun is a devDependency; `scripts/test-js.sh` installs Deno into target/tools
 * (`PENNON_DENO` names another).
 * Deno may read the repository and nothing else. Both resolve bare imports from the
 * `package.json` and `node_modules` of their working directory and its parents.
 */
export const scriptRunners = {
  deno: [process.env.PENNON_DENO ?? `${repo}target/tools/deno/deno`, ["run", "--no-prompt", `--allow-read=${repo}`]],
  bun: [`${repo}bindings/node_modules/.bin/bun`, []],
};

/**
 * A browser's global scope and document, for test `t` only: `page.visibilityState` and
 * `visibilitychange` on `page`, `online` and the like on `scope`.
 */
export function fakePage(t) {
  const scope = new EventTarget();
  const page = Object.assign(new EventTarget(), { visibilityState: "visible" });
  Object.assign(globalThis, { addEventListener: scope.addEventListener.bind(scope), document: page });
  t.after(() => {
    delete globalThis.addEventListener;
    delete globalThis.document;
  });
  return { scope, page };
}
