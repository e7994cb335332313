/**
 * The notification stream (`notificationUrl`): server-sent events announcing new
 * versions, as the Rust provider's `provider/src/sync/sse.rs` holds them. Any event makes
 * the provider fetch its URL at once, unless it names a version already served, or a
 * fetch for earlier events did not deliver what they announced (then events wait out a
 * hold: `announcements.ts`). The stream is a hint, never a source of flags: what it says is not trusted, only what the
 * signed snapshot then says. Polling goes on beside it.
 *
 * Opened with `fetch` (`EventSource` cannot send an `Authorization` header). In Node,
 * Deno and Bun without a `fetch` option it goes over `detachedFetch`, whose socket is
 * unref'd, and its timers are unref'd everywhere: an open stream never keeps a process
 * alive. A `fetch` option is used as given, and may then hold the process until
 * `onClose`. Workers refuse it (`notificationUrlOf`). The parser is in `sse-parser.ts`,
 * what an announcement fetches in `announcements.ts`.
 */

import { detachedFetch, noCache, requestScoped } from "#platform";
import { Announcements, type AnnouncementHost } from "./announcements.js";
import { HttpError, httpError } from "./fetch-envelope.js";
import { discard, getFollowing } from "./redirects.js";
import { announcedVersion, EventParser } from "./sse-parser.js";
import { shown } from "./shown.js";
import { described } from "./sync-errors.js";
import type { PennonOptions } from "./sync-options.js";
import { later, MAX_DELAY_MS, type Timer } from "./timers.js";
import { backoff, shownUrl, snapshotUrl, type Timing } from "./timing.js";

/** A connection that spoke the protocol for this long was healthy: the reconnect after
 *  it starts from the initial backoff. One that closes sooner backs off further, so a
 *  server that accepts and drops at once cannot make the provider fetch each second. */
const STAYED_UP_MS = 10_000;

/** Why the provider itself ended a connection (`close`, a page hidden): no failure. */
const CLOSED = Symbol("closed");
/** Why a connection that ended on its own is aborted: its socket let go at once. */
const ENDED = Symbol("ended");

/** The `notificationUrl` option checked: `undefined` without one. Throws a message
 *  naming what can never work. */
export function notificationUrlOf(options: PennonOptions): URL | undefined {
  const given: unknown = options.notificationUrl;
  if (given === undefined) return undefined;
  if (requestScoped) {
    throw new Error(
      "pennon: `notificationUrl` cannot work in Cloudflare Workers: no request, so no stream, outlives the request that " +
        "started it. Leave it out, and call `provider.refreshIfDue()` from each request (under `ctx.waitUntil`)",
    );
  }
  if (typeof given !== "string" && !(given instanceof URL)) throw new Error(`pennon: \`notificationUrl\` must be a URL (a string or a URL), not ${shown(given)}`);
  if (options.url === undefined) {
    throw new Error("pennon: `notificationUrl` needs `url`: the stream only says when to fetch the snapshot, and never carries one");
  }
  return snapshotUrl(given, "notificationUrl");
}

/** What a stream is opened with, by each start. */
export interface StreamSettings {
  url: URL;
  /** The `headers` option, sent to the stream's own origin. */
  headers: Record<string, string> | undefined;
  timing: Timing;
  /** The `fetch` option. */
  fetch: typeof fetch | undefined;
}

/** One listening: a start's stream, until closed. */
interface Run {
  generation: number;
  settings: StreamSettings;
  closed: boolean;
  /** The connection under way. */
  connection: AbortController | undefined;
  /** Ends the reconnect wait under way, if any. */
  stopWaiting: (() => void) | undefined;
}

/** How one connection ended: why, whether anything of the protocol was heard, and the
 *  least wait the server asked for (`Retry-After` on a refusal, `retry:`). */
interface Ended {
  reason: string;
  heard: boolean;
  retryMs: number | undefined;
}

/** The stream of one provider: at most one open, reconnecting with backoff. */
export class NotificationStream {
  readonly #announcements: Announcements;
  readonly #warn: (message: string) => void;
  /** What should be open: the newest start's stream, until `close`. */
  #wanted: { generation: number; settings: StreamSettings } | undefined;
  /** The listening under way, if any (none while the page is hidden). */
  #run: Run | undefined;
  /** Whether the page is hidden (`hide`): no connection until it is shown. */
  #hidden = false;

  constructor(host: AnnouncementHost) {
    this.#announcements = new Announcements(host);
    this.#warn = (message) => host.warn(message);
  }

