/**
 * Ships a provider's telemetry to the control plane: every `telemetry.intervalMs`, the
 * evaluation counts, not-found keys and exposures since the last accepted report are
 * posted to `POST /v1/telemetry/{env}` (docs/OPERATIONS.md, "Telemetry"), as the Rust
 * provider does.
 *
 * Evaluations never wait on it: they add to the counters, which a report takes. One
 * post is in flight at most. Each batch has an id; a failed post (network, timeout,
 * 5xx, 429) is sent again unchanged, id and all, before newer counts, and backs off:
 * the server may have stored it, and answers a repeat as a duplicate rather than
 * counting it twice. A 4xx is logged once and its batch dropped, since it would fail
 * again. Its timer is unref'd, and so is the socket of a report the timer starts
 * (`detachedFetch`, Node); close ends within `requestTimeoutMs`, aborting what is in
 * flight then. In workerd, where no timer outlives a request, it sets none:
 * `refreshIfDue` reports when a report is due, inside the request. In browsers, a page
 * being hidden sends what is pending with `keepalive`.
 */

import { detachedFetch, requestScoped } from "#platform";
import { bodyStart, errorDetail, retryAfter } from "./fetch-envelope.js";
import { Pending, expired, type Batch } from "./report-batch.js";
import { abandoned } from "./in-flight.js";
import { described } from "./sync-errors.js";
import type { Sync, PennonOptions } from "./sync.js";
import type { Telemetry } from "./telemetry.js";
import { telemetryOf, type TelemetryConfig } from "./telemetry-options.js";
import { later, MAX_DELAY_MS, type Timer } from "./timers.js";
import { shownUrl, timingOf } from "./timing.js";

/** The package's version, which reports name (a test keeps the two equal). */
const VERSION = "0.1.0";

/** What a report did: `accepted` by the server; `empty`, nothing to send; `failed`
 *  (network, timeout, 5xx, 429), sent again first with the next; `rejected` (another 4xx), dropped;
 *  `deferred`, the server's `Retry-After` has not passed; `disabled`, no `telemetry`. */
export type ReportOutcome = "accepted" | "empty" | "failed" | "rejected" | "deferred" | "disabled";

/** What a reporter needs of its provider. */
export interface ReporterHost {
  /** What reports name as the SDK: `pennon-js-server/0.1.0`, `pennon-js-web/0.1.0`. */
  sdk: string;
  telemetry: Telemetry;
  /** The provider's clock. */
  now(): number;
  /** The snapshot version served, if any. */
  version(): number | undefined;
  warn(message: string): void;
  fetch: typeof fetch;
  /** Posts of reports made in the background, whose socket does not keep a Node
   *  process alive (Node, Deno, Bun, without a `fetch` option); `fetch` where there is none. */
  detachedFetch: typeof fetch | undefined;
  requestTimeoutMs: number;
  jitter: number;
}

/** Posts one report may make when there is more than one holds, before the next interval. */
const MAX_POSTS = 10;
/** The longest wait after failures (or the interval, if longer). */
const MAX_BACKOFF_MS = 600_000;
/** The longest `Retry-After` honoured: a garbled one must not silence a client for days. */
const MAX_RETRY_AFTER_MS = 3_600_000;
/** Browsers refuse a `keepalive` body over 64 KiB: a larger report goes without it. */
const KEEPALIVE_MAX_BYTES = 64_000;

/** `refused`: why the control plane dropped exposures of an accepted report, if it did. */
type Answer = { kind: "accepted"; refused?: string } | { kind: "failed"; reason: string; retryAfterMs?: number } | { kind: "rejected"; reason: string };

/** A report under way; `controller` aborts its post (close's deadline). */
interface Flight {
  promise: Promise<ReportOutcome>;
  since: number;
  abandoned: boolean;
  controller: AbortController;
}

export class Reporter {
  readonly #config: TelemetryConfig;
  readonly #host: ReporterHost;
  /** A random id per provider: how many instances report, not who uses them. */
  readonly #instance = randomHex(8);
  readonly #pending = new Pending();
  /** The batch cut and not yet accepted or refused: sent again as it is. It stays here
   *  while posted, so a post cut off (by close's deadline, or workerd ending the
   *  request) leaves it to be sent again too. */
  #unsent: Batch | undefined;
  /** The exposure queue's drop count already added to `#pending`. */
  #droppedSeen = 0;
  #failures = 0;
  /** No post before this (the server's `Retry-After`), by the provider's clock. */
  #notBefore = 0;
  /** When the next report is due, by the provider's clock. */
  #dueAt = 0;
  /** The last problem logged: the same again is not logged. */
  #problem: string | undefined;
  /** The last reason logged for exposures the control plane dropped. */
  #refusal: string | undefined;
  #flight: Flight | undefined;
  #timer: Timer | undefined;
  #running = false;
  /** The version served when `close` began (its engine is freed before the last post). */
  #closingVersion: number | undefined;
  /** Aborted when close's deadline passes: no post is started after it. */
  #deadline: AbortSignal | undefined;

