// The conformance vectors (tests/vectors/) for every JavaScript runtime. Runtime-
// agnostic: each runner reads the files its own way (fs, HTTP, a request body) and
// passes their text in, with the `pennon` module it imported.

import { parse, same, show, toJs, toText } from "./lossless.mjs";

export const EVALUATION_FILES = [
  "basics.json",
  "edge_cases.json",
  "generated.json",
  "large_list.json",
  "operators.json",
  "prerequisites.json",
  "rollouts.json",
  "schedules.json",
  "segments.json",
];

/** Counts checks by group; keeps the first failures for the report. */
export class Tally {
  constructor() {
    this.groups = {};
    this.failures = [];
  }
  #group(name) {
    return (this.groups[name] ??= { passed: 0, failed: 0, skipped: 0 });
  }
  check(group, ok, what) {
    this.#group(group)[ok ? "passed" : "failed"]++;
    if (!ok && this.failures.length < 50) this.failures.push(`${group}: ${what()}`);
    return ok;
  }
  skip(group) {
    this.#group(group).skipped++;
  }
  get passed() {
    return Object.values(this.groups).reduce((n, g) => n + g.passed, 0);
  }
  get failed() {
    return Object.values(this.groups).reduce((n, g) => n + g.failed, 0);
  }
  /** Merges a plain `{groups, failures}` (from a page or a worker). */
  merge(other) {
    for (const [name, g] of Object.entries(other.groups)) {
      const mine = this.#group(name);
      for (const k of ["passed", "failed", "skipped"]) mine[k] += g[k];
    }
    this.failures.push(...other.failures);
  }
  toJSON() {
    return { groups: this.groups, failures: this.failures };
  }
}

/** RFC 3339 to Unix milliseconds, truncating digits beyond milliseconds (SPEC 6). */
export function rfc3339(text) {
  const m = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:[Zz]|([+-])(\d\d):(\d\d))$/.exec(text);
  if (!m) throw new Error(`not RFC 3339: ${text}`);
  const date = new Date(0);
  date.setUTCFullYear(+m[1], +m[2] - 1, +m[3]);
  date.setUTCHours(+m[4], +m[5], +m[6], +((m[7] ?? "") + "000").slice(0, 3));
  const offset = m[8] ? (m[8] === "-" ? -1 : 1) * (+m[9] * 60 + +m[10]) * 60_000 : 0;
  return date.getTime() - offset;
}

const utf8 = (text) => new TextEncoder().encode(text);
export const LOAD_TIME = rfc3339("2026-01-01T00:00:00Z");

/** One vector file, parsed losslessly, with the envelope bytes to load. */
export function readEvaluationFile(text) {
  const tree = parse(text);
  return { tree, envelope: utf8(toText(tree.envelope)) };
}

/** What a result text says, as JavaScript values (BigInt beyond 2^53). */
export function outcome(resultText) {
  const r = toJs(parse(resultText));
  return { value: r.value ?? null, variant: r.variant ?? null, reason: r.reason, errorCode: r.errorCode ?? null };
}

/**
 * Every evaluation case through the engine: the JSON-text context must give the
 * native `text` byte for byte, the JavaScript-object context the native `jsText`,
 * and the object API the same fields; where both texts agree, the vector's `expect`.
 */
export function runEngineVectors({ pennon, name, file, native, key, tally }) {
  const engine = new pennon.Engine({ keys: [key], environment: "test" });
  engine.load(file.envelope, LOAD_TIME);
  const telemetry = new pennon.Telemetry(1);
  const expectedResults = native[name];
  file.tree.cases.forEach((c, index) => {
    const label = `${name} / ${c.name}`;
    const want = expectedResults[index];
    const now = rfc3339(c.now);
    const type = c.type ?? undefined;
    const textContext = pennon.PreparedContext.fromJson(toText(c.context));
    const jsContext = toJs(c.context);
    const objectContext = new pennon.PreparedContext(jsContext);
    const text = engine.evaluateJson(c.flag, textContext, now, type);
    tally.check("identity: JSON context vs native", text === want.text, () => `${label}: ${text} != ${want.text}`);
    const jsText = engine.evaluateJson(c.flag, objectContext, now, type);
    tally.check("identity: JS object context vs native", jsText === want.jsText, () => `${label}: ${jsText} != ${want.jsText}`);
    // The object API (its fast path included) gives exactly what the JSON text says.
    const result = engine.evaluate(c.flag, jsContext, now, type);
    const full = toJs(parse(want.jsText));
    tally.check("engine: objects equal native results", same(result, full), () => `${label}: ${show(result)} != ${show(full)}`);
    const prepared = engine.evaluatePrepared(c.flag, objectContext, now, type);
    tally.check("engine: objects equal native results", same(prepared, full), () => `${label}: ${show(prepared)} != ${show(full)}`);
    const bucket = result.explanation.bucket;
    if (bucket !== undefined) {
      // An exposure of a rollout carries the value hashed: hashed again, it lands where the engine put it.
      telemetry.record(result, undefined, now, jsContext);
      const [exposure] = telemetry.drainExposures();
      const unit = exposure?.bucketValue;
      const ok = typeof unit === "string" && exposure.bucketAttribute === bucket.attribute
        && pennon.bucketPosition(pennon.bucketHash(bucket.salt, unit), bucket.totalWeight) === bucket.value;
      tally.check("telemetry: exposures carry the value hashed", ok, () => `${label}: ${show(exposure)} for ${show(bucket)}`);
    }
    const got = { value: result.value ?? null, variant: result.variant ?? null, reason: result.reason, errorCode: result.errorCode ?? null };
    if (want.text === want.jsText) {
      const expect = toJs(c.expect);
      tally.check("engine: vector expectations", same(got, expect), () => `${label}: ${show(got)} != ${show(expect)}`);
    }
    if (index % 16 === 0) {
      // evaluateAll (one result per flag) agrees with the all-flags JSON text.
      const all = engine.evaluateAllPrepared(objectContext, now);
      const allText = toJs(parse(engine.evaluateAllJson(objectContext, now)));
      tally.check("engine: evaluateAll equals its JSON", same(all, allText), () => `${label}: evaluateAll differs`);
    }
    textContext.free();
    objectContext.free();
  });
  engine.free();
}

