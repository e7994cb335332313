// Options and arguments of the wrong shape, as real configurations get them wrong: a
// misspelt option, `headers` as a `Headers`, an unset environment variable, a logger
// function, options behind getters, a `wasm` path that does not exist, a Node `Buffer`
// reused after `load`. Each is refused by name, or works; none is silently ignored.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Engine, PreparedContext, bucketHash, bucketPosition, init, isPennonError } from "pennon";
import { PennonServerProvider } from "pennon/server";
import { PennonWebProvider } from "pennon/web";
import { failure } from "../../dist/instance.js";
import { boolFlag, envelope, payload, publicKey } from "./sign.mjs";
import { quiet, sleep, snapshotServer } from "./snapshot-server.mjs";
import { repo } from "./helpers.mjs";

await init();
const keys = [publicKey(1)];
const NOW = Date.parse("2026-06-01T00:00:00Z");
const v1 = envelope(payload(1, { beta: boolFlag({ staff: ["ann"] }) }));
const v2 = envelope(payload(2, { beta: boolFlag({ staff: ["ann", "bob"] }) }));
const PROVIDERS = [["server", PennonServerProvider], ["web", PennonWebProvider]];

/** Each of `cases` (options, the message they must get) makes both providers' start FATAL. */
async function assertFatal(server, cases) {
  for (const [name, Provider] of PROVIDERS) {
    for (const [options, message] of cases) {
      const provider = new Provider({ keys, environment: "test", url: server.url, logger: quiet, ...options });
      await assert.rejects(provider.initialize(), (error) => {
        assert.equal(error.name, "ProviderFatalError", `${name} ${Object.keys(options)}`);
        assert.match(error.message, message, name);
        return true;
      });
      await provider.onClose();
    }
  }
}

