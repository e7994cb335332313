/**
 * The server provider's `cacheDir`: the last good envelope in a file, as the Rust
 * provider's `cache_dir` keeps it, read at start and written with every new version.
 * What the file holds is verified again before it is served, and the version it
 * verifies as is the rollback floor from the start: an older snapshot replayed to a
 * freshly started process is refused as a `rollback`. The file itself is the
 * platform's (`#platform`): Node, Deno and Bun write one; Workers, edge runtimes and
 * browsers have no file system, and refuse the option (FATAL, at start).
 */

import { cacheFile } from "#platform";
import type { Engine } from "./engine.js";
import { DEFAULT_MAX_BYTES, newEngine } from "./provider-options.js";
import { shown } from "./shown.js";
import type { PennonServerOptions } from "./server.js";
import type { EnvelopeStore, PennonOptions, StoredEnvelope } from "./sync-options.js";

/** What the platform's cache file is named by and checks with. */
export interface CacheFileOptions {
  /** The `cacheDir` option. */
  dir: string | URL;
  /** The file is named by the environment and the trust policy (keys, threshold,
   *  audience), so that a changed key set starts with a file of its own. */
  environment: string;
  keys: readonly string[];
  threshold: number;
  audience: "server" | "client" | "any";
  /** Files read are cut one byte past this: enough for the engine to refuse them. */
  maxBytes: number;
  /** The version `bytes` verify as under these options, expired or not; none if they
   *  do not verify. A file that verifies as newer is never written over. */
  versionOf(bytes: Uint8Array): number | undefined;
  /** Logs through the provider's `logger`: a file that cannot be read or written costs
   *  a warning, never the sync. */
  warn(message: string): void;
}

/** The platform's cache file: an envelope store, and the writes under way. */
export interface CacheFile extends EnvelopeStore {
  readonly where: string;
  /** Settles once every write asked for so far has ended (a failed one is warned of). */
  flush(): Promise<void>;
}

/** The `cacheDir` option as an envelope store: the platform's file, opened at start. */
export class CacheDir implements EnvelopeStore {
  #file: CacheFile | undefined;
  readonly #options: PennonServerOptions;
  readonly #warn: (message: string) => void;

  constructor(options: PennonServerOptions, warn: (message: string) => void) {
    this.#options = options;
    this.#warn = warn;
  }

  /** Checks the option and opens the file, once: called at start, where what it throws
   *  is FATAL (a directory that is not a path, a runtime with no file system). */
  open(): void {
    if (this.#file !== undefined) return;
    const o = this.#options;
    const dir = o.cacheDir;
    if (dir === "") throw new Error("pennon: `cacheDir` is empty (an unset environment variable?): give a directory, or leave the option out");
    if (!(typeof dir === "string" || (dir instanceof URL && dir.protocol === "file:"))) {
      const given = dir instanceof URL ? `a \`${dir.protocol}\` URL` : shown(dir);
      throw new Error(`pennon: \`cacheDir\` must be a directory's path or a \`file:\` URL, not ${given}`);
    }
    this.#file = cacheFile({
      dir,
      environment: String(o.environment),
      keys: Array.isArray(o.keys) ? o.keys.map(String) : [],
      threshold: typeof o.threshold === "number" ? o.threshold : 1,
      audience: o.audience ?? "server",
      maxBytes: typeof o.maxBytes === "number" ? o.maxBytes : DEFAULT_MAX_BYTES,
      versionOf: (bytes) => verifiedVersion(o, bytes),
      warn: this.#warn,
    });
  }

  get where(): string | undefined {
    return this.#file?.where;
  }

  load(): StoredEnvelope | undefined {
    return this.#file?.load();
  }

  save(text: string, version: number): void {
    this.#file?.save(text, version, undefined, undefined);
  }

  /** Settles once the writes under way have ended: `onClose` waits for them. */
  flush(): Promise<void> {
    return this.#file?.flush() ?? Promise.resolve();
  }
}

/**
 * The version `bytes` verify as under `options`, whatever their expiry (judged at
 * 1970, when nothing has expired; every other check stands); none if they do not.
 */
function verifiedVersion(options: PennonOptions, bytes: Uint8Array): number | undefined {
  let probe: Engine | undefined;
  try {
    probe = newEngine(options);
    probe.load(bytes, 0);
    return probe.version();
  } catch {
    return undefined;
  } finally {
    probe?.free();
  }
}