/** SPEC 5.6 hashing and positions. */
export function runBucketing({ pennon, text, tally }) {
  for (const e of JSON.parse(text).entries) {
    const hash = pennon.bucketHash(e.salt, e.value);
    const ok = hash === BigInt(e.hash) && pennon.bucketPosition(hash, 100000) === e.bucket;
    tally.check("bucketing", ok, () => `(${e.salt}, ${e.value}): ${hash}`);
  }
}

/** SPEC 2.3 verification: ok / unchanged / error kind. */
export function runEnvelopes({ pennon, text, tally }) {
  for (const c of toJs(parse(text)).cases) {
    const t = c.trust;
    let got;
    try {
      const engine = new pennon.Engine({
        keys: t.keys,
        environment: t.environment,
        audience: t.audience,
        threshold: Number(t.threshold),
        maxBytes: t.max_bytes === undefined ? undefined : Number(t.max_bytes),
        graceMs: t.grace_seconds === undefined ? undefined : Number(t.grace_seconds) * 1000,
        held: t.held && { version: Number(t.held.version), payloadSha256: t.held.payload_sha256 },
      });
      got = engine.load(utf8(c.envelope), rfc3339(c.now)) ? { ok: engine.version() } : { unchanged: true };
      engine.free();
    } catch (error) {
      got = { error: error.kind ?? String(error) };
    }
    const expect = c.expect.ok === undefined ? c.expect : { ok: Number(c.expect.ok) };
    tally.check("envelopes", same(got, expect), () => `${c.name}: ${show(got)} != ${show(expect)}`);
  }
}

const DEFAULTS = { boolean: false, string: "", number: 0, object: {} };

/**
 * Every evaluation case through an OpenFeature provider. `open(envelope)` returns
 * `resolve(kind, flag, context, now, defaultValue)` giving OpenFeature details.
 * OpenFeature numbers are JavaScript numbers: BigInt expectations are compared as
 * numbers, and a case asking for `integer` of a float flag (or the reverse) cannot
 * be asked through OpenFeature, so it is skipped.
 */
async function runProviderVectors({ name, file, native, open, tally, group }) {
  const resolve = await open(file.envelope);
  const flags = file.tree.payload.flags;
  const results = native[name];
  for (const [index, c] of file.tree.cases.entries()) {
    const actual = Object.hasOwn(flags, c.flag) ? flags[c.flag].type : undefined;
    const numeric = (t) => t === "integer" || t === "float";
    if (numeric(c.type) && numeric(actual) && c.type !== actual) {
      tally.skip(group);
      continue;
    }
    const kind = numeric(c.type ?? actual) ? "number" : (c.type ?? actual ?? "boolean");
    const d = await resolve(kind, c.flag, toJs(c.context), rfc3339(c.now), DEFAULTS[kind]);
    const want = outcome(results[index].jsText);
    const asNumber = (v) => (typeof v === "bigint" ? Number(v) : v);
    const ok =
      want.errorCode !== null
        ? d.errorCode === want.errorCode && d.reason === "ERROR" && same(d.value, DEFAULTS[kind])
        : same(d.value, asNumber(want.value)) && d.variant === want.variant && d.reason === want.reason && d.errorCode === undefined;
    tally.check(group, ok, () => `${name} / ${c.name}: ${show(d)} != ${show(want)}`);
  }
}

const METHODS = { boolean: "getBooleanDetails", string: "getStringDetails", number: "getNumberDetails", object: "getObjectDetails" };

/**
 * `runProviderVectors` through a provider class of the package registered with its
 * OpenFeature SDK under `domain`, the provider's clock set to each case's `now`. A web
 * provider (`web: true`) is given each case's context with `setContext`, which
 * re-evaluates every flag; a server provider gets it with each call.
 */
export function runOpenFeatureVectors({ Provider, OpenFeature, web, key, domain, name, file, native, tally }) {
  let clock = 0;
  return runProviderVectors({
    name, file, native, tally,
    group: web ? "web provider (OpenFeature web SDK)" : "server provider (OpenFeature server SDK)",
    open: async (envelope) => {
      clock = LOAD_TIME;
      const provider = new Provider({ keys: [key], environment: "test", envelope, clock: () => clock, logger: { warn() {} } });
      await OpenFeature.setProviderAndWait(domain, provider);
      const client = OpenFeature.getClient(domain);
      return async (kind, flag, context, now, fallback) => {
        clock = now;
        if (!web) return client[METHODS[kind]](flag, fallback, context);
        await OpenFeature.setContext(domain, context);
        return client[METHODS[kind]](flag, fallback);
      };
    },
  });
}
