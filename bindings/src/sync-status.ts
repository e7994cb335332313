/**
 * Where a provider stands, worked out from the served snapshot and the failures since:
 * whether it is STALE and why, and what a change of standing announces, in order.
 */

import type { Engine } from "./engine.js";
import type { FailureRun } from "./failure-run.js";
import type { SnapshotChange, SyncEvent } from "./sync-options.js";

/** Where a provider stands; `stale` still serves the held snapshot. */
export type SyncStatus = "not_ready" | "ready" | "stale" | "error";

/** Why a served snapshot is STALE (none: it is READY), and when to look again. */
export interface Standing {
  message: string | undefined;
  /** When (the provider's clock) the standing may change with no request: the
   *  snapshot expires, or failing turns STALE. None once expired. */
  recheckAt: number | undefined;
}

/** How long a snapshot is served past its expiry, and failing is tolerated. */
export interface StaleLimits {
  graceMs: number;
  staleAfterMs: number;
}

/**
 * The standing of the snapshot `engine` serves at `now`: STALE once it has expired
 * (past `graceMs`), at once while the server refuses this client (401, 403) or while a
 * snapshot served from a store (`storedIn` names it; its age is unknown) has had no
 * answer from it (as the Rust provider's cache: a failure, or `unanswered`, a start
 * that ended waiting), or once syncing has failed for `staleAfterMs`; `problem`, the
 * last failure, says why.
 */
export function standingOf(engine: Engine, now: number, limits: StaleLimits, failures: FailureRun, problem: string | undefined, storedIn: string | undefined, unanswered?: string): Standing {
  const expiry = engine.expiresAt()! + limits.graceMs;
  let message: string | undefined;
  if (now > expiry) {
    message = `snapshot version ${engine.version()} expired at ${new Date(engine.expiresAt()!).toISOString()}`;
  } else if (failures.since !== undefined && failures.refused) {
    message = `the snapshot server refuses this client (${problem}); serving version ${engine.version()}`;
  } else if (failures.since !== undefined && storedIn !== undefined) {
    message = `serving version ${engine.version()} from ${storedIn}: the snapshot server has not answered since the start (the last failure: ${problem})`;
  } else if (unanswered !== undefined && storedIn !== undefined) {
    message = `serving version ${engine.version()} from ${storedIn}: the snapshot server has not answered since the start (${unanswered})`;
  } else if (failures.since !== undefined && now - failures.since >= limits.staleAfterMs) {
    const last = problem === undefined ? "" : `; the last failure: ${problem}`;
    message = `syncing has failed for ${now - failures.since} ms; serving version ${engine.version()}${last}`;
  }
  // Checked again when the snapshot expires, or when failing turns stale, with no
  // request needed to notice (a request may wait a whole backoff).
  const staleAt = failures.since === undefined || message !== undefined ? Infinity : failures.since + limits.staleAfterMs;
  return { message, recheckAt: now <= expiry ? Math.min(expiry, staleAt) : undefined };
}

/**
 * What a status change announces: from `previous` to READY, or to STALE for `stale`'s
 * reason, with what snapshots loaded since the last announcement changed (`change`);
 * `force` announces the status even if it is unchanged. A new snapshot comes after the
 * STALE it ends in, and with the READY it causes (see `SyncEvent`).
 */
export function announcements(previous: SyncStatus, stale: string | undefined, change: SnapshotChange | undefined, force: boolean): SyncEvent[] {
  const changed: SyncEvent[] = change === undefined ? [] : [{ type: "changed", ...change }];
  if (previous === (stale === undefined ? "ready" : "stale") && !force) return changed;
  if (stale !== undefined) return [{ type: "stale", message: stale }, ...changed];
  return [{ type: "ready", change }];
}
