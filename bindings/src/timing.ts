/**
 * The providers' timing options, clock, URL and exposure capacity, checked once at
 * start. A value read from an unset environment variable (`NaN`) would otherwise make a
 * 1 ms timer: a flood of requests against the snapshot server. What can never work is
 * a `FatalStartError`, naming the option.
 */

import { shown, unsetIn } from "./shown.js";
import type { PennonOptions } from "./sync-options.js";
import { MAX_DELAY_MS } from "./timers.js";

/** Every timing a `Sync` uses, defaults filled in. */
export interface Timing {
  pollIntervalMs: number;
  jitter: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  requestTimeoutMs: number;
  initTimeoutMs: number;
  staleAfterMs: number;
  streamIdleTimeoutMs: number;
}

/** The timing of `options`; throws a message naming the first option out of range. */
export function timingOf(options: PennonOptions): Timing {
  return {
    pollIntervalMs: milliseconds(options, "pollIntervalMs", 30_000, 0),
    jitter: fraction(options.jitter),
    backoffInitialMs: milliseconds(options, "backoffInitialMs", 1_000, 1),
    backoffMaxMs: milliseconds(options, "backoffMaxMs", 60_000, 1),
    requestTimeoutMs: milliseconds(options, "requestTimeoutMs", 10_000, 1),
    initTimeoutMs: milliseconds(options, "initTimeoutMs", 5_000, 0),
    staleAfterMs: milliseconds(options, "staleAfterMs", 300_000, 0),
    streamIdleTimeoutMs: milliseconds(options, "streamIdleTimeoutMs", 90_000, 1),
  };
}

/** The backoff after `failures` failures in a row (at least one), doubling from
 *  `backoffInitialMs`, or `askedMs` (a `Retry-After`) if longer; never past `backoffMaxMs`. */
export function backoff(t: Timing, failures: number, askedMs = 0): number {
  return Math.min(t.backoffMaxMs, Math.max(askedMs, t.backoffInitialMs * 2 ** (failures - 1)));
}

type TimingOption = Exclude<keyof Timing, "jitter">;

function milliseconds(options: PennonOptions, name: TimingOption, fallback: number, least: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= least && value <= MAX_DELAY_MS)) {
    throw new Error(`pennon: \`${name}\` must be a number of milliseconds from ${least} to ${MAX_DELAY_MS}; got ${shown(value)}`);
  }
  return value;
}

function fraction(value: unknown): number {
  if (value === undefined) return 0.2;
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    throw new Error(`pennon: \`jitter\` must be a number from 0 to 1; got ${shown(value)}`);
  }
  return value;
}

/** No snapshot was signed before this (2000-01-01): a clock reading earlier is in
 *  seconds (`Date.now() / 1000`) or relative (`performance.now()`), and every schedule
 *  and expiry would be judged at 1970. */
const EARLIEST_CLOCK_MS = Date.UTC(2000, 0, 1);

/** Refuses a `clock` that is not a function or does not read Unix milliseconds now. */
export function checkClock(clock: unknown): void {
  if (clock === undefined) return;
  if (typeof clock !== "function") throw new Error(`pennon: \`clock\` must be a function returning Unix milliseconds; got ${shown(clock)}`);
  const now: unknown = clock();
  if (typeof now !== "number" || !Number.isFinite(now)) {
    throw new Error(`pennon: \`clock\` must return Unix milliseconds, a finite number; it returned ${shown(now)}`);
  }
  if (now < EARLIEST_CLOCK_MS) {
    throw new Error(`pennon: \`clock\` returned ${now}, which as Unix milliseconds is ${new Date(now).toISOString()}: it must read milliseconds since 1970 (\`Date.now()\`), not seconds or \`performance.now()\``);
  }
}

/** Refuses an `exposureCapacity` that is not a whole number: an environment variable's
 *  string would otherwise turn exposures off. */
export function checkExposureCapacity(value: unknown): void {
  if (value !== undefined && (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)) {
    throw new Error(`pennon: \`exposureCapacity\` must be a whole number from 0; got ${shown(value)}`);
  }
}

/**
 * The snapshot URL (or the option `name`'s), resolved against the page in browsers.
 * Only `http:` and `https:` are fetched, and `fetch` refuses a URL with credentials in
 * it (send them as `headers`).
 */
export function snapshotUrl(url: string | URL, name = "url"): URL {
  const text = String(url).split("?")[0]!; // a query may hold a token
  let parsed: URL | undefined;
  try {
    parsed = new URL(url, (globalThis as { location?: { href: string } }).location?.href);
  } catch {
    // Not a URL.
  }
  // In a page, "undefined/v1/…" resolves as a path under it, and would be polled.
  if (parsed === undefined || unsetIn(text) !== "") throw new Error(`pennon: \`${name}\` is not a URL: ${shown(text)}${unsetIn(text)}`);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`pennon: \`${name}\` must be http: or https:, not ${parsed.protocol}`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new Error(`pennon: \`${name}\` must not hold credentials (fetch refuses them): send them in \`headers\``);
  }
  return parsed;
}

/** Where a URL points, for logs: no query (it may hold a token). */
export function shownUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
