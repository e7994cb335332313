/**
 * One GET of the snapshot URL. Redirects are followed as `redirects.ts` says, keeping
 * `headers` to the URL's origin; the snapshot is signed, so where it is finally served
 * from needs no trust. A body not read is cancelled: left alone, each failed poll
 * holds a socket until the runtime collects it.
 */

import { httpCache } from "#platform";
import { joined } from "./joined.js";
import { discard, getFollowing } from "./redirects.js";

/**
 * What the next request revalidates the envelope held with: its ETag, sent as
 * `If-None-Match`, or where the host sent none (a static host such as `python3 -m
 * http.server`), its `Last-Modified`, sent as `If-Modified-Since` as it came. Never
 * both: RFC 9110 13.1.3 has a server weigh the ETag only.
 */
export type Validator = { etag: string } | { lastModified: string };

/** What a GET brought: nothing new (304), or an envelope and its validator. */
export type Fetched = { kind: "unchanged" } | { kind: "envelope"; bytes: Uint8Array; validator: Validator | undefined };

export interface EnvelopeRequest {
  url: URL;
  headers: Record<string, string> | undefined;
  /** Sent only while a snapshot is held. */
  validator: Validator | undefined;
  fetch: typeof fetch;
  signal: AbortSignal;
  /** The engine's `maxBytes`. */
  maxBytes: number;
}

/** An answer other than the envelope, with the wait the server asked for (`Retry-After`),
 *  the server's own explanation, and where it came from after a redirect to another
 *  origin (which was not sent `headers`: a 401 there is no fault of the SDK key). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
    detail?: string,
    redirectedTo?: URL,
  ) {
    const wait = retryAfterMs === undefined ? "" : ` (Retry-After: ${retryAfterMs / 1000} s)`;
    const where = redirectedTo === undefined ? "" : ` from ${redirectedTo.origin}${redirectedTo.pathname} (redirected to another origin, so \`headers\` were not sent)`;
    super(`HTTP ${status}${where}${wait}${detail === undefined ? "" : `: ${detail}`}`);
  }
}

/** GETs `request.url`; throws a message saying what went wrong (`HTTP 503`, …). */
export async function fetchEnvelope(request: EnvelopeRequest): Promise<Fetched> {
  const held = request.validator;
  const condition: Record<string, string> =
    held === undefined ? {} : "etag" in held ? { "If-None-Match": held.etag } : { "If-Modified-Since": held.lastModified };
  // A browser's HTTP cache may hold the envelope: asked to revalidate, it never serves
  // it as fresh by a guess from `Last-Modified` (RFC 9111 4.2.2), which could hide a
  // new version for hours. (With a validator of the provider's, it is bypassed.)
  const init = held === undefined ? httpCache : undefined;
  const { response, url } = await getFollowing({ ...request, always: condition, init });
  if (response.status === 304) {
    discard(response);
    // Nothing held to be unchanged from: a server answering so would never be read.
    if (held === undefined) throw new Error("HTTP 304 to a request without If-None-Match or If-Modified-Since");
    return { kind: "unchanged" };
  }
  if (!response.ok) throw await httpError(response, url, request.url);
  const bytes = await readCapped(response, request.maxBytes, request.signal);
  return { kind: "envelope", bytes, validator: validatorOf(response.headers) };
}

/**
 * A response's validator: its `ETag`, else its `Last-Modified` where the runtime has
 * no HTTP cache. In browsers the cache revalidates by `Last-Modified` itself (see
 * `httpCache`): `If-Modified-Since` set by the page is no CORS-safelisted header, so a
 * bucket on another origin whose CORS rules allow none would refuse every poll.
 */
function validatorOf(headers: Headers): Validator | undefined {
  const etag = headers.get("ETag");
  if (etag !== null) return { etag };
  const lastModified = httpCache === undefined ? headers.get("Last-Modified") : null;
  return lastModified === null ? undefined : { lastModified };
}

/** Whether `a` and `b` are the same validator (or both none). */
export function sameValidator(a: Validator | undefined, b: Validator | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return "etag" in a ? "etag" in b && a.etag === b.etag : "lastModified" in b && a.lastModified === b.lastModified;
}

/** An error answer as an `HttpError`: its `Retry-After`, what its body says, and where
 *  it came from if a redirect led to another origin than `requested`'s. */
export async function httpError(response: Response, url: URL, requested: URL): Promise<HttpError> {
  const detail = await errorDetail(response);
  const redirectedTo = url.origin === requested.origin ? undefined : url;
  return new HttpError(response.status, retryAfter(response.headers.get("Retry-After")), detail, redirectedTo);
}

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date (RFC 9110 10.2.3). */
export function retryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Longest server explanation kept in a message, characters. */
const DETAIL_MAX = 200;

/**
 * What an error answer says, in one line: the `error.message` (or `message`) of a JSON
 * body, as `pennon serve` and most APIs send, after the member it names (`error.field`,
 * `counts[3].count: must be ...`), or a plain-text body. A 401 for a missing
 * header and one for a revoked key otherwise read alike. Pages (HTML) are left out,
 * and at most 4 KiB is read.
 */
export async function errorDetail(response: Response): Promise<string | undefined> {
  const type = response.headers.get("Content-Type") ?? "";
  const json = /[/+]json\b/.test(type);
  if (response.body === null || !(json || type.startsWith("text/plain"))) {
    discard(response);
    return undefined;
  }
  const text = await bodyStart(response);
  if (text === undefined) return undefined;
  let detail: unknown = text;
  if (json) {
    try {
      const body = JSON.parse(text) as { error?: { message?: unknown; field?: unknown } | string; message?: unknown } | null;
      detail = (typeof body?.error === "object" ? body.error.message : body?.error) ?? body?.message ?? text;
      const field = typeof body?.error === "object" ? body.error.field : undefined;
      if (typeof detail === "string" && typeof field === "string" && field !== "") detail = `${field}: ${detail}`;
    } catch {
      // Cut short or not JSON: the text as it came.
    }
  }
  if (typeof detail !== "string") return undefined;
  const line = detail.replace(/\s+/g, " ").trim();
  return line === "" ? undefined : line.length > DETAIL_MAX ? `${line.slice(0, DETAIL_MAX)}…` : line;
}

/** The first 4 KiB or so of `response`'s body as text (the rest is cancelled);
 *  `undefined` if it could not be read. */
export async function bodyStart(response: Response): Promise<string | undefined> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (let read = await reader.read(); !read.done && text.length < 4096; read = await reader.read()) {
      text += decoder.decode(read.value, { stream: true });
    }
  } catch {
    return undefined;
  } finally {
    reader.cancel().catch(() => {});
  }
  return text;
}

/**
 * The body, refused once it passes `limit` bytes (the engine's `maxBytes`): an
 * oversized response is never buffered whole, and one that declares its length is
 * refused before it is read.
 */
async function readCapped(response: Response, limit: number, signal: AbortSignal): Promise<Uint8Array> {
  const tooLarge = (size: string) => new Error(`the envelope is ${size} bytes, over maxBytes (${limit})`);
  const declared = Number(response.headers.get("Content-Length") ?? Number.NaN);
  if (declared > limit) {
    discard(response);
    throw tooLarge(String(declared));
  }
  if (response.body === null) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    chunks.push(read.value);
    length += read.value.length;
    if (signal.aborted) {
      reader.cancel().catch(() => {});
      signal.throwIfAborted();
    }
    if (length > limit) {
      reader.cancel().catch(() => {});
      throw tooLarge(`more than ${limit}`);
    }
  }
  return joined(chunks, length);
}
