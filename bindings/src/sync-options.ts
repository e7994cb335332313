/**
 * What both providers' syncing takes and tells: its options, the store it keeps the
 * last good envelope in, its events and outcomes (`Sync` in `sync.ts` runs it).
 */

import type { WasmSource } from "./engine.js";
import type { Validator } from "./fetch-envelope.js";
import type { Exposure, ExposureScope } from "./telemetry.js";
import type { TelemetryOptions } from "./telemetry-options.js";

/** Options common to the web and server providers. */
export interface PennonOptions {
  /** Trusted public keys, `ed25519:<base64>`. */
  keys: string[];
  /** The environment snapshots must be signed for. */
  environment: string;
  /**
   * Whom snapshots must be for: `"server"` (every flag; the server provider's default),
   * `"client"` (browser snapshots, client-visible flags only) or `"any"` (the web
   * provider's default). A server provider must not take a browser snapshot, which
   * lacks every server-only flag.
   */
  audience?: "server" | "client" | "any";
  /** Distinct trusted keys that must sign (default 1). */
  threshold?: number;
  /** Serve snapshots up to this long past `expires_at`, milliseconds (default 0). */
  graceMs?: number;
  /** Largest envelope accepted, bytes (default 16 MiB). */
  maxBytes?: number;
  /** Envelope bytes (any typed-array view), an `ArrayBuffer` or its text, to load at
   *  initialization: a bootstrap. */
  envelope?: ArrayBufferView | ArrayBufferLike | string;
  /** An HTTP(S) URL serving the envelope, polled with `If-None-Match` (or
   *  `If-Modified-Since`, from a host that sends `Last-Modified` and no ETag). */
  url?: string | URL;
  /** Headers sent with every request (for example an SDK key): a record, a `Headers` or
   *  `[name, value]` pairs. Where the runtime shows redirects (Node, Deno, Bun, workerd),
   *  not to another origin one points to; browsers follow redirects themselves. */
  headers?: Record<string, string> | Headers | [string, string][];
  /**
   * A server-sent-events URL announcing new versions (the control plane's
   * `/v1/stream/{env}`), held open so that a change is fetched within milliseconds
   * rather than at the next poll. An event makes the provider fetch `url` at once,
   * unless it names a version already served; what it says is never loaded (only the
   * signed snapshot is). Sent `headers`, with redirects followed as `url`'s are.
   * Reconnects with the backoff; polling goes on meanwhile (`pollIntervalMs: 0` with a
   * stream is a valid setup). Needs `url`; refused in Workers, where no request
   * outlives the one that started it. See the README's "Notification stream".
   */
  notificationUrl?: string | URL;
  /** Reconnects a notification stream silent for this long, ms (default 90,000; the
   *  control plane sends a heartbeat every 15 s). */
  streamIdleTimeoutMs?: number;
  /** Time between polls after a success, ms (default 30,000). 0: no polling, but a
   *  failed request is still retried with backoff until one succeeds. */
  pollIntervalMs?: number;
  /** Shortens each poll interval and backoff by a random fraction up to this (default
   *  0.2); a server's `Retry-After` is waited out in full. */
  jitter?: number;
  /** Backoff after failures: first wait, doubling up to `backoffMaxMs` (1 s, 60 s). */
  backoffInitialMs?: number;
  /** Longest backoff wait, ms (default 60,000). */
  backoffMaxMs?: number;
  /** Timeout of one request, body included, ms (default 10,000). */
  requestTimeoutMs?: number;
  /** How long `initialize` waits for the module and the first fetch, ms (default 5,000). */
  initTimeoutMs?: number;
  /**
   * Whether `initialize` waits for the URL's first answer (up to `initTimeoutMs`) when a
   * bootstrap `envelope` or a stored one is served. Web default `false`: the page renders
   * at once, and what the URL serves later arrives as `ConfigurationChanged`. Server
   * default `true`: an envelope shipped with a deploy may be old, and a kill switch
   * flipped since must win from the first request.
   */
  waitForUrl?: boolean;
  /** Report STALE once syncing has failed for this long, ms (default 300,000). */
  staleAfterMs?: number;
  /** Queue up to this many exposures for `telemetry.drainExposures` (default 0), or
   *  for the reports `telemetry` sends. */
  exposureCapacity?: number;
  /** Which evaluations are exposures, for the queue and `onExposure`: `"split"` (the
   *  default: those a rollout decided) or `"all"` (every one that served a variant). */
  exposures?: ExposureScope;
  /** Called with every exposure (in `exposures`' scope), the record the queue holds,
   *  frozen, with or without a queue: for your analytics pipeline, while the reports
   *  send them to the control plane too. Runs inside the evaluation: keep it quick. A
   *  throw (or a rejected promise) is logged once and the evaluation returns as usual. */
  onExposure?: (exposure: Exposure) => unknown;
  /** Report evaluation counts, not-found keys and exposures to the control plane:
   *  `{ url, sdkKey, intervalMs? }` (default: off). See the README's "Telemetry". */
  telemetry?: TelemetryOptions;
  /** The WebAssembly module: a `WebAssembly.Module` (an imported `.wasm`), bytes, a
   *  URL, or a file path in Node (`wasmBinaryPath`). Default: the package's own. */
  wasm?: WasmSource | Promise<WasmSource>;
  /** The clock, Unix milliseconds (default `Date.now`). */
  clock?: () => number;
  /** The `fetch` to use (default the global one). */
  fetch?: typeof fetch;
  /** Where warnings go (default `console`); a logger that throws is ignored. */
  logger?: PennonLogger;
}

