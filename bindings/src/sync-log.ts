/**
 * Where the sync loop's warnings go, and the last thing that went wrong: the error a
 * failed start throws and the STALE message of a refused client both name it.
 */

import type { PennonOptions } from "./sync-options.js";

/** The `logger` option (or `console`), and the last problem it was told. */
export class SyncLog {
  /** What went wrong last; a new start forgets it. */
  problem: string | undefined;
  readonly #options: PennonOptions;

  constructor(options: PennonOptions) {
    this.#options = options;
  }

  /** Logs what went wrong, and keeps it as `problem`. */
  fail(problem: string): void {
    this.problem = problem;
    this.warn(problem);
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
