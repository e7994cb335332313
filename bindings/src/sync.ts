/**
 * What both providers share: one engine, the sources that feed it (inline bytes, a
 * stored envelope, an HTTP URL polled with ETags or `Last-Modified`), staleness and events. Everything
 * here uses only web-platform APIs (`fetch`, timers, `TextEncoder`/`TextDecoder`), so it
 * runs in browsers, Node and workerd alike.
 *
 * `Sync` runs the start, the polling and each request's outcome; its parts are in
 * `served-snapshot.ts` (the engine and what it serves), `kept-envelope.ts` (the stored
 * envelope), `module-download.ts`, `in-flight.ts` (the request under way),
 * `failure-run.ts` (backoff and `Retry-After`), `sync-status.ts` and `expiry-watch.ts`
 * (READY or STALE, and what is announced), `sync-log.ts`, and `notification-stream.ts`
 * (the `notificationUrl` stream, which polls at once when a new version is announced).
 */

import type { Engine } from "./engine.js";
import { envelopeBytes } from "./envelope-bytes.js";
import { sameValidator, type Fetched, type Validator } from "./fetch-envelope.js";
import { FailureRun } from "./failure-run.js";
import { calledOff, DROPPED, sendRequest, type Answer, type Sent } from "./request.js";
import { abandoned, InFlight } from "./in-flight.js";
import { checkOptions, DEFAULT_MAX_BYTES, headersOf, type ReadOptions } from "./provider-options.js";
import { ResultMetadata } from "./result-metadata.js";
import { Telemetry } from "./telemetry.js";
import { checkClock, checkExposureCapacity, shownUrl, snapshotUrl, timingOf, type Timing } from "./timing.js";
import { later, MAX_DELAY_MS, Pauses, type Timer } from "./timers.js";
import { refusal } from "./refusal.js";
import { described } from "./sync-errors.js";
import { SyncLog } from "./sync-log.js";
import { announcements, standingOf, type SyncStatus } from "./sync-status.js";
import { ExpiryWatch } from "./expiry-watch.js";
import { KeptEnvelope } from "./kept-envelope.js";
import { ServedSnapshot } from "./served-snapshot.js";
import { ModuleDownload } from "./module-download.js";
import { NotificationStream, notificationUrlOf } from "./notification-stream.js";
import { closedMidStart, FatalStartError, type EnvelopeStore, type PennonOptions, type SnapshotChange, type StoredEnvelope, type SyncEvent, type SyncOutcome } from "./sync-options.js";

export { closedMidStart, envelopeBytes, FatalStartError, type EnvelopeStore, type PennonOptions, type SnapshotChange, type StoredEnvelope, type SyncEvent, type SyncOutcome };

