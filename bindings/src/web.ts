/**
 * `pennon/web`: an OpenFeature web-SDK provider. Reads are synchronous map lookups:
 * every flag is evaluated once for the static context on `initialize`, on
 * `onContextChange`, after each poll, when a new snapshot loads, and every second
 * while the snapshot has scheduled rollouts.
 */

import {
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  type EvaluationContext,
  type FlagMetadata,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from "@openfeature/web-sdk";
import type { Engine, FlagType, Resolution } from "./engine.js";
import type { Validator } from "./fetch-envelope.js";
import { details, failed, fits, mismatch, type Kind } from "./resolve.js";
import { readOptions } from "./provider-options.js";
import { shown } from "./shown.js";
import { closedMidStart, FatalStartError, Sync, type EnvelopeStore, type PennonOptions, type SyncEvent } from "./sync.js";
import { unref } from "./timers.js";
import type { Telemetry } from "./telemetry.js";
import { reporterFor, type Reporter, type ReportOutcome } from "./reporter.js";

export * from "./index.js";
export type { PennonOptions, SyncOutcome } from "./sync.js";
export type { PennonLogger } from "./sync-options.js";
export type { ReportOutcome } from "./reporter.js";
export type { TelemetryOptions } from "./telemetry-options.js";

/** What the web provider needs of a `Storage` (`localStorage`), written out so that
 *  the types compile without the DOM library (a server-rendering project). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Options of the web provider. */
export interface PennonWebOptions extends PennonOptions {
  /** Keep the last good envelope here and load it (verified again) at start:
   *  `true` for `globalThis.localStorage`, or any `Storage`. Default: off. */
  storage?: boolean | KeyValueStorage;
  /** The storage key (default `pennon:<environment>`). */
  storageKey?: string;
}

/** The web provider's own options. */
const WEB_OPTIONS = ["storage", "storageKey"];

/** Refuses `storage` and `storageKey` of shapes that can never work. */
function checkStorage({ storage, storageKey }: PennonWebOptions): void {
  const usable = storage === undefined || typeof storage === "boolean" ||
    (typeof storage === "object" && storage !== null && typeof storage.getItem === "function" && typeof storage.setItem === "function");
  if (!usable) throw new Error(`pennon: \`storage\` must be true, false or a Storage (with getItem and setItem), not ${shown(storage)}`);
  if (storageKey !== undefined && (typeof storageKey !== "string" || storageKey === "")) throw new Error("pennon: `storageKey` must be a non-empty string");
}

/** How often a cache of time-dependent results is evaluated again (schedules, SPEC 5.7). */
const SCHEDULE_CHECK_MS = 1_000;

/** A flag's result for the current context, or why the context could not be evaluated. */
type Cached =
  | { type: FlagType; result: Resolution; metadata: FlagMetadata; contextError?: undefined }
  | { type: FlagType; contextError: string };

/** The OpenFeature web provider over the Pennon engine. */
export class PennonWebProvider implements Provider {
  readonly metadata = { name: "pennon" } as const;
  readonly runsOn = "client";
  readonly events = new OpenFeatureEventEmitter();
  readonly #sync: Sync;
  readonly #options: PennonWebOptions;
  /** Posts telemetry, with the `telemetry` option, from the first `initialize` on. */
  #reporter: Reporter | undefined;
  #context: EvaluationContext = {};
  #cache = new Map<string, Cached>();
  /** The start under way, which a context change before it ends waits for. */
  #starting: Promise<unknown> | undefined;
  /** Removes the page listeners of `#listen`. */
  #listening: AbortController | undefined;
  /** Re-evaluates the cache while the snapshot has scheduled rollouts (`#followTime`). */
  #ticker: ReturnType<typeof setInterval> | undefined;

  constructor(given: PennonWebOptions) {
    const read = readOptions(given, WEB_OPTIONS);
    const options = (this.#options = read.options);
    const key = options.storageKey ?? `pennon:${options.environment}`;
    // `localStorage` is looked up when used: merely reading it throws where storage is
    // blocked (a sandboxed frame, cookies off), and the sync loop then goes without it.
    const storage = (): KeyValueStorage => {
      if (options.storage !== true) return options.storage as KeyValueStorage;
      const local = globalThis.localStorage;
      if (local === undefined) throw new Error("`storage: true`, but this runtime has no localStorage: pass a Storage");
      return local;
    };
    const stored = options.storage ? storedEnvelope(storage, key) : undefined;
    // A browser may take the server snapshot (it holds more), so either audience loads;
    // a bootstrap is rendered with the page, so it is served without waiting for the URL.
    const webDefaults = { ...options, audience: options.audience ?? "any", waitForUrl: options.waitForUrl ?? false };
    this.#sync = new Sync({ options: webDefaults, unknown: read.unknown }, (event) => this.#on(event), stored, () => checkStorage(options));
    this.#sync.onPoll = () => this.#refreshCache([]);
    if (options.audience === undefined) this.#sync.onLoad = () => this.#warnIfServerSnapshot();
  }

  /**
   * Says so, once, when the default audience (`"any"`) let in a server snapshot: a
   * server SDK key in a page serves every server-only flag, with its rules and segment
   * lists, to every visitor. LaunchDarkly and Unleash refuse server keys in browsers;
   * Pennon still loads it (a trusted page may want it: say `audience: "server"`).
   */
  #warnIfServerSnapshot(): void {
    if (this.#sync.engine.audience() !== "server") return;
    this.#sync.onLoad = undefined;
    this.#sync.warn(
      "the web provider loaded a server snapshot: every server-only flag, with its rules and segment lists, is readable in this page. " +
        "Use a client SDK key (`pnc_…`) for browsers, or set `audience: \"server\"` if this page is trusted",
    );
  }

  /** Evaluation counters and exposures. */
  get telemetry(): Telemetry {
    return this.#sync.telemetry;
  }

  /** Sends a telemetry report now (after the one under way). `"disabled"` without
   *  `telemetry`, or before `initialize`. */
  flushTelemetry(): Promise<ReportOutcome> {
    return this.#reporter?.flush() ?? Promise.resolve("disabled");
  }

  /** Polls now; resolves once the answer is loaded (or refused). */
  refresh(): Promise<"updated" | "unchanged" | "failed"> {
    return this.#sync.refresh().then((outcome) => {
      // An update announces itself, and re-evaluates then; after `onClose`, nothing is
      // announced, but reads still follow what loaded and the time.
      if (this.#sync.stopped) {
        if (this.#sync.loaded) this.#cache = this.#evaluate();
      } else if (outcome !== "updated") {
        this.#refreshCache([]);
      }
      return outcome;
    });
  }

  /** As the server provider's: one that `onClose` overtook never settles (`closedMidStart`). */
  async initialize(context?: EvaluationContext): Promise<void> {
    this.#context = context ?? {};
    this.#listen();
    const starting = (this.#starting = this.#sync.start().catch((error: unknown) => {
      throw error instanceof FatalStartError ? new ProviderFatalError(error.message, { cause: error }) : error;
    }));
    let ready: boolean;
    try {
      ready = await starting;
    } catch (error) {
      if (!(error instanceof ProviderFatalError)) this.#report(); // polling goes on, and so does reporting
      throw error;
    } finally {
      if (this.#starting === starting) this.#starting = undefined;
    }
    if (!ready || this.#sync.stopped) return closedMidStart();
    this.#report();
    this.#cache = this.#evaluate();
    this.#followTime();
  }

  /**
   * Evaluates every flag for the new context. During a start the change waits for it
   * (the SDK reports RECONCILING meanwhile), even with a stored snapshot served: the
   * start's own evaluation would otherwise replace this one's. With no snapshot served
   * and no start under way, it fails (the provider stays in ERROR).
   */
  onContextChange(_oldContext: EvaluationContext, newContext: EvaluationContext): void | Promise<void> {
    this.#context = newContext;
    if (this.#starting !== undefined) return this.#starting.then(() => this.#afterStart());
    if (!this.#sync.loaded) return Promise.reject(new Error(this.#unserved()));
    this.#cache = this.#evaluate();
    // The SDK sets READY after a context change; a provider still serving a stale
    // snapshot says so again once it has.
    if (this.#sync.status === "stale") {
      queueMicrotask(() => this.events.emit(ProviderEvents.Stale, { message: this.#sync.staleMessage }));
    }
  }

  /** A context change's evaluation once the start it waited for ended; a start that
   *  `onClose` and a newer `initialize` overtook hands over to that one. */
  #afterStart(): void | Promise<void> {
    if (this.#starting !== undefined) return this.#starting.then(() => this.#afterStart());
    if (!this.#sync.loaded) throw new Error(this.#unserved());
    this.#cache = this.#evaluate();
  }

  /** Why nothing is served: closed (`onClose`, also mid-start), or nothing loaded yet. */
  #unserved(): string {
    return this.#sync.stopped ? "pennon: the provider is closed (onClose)" : "pennon: no snapshot is loaded yet";
  }

  #report(): void {
    this.#reporter = reporterFor(this.#reporter, this.#sync, this.#options, "web");
    this.#reporter?.start();
  }

  /** Stops polling; with `telemetry`, sends a last report first (`requestTimeoutMs` at most). */
  async onClose(): Promise<void> {
    const last = this.#reporter?.close();
    this.#sync.stop();
    this.#followTime();
    this.#listening?.abort();
    this.#listening = undefined;
    await last;
  }

  /**
   * Polls when the page is shown again or the network comes back, if a poll is due
   * (`Sync.wake`): a tab left in the background for an hour is current again within a
   * request of being looked at, not a throttled timer later. When the page is hidden,
   * sends the telemetry pending (`Reporter.hide`): it is the last moment a page is
   * sure to run (a closed tab fires no other event reliably, and a hidden one's timers
   * are throttled), and most visits are shorter than a report interval. A notification
   * stream is closed while the page is hidden, and opened again as it is shown.
   */
  #listen(): void {
    const scope = globalThis as { addEventListener?: EventTarget["addEventListener"]; document?: Document };
    if (this.#listening !== undefined || typeof scope.addEventListener !== "function") return;
    const listening = (this.#listening = new AbortController());
    scope.addEventListener("online", () => this.#sync.wake("online"), { signal: listening.signal });
    const page = scope.document;
    const changed = () => {
      if (page!.visibilityState === "visible") {
        this.#sync.stream.show();
        this.#sync.wake("visible");
      } else if (page!.visibilityState === "hidden") {
        this.#sync.stream.hide();
        this.#reporter?.hide();
      }
    };
    page?.addEventListener?.("visibilitychange", changed, { signal: listening.signal });
    if (page?.visibilityState === "hidden") this.#sync.stream.hide(); // a tab opened in the background
    else this.#sync.stream.show(); // shown again since a close that left it hidden
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean): ResolutionDetails<boolean> {
    return this.#read(flagKey, "boolean", defaultValue);
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string): ResolutionDetails<string> {
    return this.#read(flagKey, "string", defaultValue);
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number): ResolutionDetails<number> {
    return this.#read(flagKey, "number", defaultValue);
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): ResolutionDetails<T> {
    return this.#read(flagKey, "object", defaultValue);
  }

  #read<T>(flagKey: string, kind: Kind, defaultValue: T): ResolutionDetails<T> {
    let cached = this.#cache.get(flagKey);
    // A snapshot loaded but not evaluated yet: the SDK reads while a context set during
    // the start waits for it (RECONCILING). Evaluated now, for that context.
    if (cached === undefined && typeof flagKey === "string" && this.#sync.loaded && this.#sync.engine.flagType(flagKey) !== undefined) {
      this.#cache = this.#evaluate();
      cached = this.#cache.get(flagKey);
    }
    if (cached === undefined) {
      if (!this.#sync.loaded) return failed(defaultValue, "PROVIDER_NOT_READY", this.#unserved());
      this.#sync.telemetry.record(notFound(flagKey), undefined, this.#sync.now());
      return failed(defaultValue, "FLAG_NOT_FOUND", `flag \`${flagKey}\` is not in snapshot version ${this.#sync.engine.version()}`);
    }
    if (!fits(kind, cached.type)) {
      this.#sync.telemetry.recordError(flagKey); // as the server and Rust providers count it
      // Worded, and with the flag's metadata, as the server provider's (the engine's) result.
      const metadata = cached.contextError === undefined ? cached.metadata : undefined;
      return failed(defaultValue, "TYPE_MISMATCH", mismatch(flagKey, cached.type, kind), metadata);
    }
    if (cached.contextError !== undefined) {
      this.#sync.telemetry.recordInvalidContext(flagKey, true);
      return failed(defaultValue, "INVALID_CONTEXT", cached.contextError);
    }
    this.#sync.telemetry.record(cached.result, targetingKey(this.#context), this.#sync.now(), this.#context);
    return details(cached.result, defaultValue, cached.metadata);
  }

  /**
   * Every flag for the current context, converted once. A context that cannot be
   * converted whole (a cycle, a lone surrogate) is evaluated flag by flag, each reading
   * only its own attributes, as the server provider does: an attribute no flag reads
   * fails nothing, and a flag that reads an unconvertible one is INVALID_CONTEXT.
   */
  #evaluate(): Map<string, Cached> {
    const engine = this.#sync.engine;
    const now = this.#sync.now();
    const cache = new Map<string, Cached>();
    let whole: Resolution[] | undefined;
    try {
      whole = engine.evaluateAll(this.#context, now);
    } catch {
      // One by one, below.
    }
    if (whole !== undefined) {
      for (const result of whole) cache.set(result.key, this.#cached(engine, result));
      return cache;
    }
    for (const key of engine.flagKeys()) cache.set(key, this.#evaluateOne(engine, key, now));
    return cache;
  }

  /** One flag for the current context, reading only its own attributes. */
  #cached(engine: Engine, result: Resolution): Cached {
    if (typeof result.value === "object" && result.value !== null) deepFreeze(result.value);
    return { result, type: engine.flagType(result.key)!, metadata: this.#sync.metadata.of(result) };
  }

  #evaluateOne(engine: Engine, key: string, now: number): Cached {
    try {
      return this.#cached(engine, engine.evaluate(key, this.#context, now));
    } catch (error) {
      return { type: engine.flagType(key)!, contextError: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Evaluates the flags whose results depend on the time again, announcing those that
   *  changed: the rest of the cache cannot have. */
  #refreshTimeFlags(): void {
    if (!this.#sync.loaded) return;
    const engine = this.#sync.engine;
    const now = this.#sync.now();
    const flagsChanged: string[] = [];
    for (const key of engine.timeFlags()) {
      const entry = this.#evaluateOne(engine, key, now);
      if (!same(this.#cache.get(key), entry)) flagsChanged.push(key);
      this.#cache.set(key, entry);
    }
    if (flagsChanged.length > 0) this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged });
  }

  /** Re-evaluates and announces the flags whose results changed (plus `changed`). */
  #refreshCache(changed: string[]): void {
    if (!this.#sync.loaded) return;
    const before = this.#cache;
    this.#cache = this.#evaluate();
    this.#announce(before, this.#cache, changed);
  }

  /** Announces the flags whose results differ between two caches, plus `changed`. */
  #announce(before: Map<string, Cached>, after: Map<string, Cached>, changed: string[]): void {
    const flagsChanged = new Set(changed);
    for (const [key, entry] of after) if (!same(before.get(key), entry)) flagsChanged.add(key);
    for (const key of before.keys()) if (!after.has(key)) flagsChanged.add(key);
    if (flagsChanged.size > 0) {
      this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: [...flagsChanged].sort() });
    }
  }

  /**
   * A scheduled rollout changes results as time passes, with no new snapshot: while
   * the served one has any, those flags are evaluated again every second, announcing the
   * flags whose results changed. (LaunchDarkly's and Unleash's browser clients get a
   * scheduled change only as a new configuration from their servers.)
   */
  #followTime(): void {
    const needed = !this.#sync.stopped && this.#sync.loaded && this.#sync.engine.usesTime();
    if (needed && this.#ticker === undefined) {
      this.#ticker = unref(setInterval(() => {
        try {
          this.#refreshTimeFlags();
        } catch {
          // A tick that fails (the module's instance replaced mid-call) is retried by the next.
        }
      }, SCHEDULE_CHECK_MS));
    } else if (!needed && this.#ticker !== undefined) {
      clearInterval(this.#ticker);
      this.#ticker = undefined;
    }
  }

  #on(event: SyncEvent): void {
    switch (event.type) {
      case "changed":
        this.#refreshCache(event.flagsChanged);
        return this.#followTime();
      case "ready": {
        // Also the first snapshot after a failed start. Reads follow the served snapshot
        // from READY on; a new one that ended STALE is then announced against the cache
        // it replaced, as any change is (`#announce`).
        const before = this.#cache;
        this.#cache = this.#evaluate();
        this.#followTime();
        this.events.emit(ProviderEvents.Ready);
        if (event.change !== undefined) this.#announce(before, this.#cache, event.change.flagsChanged);
        return;
      }
      case "stale":
        return this.events.emit(ProviderEvents.Stale, { message: event.message });
      case "error":
        return this.events.emit(ProviderEvents.Error, { message: event.message });
    }
  }
}

/**
 * The envelope under `key`, and its version and ETag (or `Last-Modified`) under `key:meta`. Tabs share the
 * storage: one still on an older version does not overwrite a newer one, which is
 * this browser's rollback floor at its next start.
 */
function storedEnvelope(storage: () => KeyValueStorage, key: string): EnvelopeStore {
  /** An item's text; a storage answering with a promise (an async store) is refused by name. */
  const item = (name: string): string | undefined => {
    const value: unknown = storage().getItem(name);
    if (typeof (value as { then?: unknown } | null)?.then === "function") {
      throw new Error("`storage.getItem` returned a promise: storage must answer at once, as localStorage does");
    }
    return typeof value === "string" ? value : undefined;
  };
  const metaKey = `${key}:meta`;
  const meta = (): { version: number | undefined; validator: Validator | undefined } => {
    let value: unknown;
    try {
      value = JSON.parse(item(metaKey) ?? "{}");
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error; // not ours, or cut short: no record
    }
    const { version, etag, lastModified } = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
    const validator = typeof etag === "string" ? { etag } : typeof lastModified === "string" ? { lastModified } : undefined;
    return { version: typeof version === "number" ? version : undefined, validator };
  };
  return {
    load: () => {
      const text = item(key);
      return text === undefined ? undefined : { text, ...meta() };
    },
    save: (text, version, validator, untrusted) => {
      const held = meta().version;
      if (held !== undefined && held > version && (untrusted === undefined || item(key) !== untrusted)) return;
      storage().setItem(key, text);
      storage().setItem(metaKey, JSON.stringify({ version, ...validator }));
    },
  };
}

/** A result as the cache keeps it. Every read hands out its one value: frozen, so no
 *  reader can change another's. */

function targetingKey(context: EvaluationContext): string | undefined {
  return typeof context.targetingKey === "string" ? context.targetingKey : undefined;
}

/** Same served outcome: value, variant, reason, error and metadata. */
function same(a: Cached | undefined, b: Cached): boolean {
  if (a === undefined || a.type !== b.type) return false;
  if (a.contextError !== undefined || b.contextError !== undefined) return a.contextError === b.contextError;
  const x = a.result;
  const y = b.result;
  return (
    x.variant === y.variant &&
    x.reason === y.reason &&
    x.errorCode === y.errorCode &&
    stringify(x.value) === stringify(y.value) &&
    stringify(x.metadata) === stringify(y.metadata)
  );
}

const stringify = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? "";

function notFound(key: string): Resolution {
  return { key, reason: "ERROR", errorCode: "FLAG_NOT_FOUND", metadata: {}, explanation: { snapshotVersion: 0, matched: "error" } };
}

function deepFreeze(value: object): void {
  for (const member of Object.values(value)) if (typeof member === "object" && member !== null) deepFreeze(member);
  Object.freeze(value);
}
