/**
 * Telemetry, mirroring the Rust provider's: evaluation counters, not-found keys, and
 * exposures: a bounded queue that counts what it drops, and the host's listener
 * (`onExposure`), called with each beside the queue. With the `telemetry` option the
 * provider posts them to the control plane (`reporter.ts`); without it, they wait for
 * the host.
 */

import type { Resolution } from "./wasm/pennon_wasm.js";
import { bucketValue } from "./bucket-value.js";
import { described } from "./sync-errors.js";

/** How many times one flag served one variant (`variant` undefined: errors). */
export interface EvaluationCount {
  flag: string;
  variant?: string;
  count: number;
}

/** Evaluations of one key the served snapshot lacks (`flag` undefined: the keys past
 *  the bound of 1,000 a window, and keys no flag can have). */
export interface NotFoundCount {
  flag?: string;
  count: number;
}

/** A reading of every counter. */
export interface EvaluationCounts {
  /** Non-zero counts by flag, then variant (errors last). */
  counts: EvaluationCount[];
  /** Evaluations of keys the served snapshot lacks (`FLAG_NOT_FOUND`), in all. */
  flagNotFound: number;
  /** The same by key, in code point order; at most 1,000 keys a window (until the
   *  counts are taken with `counts(true)`) are named, the rest summed last. */
  notFound: NotFoundCount[];
}

/** Distinct not-found keys named in one window. */
export const MAX_NOT_FOUND_KEYS = 1_000;

/**
 * Whether `key` could be a flag of the control plane (1 to 128 ASCII letters, digits,
 * `.`, `_` and `-`, not starting with `.` or `-`). Any other not-found key is summed
 * with the keys past the bound: no flag was ever created or deleted under it, and
 * named in a report it would fail the whole report.
 */
export function reportable(key: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(key);
}

/** One successful evaluation, as an experiment analysis needs it. */
export interface Exposure {
  flag: string;
  variant: string;
  reason: string;
  /** The rule that served it, when one did: an experiment's arms are often rules of
   *  one flag, and without it their exposures would look alike. */
  ruleId?: string;
  targetingKey?: string;
  /** The attribute a rollout bucketed by, when one hashed (`targetingKey` by default). */
  bucketAttribute?: string;
  /** That attribute's value as it was hashed: a string, or an integer's decimal digits.
   *  An experiment split by `company.id` is analysed per company with it. */
  bucketValue?: string;
  snapshotVersion: number;
  /** When, Unix milliseconds (the provider's clock). */
  timestampMs: number;
}

/**
 * Which evaluations are exposures, for the queue and `onExposure` alike: `"split"` (the
 * default), those a rollout decided (reason `SPLIT`), or `"all"`, every one that served
 * a variant. Only a rollout puts a user in an experiment's arm by chance; a kill switch
 * evaluated on every request would crowd the experiments' exposures out of the bounded
 * queue and out of what the control plane keeps. GrowthBook's `trackingCallback` fires
 * for experiment rules only, likewise.
 */
export type ExposureScope = "split" | "all";

/** What the `exposures` and `onExposure` options give `Telemetry`. */
export interface ExposureOptions {
  /** Which evaluations are exposures (default `"split"`; anything else is taken as it). */
  exposures?: ExposureScope;
  /** Called with every exposure, the record the queue holds, frozen. */
  onExposure?: (exposure: Exposure) => unknown;
  /** Where a listener's failure is logged (default `console.warn`). */
  warn?: (message: string) => void;
}

/** One flag's counters: per variant served, and errors apart (any name is a variant's). */
interface FlagCounters {
  variants: Map<string, number>;
  errors: number;
}

