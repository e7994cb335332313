/**
 * What a notification stream's announcements fetch. An announcement makes the provider
 * fetch its URL at once, unless the version it names is served already. One that
 * comes while a request is under way waits for it, then fetches again unless that
 * request brought the version: it may have been answered before the version was
 * published (the Rust provider's poll loop, woken during a request, also fetches
 * again after it). Announcements during one request need one more request, not one
 * each.
 */

/** What announcements need of the provider. */
export interface AnnouncementHost {
  /** The snapshot version served, if any. */
  servedVersion(): number | undefined;
  /** The snapshot request under way, if any. */
  underWay(): Promise<unknown> | undefined;
  /** Fetches the URL now, as a poll does, for the start of `generation` (none if it
   *  was closed since). */
  fetchNow(generation: number): Promise<unknown>;
}

export class Announcements {
  readonly #host: AnnouncementHost;
  /** The newest version announced and not fetched for yet: `Infinity` for an
   *  announcement that names none (a reconnect's, or an event's free text). */
  #wanted: number | undefined;
  /** The start whose stream announced last. */
  #generation = 0;
  #fetching = false;

  constructor(host: AnnouncementHost) {
    this.#host = host;
  }

  /** An announcement of `version` (`undefined`: one that names none). */
  announce(generation: number, version: number | undefined): void {
    const wanted = version ?? Number.POSITIVE_INFINITY;
    if (this.#served(wanted)) return;
    this.#wanted = Math.max(this.#wanted ?? 0, wanted);
    this.#generation = generation;
    if (!this.#fetching) void this.#fetch();
  }

  #served(version: number): boolean {
    const served = this.#host.servedVersion();
    return served !== undefined && version <= served;
  }

  /** Fetches until nothing announced is missing; never rejects. */
  async #fetch(): Promise<void> {
    this.#fetching = true;
    try {
      await this.#host.underWay()?.catch(() => {});
      while (this.#wanted !== undefined && !this.#served(this.#wanted)) {
        this.#wanted = undefined;
        await this.#host.fetchNow(this.#generation).catch(() => {});
      }
    } finally {
      this.#wanted = undefined;
      this.#fetching = false;
    }
  }
}
