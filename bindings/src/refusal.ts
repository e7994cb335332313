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
