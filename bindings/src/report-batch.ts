/**
 * What a telemetry report carries: the deltas not yet accepted, and the batches cut
 * from them within the wire format's bounds (docs/OPERATIONS.md, "Telemetry"), as the
 * Rust provider cuts them.
 *
 * A batch, once cut, is sent unchanged until the server accepts or refuses it: its
 * body, `batch` id included, is made once. A post that timed out may have been stored,
 * and the server knows a repeat by its id; merged into newer counts under a new id, it
 * would be counted twice.
 */

import { MAX_NOT_FOUND_KEYS, type EvaluationCounts, type Exposure } from "./telemetry.js";

/** Counts in one report, and exposures (the wire format's bounds). */
const MAX_COUNTS = 10_000;
export const MAX_EXPOSURES = 1_000;
/** Bytes of counts, and of exposures, in one report: with 1,001 not-found keys of at
 *  most 128 characters, a body stays under the server's 1 MiB. */
const COUNT_BYTES = 512 * 1024;
const EXPOSURE_BYTES = 320 * 1024;
/** The longest texts, in UTF-8 bytes, the control plane takes in an exposure: flag keys
 *  and variant names; rule ids and rollouts' `bucket_by` (as its API takes them); texts
 *  from the context (a targeting key, a value hashed). An exposure with a longer one, or
 *  with control characters, is not sent (the control plane would drop it) and counts as dropped. */
const MAX_NAME = 256;
const MAX_RULE_TEXT = 1_024;
const MAX_EXPOSURE_TEXT = 1_024;
/** The oldest exposure sent, before the window's end: the control plane drops one from
 *  more than 7 days before its clock; a batch may be sent again for a day after it was
 *  cut, and a day is left for clocks that differ. Older ones (held through a long
 *  outage) count as dropped. */
const MAX_EXPOSURE_AGE_MS = 5 * 86_400_000;
/** How long a batch is sent again unchanged (by the provider's clock, from its cut): the
 *  control plane remembers the ids it stored for 48 hours. A batch still not accepted
 *  after this goes back to the deltas, to be sent with newer ones under a new id (only
 *  a batch stored whose every answer was lost for a day is counted twice). */
export const RESEND_MS = 86_400_000;
/** Separates a flag from its variant in a map key: no flag key holds it. */
const SEPARATOR = "\u0000";
const encoder = new TextEncoder();

/** One report's share of the deltas: sent until it is accepted or refused, or given
 *  back after `RESEND_MS`. */
export interface Batch {
  /** The body as posted, every time. */
  body: string;
  startMs: number;
  endMs: number;
  counts: [string, number][];
  notFound: [string, number][];
  notFoundOther: number;
  exposures: Exposure[];
  dropped: number;
}

/** Who reports, for the body. */
export interface Reporting {
  sdk: string;
  instance: string;
  snapshotVersion: number | undefined;
}

/** Deltas taken from the counters and not yet accepted by the server. */
export class Pending {
  /** When the oldest delta held began (the provider's clock); undefined before the first report. */
  startMs: number | undefined;
  /** By `flag + SEPARATOR + variant` (no separator: errors). */
  #counts = new Map<string, number>();
  #notFound = new Map<string, number>();
  #notFoundOther = 0;
  #exposures: Exposure[] = [];
  #dropped = 0;

