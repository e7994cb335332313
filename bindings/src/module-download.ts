/**
 * The WebAssembly module's download at a provider's start. A failed download (a blip
 * at page load, a CDN's 503) is retried with backoff until `initTimeoutMs`, then in the
 * background: a page opened offline, or a CDN down longer than that, would otherwise
 * leave the provider in ERROR until the page reloads; instead it becomes READY once the
 * module and a snapshot are in, as after a failed first request.
 */

import { init } from "./engine.js";
import { described, isNeverLoadable } from "./sync-errors.js";
import type { SyncLog } from "./sync-log.js";
import type { PennonOptions } from "./sync-options.js";
import { later, type Pauses, type Timer } from "./timers.js";
import { backoff, type Timing } from "./timing.js";

/** What a module download needs of its provider. */
export interface ModuleHost {
  /** Read for `wasm` at each try. */
  readonly options: PennonOptions;
  readonly log: SyncLog;
  /** The start's waits, which `stop` ends. */
  readonly pauses: Pauses;
  /** The newest start's generation: a download for an older start gives up. */
  generation(): number;
  timing(): Timing;
  /** Whether the engine is built. */
  built(): boolean;
  /** Carries on the start of `generation` once a background download is in: serves its
   *  `inline` envelope and the stored one, then polls. Whether it could. */
  resume(generation: number, inline: Uint8Array | undefined): boolean;
}

/** A background download due: for which start, after how many tries, with the start's
 *  inline envelope, and the timer that begins it. */
interface Retry {
  generation: number;
  tries: number;
  inline: Uint8Array | undefined;
  timer: Timer | undefined;
}

/** Downloads the module for a start, and again in the background after one it failed. */
export class ModuleDownload {
  /** The module's next download, after a start it failed past `initTimeoutMs`. */
  #retry: Retry | undefined;
  /** The background download under way, which `retryNow` joins. */
  #attempt: Promise<boolean> | undefined;
  readonly #host: ModuleHost;

  constructor(host: ModuleHost) {
    this.#host = host;
  }

  /** Whether a background download is due (`wake` begins it at once). */
  get due(): boolean {
    return this.#retry !== undefined;
  }

  /** Whether a background download is due or under way (`refresh` waits for it). */
  get pending(): boolean {
    return (this.#retry ?? this.#attempt) !== undefined;
  }

  /**
   * Instantiates the module for the start of `generation`, retrying a failed download
   * with backoff until `deadline`, then in the background (`initialize` fails
   * meanwhile). Whether this start goes on: closed, or started again, meanwhile, it
   * returns, and a newer one carries on. A background download an older start left due
   * is dropped, its timer cleared: this download replaces it.
   */
  async instantiate(generation: number, deadline: number, inline: Uint8Array | undefined): Promise<boolean> {
    const host = this.#host;
    this.cancel();
    for (let tries = 0; ; tries++) {
      try {
        await init(host.options.wasm);
        return generation === host.generation();
      } catch (error) {
        if (generation !== host.generation()) return false;
        if (isNeverLoadable(error)) throw error;
        const wait = backoff(host.timing(), tries + 1);
        if (Date.now() + wait > deadline) {
          this.#retryLater(generation, tries, inline, error);
          throw error;
        }
        host.log.warn(`cannot load the WebAssembly module, retrying in ${wait} ms: ${described(error)}`);
        // Not unref'd: `initialize` is awaited, and must settle before Node may exit;
        // `stop` ends the wait.
        const waited = await host.pauses.pause(wait, { unref: false }).ended;
        if (generation !== host.generation()) return false;
        if (!waited) {
          // No timer may be set here (a Workers module's top level): `refresh` retries.
          this.#retryLater(generation, tries, inline, error);
          throw error;
        }
      }
    }
  }

  /** Schedules the background download after its backoff (`wake` and `refresh` may
   *  begin it sooner). */
  #retryLater(generation: number, tries: number, inline: Uint8Array | undefined, error: unknown): void {
    const wait = backoff(this.#host.timing(), tries + 1);
    this.#host.log.fail(`cannot load the WebAssembly module, retrying in ${wait} ms: ${described(error)}`);
    this.cancel(); // one due at a time: a timer replaced would still fire
    // Unref'd: `initialize` has settled, and a retry must not hold a Node process open.
    const timer = later(() => void this.retryNow(), wait, { unref: true });
    this.#retry = { generation, tries: tries + 1, inline, timer };
  }

  /** Downloads the module now, if a retry is due; joins one under way. Whether the
   *  engine is built after it. */
  retryNow(): Promise<boolean> {
    const host = this.#host;
    const retry = this.#retry;
    if (this.#attempt !== undefined || retry === undefined) return this.#attempt ?? Promise.resolve(host.built());
    clearTimeout(retry.timer);
    this.#retry = undefined;
    if (retry.generation !== host.generation()) return Promise.resolve(false); // a newer start loads it
    const attempt = (async () => {
      try {
        await init(host.options.wasm);
      } catch (error) {
        if (retry.generation !== host.generation()) return false;
        if (isNeverLoadable(error)) host.log.fail(`cannot load the WebAssembly module: ${described(error)}`);
        else this.#retryLater(retry.generation, retry.tries, retry.inline, error);
        return false;
      }
      if (retry.generation !== host.generation()) return false;
      return host.resume(retry.generation, retry.inline);
    })();
    this.#attempt = attempt;
    return attempt.finally(() => (this.#attempt = undefined));
  }

  /** Drops the background download due (`stop`, a new start). */
  cancel(): void {
    clearTimeout(this.#retry?.timer);
    this.#retry = undefined;
  }
}
