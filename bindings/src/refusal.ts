/** Refusals made in JavaScript, shaped as the module's own (`wasm/src/convert.rs`). */

import type { ErrorKind, PennonError } from "./wasm/pennon_wasm.js";

/** An `Error` whose message starts with `kind` and which carries it, as `isPennonError` expects. */
export function refusal(kind: ErrorKind, message: string): PennonError {
  const error = new Error(`${kind}: ${message}`) as PennonError;
  error.name = "PennonError";
  error.kind = kind;
  return error;
}
