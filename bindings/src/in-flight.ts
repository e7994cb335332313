/**
 * The snapshot request under way: `refresh` joins it rather than send another, `stop`
 * aborts it, and one that an ended Workers request left behind is dropped. workerd
 * cancels a request's fetches and timers when the request ends, without settling them:
 * a refresh left running then (not under `ctx.waitUntil`) would be joined by every
 * later one and never settle.
 */

import { ABANDONED, STOPPED, type Sent } from "./request.js";
import type { SyncOutcome } from "./sync-options.js";

/** How far past its own time limit, by the clock, work counts as abandoned: timers
 *  that fire late on a busy machine must not be taken for timers that died. */
const ABANDON_SLACK_MS = 1_000;

/** Whether work over by `due` (`Date.now()`) was abandoned, at `now`: past its own time
 *  limit, it is over (elsewhere its timers end it first). One rule for a snapshot
 *  request, a start and a telemetry post (`Reporter`). */
export function abandoned(due: number, now: number): boolean {
  return now > due + ABANDON_SLACK_MS;
}

/** The request under way, and when the last one began. */
export class InFlight {
  /** When the last request began (the provider's clock), for `wake` and `refreshIfDue`. */
  lastBegan: number | undefined;
  #request: Promise<SyncOutcome> | undefined;
  /** When the request is over by its own time limits (`Date.now()`). */
  #due = 0;
  #controller: AbortController | undefined;

  /** The outcome of the request under way, until it settles. */
  get request(): Promise<SyncOutcome> | undefined {
    return this.#request;
  }

  /** Records a request sent, over by its `timeoutMs`. */
  sent(sent: Sent, timeoutMs: number): void {
    this.#controller = sent.controller;
    this.lastBegan = sent.began;
    this.#due = Date.now() + timeoutMs;
  }

  /** The request waits for `deadline` too (`Date.now()`): not abandoned before it. */
  waitsUntil(deadline: number): void {
    this.#due = Math.max(this.#due, deadline);
  }

  /** Makes `fetching` the request under way, which `refresh` joins, until it settles. */
  begin(fetching: Promise<SyncOutcome>): Promise<SyncOutcome> {
    const request: Promise<SyncOutcome> = fetching.finally(() => {
      if (this.#request === request) this.#request = undefined;
    });
    return (this.#request = request);
  }

  /** Drops the request under way if it was abandoned, at `now` (`Date.now()`). */
  dropIfAbandoned(now: number): void {
    if (this.#request !== undefined && abandoned(this.#due, now)) {
      try {
        this.#controller?.abort(ABANDONED);
      } catch {
        // workerd refuses to touch another request's I/O; that request's is gone anyway.
      }
      this.#request = undefined;
    }
  }

  /** Aborts the request under way for `stop`, which is no failure of the source. */
  stop(): void {
    this.#controller?.abort(STOPPED);
    this.#request = undefined;
  }
}