/** The engine plus its sources, timers and status. */
export class Sync {
  /** Counters and exposures of every evaluation the provider reports. */
  readonly telemetry: Telemetry;
  /** The flag metadata of results: the flag's own, and the provider's keys. */
  readonly metadata: ResultMetadata;
  /** Where the provider stands; `stale` still serves the held snapshot. */
  status: SyncStatus = "not_ready";
  /** Why the status is `stale`. */
  staleMessage: string | undefined;
  /** The engine, what it serves, and what that changed since the last announcement. */
  readonly #snapshot: ServedSnapshot;
  /** The last good envelope in the host's store (web `storage`, server `cacheDir`). */
  readonly #kept: KeptEnvelope;
  /** Why the last start can never succeed (a `FatalStartError`): `refresh` says so. */
  #fatal: string | undefined;
  /** The warnings, and what went wrong last, for the error `start` throws. */
  readonly #log: SyncLog;
  /** The requests failed in a row: the backoff, `Retry-After` and STALE. */
  readonly #failures = new FailureRun();
  #timer: Timer | undefined;
  /** Checks the status again when the served snapshot expires or failing turns STALE. */
  readonly #expiry = new ExpiryWatch(() => this.#updateStatus(true));
  /** Bumped by `start` and `stop`: a poll of an older generation does not go on. */
  #generation = 0;
  /** The generation of the `start` under way: the SDK has not seen READY yet, so no
   *  events. A start that a `stop` or a newer start overtook no longer clears it. */
  #starting: number | undefined;
  /** Why a snapshot served from the store is not confirmed though no request failed:
   *  the start's deadline passed with its request still under way. */
  #unanswered: string | undefined;
  /** The newest start, which one that a newer start overtook ends as. */
  #current: Promise<boolean> | undefined;
  /** `#generation` as the last `stop` left it: a start older than that was closed. */
  #stoppedAt = 0;
  /** The start's waits (backoffs, `initTimeoutMs`), which `stop` ends, timers cleared. */
  readonly #pauses = new Pauses();
  #stopped = false;
  /** The request under way, which `refresh` joins and `stop` aborts. */
  readonly #inFlight = new InFlight();
  /** When the start under way must end (`Date.now()`): past it, it was abandoned
   *  (`#dropAbandoned`). */
  #startDeadline = 0;
  readonly #options: PennonOptions;
  /** Members of the options object that no option has, refused at start. */
  readonly #unknown: string[];
  /** The provider's own checks of its options (web `storage`, server `cacheDir`). */
  readonly #checkMore: (() => void) | undefined;
  /** `headers` as one record, set by `start`. */
  #headers: Record<string, string> | undefined;
  /** Set by `start`, which checks the options. */
  #timing: Timing = timingOf({} as PennonOptions);
  #url: URL | undefined;
  /** The `notificationUrl` option, checked by `start`. */
  #notificationUrl: URL | undefined;
  /** The notification stream, opened with polling (`#schedule`) and closed by `stop`;
   *  the web provider holds it closed while the page is hidden. */
  readonly stream: NotificationStream;
  readonly #listener: (event: SyncEvent) => void;
  /** The module's download, retried in the background after a start it failed. */
  readonly #module: ModuleDownload;
  /** The newest start's module and local envelopes: whether they are in (`#loadLocal`). */
  #local: Promise<boolean> = Promise.resolve(false);

