/**
 * A GET that follows redirects itself rather than leave them to `fetch`, so that the
 * caller's `headers` (an SDK key) never leave their origin, as `curl --location` keeps
 * them. The snapshot requests and the notification stream follow the same rule.
 */

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

export interface FollowedGet {
  url: URL;
  /** Sent to the URL's own origin only (the `headers` option). */
  headers: Record<string, string> | undefined;
  /** Sent to every origin on the way (`If-None-Match`, `Accept`). */
  always: Record<string, string>;
  fetch: typeof fetch;
  signal: AbortSignal;
  /** More of the request (`cache`). */
  init?: RequestInit | undefined;
}

/** The final answer and where it came from. Throws for too many redirects, or one to
 *  a place that cannot be fetched. */
export async function getFollowing(request: FollowedGet): Promise<{ response: Response; url: URL }> {
  let headers = { ...request.headers, ...request.always };
  let url = request.url;
  // Called unbound: browsers' and workerd's `fetch` throw "Illegal invocation" when
  // called as a method of another object.
  const get = request.fetch;
  for (let hops = 0; ; hops++) {
    const init = { ...request.init, headers, signal: request.signal };
    let response = await get(url, { ...init, redirect: "manual" });
    // A `fetch` option may drop the signal: an abandoned request goes no further.
    request.signal.throwIfAborted();
    // Browsers hide a redirect's target from `manual`: they follow it themselves, under
    // their own rules for headers.
    if (response.type === "opaqueredirect") response = await get(url, init);
    const location = REDIRECTS.has(response.status) ? response.headers.get("Location") : null;
    if (location === null) return { response, url };
    discard(response);
    if (hops === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    const next = redirectTarget(location, url, response.status);
    if (next.origin !== url.origin) headers = { ...request.always };
    url = next;
  }
}

function redirectTarget(location: string, from: URL, status: number): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new Error(`HTTP ${status} redirects to an invalid Location`);
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") throw new Error(`HTTP ${status} redirects to ${next.protocol}`);
  return next;
}

/** Cancels a body not read: left alone, each failed request holds a socket until the
 *  runtime collects it. */
export function discard(response: Response): void {
  response.body?.cancel().catch(() => {});
}
