/**
 * The snapshot a provider serves: the engine that holds it, the stored and inline
 * envelopes a start serves before any request, the validator the next request revalidates
 * it with, and what the snapshots loaded since the last announcement changed.
 */

import { isPennonError, type Engine } from "./engine.js";
import type { Validator } from "./fetch-envelope.js";
import type { KeptEnvelope } from "./kept-envelope.js";
import { newEngine } from "./provider-options.js";
import { refusal } from "./refusal.js";
import { described } from "./sync-errors.js";
import type { SyncLog } from "./sync-log.js";
import type { PennonOptions, SnapshotChange, StoredEnvelope } from "./sync-options.js";

/** The engine and what it serves. */
export class ServedSnapshot {
  /** The served snapshot's ETag or `Last-Modified`, as its request or the store gave it. */
  kept: Validator | undefined;
  /** Whether what is served came from storage and nothing since has said it is
   *  current (a source's answer, the host's push, an inline envelope that verified):
   *  its age is unknown, so a failing source makes it STALE at once. */
  fromStorage = false;
  /** Called after every snapshot loaded, before it is announced. */
  onLoad: (() => void) | undefined;
  #engine: Engine | undefined;
  /** The newest version served before `free`: the next engine's floor. */
  #floor: number | undefined;
  /** Whether the engine has served a snapshot (it never stops serving one). */
  #loaded = false;
  /** What snapshots loaded since the last `takeChange` changed. */
  #unannounced: SnapshotChange | undefined;
  readonly #options: PennonOptions;
  readonly #kept: KeptEnvelope;
  readonly #log: SyncLog;
  /** The provider's clock. */
  readonly #now: () => number;

  constructor(options: PennonOptions, kept: KeptEnvelope, log: SyncLog, now: () => number) {
    this.#options = options;
    this.#kept = kept;
    this.#log = log;
    this.#now = now;
  }

  /** The engine; throws before it is built. */
  get engine(): Engine {
    if (this.#engine === undefined) throw refusal("not_ready", "the provider is not initialized");
    return this.#engine;
  }

  /** Whether the engine is built (the module is in, and `free` has not been called since). */
  get built(): boolean {
    return this.#engine !== undefined;
  }

  /** Whether a snapshot is served. A field, not a call into the module: both providers
   *  ask on every resolve. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** What the request revalidates with: the served snapshot's validator, only while one is. */
  get validator(): Validator | undefined {
    return this.loaded ? this.kept : undefined;
  }

  /** Builds the engine if there is none, floored at what a freed one served. */
  build(): void {
    this.#engine ??= newEngine(this.#options, this.#floor);
  }

  /**
   * Loads envelope bytes; throws the engine's refusal. Returns whether it updated. With
   * `keep`, keeps the envelope in the store (not what came from it: that would write it
   * back without the validator it was kept with).
   */
  load(bytes: Uint8Array, validator: Validator | undefined, keep: boolean): boolean {
    const engine = this.engine;
    const before = engine.version();
    if (!engine.load(bytes, this.#now())) return false;
    this.#loaded = true;
    this.fromStorage = !keep; // only what came from the store is not kept again
    this.onLoad?.();
    const flagsChanged = engine.changedFlags();
    if (keep) this.keep(bytes, validator);
    if (before !== undefined) {
      const earlier = this.#unannounced?.flagsChanged ?? [];
      const merged = earlier.length === 0 ? flagsChanged : [...new Set([...earlier, ...flagsChanged])].sort();
      this.#unannounced = { flagsChanged: merged, version: engine.version()! };
    }
    return true;
  }

  /** Keeps the served envelope and its validator in the store, if there is one. */
  keep(bytes: Uint8Array, validator: Validator | undefined): void {
    this.#kept.save(bytes, this.engine, validator);
  }

  /** What the snapshots loaded since the last call changed (none if nothing loaded,
   *  or only the first snapshot did). */
  takeChange(): SnapshotChange | undefined {
    const change = this.#unannounced;
    this.#unannounced = undefined;
    return change;
  }

  /** Serves what needs no request, once the module is in: the stored envelope, then
   *  the inline one. */
  serveLocal(inline: Uint8Array | undefined, stored: StoredEnvelope | undefined): void {
    this.build();
    const verified = stored === undefined ? undefined : this.#offerStored(new TextEncoder().encode(stored.text));
    // A stored envelope that did not verify (another control plane's, a new signing
    // key's, edited) or whose record names another version: its record must not hold
    // back what this client saves, or storage would stay stale until versions caught up.
    this.#kept.untrusted = stored !== undefined && stored.version !== verified ? stored.text : undefined;
    const storedVersion = this.loaded ? this.engine.version() : undefined;
    // An inline envelope that verifies (newer, or the same version) is current.
    if (inline !== undefined && this.#tryOffer(inline, "inline envelope")) this.fromStorage = false;
    // Serving what was stored, the first request revalidates it: a page load whose
    // stored snapshot is current costs a 304, not the whole envelope. The validator counts
    // only if recorded with the version served (tabs write the two in turn).
    if (storedVersion !== undefined && this.engine.version() === storedVersion && stored?.version === storedVersion) {
      this.kept = stored.validator;
    }
  }

  /** Offers `bytes`; whether they verified (updating or not). */
  #tryOffer(bytes: Uint8Array, source: string): boolean {
    try {
      this.load(bytes, undefined, true);
      return true;
    } catch (error) {
      this.#log.fail(`${source} refused: ${described(error)}`);
      return false;
    }
  }

  /**
   * Serves the stored envelope if it verifies. One too old to serve is still the newest
   * version this client saw: the engine is rebuilt with that version as `minVersion`,
   * so an older snapshot (still valid, from a lagging cache) is refused as a rollback.
   * Returns the version it verified as, served or expired; none if it did not verify.
   */
  #offerStored(bytes: Uint8Array): number | undefined {
    try {
      this.load(bytes, undefined, false);
      return this.engine.version();
    } catch (error) {
      this.#log.fail(`${this.#kept.shown} refused: ${described(error)}`);
      if (!isPennonError(error, "expired") || this.loaded) return undefined;
    }
    const probe = newEngine(this.#options);
    try {
      probe.load(bytes, 0); // at 1970, nothing has expired; every other check stands
      const version = probe.version();
      const floored = newEngine(this.#options, version);
      this.#engine?.free();
      this.#engine = floored;
      return version;
    } catch {
      return undefined; // not verifiable at all: no floor from it
    } finally {
      probe.free();
    }
  }

  /** Frees the engine's module memory (`stop`); the version it served stays the floor
   *  of the next engine, which still refuses a rollback. */
  free(): void {
    if (this.#engine === undefined) return;
    this.#floor = Math.max(this.#floor ?? 0, this.#engine.version() ?? 0) || undefined;
    this.#engine.free();
    [this.#engine, this.#loaded] = [undefined, false];
  }
}
