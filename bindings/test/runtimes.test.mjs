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
import { nativeResults, nativeResultsPath, repo, report, scriptRunners } from "./node/helpers.mjs";
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