  constructor(config: TelemetryConfig, host: ReporterHost) {
    this.#config = config;
    this.#host = host;
  }

  /** Opens the window (unless deltas of an earlier run are pending) and reports every interval. */
  start(): void {
    this.#running = true;
    this.#closingVersion = this.#deadline = undefined;
    if (this.#pending.empty) this.#pending.startMs = this.#host.now();
    this.#scheduleNext();
  }

  /** Reports now, after the report under way if there is one. */
  async flush(): Promise<ReportOutcome> {
    this.#dropAbandoned();
    // A report made in the background does not keep a Node process alive; one awaited
    // does, as long as its post may take (this timer does, meanwhile).
    const hold = this.#flight === undefined ? undefined : later(() => {}, this.#host.requestTimeoutMs, { unref: false });
    try {
      while (this.#flight !== undefined) await this.#flight.promise;
    } finally {
      clearTimeout(hold);
    }
    return this.#begin(false, false);
  }

  /** Reports if a report is due and none is under way (workerd: on every request). */
  reportIfDue(): Promise<void> {
    this.#dropAbandoned();
    if (!this.#running || this.#flight !== undefined || this.#host.now() < this.#dueAt) return Promise.resolve();
    return this.#begin(false, false).then(() => {});
  }

  /** The page is being hidden (and may never be shown again): sends what is pending,
   *  with `keepalive`, so the request outlives the page. */
  hide(): void {
    if (this.#running && this.#flight === undefined) void this.#begin(true, false);
  }

  /**
   * Stops reporting after one last report (after the one under way, if any), within
   * `requestTimeoutMs` in all: when that passes, the post under way is aborted and none
   * is started, so nothing of the reporter outlives close. What is not accepted by then
   * stays unsent (a provider started again sends it first).
   */
  async close(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#timer);
    this.#closingVersion = this.#host.version();
    const ms = this.#host.requestTimeoutMs;
    const deadline = new AbortController();
    this.#deadline = deadline.signal;
    const passed = new Promise<"deadline">((resolve) => deadline.signal.addEventListener("abort", () => resolve("deadline"), { once: true }));
    // Not unref'd: close is awaited, and keeps a Node process alive until its deadline at most.
    const timer = later(() => {
      deadline.abort(new Error(`close waits requestTimeoutMs (${ms} ms) at most`));
      this.#flight?.controller.abort(deadline.signal.reason);
    }, ms, { unref: false });
    const last = this.flush().catch(() => "failed" as const);
    const outcome = await (timer === undefined ? last : Promise.race([last, passed]));
    clearTimeout(timer);
    if (outcome === "failed" || outcome === "deferred") this.#host.warn(`telemetry: the last report before close was ${outcome}: its counts are not reported`);
    if (outcome === "deadline") this.#host.warn(`telemetry: the last report before close did not finish within requestTimeoutMs (${ms} ms), and was abandoned: its counts are not reported`);
  }

  /** Starts a report; `background`: nobody waits for it, so its post must not keep a Node process alive. */
  #begin(keepalive: boolean, background: boolean): Promise<ReportOutcome> {
    const flight: Flight = { promise: undefined as unknown as Promise<ReportOutcome>, since: Date.now(), abandoned: false, controller: new AbortController() };
    this.#flight = flight;
    flight.promise = this.#report(flight, keepalive, background).finally(() => {
      if (this.#flight !== flight) return;
      this.#flight = undefined;
      this.#scheduleNext();
    });
    return flight.promise;
  }

  async #report(flight: Flight, keepalive: boolean, background: boolean): Promise<ReportOutcome> {
    const now = this.#host.now();
    if (now < this.#notBefore) return "deferred";
    const { telemetry } = this.#host;
    this.#pending.addCounts(telemetry.counts(true));
    const dropped = telemetry.exposuresDropped;
    this.#pending.addDropped(dropped - this.#droppedSeen);
    this.#droppedSeen = dropped;
    const who = { sdk: this.#host.sdk, instance: this.#instance, snapshotVersion: this.#closingVersion ?? this.#host.version() };
    let outcome: ReportOutcome = "empty";
    for (let posts = 0; posts < MAX_POSTS; posts++) {
      if (this.#unsent !== undefined && expired(this.#unsent, now)) {
        this.#pending.restore(this.#unsent);
        this.#unsent = undefined;
      }
      // A batch not yet accepted goes first, unchanged: it may have been stored.
      if (this.#unsent === undefined) {
        this.#pending.addExposures(telemetry.drainExposures(this.#pending.exposureRoom));
        if (this.#pending.empty) {
          // A window with nothing in it ends here: the next starts now.
          this.#pending.startMs = now;
          break;
        }
        this.#unsent = this.#pending.batch(now, randomHex(16), who);
      }
      const answer = await this.#post(this.#unsent.body, keepalive, flight.controller, background);
      // Cut off with its request (`#dropAbandoned`): its batch is still unsent.
      if (flight.abandoned) return "failed";
      if (answer.kind === "failed") {
        this.#failures++;
        if (answer.retryAfterMs !== undefined) this.#notBefore = this.#host.now() + Math.min(answer.retryAfterMs, MAX_RETRY_AFTER_MS);
        this.#log(`${answer.reason}; the report is sent again with the next`);
        return "failed";
      }
      this.#unsent = undefined;
      this.#failures = 0;
      if (answer.kind === "rejected") {
        this.#log(`${answer.reason}; the report is dropped (it would fail again)`);
        return "rejected";
      }
      if (this.#problem !== undefined) this.#host.warn(`telemetry reports to ${shownUrl(this.#config.url)} are accepted again`);
      this.#problem = undefined;
      // The SDK leaves out what it knows the control plane would drop: a newer control
      // plane may drop more. Said once per reason.
      if (answer.refused !== undefined && answer.refused !== this.#refusal) this.#host.warn(`telemetry: ${answer.refused}`);
      this.#refusal = answer.refused ?? this.#refusal;
      outcome = "accepted";
      if (this.#pending.empty && telemetry.exposuresQueued === 0) break;
    }
    return outcome;
  }

  /** Posts `body`, timed out after `requestTimeoutMs` or aborted by `flight` (close's
   *  deadline); the answer as a value. */
  async #post(body: string, keepalive: boolean, flight: AbortController, background: boolean): Promise<Answer> {
    const timeoutMs = this.#host.requestTimeoutMs;
    if (this.#deadline?.aborted) return { kind: "failed", reason: `not sent: ${described(this.#deadline.reason)}` };
    const controller = new AbortController();
    const timer = later(() => controller.abort(new Error(`no answer within requestTimeoutMs (${timeoutMs} ms)`)), timeoutMs, { unref: true });
    const cutOff = () => controller.abort(flight.signal.reason);
    if (flight.signal.aborted) cutOff();
    flight.signal.addEventListener("abort", cutOff, { once: true });
    // Raced as well as aborted: a `fetch` option that drops the signal must not hold reports.
    const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true }));
    aborted.catch(() => {});
    const init: RequestInit = {
      method: "POST",
      headers: { Authorization: `Bearer ${this.#config.sdkKey}`, "Content-Type": "application/json" },
      body,
      signal: controller.signal,
      // A redirect would turn the POST into a GET, or send the key to another origin.
      redirect: "manual",
      // Only when asked: not every runtime takes the member (workerd has no page to outlive).
      ...(keepalive && new TextEncoder().encode(body).length <= KEEPALIVE_MAX_BYTES ? { keepalive: true } : {}),
    };
    try {
      // Called unbound: browsers' and workerd's `fetch` throw "Illegal invocation" as a method.
      const post = (background && this.#host.detachedFetch) || this.#host.fetch;
      const response = await Promise.race([post(this.#config.url, init), aborted]);
      const answer = await Promise.race([answerOf(response), aborted]);
      return answer.kind === "accepted" ? answer : { ...answer, reason: `POST ${shownUrl(this.#config.url)}: ${answer.reason}` };
    } catch (error) {
      return { kind: "failed", reason: `POST ${shownUrl(this.#config.url)}: ${described(error)}` };
    } finally {
      clearTimeout(timer);
      flight.signal.removeEventListener("abort", cutOff);
    }
  }

  /** Logs a problem once; the same one again is not logged. */
  #log(problem: string): void {
    if (problem === this.#problem) return;
    this.#problem = problem;
    this.#host.warn(`telemetry: ${problem}`);
  }

  /** Sets when the next report is due (the interval, doubled per failure after the
   *  first, and never before a `Retry-After`) and, where timers outlive requests, its timer. */
  #scheduleNext(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#running) return;
    const interval = this.#config.intervalMs;
    const backedOff = Math.min(interval * 2 ** Math.min(16, Math.max(0, this.#failures - 1)), Math.max(interval, MAX_BACKOFF_MS));
    const now = this.#host.now();
    const wait = Math.max(backedOff * (1 - Math.random() * this.#host.jitter), this.#notBefore - now);
    this.#dueAt = now + wait;
    if (requestScoped) return;
    this.#timer = later(() => {
      this.#timer = undefined;
      if (this.#flight === undefined) void this.#begin(false, true);
    }, Math.min(MAX_DELAY_MS, wait), { unref: true });
  }

  /**
   * Ends a post its request cut off (workerd ends a request's fetches without settling
   * them): past its time limit by the clock, it is over, and its batch, still unsent,
   * goes first with the next report. Elsewhere the post's own timer ends it.
   */
  #dropAbandoned(): void {
    const flight = this.#flight;
    if (!requestScoped || flight === undefined || !abandoned(flight.since + this.#host.requestTimeoutMs, Date.now())) return;
    flight.abandoned = true;
    this.#flight = undefined;
  }
}

/** What an answer means for its batch. */
async function answerOf(response: Response): Promise<Answer> {
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: "accepted", refused: refusedExposures(await bodyStart(response)) };
  if (response.type === "opaqueredirect" || (status >= 300 && status < 400)) {
    response.body?.cancel().catch(() => {});
    const to = response.headers.get("Location");
    return { kind: "rejected", reason: `HTTP ${status || "redirect"}${to === null ? "" : ` to ${to.split("?")[0]}`}: telemetry.url must be where the control plane answers, not a redirect` };
  }
  const asked = retryAfter(response.headers.get("Retry-After"));
  const detail = await errorDetail(response);
  const reason = `HTTP ${status}${asked === undefined ? "" : ` (Retry-After: ${asked / 1000} s)`}${detail === undefined ? "" : `: ${detail}`}`;
  if (status >= 500 || status === 429 || status === 408) return { kind: "failed", reason, retryAfterMs: asked };
  return { kind: "rejected", reason };
}

/** What an accepted report's answer says of exposures the control plane dropped
 *  (`exposures_refused`, and the first's `exposure_refusal`), if any. */
function refusedExposures(text: string | undefined): string | undefined {
  try {
    const body = JSON.parse(text ?? "") as { exposures_refused?: unknown; exposure_refusal?: { field?: unknown; message?: unknown } } | null;
    const refused = body?.exposures_refused;
    if (typeof refused !== "number" || refused < 1) return undefined;
    const { field, message } = body?.exposure_refusal ?? {};
    const why = typeof field === "string" && typeof message === "string" ? ` (the first: ${field}: ${message.replace(/\s+/g, " ").slice(0, 200)})` : "";
    return `the control plane dropped ${refused} exposure${refused === 1 ? "" : "s"} of a report${why}; its counts were kept`;
  } catch {
    return undefined;
  }
}

/** `length` random bytes in hex: an instance's id (8), a batch's (16). Distinct, not secret. */
function randomHex(length: number): string {
  const bytes = new Uint8Array(length);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (array: Uint8Array) => Uint8Array } }).crypto;
  if (typeof crypto?.getRandomValues === "function") crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The reporter of a provider whose options (checked at start) have `telemetry`: `made`
 *  if there is one already, else a new one; none without the option. */
export function reporterFor(made: Reporter | undefined, sync: Sync, options: PennonOptions, provider: "server" | "web"): Reporter | undefined {
  if (made !== undefined) return made;
  const config = telemetryOf(options.telemetry, String(options.environment));
  if (config === undefined) return undefined;
  const { requestTimeoutMs, jitter } = timingOf(options);
  return new Reporter(config, {
    sdk: `pennon-js-${provider}/${VERSION}`,
    telemetry: sync.telemetry,
    now: () => sync.now(),
    version: () => (sync.loaded ? sync.engine.version() : undefined),
    warn: (message) => sync.warn(message),
    fetch: (input, init) => (options.fetch ?? globalThis.fetch)(input, init),
    detachedFetch: options.fetch === undefined ? detachedFetch : undefined,
    requestTimeoutMs,
    jitter,
  });
}
