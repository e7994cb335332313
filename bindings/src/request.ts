/**
 * One snapshot request of the sync loop: sent with its own timeout and abort, and
 * answered as a value, never a rejection, so that an answer can wait (for the module)
 * without going unhandled.
 */

import { fetchEnvelope, type Fetched, type Validator } from "./fetch-envelope.js";
import { later } from "./timers.js";

/** Why `stop` aborts a request. */
export const STOPPED = Symbol("stopped");
/** Why `refresh` aborts a request an ended Workers request left behind. */
export const ABANDONED = Symbol("abandoned");
/** Why a start whose module failed aborts the request it sent while the module loaded. */
export const DROPPED = Symbol("dropped");

/** What a request brought, or why it failed. */
export type Answer = { fetched: Fetched } | { error: unknown };

/** A request sent: when it began (for STALE), what aborts it, and its answer. */
export interface Sent {
  began: number;
  controller: AbortController;
  answer: Promise<Answer>;
}

/** What to request, and how. */
export interface RequestSpec {
  url: URL;
  validator: Validator | undefined;
  headers: Record<string, string> | undefined;
  fetch: typeof globalThis.fetch;
  maxBytes: number;
  timeoutMs: number;
}

/** Sends a GET at `began` (the provider's clock), aborted after `timeoutMs`; none where
 *  no timer can be made (a Workers module's top level, where no request may start). */
export function sendRequest(spec: RequestSpec, began: number): Sent | undefined {
  const { timeoutMs } = spec;
  const timer = later(() => controller.abort(new Error(`no answer within requestTimeoutMs (${timeoutMs} ms)`)), timeoutMs, { unref: false });
  if (timer === undefined) return undefined;
  const controller = new AbortController();
  // Raced as well as aborted: a `fetch` option that drops the signal must hold
  // neither polling (a timeout) nor `stop` (which aborts with STOPPED).
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
  });
  const request = { url: spec.url, headers: spec.headers, validator: spec.validator, fetch: spec.fetch, signal: controller.signal, maxBytes: spec.maxBytes };
  const answer = Promise.race([fetchEnvelope(request), aborted])
    .then((fetched): Answer => ({ fetched }), (error: unknown): Answer => ({ error }))
    .finally(() => clearTimeout(timer));
  return { began, controller, answer };
}

/** Whether `stop`, an abandoned request's cleanup or a failed module called the
 *  request off: no failure of the source. */
export function calledOff(controller: AbortController): boolean {
  const reason: unknown = controller.signal.reason;
  return reason === STOPPED || reason === ABANDONED || reason === DROPPED;
}