test("options that can never work as given are FATAL, named: a misspelt option is not ignored", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v1;
  const cases = [
    [{ pollInterval: 200 }, /^pennon: unknown option `pollInterval` \(did you mean `pollIntervalMs`\?\)$/],
    [{ pollIntervalMS: 200 }, /unknown option `pollIntervalMS` \(did you mean `pollIntervalMs`\?\)/],
    [{ minVersion: 10 }, /^pennon: unknown option `minVersion`$/], // an Engine option
    [{ key: keys[0] }, /^pennon: unknown option `key` \(did you mean `keys`\?\)$/],
    [{ sdkKey: "pns_x" }, /^pennon: unknown option `sdkKey` \(give the SDK key as `headers: \{ Authorization: `Bearer \$\{key\}` \}`, and to `telemetry.sdkKey` if you report telemetry\)$/],
    [{ apiKey: "pns_x" }, /unknown option `apiKey` \(give the SDK key as `headers/],
    [{ e: 1 }, /^pennon: unknown option `e`$/],
    [{ headers: { Authorization: undefined } }, /`headers` `Authorization` must be a string, not undefined \(an unset environment variable\?\)/],
    [{ headers: "Bearer sdk-key" }, /`headers` must be an object of names to values, a Headers or \[name, value\] pairs, not "Bearer sdk-key"/],
    [{ headers: [["Authorization"]] }, /`headers\[0\]` must be a \[name, value\] pair/],
    [{ headers: { "Bad Name": "x" } }, /`headers` has a name that is not a header name: "Bad Name"/],
    [{ headers: { Authorization: "a\r\nX-Injected: 1" } }, /`headers` `Authorization` has a line break or NUL in its value/],
    [{ fetch: "fetch" }, /`fetch` must be a function, not "fetch"/],
    [{ logger: console.warn }, /`logger` must have a `warn` method \(`console` has\), not function \(pass \{ warn: fn \}\)/],
    [{ logger: { log() {} } }, /`logger` must have a `warn` method/],
    [{ waitForUrl: "false" }, /`waitForUrl` must be true or false, not "false"/],
    [{ wasm: {} }, /`wasm` must be a WebAssembly.Module, the module's bytes, a URL or a path, not an object/],
    [{ wasm: 123 }, /`wasm` must be .*, not 123$/],
  ];
  await assertFatal(server, cases);
  for (const [storage, message] of [["false", /`storage` must be true, false or a Storage \(with getItem and setItem\), not "false"/], [{}, /`storage` must be/]]) {
    const provider = new PennonWebProvider({ keys, environment: "test", url: server.url, logger: quiet, storage });
    await assert.rejects(provider.initialize(), { name: "ProviderFatalError", message });
  }
  assert.equal(server.requests, 0, "nothing was fetched");
  assert.throws(() => new PennonServerProvider(), { name: "TypeError", message: /^pennon: a provider takes an options object \(\{ keys, environment, url or envelope, … \}\), not undefined$/ });
});

test("an unset environment variable given as a key, the environment or a URL is named as one", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v1;
  const unset = undefined; // process.env.PENNON_TRUSTED_KEY, not set
  await assertFatal(server, [
    [{ keys: [unset] }, /^invalid_options: engine options: `keys\[0\]` must be a string \(`ed25519:…`\), not undefined \(an unset environment variable\?\)$/],
    [{ keys: [keys[0], 5] }, /`keys\[1\]` must be a string \(`ed25519:…`\), not 5$/],
    [{ keys: unset }, /^invalid_options: engine options: `keys` is missing or undefined \(an unset environment variable\?\)$/],
    [{ keys: keys[0] }, /`keys` must be an array of strings, not "ed25519:.*" \(one key: \[key\]\)$/],
    [{ environment: unset }, /`environment` is missing or undefined \(an unset environment variable\?\)$/],
    [{ url: `${unset}/v1/snapshots/test` }, /^pennon: `url` is not a URL: "undefined\/v1\/snapshots\/test" \(built from an unset environment variable\?\)$/],
    [{ notificationUrl: `${unset}/v1/stream/test` }, /`notificationUrl` is not a URL: "undefined\/v1\/stream\/test" \(built from an unset environment variable\?\)$/],
    [{ telemetry: { url: unset, sdkKey: "pns_x" } }, /`telemetry\.url` must be the control plane's base URL, a string or URL, not undefined \(an unset environment variable\?\)$/],
  ]);
  // In a page, such a URL would resolve as a path under it, and be polled.
  globalThis.location = { href: "https://app.example/" };
  t.after(() => delete globalThis.location);
  await assertFatal(server, [[{ url: `${unset}/flags.json` }, /`url` is not a URL: "undefined\/flags.json" \(built from an unset environment variable\?\)$/]]);
  delete globalThis.location;
  for (const [name, Provider] of PROVIDERS) {
    const provider = new Provider({ keys, environment: "test", url: unset, logger: quiet });
    await assert.rejects(provider.initialize({}), { message: "pennon: no snapshot could be loaded: neither `url` nor `envelope` was given (an unset environment variable?)" }, name);
  }
  assert.equal(server.requests, 0, "nothing was fetched");
});

test("the notification stream's options are checked at start: FATAL, named, with near misses suggested", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v1;
  const stream = "https://flags.example.com/v1/stream/test";
  const cases = [
    [{ notificationURL: stream }, /^pennon: unknown option `notificationURL` \(did you mean `notificationUrl`\?\)$/],
    [{ notification_url: stream }, /^pennon: unknown option `notification_url` \(did you mean `notificationUrl`\?\)$/], // the Rust builder's name
    [{ stream_idle_timeout: 60_000 }, /unknown option `stream_idle_timeout` \(did you mean `streamIdleTimeoutMs`\?\)/],
    [{ streamIdleTimeout: 60_000 }, /unknown option `streamIdleTimeout` \(did you mean `streamIdleTimeoutMs`\?\)/],
    [{ streamIdleTimeoutMs: 0 }, /`streamIdleTimeoutMs` must be a number of milliseconds from 1 to 2147483647; got 0/],
    [{ streamIdleTimeoutMs: "90000" }, /`streamIdleTimeoutMs` must be a number of milliseconds from 1 to 2147483647; got "90000"/],
    [{ notificationUrl: 42 }, /^pennon: `notificationUrl` must be a URL \(a string or a URL\), not 42$/],
    [{ notificationUrl: "flags.example.com/stream" }, /^pennon: `notificationUrl` is not a URL: "flags.example.com\/stream"$/],
    [{ notificationUrl: "ws://flags.example.com/stream" }, /^pennon: `notificationUrl` must be http: or https:, not ws:$/],
    [{ notificationUrl: "https://key:x@flags.example.com/stream" }, /^pennon: `notificationUrl` must not hold credentials \(fetch refuses them\): send them in `headers`$/],
    // The stream only says when to fetch: without a snapshot URL there is nothing to fetch.
    [{ url: undefined, envelope: v1, notificationUrl: stream }, /^pennon: `notificationUrl` needs `url`: the stream only says when to fetch the snapshot, and never carries one$/],
  ];
  await assertFatal(server, cases);
  assert.equal(server.requests, 0, "nothing was fetched");
});

test("headers as a record, a Headers or pairs are all sent; options behind getters are read", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v1;
  const seen = [];
  const fetchSpy = (url, init) => {
    seen.push(new Headers(init.headers).get("authorization"));
    return fetch(url, init);
  };
  const shapes = [{ Authorization: "k1" }, new Headers({ Authorization: "k2" }), [["Authorization", "k3"]]];
  for (const [name, Provider] of PROVIDERS) {
    for (const headers of shapes) {
      const provider = new Provider({ keys, environment: "test", url: server.url, headers, fetch: fetchSpy, pollIntervalMs: 0, waitForUrl: true, logger: quiet });
      await provider.initialize({});
      await provider.onClose();
    }
    // A config class: `url` is a getter on its prototype (the web provider copied own members only).
    class Config {
      keys = keys;
      environment = "test";
      logger = quiet;
      get url() { return server.url; }
    }
    const before = server.requests;
    const provider = new Provider(new Config());
    await provider.initialize({});
    assert.equal(server.requests, before + 1, `${name}: the getter's URL was fetched`);
    await provider.onClose();
  }
  assert.deepEqual(seen, ["k1", "k2", "k3", "k1", "k2", "k3"]);
});

test("web storage that cannot work says why: no localStorage, or a store answering with a promise", async () => {
  for (const [storage, message] of [
    [true, /cannot read the stored envelope: Error: `storage: true`, but this runtime has no localStorage: pass a Storage/],
    [{ getItem: async () => null, setItem: async () => {} }, /cannot read the stored envelope: Error: `storage.getItem` returned a promise: storage must answer at once, as localStorage does/],
  ]) {
    const lines = [];
    const provider = new PennonWebProvider({ keys, environment: "test", envelope: v1, storage, logger: { warn: (line) => lines.push(line) } });
    await provider.initialize({ targetingKey: "ann" });
    assert.equal(provider.resolveBooleanEvaluation("beta", false).value, true, "the envelope is served all the same");
    assert.match(lines.join("\n"), message);
  }
});

test("a poll interval under a second (seconds given as milliseconds) is warned of, and kept", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v1;
  for (const [Provider, pollIntervalMs, warned] of [[PennonServerProvider, 5, true], [PennonWebProvider, 999, true], [PennonServerProvider, 1_000, false], [PennonServerProvider, 0, false]]) {
    const lines = [];
    const provider = new Provider({ keys, environment: "test", audience: "server", url: server.url, pollIntervalMs, logger: { warn: (line) => lines.push(line) } });
    await provider.initialize({ targetingKey: "ann" });
    const expected = `pennon: \`pollIntervalMs\` is ${pollIntervalMs}: a request every ${pollIntervalMs} ms. It is in milliseconds (default 30,000); under 1,000 is for tests`;
    assert.deepEqual(lines, warned ? [expected] : [], `${Provider.name} ${pollIntervalMs}`);
    await provider.onClose();
  }
  // Without a URL nothing is polled, so nothing is said.
  for (const Provider of [PennonServerProvider, PennonWebProvider]) {
    const lines = [];
    const provider = new Provider({ keys, environment: "test", audience: "server", envelope: v1, pollIntervalMs: 5, logger: { warn: (line) => lines.push(line) } });
    await provider.initialize({ targetingKey: "ann" });
    assert.deepEqual(lines, []);
    await provider.onClose();
  }
});