  /** Opens the stream for the start of `generation`, unless it is open for it already;
   *  ends a stream of an earlier start. */
  open(generation: number, settings: StreamSettings): void {
    if (this.#wanted?.generation === generation) return;
    this.#end();
    this.#wanted = { generation, settings };
    this.#announcements.open(settings.url, settings.timing);
    if (!this.#hidden) this.#listen(false);
  }

  /** Ends the stream: its connection aborted, its timers cleared. */
  close(): void {
    this.#wanted = undefined;
    this.#end();
    this.#announcements.close();
  }

  /**
   * The page was hidden: the connection is closed until it is shown (`show`), so that
   * background tabs hold no connection (browsers allow 6 per origin over HTTP/1.1,
   * across tabs) and no slot of the control plane's per-key stream cap.
   */
  hide(): void {
    this.#hidden = true;
    this.#end();
  }

  /** The page is shown: the stream opens again, and once connected the provider
   *  fetches, as after any reconnect (announcements may have been missed). */
  show(): void {
    if (!this.#hidden) return;
    this.#hidden = false;
    if (this.#wanted !== undefined && this.#run === undefined) this.#listen(true);
  }

  #end(): void {
    const run = this.#run;
    this.#run = undefined;
    if (run === undefined) return;
    run.closed = true;
    run.connection?.abort(CLOSED);
    run.stopWaiting?.();
  }

  #listen(reconnect: boolean): void {
    const { generation, settings } = this.#wanted!;
    const run: Run = { generation, settings, closed: false, connection: undefined, stopWaiting: undefined };
    this.#run = run;
    void this.#reconnecting(run, reconnect);
  }

  /** Connects, and reconnects after each end, until the run is closed. A failure is
   *  logged once, not again on every reconnect while it lasts (as in Rust). */
  async #reconnecting(run: Run, reconnect: boolean): Promise<void> {
    const { timing, url } = run.settings;
    let failures = 0;
    let connectedBefore = reconnect;
    let lastFailure: string | undefined;
    // Whether the last connection spoke the protocol.
    let wasUp = false;
    while (!run.closed) {
      const started = performance.now();
      const ended = await this.#connect(run, connectedBefore);
      if (run.closed) return;
      connectedBefore ||= ended.heard;
      // A stream that was up ended and cannot be opened again: the server may be gone.
      // A fetch now tells, and starts `staleAfterMs` when it fails, rather than the next
      // poll (as in Rust). A stream that reopens fetches on reconnecting, as always.
      if (wasUp && !ended.heard) this.#announcements.reconnected(run.generation);
      wasUp = ended.heard;
      if (ended.heard && performance.now() - started >= STAYED_UP_MS) failures = 0;
      // What the server asked for is a floor, up to the ceiling; jitter spreads only
      // the provider's own waits.
      const jittered = backoff(timing, ++failures) * (1 - Math.random() * timing.jitter);
      const delay = Math.round(Math.max(jittered, Math.min(ended.retryMs ?? 0, timing.backoffMaxMs)));
      if (ended.heard || ended.reason !== lastFailure) {
        this.#warn(`notification stream ${shownUrl(url)}: ${ended.reason}; reconnecting in ${delay} ms (polling goes on)`);
      }
      lastFailure = ended.heard ? undefined : ended.reason;
      if (!(await this.#wait(run, delay))) return;
    }
  }

  /** Waits `ms` on an unref'd timer; `false` if the run was closed first. */
  #wait(run: Run, ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = later(() => resolve(true), Math.min(ms, MAX_DELAY_MS), { unref: true });
      if (timer === undefined) return resolve(false);
      run.stopWaiting = () => {
        clearTimeout(timer);
        resolve(false);
      };
    }).finally(() => (run.stopWaiting = undefined));
  }

  /** One connection, read until it ends. Never rejects. */
  async #connect(run: Run, reconnect: boolean): Promise<Ended> {
    const { settings } = run;
    const { requestTimeoutMs, streamIdleTimeoutMs } = settings.timing;
    const controller = (run.connection = new AbortController());
    // Raced as well as aborted: a `fetch` option that drops the signal must hold
    // neither `close` nor the timeouts.
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    });
    aborted.catch(() => {});
    const cutAfter = (ms: number, why: string): Timer | undefined => later(() => controller.abort(new Error(why)), ms, { unref: true });
    let timer = cutAfter(requestTimeoutMs, `no response within requestTimeoutMs (${requestTimeoutMs} ms)`);
    const parser = new EventParser();
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let heard = false;
    try {
      const { headers: cacheHeaders, ...cacheInit } = noCache;
      const always = { Accept: "text/event-stream", ...(cacheHeaders as Record<string, string> | undefined) };
      const fetch = settings.fetch ?? detachedFetch ?? globalThis.fetch;
      const request = { url: settings.url, headers: settings.headers, always, fetch, signal: controller.signal, init: cacheInit };
      const { response, url } = await Promise.race([getFollowing(request), aborted]);
      if (!response.ok) throw await Promise.race([httpError(response, url, settings.url), aborted]);
      const type = response.headers.get("Content-Type") ?? "";
      if (!type.trimStart().toLowerCase().startsWith("text/event-stream")) {
        discard(response);
        throw new Error(`not an event stream (Content-Type \`${type}\`)`);
      }
      clearTimeout(timer);
      // Announcements may have been missed while disconnected.
      if (reconnect) this.#announcements.reconnected(run.generation);
      if (response.body === null) return { reason: "the server closed the stream", heard, retryMs: parser.retryMs };
      reader = response.body.getReader();
      const silent = `silent for ${streamIdleTimeoutMs} ms (no event or heartbeat)`;
      for (;;) {
        timer = cutAfter(streamIdleTimeoutMs, silent);
        const read = await Promise.race([reader.read(), aborted]);
        clearTimeout(timer);
        if (read.done) return { reason: "the server closed the stream", heard, retryMs: parser.retryMs };
        if (run.closed) return { reason: "closed", heard, retryMs: undefined }; // nothing more is announced
        for (const data of parser.feed(read.value)) this.#announcements.announce(run.generation, announcedVersion(data));
        // Heard: a whole line of the protocol (an event, a heartbeat), not just bytes.
        heard ||= parser.lines > 0;
      }
    } catch (error) {
      const retryMs = error instanceof HttpError ? error.retryAfterMs : parser.retryMs;
      return { reason: described(error), heard, retryMs };
    } finally {
      clearTimeout(timer);
      reader?.cancel().catch(() => {});
      if (!controller.signal.aborted) controller.abort(ENDED);
      if (run.connection === controller) run.connection = undefined;
    }
  }
}
