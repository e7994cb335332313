/**
 * Telemetry hook points, mirroring the Rust provider's: evaluation counters and a
 * bounded exposure queue that counts what it drops. Shipping them is left to the host.
 */

import type { Resolution } from "./wasm/pennon_wasm.js";

/** How many times one flag served one variant (`variant` undefined: errors). */
export interface EvaluationCount {
  flag: string;
  variant?: string;
  count: number;
}

/** A reading of every counter. */
export interface EvaluationCounts {
  /** Non-zero counts by flag, then variant (errors last). */
  counts: EvaluationCount[];
  /** Evaluations of keys the served snapshot lacks (`FLAG_NOT_FOUND`). */
  flagNotFound: number;
}

/** One successful evaluation, as an experiment analysis needs it. */
export interface Exposure {
  flag: string;
  variant: string;
  reason: string;
  targetingKey?: string;
  snapshotVersion: number;
  /** When, Unix milliseconds (the provider's clock). */
  timestampMs: number;
}

const ERRORS = "\u0000errors";

/** Variants ascending, the error slot last. */
const bySlot = (a: string, b: string): number =>
  a === ERRORS ? 1 : b === ERRORS ? -1 : a < b ? -1 : a > b ? 1 : 0;

/** Counters and exposures shared by every snapshot a provider serves. */
export class Telemetry {
  readonly #counters = new Map<string, Map<string, number>>();
  readonly #queue: Exposure[] = [];
  readonly #capacity: number;
  #flagNotFound = 0;
  #dropped = 0;

  /** `exposureCapacity` 0 (the default) records no exposures. */
  constructor(exposureCapacity = 0) {
    this.#capacity = Math.max(0, Math.floor(exposureCapacity));
  }

  /** Counts one evaluation and queues its exposure when it served a variant. */
  record(result: Resolution, targetingKey: string | undefined, nowMs: number): void {
    if (result.errorCode === "FLAG_NOT_FOUND") {
      this.#flagNotFound++;
      return;
    }
    let flag = this.#counters.get(result.key);
    if (flag === undefined) this.#counters.set(result.key, (flag = new Map()));
    const variant = result.errorCode === undefined ? result.variant : undefined;
    const slot = variant ?? ERRORS;
    flag.set(slot, (flag.get(slot) ?? 0) + 1);
    if (variant === undefined || this.#capacity === 0) return;
    if (this.#queue.length >= this.#capacity) {
      this.#dropped++;
      return;
    }
    this.#queue.push({
      flag: result.key,
      variant,
      reason: result.reason,
      targetingKey,
      snapshotVersion: result.explanation.snapshotVersion,
      timestampMs: nowMs,
    });
  }

  /** Reads every counter; with `reset`, zeroes them in the same step. */
  counts(reset = false): EvaluationCounts {
    const counts: EvaluationCount[] = [];
    for (const flag of [...this.#counters.keys()].sort()) {
      const variants = this.#counters.get(flag)!;
      for (const slot of [...variants.keys()].sort(bySlot)) {
        const count = variants.get(slot)!;
        if (count > 0) counts.push(slot === ERRORS ? { flag, count } : { flag, variant: slot, count });
      }
    }
    const flagNotFound = this.#flagNotFound;
    if (reset) {
      this.#counters.clear();
      this.#flagNotFound = 0;
    }
    return { counts, flagNotFound };
  }

  /** Takes up to `max` queued exposures, oldest first. */
  drainExposures(max = Infinity): Exposure[] {
    return this.#queue.splice(0, Math.min(max, this.#queue.length));
  }

  /** Exposures dropped because the queue was full, since the start. */
  get exposuresDropped(): number {
    return this.#dropped;
  }
}
