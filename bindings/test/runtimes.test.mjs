// Deno and Bun (JavaScriptCore): the vectors through the built package, imported by
// name, in each runtime's own process (`test/runtimes/vectors.mjs`). Both come from
// npm, pinned: Bun as a devDependency, Deno as its Linux package, which
// `scripts/test-js.sh` installs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Tally } from "./shared/vectors.mjs";
import { nativeResults, nativeResultsPath, repo, report, scriptRunners, testKey } from "./node/helpers.mjs";
import { trapEnvelopesBase64 } from "./node/sign.mjs";

const script = `${repo}bindings/test/runtimes/vectors.mjs`;
/** Beside the native results, where Deno may read; one per run, so runs do not race. */
const trapsPath = join(dirname(nativeResultsPath), `trap-envelopes-${process.pid}.json`);

for (const [runtime, [command, args]] of Object.entries(scriptRunners)) {
  test(`${runtime}: vectors through the engine and both providers, and trap recovery`, async (t) => {
    nativeResults(); // fails early with a clear message when the native run is missing
    writeFileSync(trapsPath, JSON.stringify(trapEnvelopesBase64()));
    t.after(() => rmSync(trapsPath, { force: true }));
    const { stdout } = await promisify(execFile)(command, [...args, script, repo, nativeResultsPath, trapsPath], { cwd: `${repo}bindings`, maxBuffer: 1 << 24 });
    const version = (await promisify(execFile)(command, ["--version"])).stdout.split("\n")[0];
    t.diagnostic(`${runtime}: ${version.trim()}`);
    const outcome = JSON.parse(stdout);
    assert.equal(outcome.error, undefined, outcome.error);
    const tally = new Tally();
    tally.merge(outcome.result);
    report(t, tally);
    assert.ok(tally.passed > 1000, `only ${tally.passed} checks ran`);
    assert.equal(tally.failed, 0, tally.failures.join("\n"));
  });
}

// Deno without read access to pennon.wasm, which the package reads from disk there: no
// flag at all (a trial's first run), or access to all but that file. A refusal no wait
// mends fails the start at once, saying what to grant, where it was retried until
// `initTimeoutMs`, logging `NotCapable: Requires read access …` at every try.
test("deno: without read access to pennon.wasm, the start fails at once, saying to grant it or pass the module", async () => {
  const [deno] = scriptRunners.deno;
  const wasm = `${repo}bindings/dist/pennon.wasm`;
  const denied = `Error: pennon: read access to pennon.wasm, the WebAssembly module, is denied: ${wasm} (NotCapable). Grant read access ` +
    `to that file (Deno: \`--allow-read=${wasm}\`), or pass the module as the \`wasm\` option (its bytes, or a compiled WebAssembly.Module)`;
  for (const permissions of [[], [`--allow-read=${repo}`, `--deny-read=${wasm}`]]) {
    const { stdout } = await promisify(execFile)(deno, ["run", "--no-prompt", ...permissions, `${repo}bindings/test/runtimes/denied-read.mjs`, testKey], { cwd: `${repo}bindings` });
    assert.deepEqual(JSON.parse(stdout), { rejected: denied, warnings: [] }, permissions.join(" ") || "no permission");
  }
});
