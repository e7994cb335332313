/**
 * `pennon/server`: an OpenFeature server-SDK provider for Node and edge runtimes.
 * Resolvers are async per the SDK, but evaluate synchronously in the engine: each call
 * converts its context once and evaluates one flag.
 */

import {
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from "@openfeature/server-sdk";
import { isPennonError } from "./engine.js";
import { details, expectedType, failed, mismatch, type Kind } from "./resolve.js";
import { readOptions } from "./provider-options.js";
import { CacheDir } from "./cache-dir.js";
import { closedMidStart, envelopeBytes, FatalStartError, Sync, type PennonOptions, type SyncEvent, type SyncOutcome } from "./sync.js";
import type { Telemetry } from "./telemetry.js";
import { reporterFor, type Reporter, type ReportOutcome } from "./reporter.js";

export * from "./index.js";
export type { PennonOptions, SyncOutcome } from "./sync.js";
export type { PennonLogger } from "./sync-options.js";
export type { ReportOutcome } from "./reporter.js";
export type { TelemetryOptions } from "./telemetry-options.js";

/** Options of the server provider. */
export interface PennonServerOptions extends PennonOptions {
  /**
   * Node, Deno and Bun: keep the last good envelope in a file in this directory (made if
   * missing), written atomically with each new version. At start it is verified again,
   * and served only if the URL does not answer (its first request fails, or
   * `initTimeoutMs` passes), `STALE` from the first failed request until it does; its
   * version is the rollback floor from the start. FATAL where there is no file system
   * (Workers, edge runtimes). See the README's "Cache directory".
   */
  cacheDir?: string | URL;
}

/** The server provider's own options. */
const SERVER_OPTIONS = ["cacheDir"];

/** The OpenFeature server provider over the Pennon engine. */
export class PennonServerProvider implements Provider {
  readonly metadata = { name: "pennon" } as const;
  readonly runsOn = "server";
  readonly events = new OpenFeatureEventEmitter();
  readonly #sync: Sync;
  readonly #options: PennonServerOptions;
  /** The `cacheDir` file, if given. */
  readonly #cache: CacheDir | undefined;
  /** Posts telemetry, with the `telemetry` option, from the first `initialize` on. */
  #reporter: Reporter | undefined;

  constructor(options: PennonServerOptions) {
    const read = readOptions(options, SERVER_OPTIONS);
    this.#options = read.options;
    const cache = (this.#cache = read.options.cacheDir === undefined ? undefined : new CacheDir(read.options, (message) => this.#sync.warn(message)));
    this.#sync = new Sync(read, (event) => this.#on(event), cache, cache && (() => cache.open()));
  }

  /** Evaluation counters and exposures. */
  get telemetry(): Telemetry {
    return this.#sync.telemetry;
  }

  /** Polls now (in Workers, call it from a request, e.g. under `ctx.waitUntil`). */
  refresh(): Promise<SyncOutcome> {
    return this.#sync.refresh();
  }

  /** Polls if a poll is due (`pollIntervalMs` since the last request, or the backoff
   *  or `Retry-After` after failures), else `"skipped"`: for Workers, on every request.
   *  With `telemetry`, also sends a report if one is due, and settles after it. */
  refreshIfDue(): Promise<SyncOutcome | "skipped"> {
    const polled = this.#sync.refreshIfDue();
    const reported = this.#reporter?.reportIfDue();
    return reported === undefined ? polled : Promise.all([polled, reported]).then(([outcome]) => outcome);
  }

  /** Sends a telemetry report now (after the one under way): for a host about to be
   *  frozen, and tests. `"disabled"` without `telemetry`, or before `initialize`. */
  flushTelemetry(): Promise<ReportOutcome> {
    return this.#reporter?.flush() ?? Promise.resolve("disabled");
  }

  /** Loads an envelope pushed by the host (bytes, an `ArrayBuffer` or its text, as
   *  `envelope` takes); throws the engine's refusal. */
  load(envelope: ArrayBufferView | ArrayBufferLike | string): boolean {
    return this.#sync.push(envelopeBytes(envelope, "load's argument"));
  }

  /**
   * Options, keys or a trust policy that can never work make the provider FATAL. One
   * that `onClose` overtook never settles (`closedMidStart`).
   */
  async initialize(): Promise<void> {
    let ready: boolean;
    try {
      ready = await this.#sync.start();
    } catch (error) {
      if (error instanceof FatalStartError) throw new ProviderFatalError(error.message, { cause: error });
      this.#report(); // polling goes on, and so does reporting
      throw error;
    }
    if (!ready || this.#sync.stopped) return closedMidStart();
    this.#report();
  }

  #report(): void {
    this.#reporter = reporterFor(this.#reporter, this.#sync, this.#options, "server");
    this.#reporter?.start();
  }

  /** Stops polling; with `telemetry`, sends a last report first (`requestTimeoutMs` at
   *  most); with `cacheDir`, ends the write of the cache file under way. */
  async onClose(): Promise<void> {
    const last = this.#reporter?.close();
    this.#sync.stop();
    await Promise.all([last, this.#cache?.flush()]);
  }

  async resolveBooleanEvaluation(key: string, fallback: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return this.#resolve(key, "boolean", fallback, context);
  }

  async resolveStringEvaluation(key: string, fallback: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return this.#resolve(key, "string", fallback, context);
  }

  async resolveNumberEvaluation(key: string, fallback: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return this.#resolve(key, "number", fallback, context);
  }

  async resolveObjectEvaluation<T extends JsonValue>(key: string, fallback: T, context: EvaluationContext): Promise<ResolutionDetails<T>> {
    return this.#resolve(key, "object", fallback, context);
  }

  #resolve<T>(key: string, kind: Kind, fallback: T, context: EvaluationContext): ResolutionDetails<T> {
    if (!this.#sync.loaded) {
      // After `onClose` the snapshot is gone with its engine: say so, rather than send
      // whoever reads the log of a draining server looking for a sync problem.
      const why = this.#sync.stopped ? "the provider is closed (onClose); serving defaults" : "no snapshot is loaded yet";
      return failed(fallback, "PROVIDER_NOT_READY", `pennon: ${why}`);
    }
    const engine = this.#sync.engine;
    const now = this.#sync.now();
    try {
      const type = engine.flagType(key);
      const result = engine.evaluate(key, context, now, expectedType(kind, type));
      const targetingKey = typeof context.targetingKey === "string" ? context.targetingKey : undefined;
      this.#sync.telemetry.record(result, targetingKey, now, context);
      // Worded for the number OpenFeature asked for, not the float the engine was.
      const worded = result.errorCode === "TYPE_MISMATCH" && kind === "number" ? { ...result, errorDetails: mismatch(key, type!, kind) } : result;
      return details(worded, fallback, this.#sync.metadata.of(result));
    } catch (error) {
      // Only a context the engine cannot convert throws here (`invalid_context`: a
      // cycle, nesting too deep), as in the Rust provider. A flag the snapshot lacks is
      // FLAG_NOT_FOUND whatever the context (SPEC 5.3 step 1): asked again, unread.
      if (engine.flagType(key) === undefined) return this.#resolve(key, kind, fallback, {});
      const message = isPennonError(error) ? error.message : String(error);
      this.#sync.telemetry.recordInvalidContext(key, true);
      return failed(fallback, "INVALID_CONTEXT", message);
    }
  }

  #on(event: SyncEvent): void {
    switch (event.type) {
      case "changed":
        // A new version that changes no flag's outcome (metadata elsewhere) is no news.
        if (event.flagsChanged.length === 0) return;
        return this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: event.flagsChanged });
      case "ready":
        // Recovered with a new snapshot: READY first, so that the change's handlers see it.
        this.events.emit(ProviderEvents.Ready);
        if (event.change !== undefined) this.#on({ type: "changed", ...event.change });
        return;
      case "stale":
        return this.events.emit(ProviderEvents.Stale, { message: event.message });
      case "error":
        return this.events.emit(ProviderEvents.Error, { message: event.message });
    }
  }
}