/**
 * What the `logger` option needs: `warn`, called as a method with one string. The
 * other levels are allowed, so that `console`, an OpenFeature `Logger` literal
 * (`{ error, warn, info, debug }`) or pino's logger can be passed as they are.
 */
export interface PennonLogger {
  warn(...args: unknown[]): void;
  error?(...args: unknown[]): void;
  info?(...args: unknown[]): void;
  debug?(...args: unknown[]): void;
}

/** A kept envelope; its version and validator as the store recorded them (unverified). */
export interface StoredEnvelope {
  text: string;
  version: number | undefined;
  validator: Validator | undefined;
}

/** Where the last good envelope is kept between runs: the web provider's storage, the
 *  server provider's `cacheDir` in Node. */
export interface EnvelopeStore {
  /** How logs and STALE messages name it: the cache file (`the last-known-good cache
   *  /var/cache/pennon/…`); none for storage. */
  readonly where?: string;
  /** The envelope's text, and the version and validator it was kept with. */
  load(): StoredEnvelope | undefined;
  /** Keeps `text` unless the store holds a newer version (another tab's), by its
   *  record: a record kept with `untrusted`, the stored text this client could not
   *  trust (refused, or kept under another version), does not count. */
  save(text: string, version: number, validator: Validator | undefined, untrusted: string | undefined): void;
}

/** A newly served snapshot: the flags whose outcomes may differ from the last one's. */
export interface SnapshotChange {
  flagsChanged: string[];
  version: number;
}

/**
 * What the host hears from a `Sync`. A snapshot that ends STALE or ERROR comes with the
 * `ready` it causes, to be announced after it: the SDK takes a status from READY and
 * none from CONFIGURATION_CHANGED, so a change announced first would reach its
 * handlers while the client still said STALE, with the new snapshot already served.
 */
export type SyncEvent =
  | ({ type: "changed" } & SnapshotChange)
  | { type: "ready"; change?: SnapshotChange }
  | { type: "stale"; message: string }
  | { type: "error"; message: string };

/** How one attempt to sync ended. */
export type SyncOutcome = "updated" | "unchanged" | "failed";

/** A start that can never succeed as configured: options, keys or trust policy. */
export class FatalStartError extends Error {}

/**
 * What an `initialize` that `onClose` overtook returns: a promise that never settles,
 * holding no timer or request (`Sync.stop` ended them). The SDKs announce whatever
 * `initialize` settles with, to the clients of the domain as it is then, without
 * asking whether the provider is still the one set there: resolved, they would hear
 * READY from a provider that is closed; rejected, ERROR, while the provider that
 * replaced it (`setProvider`, `clearProviders`) starts or serves. Unsettled, nothing is
 * announced: the status stays NOT_READY, as the OpenFeature spec says of a provider
 * after shutdown. The cost, documented: a `setProviderAndWait` for it waits on.
 */
export function closedMidStart(): Promise<never> {
  return new Promise<never>(() => {});
}
