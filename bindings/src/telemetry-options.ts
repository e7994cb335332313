/**
 * The `telemetry` provider option, checked at start: where reports go, with which SDK
 * key, and how often. A value that can never work is a `FatalStartError` naming it.
 */

import { shown, unsetIn } from "./shown.js";
import { MAX_DELAY_MS } from "./timers.js";

/** Where and how often a provider reports its telemetry to the control plane. */
export interface TelemetryOptions {
  /** The control plane's base URL (`https://flags.example.com`): reports are posted to
   *  `{url}/v1/telemetry/{environment}`. */
  url: string | URL;
  /** The environment's SDK key (server `pns_…`, or client `pnc_…` in pages), sent as
   *  `Authorization: Bearer <sdkKey>`. */
  sdkKey: string;
  /** Time between reports, ms (default 60,000, at least 10,000). */
  intervalMs?: number;
}

/** `TelemetryOptions` checked, defaults filled in. */
export interface TelemetryConfig {
  /** `{url}/v1/telemetry/{environment}`. */
  url: URL;
  sdkKey: string;
  intervalMs: number;
}

export const DEFAULT_INTERVAL_MS = 60_000;
/** The shortest interval: a fleet reporting more often would load the control plane
 *  for counts nobody reads by the second. */
export const MIN_INTERVAL_MS = 10_000;
const MEMBERS = ["url", "sdkKey", "intervalMs"];

/** The telemetry configuration `value` gives, `undefined` for none; throws a message
 *  naming what is wrong. */
export function telemetryOf(value: unknown, environment: string): TelemetryConfig | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`pennon: \`telemetry\` must be an object ({ url, sdkKey, intervalMs? }), not ${shown(value)}`);
  }
  const given = value as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (given[name] !== undefined && !MEMBERS.includes(name)) {
      const near = MEMBERS.find((known) => known.toLowerCase().startsWith(name.toLowerCase().replace(/ms$/, "").slice(0, 3)));
      throw new Error(`pennon: unknown option \`telemetry.${name}\`${near === undefined ? "" : ` (did you mean \`telemetry.${near}\`?)`}`);
    }
  }
  const { url, sdkKey, intervalMs } = given;
  if (typeof sdkKey !== "string" || sdkKey.trim() === "") {
    throw new Error(`pennon: \`telemetry.sdkKey\` must be the environment's SDK key, a non-empty string, not ${shown(sdkKey)} (an unset environment variable?)`);
  }
  if (/[\r\n\0]/.test(sdkKey)) throw new Error("pennon: `telemetry.sdkKey` has a line break or NUL in it");
  const interval = intervalMs ?? DEFAULT_INTERVAL_MS;
  if (typeof interval !== "number" || !(interval >= MIN_INTERVAL_MS && interval <= MAX_DELAY_MS)) {
    throw new Error(`pennon: \`telemetry.intervalMs\` must be a number of milliseconds from ${MIN_INTERVAL_MS} to ${MAX_DELAY_MS}; got ${shown(intervalMs)}`);
  }
  return { url: reportUrl(url, environment), sdkKey, intervalMs: interval };
}

/** `{base}/v1/telemetry/{environment}`, resolved against the page in browsers. */
function reportUrl(base: unknown, environment: string): URL {
  if (typeof base !== "string" && !(base instanceof URL)) {
    const unset = base === undefined ? " (an unset environment variable?)" : "";
    throw new Error(`pennon: \`telemetry.url\` must be the control plane's base URL, a string or URL, not ${shown(base)}${unset}`);
  }
  let url: URL;
  try {
    url = new URL(base, (globalThis as { location?: { href: string } }).location?.href);
  } catch {
    const text = String(base).split("?")[0]!;
    throw new Error(`pennon: \`telemetry.url\` is not a URL: ${shown(text)}${unsetIn(text)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`pennon: \`telemetry.url\` must be http: or https:, not ${url.protocol}`);
  if (url.username !== "" || url.password !== "") throw new Error("pennon: `telemetry.url` must not hold credentials: the SDK key goes in `telemetry.sdkKey`");
  if (url.search !== "" || url.hash !== "") throw new Error("pennon: `telemetry.url` takes no query or fragment");
  if (url.pathname.includes("/v1/")) {
    throw new Error(`pennon: \`telemetry.url\` must be the control plane's base URL (\`${url.origin}\`), not an endpoint under it: reports go to {url}/v1/telemetry/{environment}`);
  }
  return new URL(`${url.pathname.replace(/\/$/, "")}/v1/telemetry/${encodeURIComponent(environment)}`, url);
}
