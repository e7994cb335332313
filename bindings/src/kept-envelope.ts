/**
 * The last good envelope, kept in the host's store (the web provider's `storage`, the
 * server provider's `cacheDir`) so that the next start can serve it, and refuses
 * anything older. A store that throws (storage blocked in a sandboxed frame, or full)
 * costs a warning, never the sync.
 */

import type { Engine } from "./engine.js";
import type { Validator } from "./fetch-envelope.js";
import type { SyncLog } from "./sync-log.js";
import type { EnvelopeStore, StoredEnvelope } from "./sync-options.js";

/** Reads and writes the kept envelope, if the provider has a store. */
export class KeptEnvelope {
  /** The stored envelope's text when its record cannot be trusted (it did not verify,
   *  or its record names another version): the store must not let that record hold
   *  back what this client saves (see `EnvelopeStore.save`). */
  untrusted: string | undefined;
  readonly #store: EnvelopeStore | undefined;
  readonly #log: SyncLog;

  constructor(store: EnvelopeStore | undefined, log: SyncLog) {
    this.#store = store;
    this.#log = log;
  }

  /** How logs name the kept envelope when it is refused: the cache file, or `stored envelope`. */
  get shown(): string {
    return this.#store?.where ?? "stored envelope";
  }

  /** Where a snapshot served from the store came from, as STALE says: the cache file, or `storage`. */
  get source(): string {
    return this.#store?.where ?? "storage";
  }

  /** The stored envelope; storage that throws is skipped. */
  read(): StoredEnvelope | undefined {
    try {
      return this.#store?.load();
    } catch (error) {
      this.#log.warn(`cannot read the stored envelope: ${String(error)}`);
      return undefined;
    }
  }

  /** Keeps the envelope `engine` now serves (`bytes`) and its validator, if there is a store. */
  save(bytes: Uint8Array, engine: Engine, validator: Validator | undefined): void {
    if (this.#store === undefined) return;
    try {
      this.#store.save(new TextDecoder().decode(bytes), engine.version()!, validator, this.untrusted);
    } catch (error) {
      this.#log.warn(`cannot store the envelope: ${String(error)}`);
    }
  }
}
