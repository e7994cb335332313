/**
 * The run of failed snapshot requests: how long the sync loop waits before the next
 * request (the poll interval, or after failures the backoff or the server's
 * `Retry-After`), and since when it has been failing, for STALE.
 */

import { HttpError } from "./fetch-envelope.js";
import { isPennonError } from "./refusal.js";
import { backoff, type Timing } from "./timing.js";
import type { ErrorKind } from "./wasm/pennon_wasm.js";

/**
 * Refusals of a snapshot that say these options can never take what the URL serves:
 * another environment's, another audience's, or signed by no trusted key. Waiting does
 * not mend them (the URL, the SDK key or `keys` must change), so a start stops waiting
 * at the first, as at a 401. Not `bad_signature` or `malformed_envelope`: a copy
 * corrupted on its way (a CDN's, a proxy's) may be whole at the next request. Not
 * `expired` or `rollback` either: a lagging cache catches up.
 */
const MISCONFIGURED: ReadonlySet<ErrorKind> = new Set(["wrong_environment", "wrong_audience", "unknown_key"]);

/** Failed requests in a row, and what the last one said. */
export class FailureRun {
  /** How many requests in a row failed (0: the last one succeeded). */
  count = 0;
  /** When the first request of the run began (the provider's clock). */
  since: number | undefined;
  /** The wait the server last asked for (`Retry-After` on a 429 or 503). */
  retryAfterMs: number | undefined;
  /** Whether the last request was refused as unauthorized (401, 403): no retry fixes
   *  that, so the start stops waiting, and a served snapshot is STALE at once. */
  refused = false;
  /** Whether no retry with these options can mend the last failure: a 401 or 403, or
   *  a snapshot refused as `MISCONFIGURED`. The start stops waiting. */
  final = false;

  /** Keeps why a request failed: the wait the server asked for, a refusal. */
  noteCause(error: unknown): void {
    this.retryAfterMs = error instanceof HttpError ? error.retryAfterMs : undefined;
    this.refused = error instanceof HttpError && (error.status === 401 || error.status === 403);
    this.final = this.refused || (isPennonError(error) && MISCONFIGURED.has(error.kind));
  }

  /** Counts a failed request that began at `began`. */
  add(began: number): void {
    this.since ??= began;
    this.count++;
  }

  /** A request succeeded: the run is over. */
  end(): void {
    this.since = undefined;
    this.count = 0;
    this.retryAfterMs = undefined;
    this.refused = false;
    this.final = false;
  }

  /** A fresh snapshot from the host: nothing is stale or refused, whatever the URL
   *  answers; the next request still waits the backoff. */
  excuse(): void {
    [this.since, this.refused, this.final] = [undefined, false, false];
  }

  /**
   * How long to wait before the next request: the poll interval, or after failures the
   * backoff, doubling; shortened by up to `jitter` so clients spread out. Never less
   * than what the server asked for (`Retry-After`, up to `backoffMaxMs`): jitter spreads
   * a fleet's own waits, and must not send a request before the server will take it.
   */
  waitMs(timing: Timing): number {
    const shortened = 1 - Math.random() * timing.jitter;
    if (this.count === 0) return timing.pollIntervalMs * shortened;
    return Math.max(backoff(timing, this.count) * shortened, Math.min(this.retryAfterMs ?? 0, timing.backoffMaxMs));
  }

  /** `waitMs` before jitter: the longest it can be. */
  unjitteredMs(timing: Timing): number {
    return this.count === 0 ? timing.pollIntervalMs : backoff(timing, this.count, this.retryAfterMs);
  }

  /** Whether no request is due on its own: polling is off and the last one succeeded
   *  (with polling off, a failed request is still retried, with backoff). */
  idle(timing: Timing): boolean {
    return timing.pollIntervalMs <= 0 && this.count === 0;
  }
}
