/**
 * The providers' options object: read once, member by member (a config class's getters
 * and inherited members count, as the server provider always read them), and checked at
 * start. A misspelt option (`pollInterval`) or one of the wrong shape (`headers` as a
 * `Headers` object spread into nothing) would otherwise be ignored without a word: the
 * SDK key never sent, polling never on. What can never work is a `FatalStartError`.
 */

import { Engine } from "./engine.js";
import { isWasmSource } from "./instance.js";
import { sourceRefusal } from "./source-refusal.js";
import { FatalStartError, type PennonOptions } from "./sync-options.js";
import { telemetryOf } from "./telemetry-options.js";
import { shown } from "./shown.js";

/** The engine's default `maxBytes` (SPEC 2.3). */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/** The engine the options describe; keys or a trust policy it refuses are FATAL. */
export function newEngine(o: PennonOptions, minVersion?: number): Engine {
  try {
    const { keys, environment, audience, threshold, graceMs, maxBytes } = o;
    return new Engine({ keys, environment, audience, threshold, graceMs, maxBytes, minVersion });
  } catch (error) {
    throw new FatalStartError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** Every option both providers read. */
const COMMON = [
  "keys", "environment", "audience", "threshold", "graceMs", "maxBytes", "envelope", "url", "headers",
  "notificationUrl", "pollIntervalMs", "jitter", "backoffInitialMs", "backoffMaxMs", "requestTimeoutMs",
  "initTimeoutMs", "waitForUrl", "staleAfterMs", "streamIdleTimeoutMs", "exposureCapacity", "exposures", "onExposure", "telemetry", "wasm",
  "clock", "fetch", "logger",
];

/** The options as read, and the names of members no option has. */
export interface ReadOptions<T> {
  options: T;
  unknown: string[];
}

/** Reads `options` once; `extra` names the provider's own options (web: `storage`). */
export function readOptions<T extends PennonOptions>(options: T, extra: readonly string[] = []): ReadOptions<T> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`pennon: a provider takes an options object ({ keys, environment, url or envelope, … }), not ${options === null ? "null" : typeof options}`);
  }
  const known = [...COMMON, ...extra];
  const read: Record<string, unknown> = {};
  for (const name of known) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined) read[name] = value;
  }
  const unknown = Object.keys(options).filter((name) => !known.includes(name) && (options as Record<string, unknown>)[name] !== undefined);
  return { options: read as T, unknown };
}

/** Throws a message naming the first option that can never work as given. */
export function checkOptions(options: PennonOptions, unknown: string[]): void {
  if (unknown.length > 0) {
    const name = unknown[0]!;
    // A suggestion for a near miss only: `pollInterval`, `pollIntervalMS`, `key`, and
    // the Rust builder's names (`notification_url`, `stream_idle_timeout`).
    const stem = name.toLowerCase().replace(/_/g, "").replace(/ms$/i, "");
    const near = stem.length < 3 ? undefined : COMMON.find((known) => known.toLowerCase().startsWith(stem));
    // The SDK key goes out as a header, as the other SDKs' and `curl`'s examples send it;
    // `telemetry.sdkKey` is the one option of that name.
    const credential = /^(sdk|api|server|client)(key|token)$|^token$|^authori[sz]ation$|^bearer$/.test(stem);
    const hint = credential
      ? " (give the SDK key as `headers: { Authorization: `Bearer ${key}` }`, and to `telemetry.sdkKey` if you report telemetry)"
      : near === undefined ? "" : ` (did you mean \`${near}\`?)`;
    throw new Error(`pennon: unknown option \`${name}\`${hint}`);
  }
  const { fetch, logger, waitForUrl, wasm, exposures, onExposure } = options as unknown as Record<string, unknown>;
  if (fetch !== undefined && typeof fetch !== "function") throw new Error(`pennon: \`fetch\` must be a function, not ${shown(fetch)}`);
  if (logger !== undefined && typeof (logger as { warn?: unknown } | null)?.warn !== "function") {
    throw new Error(`pennon: \`logger\` must have a \`warn\` method (\`console\` has), not ${shown(logger)}${typeof logger === "function" ? " (pass { warn: fn })" : ""}`);
  }
  if (waitForUrl !== undefined && typeof waitForUrl !== "boolean") throw new Error(`pennon: \`waitForUrl\` must be true or false, not ${shown(waitForUrl)}`);
  if (exposures !== undefined && exposures !== "split" && exposures !== "all") throw new Error(`pennon: \`exposures\` must be "split" (the default: evaluations a rollout decided) or "all", not ${shown(exposures)}`);
  if (onExposure !== undefined && typeof onExposure !== "function") throw new Error(`pennon: \`onExposure\` must be a function taking an exposure, not ${shown(onExposure)}`);
  telemetryOf(options.telemetry, String(options.environment));
  const promised = typeof (wasm as { then?: unknown } | null)?.then === "function";
  if (wasm !== undefined && !promised && !isWasmSource(wasm)) {
    throw new Error(`pennon: \`wasm\` must be a WebAssembly.Module, the module's bytes, a URL or a path, not ${shown(wasm)}`);
  }
  const refused = promised ? undefined : sourceRefusal(wasm, "`wasm`");
  if (refused !== undefined) throw new Error(refused);
}

/**
 * `headers` as one record of strings: a record, a `Headers` or a list of pairs. A value
 * that is not a string (an unset environment variable) is refused by name rather than
 * sent as the text "undefined".
 */
export function headersOf(headers: unknown): Record<string, string> | undefined {
  if (headers === undefined || headers === null) return undefined;
  let pairs: [string, unknown][];
  if (typeof Headers !== "undefined" && headers instanceof Headers) pairs = [...headers.entries()];
  else if (Array.isArray(headers)) pairs = headers.map((pair, index) => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string") throw new Error(`pennon: \`headers[${index}]\` must be a [name, value] pair`);
    return pair as [string, unknown];
  });
  else if (typeof headers === "object" && Object.prototype.toString.call(headers) === "[object Object]") pairs = Object.entries(headers);
  else throw new Error(`pennon: \`headers\` must be an object of names to values, a Headers or [name, value] pairs, not ${shown(headers)}`);
  const record: Record<string, string> = {};
  for (const [name, value] of pairs) {
    if (typeof value !== "string") throw new Error(`pennon: \`headers\` \`${name}\` must be a string, not ${shown(value)} (an unset environment variable?)`);
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new Error(`pennon: \`headers\` has a name that is not a header name: ${JSON.stringify(name)}`);
    if (/[\r\n\0]/.test(value)) throw new Error(`pennon: \`headers\` \`${name}\` has a line break or NUL in its value`);
    record[name] = value;
  }
  return record;
}