/** Counters and exposures shared by every snapshot a provider serves. */
export class Telemetry {
  readonly #counters = new Map<string, FlagCounters>();
  /** Queued exposures from `#head` on: draining moves the head, so a batch costs its
   *  own length, not the queue's (`splice` shifted every entry left: 9.8 s to drain a
   *  million in batches of 100). */
  #queue: Exposure[] = [];
  #head = 0;
  readonly #capacity: number;
  /** Not-found evaluations by key, and those past the bound or unreportable. */
  #notFound = new Map<string, number>();
  #notFoundOther = 0;
  #dropped = 0;
  readonly #everyVariant: boolean;
  readonly #listener: ((exposure: Exposure) => unknown) | undefined;
  readonly #warn: (message: string) => void;
  /** Whether the listener has failed yet: only the first failure is logged. */
  #listenerFailed = false;

  /** `exposureCapacity` 0 (the default) queues no exposures; so does a non-number. The
   *  providers check their options at start; here a value of the wrong type is none. */
  constructor(exposureCapacity = 0, options: ExposureOptions = {}) {
    this.#capacity = Number.isFinite(exposureCapacity) ? Math.max(0, Math.floor(exposureCapacity)) : 0;
    this.#everyVariant = options.exposures === "all";
    this.#listener = typeof options.onExposure === "function" ? options.onExposure : undefined;
    this.#warn = options.warn ?? consoleWarn;
  }

