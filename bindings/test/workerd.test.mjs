// workerd (the Cloudflare Workers runtime, via miniflare): a worker bundled with the
// `workerd` condition imports pennon.wasm as a compiled module and runs the vectors
// through the engine and the server provider.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EVALUATION_FILES, Tally } from "./shared/vectors.mjs";
import { nativeResults, read, repo, report, testKey, vectors } from "./node/helpers.mjs";
import { COMPATIBILITY_DATES, bundleWorker, worker } from "./node/workerd.mjs";
import { boolFlag, envelope, payload, publicKey, trapEnvelopesBase64 } from "./node/sign.mjs";
import { snapshotServer } from "./node/snapshot-server.mjs";

for (const compatibilityDate of COMPATIBILITY_DATES) test(`workerd ${compatibilityDate}: vectors through the engine and the server provider, and trap recovery`, async (t) => {
  const native = nativeResults();
  const mf = worker(await bundleWorker(`${repo}bindings/test/workerd/worker.mjs`), { compatibilityDate });
  try {
    const { weakRefs } = await (await mf.dispatchFetch("http://worker/", { method: "POST", body: '{"kind":"runtime"}' })).json();
    assert.equal(weakRefs, compatibilityDate >= "2025-05-05", "the runtime the date asks for");
    const tally = new Tally();
    const post = async (body) => {
      const response = await mf.dispatchFetch("http://worker/", { method: "POST", body: JSON.stringify(body) });
      const outcome = await response.json();
      assert.equal(outcome.error, undefined, outcome.error);
      tally.merge(outcome.result);
    };
    for (const name of EVALUATION_FILES) {
      await post({ kind: "evaluation", name, text: read(`${vectors}evaluation/${name}`), native: { [name]: native[name] }, key: testKey });
    }
    await post({ kind: "bucketing", text: read(`${vectors}bucketing.json`) });
    await post({ kind: "envelopes", text: read(`${vectors}envelopes.json`) });
    await post({ kind: "traps", envelopes: trapEnvelopesBase64(), key: testKey });
    // A snapshot URL on 127.0.0.1: version 1, then version 2 once the worker has read
    // it (switched as the first answer is written: polling the request count raced the
    // worker's refresh on a busy machine).
    const server = await snapshotServer();
    try {
      server.body = envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }) }));
      server.afterServe = () => {
        server.body = envelope(payload(2, { beta: boolFlag({ staff: ["ann", "bob"] }) }));
        server.afterServe = undefined;
      };
      await post({ kind: "url", url: server.url, key: publicKey(1) });
    } finally {
      await server.close();
    }
    report(t, tally);
    assert.ok(tally.passed > 1000, `only ${tally.passed} checks ran`);
    assert.equal(tally.failed, 0, tally.failures.join("\n"));
  } finally {
    await mf.dispose();
  }
});
