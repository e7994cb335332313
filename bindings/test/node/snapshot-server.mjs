// A snapshot server on 127.0.0.1 for the provider tests, and OpenFeature event helpers.
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { once } from "node:events";

/** The `Last-Modified` date the server gives `body`: one of its own per body. */
export function lastModifiedOf(body) {
  const seconds = Number.parseInt(createHash("sha256").update(body).digest("hex").slice(0, 8), 16) % 10_000_000;
  return new Date((1_767_225_600 + seconds) * 1000).toUTCString();
}

/**
 * Serves `state.body` with an ETag; counts requests, 304s and body bytes sent
 * (`state.bodyBytes`). `state.validators` says what it validates with: `"etag"` (the
 * default), `"last-modified"` (a static host: `Last-Modified` only, 304 to a matching
 * `If-Modified-Since`) or `"both"`; `state.conditions` keeps each snapshot request's
 * `[If-None-Match, If-Modified-Since, status]`. `state.delayMs` holds
 * each answer back; a `state.status` other than 200 is sent with `state.retryAfter`; `state.chunked` sends the body without a Content-Length;
 * `state.afterServe` runs once a body has been chosen for a 200 (to change it for the
 * next request with no race against the client). `state.onRequest` sees each request
 * counted; `state.onStream` answers `/stream` (see `stream-server.mjs`), uncounted.
 */
export async function snapshotServer() {
  const state = { body: undefined, status: 200, requests: 0, notModified: 0, delayMs: 0, chunked: false, validators: "etag", bodyBytes: 0, conditions: [] };
  const server = createServer(async (request, response) => {
    if (state.onStream !== undefined && request.url.startsWith("/stream")) return state.onStream(request, response);
    state.requests++;
    state.onRequest?.(request);
    if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
    const asked = state.retryAfter === undefined ? {} : { "Retry-After": state.retryAfter };
    if (state.status !== 200 || state.body === undefined) return response.writeHead(state.status === 200 ? 404 : state.status, asked).end();
    const etag = `"${Buffer.from(state.body).toString("base64").slice(-20)}"`;
    const lastModified = lastModifiedOf(state.body);
    const validators = {
      ...(state.validators === "last-modified" ? {} : { ETag: etag }),
      ...(state.validators === "etag" ? {} : { "Last-Modified": lastModified }),
    };
    const { "if-none-match": ifNoneMatch, "if-modified-since": ifModifiedSince } = request.headers;
    // RFC 9110 13.2.2: If-None-Match first; If-Modified-Since only without it.
    const unmodified = ifNoneMatch !== undefined ? validators.ETag === ifNoneMatch : ifModifiedSince !== undefined && validators["Last-Modified"] === ifModifiedSince;
    state.conditions.push([ifNoneMatch, ifModifiedSince, unmodified ? 304 : 200]);
    if (unmodified) {
      state.notModified++;
      return response.writeHead(304, validators).end();
    }
    const body = Buffer.from(state.body);
    state.bodyBytes += body.length;
    state.afterServe?.();
    if (!state.chunked) return response.writeHead(200, { ...validators, "Content-Type": "application/json", "Content-Length": body.length }).end(body);
    response.writeHead(200, { ...validators, "Content-Type": "application/json" });
    for (let at = 0; at < body.length; at += 1024) response.write(body.subarray(at, at + 1024));
    response.end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  state.url = `http://127.0.0.1:${server.address().port}/snapshot`;
  state.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  return state;
}

/** Resolves with the next `event` details from an OpenFeature emitter. */
export function next(api, domain, event) {
  return new Promise((resolve) => {
    const client = api.getClient(domain);
    const handler = (details) => {
      client.removeHandler(event, handler);
      resolve(details);
    };
    client.addHandler(event, handler);
  });
}

/** Resolves with a provider's own next `event` (`PROVIDER_STALE`, …), no SDK between. */
export const providerEvent = (provider, event) => new Promise((resolve) => provider.events.addHandler(event, resolve));

/** Records every `events` of `domain`'s client, in order, into the returned array. */
export function record(api, domain, events) {
  const seen = [];
  const client = api.getClient(domain);
  for (const event of events) client.addHandler(event, (details) => seen.push(details?.flagsChanged ? `${event} ${details.flagsChanged}` : event));
  return seen;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const quiet = { warn() {} };