test("the web provider says once that it loaded a server snapshot, which shows every server-only flag to the page", async (t) => {
  const server = await snapshotServer();
  t.after(server.close);
  server.body = v2;
  const forClient = envelope({ ...payload(1, { beta: boolFlag() }), audience: "client" });
  // The default audience (`"any"`) is warned of once, not per version; `"server"` said on purpose is not.
  for (const [options, envelopeFor, warnings] of [[{}, v1, 1], [{ audience: "server" }, v1, 0], [{}, forClient, 0]]) {
    const lines = [];
    const provider = new PennonWebProvider({ keys, environment: "test", envelope: envelopeFor, url: server.url, pollIntervalMs: 0, ...options, logger: { warn: (line) => lines.push(line) } });
    await provider.initialize({});
    if (warnings > 0) assert.equal(await provider.refresh(), "updated");
    const said = lines.filter((line) => line.startsWith("pennon: the web provider loaded a server snapshot: every server-only flag"));
    assert.equal(said.length, warnings, `${JSON.stringify(options)}: ${lines.join(" | ")}`);
    if (warnings > 0) assert.match(said[0], /Use a client SDK key \(`pnc_…`\) for browsers, or set `audience: "server"` if this page is trusted$/);
    await provider.onClose();
  }
});

test("a `wasm` path that does not exist rejects initialize at once; the process does not exit mid-start", () => {
  const script = `
    import { PennonServerProvider } from "pennon/server";
    const provider = new PennonServerProvider({ keys: ${JSON.stringify(keys)}, environment: "test", envelope: "{}", wasm: "/nowhere/pennon.wasm", logger: { warn() {} } });
    const started = Date.now();
    try {
      await provider.initialize();
      console.log("resolved");
    } catch (error) {
      console.log(JSON.stringify({ message: error.message, ms: Date.now() - started }));
    }`;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: `${repo}bindings`, encoding: "utf8" });
  assert.equal(child.status, 0, `exit ${child.status}: ${child.stderr}`); // was 13: an unsettled top-level await
  const { message, ms } = JSON.parse(child.stdout);
  assert.equal(message, "pennon: cannot read the WebAssembly module `wasm` /nowhere/pennon.wasm (ENOENT)");
  assert.ok(ms < 1_000, `not retried until initTimeoutMs: ${ms} ms`);
});

