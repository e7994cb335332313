/**
 * A timer that fires just after the served snapshot's standing may change on its own
 * (it expires, or failing turns STALE), so STALE comes on time without a poll.
 */

import { later, MAX_DELAY_MS, type Timer } from "./timers.js";

/** One timer for the next time the status must be checked again. */
export class ExpiryWatch {
  #timer: Timer | undefined;
  /** When `#timer` fires, by the clock. */
  #due: number | undefined;
  readonly #fired: () => void;

  constructor(fired: () => void) {
    this.#fired = fired;
  }

  /**
   * Calls back just after `due` (clock milliseconds; `now` is the clock's reading). The
   * timer is set again only when `due` moves: Node keeps a timer list per distinct
   * delay until that delay would have passed, even for a cancelled unref'd timer, so
   * setting a week-long expiry timer anew at every poll kept one list per poll (~216 B)
   * for the week.
   */
  watch(due: number, now: number): void {
    if (due === this.#due && this.#timer !== undefined) return;
    this.clear();
    const fired = () => {
      this.#timer = this.#due = undefined;
      this.#fired();
    };
    // None at a Workers module's top level: the status is then checked at the next
    // refresh or load.
    this.#timer = later(fired, Math.min(MAX_DELAY_MS, due - now + 1), { unref: true });
    if (this.#timer !== undefined) this.#due = due;
  }

  /** Stops watching. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = this.#due = undefined;
  }
}
