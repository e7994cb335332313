/**
 * What a notification stream's announcements fetch. An announcement makes the provider
 * fetch its URL at once, unless the version it names is served already. One that
 * comes while a request is under way waits for it, then fetches again unless that
 * request brought the version: it may have been answered before the version was
 * published (the Rust provider's poll loop, woken during a request, also fetches
 * again after it). Announcements during one request need one more request, not one
 * each.
 *
 * A stream that lies is bounded, by the rule the Rust provider's
 * `provider/src/sync/announced.rs` keeps: when the fetch made for events does not
 * deliver what they announced (the version the latest of them named, or for events
 * naming none, a new version), later events wait until a hold has passed:
 * `backoffInitialMs`, doubling with each fetch that again does not deliver, up to
 * `pollIntervalMs` (`backoffMaxMs` with polling off). Events during a hold cost one
 * fetch when it ends, not one each. A warning names the announced and served versions
 * once; a fetch that delivers what was announced ends the hold. The stream's own asks
 * (after a reconnect) fetch at once and are not judged.
 */

import { later, MAX_DELAY_MS, type Timer } from "./timers.js";
import { shownUrl, type Timing } from "./timing.js";

/** What announcements need of the provider. */
export interface AnnouncementHost {
  /** The snapshot version served, if any. */
  servedVersion(): number | undefined;
  /** The snapshot request under way, if any. */
  underWay(): Promise<unknown> | undefined;
  /** Fetches the URL now, as a poll does, for the start of `generation` (none if it
   *  was closed since). */
  fetchNow(generation: number): Promise<unknown>;
  /** Logs through the `logger` option. */
  warn(message: string): void;
}

/** What events and the stream asked for since the last fetch began. */
interface Asked {
  /** The version the latest event that named one named. */
  version: number | undefined;
  /** Whether an event named none. */
  unnamed: boolean;
  /** Whether the stream asked itself (after a reconnect). */
  reconnect: boolean;
}

export class Announcements {
  readonly #host: AnnouncementHost;
  #asked: Asked | undefined;
  /** The start whose stream announced last. */
  #generation = 0;
  #fetching = false;
  /** The stream's URL and the provider's timing, for the hold and its warning. */
  #stream: { url: URL; timing: Timing } | undefined;
  /** Until when events wait (`performance.now()`). */
  #holdUntil = 0;
  /** The hold after the next fetch that does not deliver. */
  #holdMs: number | undefined;
  /** Whether this run of undelivered announcements was warned of. */
  #warned = false;
  /** Fetches when the hold ends, for events during it. */
  #timer: Timer | undefined;

  constructor(host: AnnouncementHost) {
    this.#host = host;
  }

  /** A stream of a new start: its URL and timing, and no hold. */
  open(url: URL, timing: Timing): void {
    this.close();
    this.#stream = { url, timing };
    [this.#holdUntil, this.#holdMs, this.#warned] = [0, undefined, false];
  }

  /** Nothing more is fetched for what was announced. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#asked = undefined;
  }

  /** An event announcing `version` (`undefined`: one that names none). */
  announce(generation: number, version: number | undefined): void {
    if (version !== undefined && this.#served(version)) return;
    const asked = this.#asked ?? { version: undefined, unnamed: false, reconnect: false };
    this.#asked = { ...asked, version: version ?? asked.version, unnamed: asked.unnamed || version === undefined };
    this.#generation = generation;
    if (!this.#fetching) void this.#fetch();
  }

  /** The stream asks itself, after a reconnect: announcements may have been missed. */
  reconnected(generation: number): void {
    this.#asked = { ...(this.#asked ?? { version: undefined, unnamed: false }), reconnect: true };
    this.#generation = generation;
    if (!this.#fetching) void this.#fetch();
  }

  #served(version: number): boolean {
    const served = this.#host.servedVersion();
    return served !== undefined && version <= served;
  }

  /** Fetches until nothing asked for is missing, or events wait for the hold; never
   *  rejects. */
  async #fetch(): Promise<void> {
    this.#fetching = true;
    try {
      await this.#host.underWay()?.catch(() => {});
      for (let asked = this.#asked; asked !== undefined; asked = this.#asked) {
        if (!asked.reconnect && !asked.unnamed && this.#served(asked.version!)) {
          // Served already (a poll brought it): the stream's word held.
          this.#asked = undefined;
          this.#delivered();
          return;
        }
        const wait = this.#holdUntil - performance.now();
        if (!asked.reconnect && wait > 0) return this.#fetchIn(wait);
        this.#asked = undefined;
        const before = this.#host.servedVersion();
        await this.#host.fetchNow(this.#generation).catch(() => {});
        if (asked.version !== undefined || asked.unnamed) this.#judge(asked.version, before, this.#host.servedVersion());
      }
    } finally {
      this.#fetching = false;
    }
  }

  /** Fetches for the events asked for after `ms`, when the hold ends. */
  #fetchIn(ms: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = later(() => {
      this.#timer = undefined;
      if (!this.#fetching) void this.#fetch();
    }, Math.min(ms, MAX_DELAY_MS), { unref: true });
  }

  /** Judges the fetch made for events, by the version the latest of them `named` and
   *  the version served `before` and `after` it. */
  #judge(named: number | undefined, before: number | undefined, after: number | undefined): void {
    const served = after ?? 0;
    if (named === undefined ? served > (before ?? 0) : served >= named) return this.#delivered();
    const stream = this.#stream;
    if (stream === undefined) return;
    const { backoffInitialMs, backoffMaxMs, pollIntervalMs, jitter } = stream.timing;
    const ceiling = pollIntervalMs > 0 ? pollIntervalMs : backoffMaxMs;
    const hold = Math.round(Math.min(this.#holdMs ?? backoffInitialMs, ceiling) * (1 - Math.random() * jitter));
    this.#holdMs = Math.min(2 * (this.#holdMs ?? backoffInitialMs), ceiling);
    this.#holdUntil = performance.now() + hold;
    if (this.#warned) return;
    this.#warned = true;
    const announced = named === undefined ? "a new version" : `version ${named}`;
    const shown = after === undefined ? "nothing" : `version ${after}`;
    this.#host.warn(
      `notification stream ${shownUrl(stream.url)} announced ${announced}, and the snapshot fetched then is ${shown}: ` +
        `announcements are acted on at most every ${hold} ms (doubling up to ${ceiling} ms) until one is delivered. The snapshot ` +
        "host may be behind the stream (a CDN not yet updated), or the stream announces versions never published",
    );
  }

  /** What was announced is served: events fetch at once again. */
  #delivered(): void {
    if (this.#warned && this.#stream !== undefined) {
      this.#host.warn(`notification stream ${shownUrl(this.#stream.url)}: the version announced is served; announcements are acted on at once again`);
    }
    [this.#holdUntil, this.#holdMs, this.#warned] = [0, undefined, false];
  }
}