/** pennon.wasm as base64 text, as a trial passed it (`readFileSync(…).toString("base64")`). */
const base64 = readFileSync(new URL(import.meta.resolve("pennon/pennon.wasm"))).toString("base64");
const BASE64_REFUSAL = `is base64 text ("AGFzbQEAAAAB…", ${base64.length} characters), which the package does not take: it never compiles ` +
  "base64 at run time (edge runtimes forbid compiling code they did not ship). Pass the module's bytes (decoded from that text), " +
  "a compiled WebAssembly.Module, or the path or URL of pennon.wasm";

test("base64 text as `wasm` makes both providers FATAL saying what to pass, and `init` refuses it, quoting 12 characters of it", async () => {
  for (const [name, Provider] of PROVIDERS) {
    const provider = new Provider({ keys, environment: "test", envelope: v1, wasm: base64, logger: quiet });
    await assert.rejects(provider.initialize(), (error) => {
      assert.equal(error.name, "ProviderFatalError", name);
      assert.equal(error.message, `pennon: \`wasm\` ${BASE64_REFUSAL}`, name); // was read as a path: ENAMETOOLONG, quoting all 341,920 bytes
      return true;
    });
  }
  // Once the module is in, too: not ignored as other later sources are.
  await assert.rejects(init(base64), { message: `pennon: the WebAssembly module given to \`init\` ${BASE64_REFUSAL}` });
});

test("a process's first `init` refuses base64 text; a path too long to open is named by its start and length", () => {
  const script = `
    import { init } from "pennon";
    import { PennonServerProvider } from "pennon/server";
    import { readFileSync } from "node:fs";
    const text = readFileSync(new URL(import.meta.resolve("pennon/pennon.wasm"))).toString("base64");
    const messages = [];
    await init(text).catch((error) => messages.push(error.message));
    const provider = new PennonServerProvider({ keys: ${JSON.stringify(keys)}, environment: "test", envelope: "{}", wasm: "/nowhere/" + "x".repeat(5000), logger: { warn() {} } });
    await provider.initialize().catch((error) => messages.push(error.message));
    console.log(JSON.stringify(messages));`;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: `${repo}bindings`, encoding: "utf8" });
  assert.equal(child.status, 0, `exit ${child.status}: ${child.stderr}`);
  assert.deepEqual(JSON.parse(child.stdout), [
    `pennon: the WebAssembly module given to \`init\` ${BASE64_REFUSAL}`,
    `pennon: cannot read the WebAssembly module \`wasm\` /nowhere/${"x".repeat(191)}… (5009 characters) (ENAMETOOLONG)`,
  ]);
});

