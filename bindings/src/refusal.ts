/** Refusals made in JavaScript, shaped as the module's own (`wasm/src/convert.rs`). */

import type { ErrorKind, PennonError } from "./wasm/pennon_wasm.js";

/** An `Error` whose message starts with `kind` and which carries it, as `isPennonError` expects. */
export function refusal(kind: ErrorKind, message: string): PennonError {
  const error = new Error(`${kind}: ${message}`) as PennonError;
  error.name = "PennonError";
  error.kind = kind;
  return error;
}

/** Whether `error` is a Pennon refusal, optionally of one kind. */
export function isPennonError(error: unknown, kind?: ErrorKind): error is PennonError {
  if (!(error instanceof Error) || typeof (error as Partial<PennonError>).kind !== "string") return false;
  return kind === undefined || (error as PennonError).kind === kind;
}

/** How much of what a getter or `toJSON` threw a refusal quotes (UTF-16 units). */
const REASON_LIMIT = 300;

/** The refusal of a context whose conversion threw `error`, naming it. */
export function unwritable(error: unknown): PennonError {
  let reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  // A getter's own failed evaluation would otherwise nest its message once per level.
  if (reason.length > REASON_LIMIT) reason = `${reason.slice(0, REASON_LIMIT)}…`;
  return refusal("invalid_context", `the context cannot be written as JSON: ${reason}`);
}