  /** Counts one evaluation and, when it served a variant in the scope, hands its
   *  exposure to the listener and the queue. With the context evaluated, an exposure of
   *  a rollout carries the value it hashed. Nothing is built unless a listener or a
   *  queue with room takes it. */
  record(result: Resolution, targetingKey: string | undefined, nowMs: number, context?: unknown): void {
    if (result.errorCode === "FLAG_NOT_FOUND") {
      this.#recordNotFound(result.key);
      return;
    }
    if (result.errorCode !== undefined || result.variant === undefined) {
      this.recordError(result.key);
      return;
    }
    const variants = this.#flag(result.key).variants;
    const variant = result.variant;
    variants.set(variant, (variants.get(variant) ?? 0) + 1);
    if (this.#capacity === 0 && this.#listener === undefined) return;
    if (!this.#everyVariant && result.reason !== "SPLIT") return;
    const room = this.#queue.length - this.#head < this.#capacity;
    if (!room && this.#capacity > 0) this.#dropped++;
    if (!room && this.#listener === undefined) return;
    const bucket = result.explanation.bucket;
    const exposure: Exposure = {
      flag: result.key,
      variant,
      reason: result.reason,
      ruleId: result.explanation.ruleId,
      targetingKey,
      bucketAttribute: bucket?.attribute,
      bucketValue: bucket === undefined || context === undefined ? undefined : bucketValue(context, bucket.attribute),
      snapshotVersion: result.explanation.snapshotVersion,
      timestampMs: nowMs,
    };
    if (this.#listener !== undefined) this.#notify(this.#listener, exposure);
    if (room) this.#queue.push(exposure);
  }

  /** Calls the listener with `exposure`, frozen (the queue holds the same record). A
   *  throw, or a promise it returns that rejects, is logged the first time: an analytics
   *  hook that fails must not fail an evaluation, nor an unhandled rejection bring the host down. */
  #notify(listener: (exposure: Exposure) => unknown, exposure: Exposure): void {
    Object.freeze(exposure);
    try {
      const returned = listener(exposure);
      if (typeof (returned as PromiseLike<unknown> | undefined)?.then === "function") {
        (returned as PromiseLike<unknown>).then(undefined, (error: unknown) => this.#listenerFailure(error, exposure.flag));
      }
    } catch (error) {
      this.#listenerFailure(error, exposure.flag);
    }
  }

  #listenerFailure(error: unknown, flag: string): void {
    if (this.#listenerFailed) return;
    this.#listenerFailed = true;
    let why: string;
    try {
      why = described(error);
    } catch {
      why = "an error that cannot be shown";
    }
    this.#warn(`the exposure listener (onExposure) failed on an exposure of \`${flag}\`: ${why}; the evaluation returned as usual, and the exposure still went to the queue, if \`exposureCapacity\` is set. The listener is still called; later failures are not logged`);
  }

  /** Counts an error of a flag the snapshot has, decided before the engine was asked
   *  (the web provider's `TYPE_MISMATCH`, read from its cache). */
  recordError(flag: string): void {
    this.#flag(flag).errors++;
  }

  /** Counts a context that could not be read (`INVALID_CONTEXT`) as the Rust provider
   *  does: an error of the flag, or of a key the snapshot lacks. */
  recordInvalidContext(flag: string, known: boolean): void {
    if (known) this.recordError(flag);
    else this.#recordNotFound(flag);
  }

  #recordNotFound(key: string): void {
    const held = this.#notFound.get(key);
    if (held !== undefined) this.#notFound.set(key, held + 1);
    else if (this.#notFound.size < MAX_NOT_FOUND_KEYS && typeof key === "string" && reportable(key)) this.#notFound.set(key, 1);
    else this.#notFoundOther++;
  }

  #flag(key: string): FlagCounters {
    let flag = this.#counters.get(key);
    if (flag === undefined) this.#counters.set(key, (flag = { variants: new Map(), errors: 0 }));
    return flag;
  }

  /** Reads every counter; with `reset`, zeroes them in the same step (with the
   *  `telemetry` option, its reports take them so: each evaluation goes to one). */
  counts(reset = false): EvaluationCounts {
    const counts: EvaluationCount[] = [];
    for (const flag of [...this.#counters.keys()].sort(byCodePoint)) {
      const { variants, errors } = this.#counters.get(flag)!;
      for (const variant of [...variants.keys()].sort(byCodePoint)) counts.push({ flag, variant, count: variants.get(variant)! });
      if (errors > 0) counts.push({ flag, count: errors });
    }
    const notFound: NotFoundCount[] = [...this.#notFound.keys()].sort(byCodePoint).map((flag) => ({ flag, count: this.#notFound.get(flag)! }));
    if (this.#notFoundOther > 0) notFound.push({ count: this.#notFoundOther });
    const flagNotFound = notFound.reduce((sum, entry) => sum + entry.count, 0);
    if (reset) {
      this.#counters.clear();
      this.#notFound = new Map();
      this.#notFoundOther = 0;
    }
    return { counts, flagNotFound, notFound };
  }

  /** Takes up to `max` queued exposures, oldest first. */
  drainExposures(max = Infinity): Exposure[] {
    if (typeof max !== "number" || !(max >= 0)) throw new TypeError(`pennon: drainExposures takes a number from 0 (default all), not ${typeof max === "number" ? max : typeof max}`);
    const size = this.#queue.length - this.#head;
    const taken = Math.min(size, Math.max(0, Math.floor(max)) || 0);
    const batch = this.#queue.slice(this.#head, this.#head + taken);
    this.#head += taken;
    // Drained entries are let go once they are half the array (amortized: each entry
    // is copied at most once more).
    if (this.#head === this.#queue.length) [this.#queue, this.#head] = [[], 0];
    else if (this.#head > 1024 && this.#head * 2 >= this.#queue.length) [this.#queue, this.#head] = [this.#queue.slice(this.#head), 0];
    return batch;
  }

  /** How many exposures are queued. */
  get exposuresQueued(): number {
    return this.#queue.length - this.#head;
  }

  /** Exposures dropped because the queue was full, since the start (a report carries
   *  how many in its window). */
  get exposuresDropped(): number {
    return this.#dropped;
  }
}

/** `console.warn`, for a `Telemetry` made outside a provider; a console that throws is ignored. */
function consoleWarn(message: string): void {
  try {
    console.warn(`pennon: ${message}`);
  } catch {
    // Nowhere left to say it.
  }
}

/**
 * Code point order, which is UTF-8 byte order: the Rust provider's. `sort()` alone
 * compares UTF-16 units, and so puts U+10000 and above before U+E000-U+FFFF.
 */
function byCodePoint(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/** A UTF-16 unit moved so surrogates sort after U+E000-U+FFFF. */
function rank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit;
}