test("a Node Buffer reused after load: a rebuilt engine still serves what it accepted", () => {
  const engine = new Engine({ keys, environment: "test" });
  const buffer = Buffer.from(v1);
  engine.load(buffer, NOW);
  buffer.fill(0x20); // the caller reuses its buffer
  failure.error = new Error("a trap"); // as a trap records it: the next call drops the instance
  assert.equal(engine.evaluate("beta", { targetingKey: "ann" }, NOW).value, true);
  assert.equal(engine.version(), 1);
});

test("engine arguments of the wrong shape are named, and drop no instance", async () => {
  const { generation: before } = await import("../../dist/instance.js");
  assert.throws(() => new Engine({ keys: [keys[0], , keys[0]], environment: "test" }), (error) => isPennonError(error, "invalid_options") && /`keys\[1\]` must be a string/.test(error.message));
  const engine = new Engine({ keys, environment: "test" });
  engine.load(v1, NOW);
  assert.throws(() => engine.evaluate("beta", {}, NOW, "number"), (error) =>
    isPennonError(error, "invalid_type") && error.message === 'invalid_type: `expectedType` must be "boolean", "string", "integer", "float" or "object", not "number"');
  const prepared = new PreparedContext({});
  assert.throws(() => engine.evaluatePrepared("beta", prepared, NOW, 5), (error) => isPennonError(error, "invalid_type") && error.message.endsWith("not number"));
  prepared.free();
  assert.throws(() => engine.load(v1, new Date(NOW)), { name: "TypeError", message: "pennon: `nowMs` must be Unix milliseconds, a number, not object (a Date: pass its getTime())" });
  const hash = bucketHash("salt", "user-1");
  for (const weight of [100n, 2 ** 32 + 100, 0, -1, 1.5, Number.NaN]) {
    assert.throws(() => bucketPosition(hash, weight), { name: "TypeError", message: /`totalWeight` must be a whole number from 1 to 2\^32 - 1/ }, String(weight));
  }
  for (const bad of [-1n, 2n ** 64n + 5n]) assert.throws(() => bucketPosition(bad, 100), /`hash` must be a BigInt from 0 to 2\^64 - 1/);
  assert.throws(() => bucketHash("salt", "\uD800"), /a lone surrogate is not UTF-8 text/);
  assert.equal(bucketPosition(hash, 100), bucketPosition(hash, 100));
  const { generation: after } = await import("../../dist/instance.js");
  assert.equal(after, before, "no instance was dropped");
});

test("the server provider's load before initialize is a not_ready refusal", async () => {
  const provider = new PennonServerProvider({ keys, environment: "test", logger: quiet });
  assert.throws(() => provider.load(v1), (error) => isPennonError(error, "not_ready") && error.message === "not_ready: the provider is not initialized");
  await sleep(0);
});

test("the server provider's load after a FATAL start says it is FATAL, and why", async () => {
  const cases = [
    [{ pollInterval: 1_000 }, "unknown option `pollInterval` (did you mean `pollIntervalMs`?)"],
    [{ keys: ["ed25519:not-a-key"] }, "invalid_key: invalid key: the public key is not valid base64"],
  ];
  for (const [options, reason] of cases) {
    const provider = new PennonServerProvider({ keys, environment: "test", envelope: v1, logger: quiet, ...options });
    const fatal = await provider.initialize().then(() => assert.fail("initialized"), (error) => error);
    assert.equal(fatal.name, "ProviderFatalError");
    assert.equal(fatal.message.replace(/^pennon: /, ""), reason);
    // Was "the provider is not initialized", though it was, and failed for good.
    assert.throws(() => provider.load(v2), (error) => {
      assert.ok(isPennonError(error, "not_ready"), String(error));
      assert.equal(error.message, `not_ready: the provider is FATAL: ${reason}`);
      return true;
    });
  }
});
