/**
 * Where the sync loop's warnings go, and the last thing that went wrong: the error a
 * failed start throws and the STALE message of a refused client both name it.
 */

import type { PennonOptions } from "./sync-options.js";

/** The `logger` option (or `console`), and the last problem it was told. */
export class SyncLog {
  /** What went wrong last; a new start forgets it (`forget`). */
  problem: string | undefined;
  /** The failed request last logged, while requests keep failing. */
  #failing: string | undefined;
  readonly #options: PennonOptions;

  constructor(options: PennonOptions) {
    this.#options = options;
  }

  /** Logs what went wrong, and keeps it as `problem`. */
  fail(problem: string): void {
    this.problem = problem;
    this.warn(problem);
  }

  /**
   * Keeps a failed request's problem, and logs it unless the last failed request said
   * the same: a failure that lasts is logged once, not at every backoff, as the
   * notification stream's are (and the Rust provider's). A new problem is logged.
   */
  failedRequest(problem: string): void {
    this.problem = problem;
    if (problem === this.#failing) return;
    this.#failing = problem;
    this.warn(problem);
  }

  /** A request to `source` succeeded after `failed` failed in a row: once failures
   *  were logged, so is their end, or a reader of the log would think they last. */
  answered(source: string, failed: number): void {
    if (this.#failing === undefined) return;
    this.warn(`${source} answers again, after ${failed} failed request${failed === 1 ? "" : "s"} (the last: ${this.#failing})`);
    this.#failing = undefined;
  }

  /** A new start: nothing has gone wrong in it yet. */
  forget(): void {
    this.problem = undefined;
    this.#failing = undefined;
  }

  /** Logs; a logger that throws (an unbound method, say) must not stop polling. */
  warn(message: string): void {
    try {
      (this.#options.logger ?? console).warn(`pennon: ${message}`);
    } catch {
      // Nowhere left to say it.
    }
  }
}
