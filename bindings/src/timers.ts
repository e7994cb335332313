/**
 * Timers as the providers use them, in every runtime: one that must not keep a Node,
 * Deno or Bun process alive is unref'd, and none is set where the runtime forbids it
 * (Workers at a module's top level, where no timer or I/O may start: a provider with an
 * `envelope` may be initialized there, and serves it; its requests wait for `refresh`).
 */

export type Timer = ReturnType<typeof setTimeout>;

/** `setTimeout`'s longest delay; a longer one fires at once. */
export const MAX_DELAY_MS = 2 ** 31 - 1;

/** `setTimeout`, or `undefined` where the runtime refuses a timer here. */
export function later(callback: () => void, ms: number, options: { unref: boolean }): Timer | undefined {
  let timer: Timer;
  try {
    timer = setTimeout(callback, ms);
  } catch {
    return undefined;
  }
  return options.unref ? unref(timer) : timer;
}

/** Lets the process exit with the timer pending (Node, Bun: `unref()`; Deno: `unrefTimer`). */
export function unref(timer: Timer): Timer {
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (typeof timer === "number") deno?.unrefTimer?.(timer);
  else (timer as { unref?: () => void }).unref?.();
  return timer;
}

/** A wait on a timer: `ended` is `true` once it has waited, `false` if cut short. */
export interface Pause {
  ended: Promise<boolean>;
  /** Ends the wait now (`ended` is `false`), its timer cleared. */
  cancel(): void;
}

/** Waits that one call ends together: what a provider's start waits for when it is closed. */
export class Pauses {
  readonly #pending = new Set<() => void>();

  /** Waits `ms` (unref'd or not); none where no timer may be set: `ended` is `false` at once. */
  pause(ms: number, options: { unref: boolean }): Pause {
    let cancel = () => {};
    const ended = new Promise<boolean>((resolve) => {
      const timer = later(() => {
        this.#pending.delete(cancel);
        resolve(true);
      }, ms, options);
      if (timer === undefined) return resolve(false);
      cancel = () => {
        clearTimeout(timer);
        this.#pending.delete(cancel);
        resolve(false);
      };
      this.#pending.add(cancel);
    });
    return { ended, cancel: () => cancel() };
  }

  /** Ends every wait under way. */
  endAll(): void {
    for (const cancel of [...this.#pending]) cancel();
  }
}