  /** Adds counters just taken. */
  addCounts(taken: EvaluationCounts): void {
    for (const { flag, variant, count } of taken.counts) add(this.#counts, variant === undefined ? flag : `${flag}${SEPARATOR}${variant}`, count);
    for (const { flag, count } of taken.notFound) this.#addNotFound(flag, count);
  }

  #addNotFound(flag: string | undefined, count: number): void {
    if (flag !== undefined && (this.#notFound.has(flag) || this.#notFound.size < MAX_NOT_FOUND_KEYS)) add(this.#notFound, flag, count);
    else this.#notFoundOther += count;
  }

  /** Adds exposures the queue dropped since the last call. */
  addDropped(dropped: number): void {
    this.#dropped += dropped;
  }

  /** How many more exposures one report can take. */
  get exposureRoom(): number {
    return Math.max(0, MAX_EXPOSURES - this.#exposures.length);
  }

  /** Adds exposures drained from the queue; those that cannot be sent count as dropped. */
  addExposures(exposures: Exposure[]): void {
    for (const exposure of exposures) {
      if (sendable(exposure)) this.#exposures.push(exposure);
      else this.#dropped++;
    }
  }

  /** Whether nothing is held: no report is due. */
  get empty(): boolean {
    return this.#counts.size === 0 && this.#notFound.size === 0 && this.#notFoundOther === 0 && this.#exposures.length === 0 && this.#dropped === 0;
  }

  /** Cuts batch `id` for the window ending at `endMs`: every not-found count and drop,
   *  and as many counts and exposures as one report holds; the rest stay for the next,
   *  in the same window. */
  batch(endMs: number, id: string, who: Reporting): Batch {
    const counts: [string, number][] = [];
    let bytes = 0;
    // By flag, errors (no separator) before variants, as the Rust provider orders them.
    for (const key of [...this.#counts.keys()].sort()) {
      const count = this.#counts.get(key)!;
      bytes += 1 + encoder.encode(JSON.stringify(countEntry(key, count))).length;
      if (counts.length === MAX_COUNTS || (bytes > COUNT_BYTES && counts.length > 0)) break;
      counts.push([key, count]);
      this.#counts.delete(key);
    }
    const fresh = this.#exposures.filter((exposure) => exposure.timestampMs >= endMs - MAX_EXPOSURE_AGE_MS);
    this.#dropped += this.#exposures.length - fresh.length;
    this.#exposures = fresh;
    let taken = 0;
    bytes = 0;
    for (const exposure of this.#exposures) {
      bytes += 64 + encoder.encode(JSON.stringify(exposure)).length;
      if (bytes > EXPOSURE_BYTES && taken > 0) break;
      taken++;
    }
    const batch: Batch = {
      body: "",
      startMs: Math.min(this.startMs ?? endMs, endMs),
      endMs,
      counts,
      notFound: [...this.#notFound],
      notFoundOther: this.#notFoundOther,
      exposures: this.#exposures.splice(0, taken),
      dropped: this.#dropped,
    };
    this.#notFound = new Map();
    this.#notFoundOther = this.#dropped = 0;
    batch.body = reportBody(batch, id, who);
    // What comes next is counted from here.
    if (this.empty) this.startMs = endMs;
    return batch;
  }

  /** Takes back a batch not accepted within `RESEND_MS`, to go with the next report. */
  restore(batch: Batch): void {
    this.startMs = Math.min(this.startMs ?? batch.startMs, batch.startMs);
    for (const [key, count] of batch.counts) add(this.#counts, key, count);
    for (const [flag, count] of batch.notFound) this.#addNotFound(flag, count);
    this.#notFoundOther += batch.notFoundOther;
    this.#exposures.unshift(...batch.exposures);
    this.#dropped += batch.dropped;
  }
}

/** Whether `batch` is too old to send again as it is at `nowMs` (see `RESEND_MS`). */
export function expired(batch: Batch, nowMs: number): boolean {
  return nowMs - batch.endMs > RESEND_MS;
}

/** The JSON body of `POST /v1/telemetry/{env}`. */
function reportBody(batch: Batch, id: string, who: Reporting): string {
  const counts = batch.counts.map(([key, count]) => countEntry(key, count));
  const notFound: { flag: string | null; count: number }[] = batch.notFound.map(([flag, count]) => ({ flag, count }));
  if (batch.notFoundOther > 0) notFound.push({ flag: null, count: batch.notFoundOther });
  return JSON.stringify({
    sdk: who.sdk,
    instance: who.instance,
    batch: id,
    window: { start_ms: batch.startMs, end_ms: batch.endMs },
    snapshot_version: who.snapshotVersion,
    counts,
    flag_not_found: notFound,
    exposures: batch.exposures.map((e) => ({
      flag: e.flag, variant: e.variant, reason: e.reason, rule_id: e.ruleId, targeting_key: e.targetingKey,
      bucket_attribute: e.bucketAttribute, bucket_value: e.bucketValue, snapshot_version: e.snapshotVersion, timestamp_ms: e.timestampMs,
    })),
    exposures_dropped: batch.dropped,
  });
}

/** A count as the wire format has it, from its map key. */
function countEntry(key: string, count: number): { flag: string; variant: string | null; count: number } {
  const cut = key.indexOf(SEPARATOR);
  return cut < 0 ? { flag: key, variant: null, count } : { flag: key.slice(0, cut), variant: key.slice(cut + 1), count };
}

function add(map: Map<string, number>, key: string, count: number): void {
  map.set(key, (map.get(key) ?? 0) + count);
}

/**
 * Whether the control plane takes `exposure`, checked as it checks one: the context's
 * texts may hold anything, and rule ids and `bucket_by` come from flags the API may
 * have taken before it bounded them. One it would drop is left out and counted.
 */
function sendable(exposure: Exposure): boolean {
  const { flag, variant, ruleId, targetingKey, bucketAttribute, bucketValue } = exposure;
  return (
    text(flag, 1, MAX_NAME) && text(variant, 1, MAX_NAME) &&
    (ruleId === undefined || text(ruleId, 0, MAX_RULE_TEXT)) &&
    (bucketAttribute === undefined || text(bucketAttribute, 1, MAX_RULE_TEXT)) &&
    [targetingKey, bucketValue].every((value) => value === undefined || text(value, 0, MAX_EXPOSURE_TEXT))
  );
}

/** `value` is a string of `min` to `max` UTF-8 bytes the control plane takes: no
 *  control characters or bidirectional controls, and no lone surrogate, which
 *  `JSON.stringify` writes as an escape the control plane cannot read (the whole report
 *  would be refused as malformed). */
function text(value: unknown, min: number, max: number): boolean {
  if (typeof value !== "string" || UNSAFE.test(value) || !wellFormed(value)) return false;
  const bytes = encoder.encode(value).length;
  return bytes >= min && bytes <= max;
}

/** A control character, or a bidirectional control the control plane refuses in text. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** `String.prototype.isWellFormed` (Node 20, browsers since 2023), or the same test
 *  where it is missing: no surrogate without its other half. */
function wellFormed(value: string): boolean {
  const native = (value as { isWellFormed?: () => boolean }).isWellFormed;
  if (typeof native === "function") return native.call(value);
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = value.charCodeAt(i + 1);
    if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return false;
    i++;
  }
  return true;
}