  constructor(
    read: ReadOptions<PennonOptions>,
    listener: (event: SyncEvent) => void,
    stored?: EnvelopeStore,
    checkMore?: () => void,
  ) {
    const options = read.options;
    this.#options = options;
    this.#unknown = read.unknown;
    this.#checkMore = checkMore;
    this.#listener = listener;
    this.#log = new SyncLog(options);
    this.#kept = new KeptEnvelope(stored, this.#log);
    this.#snapshot = new ServedSnapshot(options, this.#kept, this.#log, () => this.now());
    this.#module = new ModuleDownload({
      options,
      log: this.#log,
      pauses: this.#pauses,
      generation: () => this.#generation,
      timing: () => this.#timing,
      built: () => this.#snapshot.built,
      resume: (generation, inline) => this.#resume(generation, inline),
    });
    this.stream = new NotificationStream({
      servedVersion: () => (this.loaded ? this.engine.version() : undefined),
      underWay: () => this.#inFlight.request,
      fetchNow: (generation) => this.#pollNow(generation),
      warn: (message) => this.#log.warn(message),
    });
    // Checked at start (a bad capacity is FATAL then); until then, none.
    this.telemetry = new Telemetry(typeof options.exposureCapacity === "number" ? options.exposureCapacity : 0, { exposures: options.exposures, onExposure: options.onExposure, warn: (message) => this.#log.warn(message) });
    // Every snapshot served names this environment (one of another type is FATAL at start).
    this.metadata = new ResultMetadata(String(options.environment));
  }

  /** The engine; throws before `start` has built it. */
  get engine(): Engine {
    return this.#snapshot.engine;
  }

  /** Whether `stop` was called since the last `start`. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Whether a snapshot is served. A field, not a call into the module: both providers
   *  ask on every resolve. */
  get loaded(): boolean {
    return this.#snapshot.loaded;
  }

  /** The clock. */
  now(): number {
    return (this.#options.clock ?? Date.now)();
  }

  /**
   * Instantiates the module, loads the stored, inline and fetched snapshots, polls.
   * `true` once ready; `false` if `stop` came first, nothing of it left running; as
   * the newer start ends if one overtook it. Throws `FatalStartError` when the options
   * can never work, and a plain error when no snapshot loaded yet (polling goes on, and
   * the first that loads makes it ready).
   */
  async start(): Promise<boolean> {
    this.#fatal = undefined;
    const started = this.#start();
    this.#current = started;
    try {
      return await started;
    } catch (error) {
      if (error instanceof FatalStartError) this.#fatal = error.message;
      throw error;
    }
  }

  /** How a start of `generation` that a `stop` or a newer start overtook ends. */
  #overtaken(generation: number): boolean | Promise<boolean> {
    return this.#stoppedAt > generation ? false : this.#current!;
  }

  async #start(): Promise<boolean> {
    const o = this.#options;
    let inline: Uint8Array | undefined;
    try {
      checkOptions(o, this.#unknown);
      this.#checkMore?.();
      this.#timing = timingOf(o);
      this.#headers = headersOf(o.headers);
      checkClock(o.clock);
      checkExposureCapacity(o.exposureCapacity);
      this.#url = o.url === undefined ? undefined : snapshotUrl(o.url);
      this.#notificationUrl = notificationUrlOf(o);
      const poll = this.#timing.pollIntervalMs;
      // Seconds given as milliseconds: every client of a fleet polling many times a second.
      if (this.#url !== undefined && poll > 0 && poll < 1_000) this.#log.warn(`\`pollIntervalMs\` is ${poll}: a request every ${poll} ms. It is in milliseconds (default 30,000); under 1,000 is for tests`);
      inline = o.envelope === undefined ? undefined : envelopeBytes(o.envelope, "`envelope`");
    } catch (error) {
      throw new FatalStartError((error as Error).message);
    }
    const generation = ++this.#generation;
    this.#stopped = false;
    this.#starting = generation;
    this.#log.forget();
    this.#unanswered = undefined;
    clearTimeout(this.#timer);
    this.stream.close(); // a start this one overtook may have opened it
    try {
      // One `initTimeoutMs` for the whole start: the module, and the first request.
      const deadline = (this.#startDeadline = Date.now() + this.#timing.initTimeoutMs);
      const stored = this.#kept.read();
      const local = (this.#local = this.#loadLocal(generation, deadline, inline, stored));
      // One under way (from a start this one overtook, not closed) is joined instead.
      if (this.#url !== undefined && this.#inFlight.request === undefined && this.#requestsAtOnce(inline, stored)) {
        void this.#inFlight.begin(this.#prefetch(this.#url, stored?.validator));
      }
      if (!(await local)) return this.#overtaken(generation);
      if (this.#url !== undefined && this.loaded && o.waitForUrl === false) {
        // Ready now; the first request goes out once the SDK has announced READY (a
        // macrotask after `initialize` resolves), so its change comes after READY.
        this.#schedule(generation, 0);
      } else if (this.#url !== undefined) {
        // Until a snapshot is served or `initTimeoutMs` passes, a failed request is
        // retried after its backoff: a control plane still starting (a sidecar, a
        // rolling restart) costs the start nothing. One that no wait mends (a 401, a
        // snapshot for another environment: `FailureRun.final`) ends it at once.
        // Polling starts when the first attempts end, so a slow request that outlives
        // the timeout is not doubled, and a source mended later still makes it READY.
        let expired = false;
        const first = (async () => {
          for (;;) {
            const outcome = await this.refresh();
            if (outcome !== "failed" || this.loaded || expired || this.#failures.final || generation !== this.#generation) return;
            const waited = await this.#pauses.pause(this.#failures.waitMs(this.#timing), { unref: true }).ended;
            if (!waited || expired || generation !== this.#generation) return;
          }
        })();
        const poll = () => this.#schedule(generation);
        void first.then(poll, poll);
        // Not unref'd: `initialize` is awaited, and must settle before Node may exit. A
        // `stop` ends it too, so that a start closed mid-way holds no timer.
        const expiry = this.#pauses.pause(Math.max(0, deadline - Date.now()), { unref: false });
        // Where no timer may be set, the first attempts alone end it.
        const attempts = first.then(() => "first" as const);
        const timedOut = expiry.ended.then((done) => (done ? "expired" : generation === this.#generation ? attempts : "halted"));
        const ended = await Promise.race([attempts, timedOut]);
        expiry.cancel();
        expired = true;
        if (generation !== this.#generation) return this.#overtaken(generation);
        if (ended === "expired" && !this.loaded) {
          const pending = this.#inFlight.request === undefined ? "" : "; a request is still under way";
          const last = this.#log.problem === undefined ? "" : `; the last attempt: ${this.#log.problem}`;
          this.#log.fail(`no snapshot within initTimeoutMs (${this.#timing.initTimeoutMs} ms)${pending}${last}`);
        } else if (ended === "expired" && this.#snapshot.fromStorage && this.#inFlight.request !== undefined) {
          // A source that hangs is no confirmation either: what the store kept is served
          // STALE from here, as after a failed request, not READY until one fails.
          this.#unanswered = `no answer within initTimeoutMs (${this.#timing.initTimeoutMs} ms); a request is still under way`;
        }
      }
    } finally {
      if (this.#starting === generation) this.#starting = undefined;
    }
    if (!this.loaded) {
      this.status = "error";
      throw new Error(`pennon: no snapshot could be loaded: ${this.#log.problem ?? this.#noSource()}`);
    }
    this.#updateStatus(false);
    // The SDK announces READY when `initialize` resolves; STALE must come after it.
    if (this.status === "stale") later(() => this.#updateStatus(true, true), 0, { unref: false });
    return true;
  }

  /** Why a start that met no problem loaded nothing. */
  #noSource(): string {
    const o = this.#options;
    if (o.url !== undefined || o.envelope !== undefined) return "no source gave one";
    return "neither `url` nor `envelope` was given (an unset environment variable?)";
  }

  /** Whether a start sends its first request at once: unless `waitForUrl: false` and a
   *  stored or inline envelope may be served first (its request then waits for READY). */
  #requestsAtOnce(inline: Uint8Array | undefined, stored: StoredEnvelope | undefined): boolean {
    return this.#options.waitForUrl !== false || (inline === undefined && stored === undefined);
  }

  /** Instantiates the module, then serves the stored and inline envelopes. Whether this
   *  start goes on (see `ModuleDownload.instantiate`). */
  async #loadLocal(generation: number, deadline: number, inline: Uint8Array | undefined, stored: StoredEnvelope | undefined): Promise<boolean> {
    if (!(await this.#module.instantiate(generation, deadline, inline))) return false;
    this.#snapshot.serveLocal(inline, stored);
    return true;
  }

  /** Serves the local envelopes of the start of `generation`, once a background
   *  download of the module is in, then polls. Whether it could. */
  #resume(generation: number, inline: Uint8Array | undefined): boolean {
    try {
      this.#snapshot.serveLocal(inline, this.#kept.read());
    } catch (error) {
      this.#fatal = (error as Error).message; // keys or trust policy the engine refuses
      this.#log.fail((error as Error).message.replace(/^pennon: /, ""));
      return false;
    }
    this.#updateStatus(true);
    this.#schedule(generation, 0);
    return true;
  }

  /**
   * A hint from the host that a poll may be overdue or may now succeed: a page shown
   * again (browsers throttle hidden pages' timers to once a minute or less), or the
   * network back (`online`: a failing sync retries now instead of after its backoff).
   * Polls now if polling is on and the wait since the last request has passed, or, on
   * `online`, if syncing is failing. A module whose download failed is downloaded now.
   */
  wake(reason: "visible" | "online"): void {
    if (this.#stopped || this.#starting !== undefined) return;
    if (this.#module.due) return void this.#module.retryNow();
    if (this.#url === undefined || this.#failures.idle(this.#timing)) return;
    if (this.#inFlight.request !== undefined) return; // as fresh as a poll now, and it schedules the next
    const last = this.#inFlight.lastBegan;
    const overdue = last === undefined || this.now() - last >= this.#failures.unjitteredMs(this.#timing);
    // A server that asked for a wait (`Retry-After`) gets it, network back or not.
    const offline = this.#failures.count > 0 && this.#failures.retryAfterMs === undefined;
    if (overdue || (reason === "online" && offline)) this.#schedule(this.#generation, 0);
  }

  /**
   * Stops polling and aborts a request under way; nothing is announced after it. The
   * engine's module memory is freed (a provider per Workers request kept about 1 MB
   * each, where nothing is finalized); the version it served stays the floor of the
   * next engine, which still refuses a rollback. A refresh or load asked for after it
   * still works, on a new engine.
   */
  stop(): void {
    this.#stopped = true;
    this.#stoppedAt = ++this.#generation;
    this.#pauses.endAll();
    clearTimeout(this.#timer);
    this.#expiry.clear();
    this.#module.cancel();
    this.#timer = undefined;
    this.stream.close();
    this.#snapshot.takeChange(); // nothing is announced after it
    this.#inFlight.stop();
    this.#snapshot.free();
  }

  /**
   * Loads envelope bytes pushed by the host, then re-derives the status (a fresh
   * snapshot ends STALE). Throws the engine's refusal. Returns whether it updated.
   */
  push(bytes: Uint8Array): boolean {
    // Initialized, and failed for good: not "not initialized", which sends one looking
    // for a missing `initialize`.
    if (this.#fatal !== undefined) throw refusal("not_ready", `the provider is FATAL: ${this.#fatal.replace(/^pennon: /, "")}`);
    const updated = this.offer(bytes);
    // A fresh snapshot from the host: whatever the URL answers, nothing is stale now.
    if (updated) this.#failures.excuse();
    this.#snapshot.fromStorage = false; // verified, so what is served is current
    this.#updateStatus(true);
    return updated;
  }

  /** Loads envelope bytes; throws the engine's refusal. Returns whether it updated. The
   *  caller re-derives the status: a fetch does so after its failure bookkeeping. */
  offer(bytes: Uint8Array, validator?: Validator): boolean {
    // Closed, the engine was freed: a refresh or load asked for afterwards gets a new
    // one, floored at what the old one served.
    if (this.#stopped && this.#generation > 0) this.#snapshot.build();
    return this.#snapshot.load(bytes, validator, true);
  }

  /**
   * Fetches the URL once now (with `If-None-Match`) and loads what it serves; joins the
   * request under way if there is one. Without a URL, only checks expiry. After a start
   * the module's download failed, downloads the module first.
   */
  refresh(): Promise<SyncOutcome> {
    if (this.#fatal !== undefined) return Promise.reject(new Error(`pennon: refresh: the provider cannot start: ${this.#fatal.replace(/^pennon: /, "")}`));
    if (this.#generation === 0) return Promise.reject(new Error("pennon: refresh before initialize: set the provider first (`OpenFeature.setProvider`)"));
    this.#dropAbandoned();
    if (this.#inFlight.request !== undefined) return this.#inFlight.request;
    if (!this.#snapshot.built && this.#module.pending) {
      return this.#module.retryNow().then((built) => (built ? this.refresh() : "failed"));
    }
    return this.#inFlight.begin(this.#fetch());
  }

  /**
   * `refresh` when a poll would be due: `pollIntervalMs` after the last request, or
   * after failures the backoff or the server's `Retry-After`; else `"skipped"`. Where
   * no timer outlives a request (Workers), calling it on every request polls as the
   * timers would elsewhere, one request per interval per isolate at most. With
   * `pollIntervalMs: 0` (no polling) only the first call and retries after failures poll.
   */
  refreshIfDue(): Promise<SyncOutcome | "skipped"> {
    this.#dropAbandoned();
    const last = this.#inFlight.lastBegan;
    const waited = last !== undefined && !this.#failures.idle(this.#timing) && this.now() - last >= this.#failures.unjitteredMs(this.#timing);
    const due = this.#inFlight.request !== undefined || last === undefined || waited;
    return due ? this.refresh() : Promise.resolve("skipped");
  }

  /**
   * Drops work an ended request left behind. workerd cancels a request's fetches and
   * timers when the request ends, without settling them: a refresh left running then
   * (not under `ctx.waitUntil`) would be joined by every later one and never settle, and
   * an `initialize` left running would hold back every event. Past its own time limit
   * by the clock, such work is over (elsewhere its timers end it first).
   */
  #dropAbandoned(): void {
    const now = Date.now();
    this.#inFlight.dropIfAbandoned(now);
    // Events flow again: the SDK, still waiting for `initialize`, hears READY from
    // the first snapshot loaded.
    if (this.#starting !== undefined && abandoned(this.#startDeadline, now)) this.#starting = undefined;
  }

  /** Requests the URL once, and loads the answer. */
  async #fetch(): Promise<SyncOutcome> {
    const url = this.#url;
    if (url === undefined) {
      this.#updateStatus(true);
      return "unchanged";
    }
    const sent = this.#send(url, this.#snapshot.validator);
    return sent === undefined ? "failed" : this.#settle(url, sent, await sent.answer);
  }

  /**
   * The start's first request, sent while the module downloads rather than after it: a
   * round trip (and a browser's CORS preflight) off the time to READY. `validator` is the
   * stored record's, taken on trust, as the stored envelope is not verified yet. The
   * answer loads once the stored and inline envelopes are served, so the three load in
   * the same order as ever. A 304 to a validator the stored envelope did not earn (it did
   * not verify, or its record names another version) does not count: asked again.
   */
  async #prefetch(url: URL, validator: Validator | undefined): Promise<SyncOutcome> {
    const sent = this.#send(url, validator);
    if (sent === undefined) return "failed";
    this.#inFlight.waitsUntil(this.#startDeadline); // it waits for the module too
    const served = this.#localServed();
    // A module that failed leaves nothing to load the answer into: the request is
    // dropped, so that neither its timer nor its socket holds a Node process open.
    void served.then((ok) => ok || sent.controller.abort(DROPPED));
    const [answer, ok] = await Promise.all([sent.answer, served]);
    if (!ok || calledOff(sent.controller)) return "failed";
    if ("fetched" in answer && answer.fetched.kind === "unchanged" && !sameValidator(validator, this.#snapshot.validator)) return this.#fetch();
    return this.#settle(url, sent, answer);
  }

  /**
   * Whether the newest start's module and local envelopes are in, once they are; false
   * if the module failed or `stop` came first. A start that a newer one overtook (an
   * `initialize` again, without closing) hands its request on to it.
   */
  async #localServed(): Promise<boolean> {
    for (;;) {
      const local = this.#local;
      const served = await local.catch(() => false);
      if (served || local === this.#local) return served;
    }
  }

  /** Sends a GET, timed out after `requestTimeoutMs`; none where no request may start. */
  #send(url: URL, validator: Validator | undefined): Sent | undefined {
    const timeoutMs = this.#timing.requestTimeoutMs;
    const fetch = this.#options.fetch ?? globalThis.fetch;
    const maxBytes = this.#options.maxBytes ?? DEFAULT_MAX_BYTES;
    const sent = sendRequest({ url, validator, headers: this.#headers, fetch, maxBytes, timeoutMs }, this.now());
    if (sent === undefined) {
      // A Workers module's top level, where no timer, request or `AbortController` may
      // be made: no failure of the source, and the first refresh from a request fetches.
      this.#log.problem = "no request can start at a Workers module's top level: call refresh() from a request";
      return undefined;
    }
    this.#inFlight.sent(sent, timeoutMs);
    return sent;
  }

  /** Loads a request's answer, and counts failures (for the backoff, STALE and `wake`). */
  #settle(url: URL, sent: Sent, answer: Answer): SyncOutcome {
    // A request `stop` aborted is no failure of the source, even if a new start began
    // before it unwound.
    if (calledOff(sent.controller)) return "failed";
    const outcome = "error" in answer ? this.#failed(url, answer.error) : this.#loadFetched(url, answer.fetched);
    if (outcome === "failed") {
      this.#failures.add(sent.began);
    } else {
      this.#log.answered(`GET ${shownUrl(url)}`, this.#failures.count);
      this.#failures.end();
      this.#snapshot.fromStorage = false;
    }
    this.#updateStatus(true);
    return outcome;
  }

  /** Loads what a request brought; an envelope the engine refuses fails the request. */
  #loadFetched(url: URL, fetched: Fetched): SyncOutcome {
    if (fetched.kind === "unchanged") return "unchanged";
    let outcome: SyncOutcome;
    try {
      outcome = this.offer(fetched.bytes, fetched.validator) ? "updated" : "unchanged";
    } catch (error) {
      return this.#failed(url, error);
    }
    // The version served, under a new validator (a store that kept none): kept with
    // it, so the next start revalidates with a 304.
    if (outcome === "unchanged" && fetched.validator !== undefined && !sameValidator(fetched.validator, this.#snapshot.kept)) {
      this.#snapshot.keep(fetched.bytes, fetched.validator);
    }
    this.#snapshot.kept = fetched.validator;
    return outcome;
  }

  /** Keeps why a request failed: the wait the server asked for, a refusal (401, 403). */
  #failed(url: URL, error: unknown): "failed" {
    this.#failures.noteCause(error);
    this.#log.failedRequest(`GET ${shownUrl(url)}: ${described(error)}`);
    return "failed";
  }

  /**
   * Recomputes the status from expiry and sync failures; emits transitions, then what
   * loaded since the last call changed (see `SyncEvent`). Without
   * `emit` (a start's own loads, which the SDK's READY covers) the change is dropped.
   */
  #updateStatus(emit: boolean, force = false): void {
    const change = this.#snapshot.takeChange();
    if (!this.loaded) return;
    const now = this.now();
    const limits = { graceMs: this.#options.graceMs ?? 0, staleAfterMs: this.#timing.staleAfterMs };
    const storedIn = this.#snapshot.fromStorage ? this.#kept.source : undefined;
    const { message, recheckAt } = standingOf(this.engine, now, limits, this.#failures, this.#log.problem, storedIn, this.#unanswered);
    if (recheckAt !== undefined && !this.#stopped) this.#expiry.watch(recheckAt, now);
    const previous = this.status;
    this.status = message === undefined ? "ready" : "stale";
    this.staleMessage = message;
    if (!emit) return;
    for (const event of announcements(previous, message, change, force)) this.#emit(event);
  }

  /**
   * Polls after `delay` (default: the interval or the backoff; none if polling is off).
   * The notification stream opens with the first poll scheduled, whether or not polling
   * is on: once the start's own attempts are over (announcements would only join them).
   */
  #schedule(generation: number, delay?: number): void {
    if (generation !== this.#generation || this.#url === undefined) return;
    if (this.#notificationUrl !== undefined) {
      this.stream.open(generation, { url: this.#notificationUrl, headers: this.#headers, timing: this.#timing, fetch: this.#options.fetch });
    }
    if (delay === undefined && this.#failures.idle(this.#timing)) return;
    const wait = delay ?? this.#failures.waitMs(this.#timing);
    clearTimeout(this.#timer);
    this.#timer = later(() => void this.#pollNow(generation), Math.min(MAX_DELAY_MS, wait), { unref: true });
  }

  /** Polls now (a timer's poll, or a stream's announcement), then schedules the next
   *  poll from it: the interval starts over, or the backoff after a failure. */
  #pollNow(generation: number): Promise<void> {
    if (generation !== this.#generation) return Promise.resolve();
    const polled = (outcome: SyncOutcome) => {
      if (generation !== this.#generation) return;
      try {
        this.#onPoll?.(outcome);
      } catch (error) {
        this.#log.warn(`re-evaluating after a poll failed: ${described(error)}`);
      }
      this.#schedule(generation);
    };
    return this.refresh().then(polled, () => polled("failed"));
  }

  /** Called after every scheduled poll (the web provider re-evaluates then). */
  set onPoll(callback: ((outcome: SyncOutcome) => void) | undefined) {
    this.#onPoll = callback;
  }
  #onPoll: ((outcome: SyncOutcome) => void) | undefined;

  /** Called after every snapshot loaded, before it is announced. */
  set onLoad(callback: (() => void) | undefined) {
    this.#snapshot.onLoad = callback;
  }

  #emit(event: SyncEvent): void {
    if (this.#starting === undefined && !this.#stopped) this.#listener(event);
  }

  /** Logs through the `logger` option, as the provider's own warnings. */
  warn(message: string): void {
    this.#log.warn(message);
  }
}


