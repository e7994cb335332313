/** How the sync loop tells errors in its logs, and which module errors are final. */

import { isPennonError } from "./refusal.js";

/** An error as a log line: its name unless a plain `Error`, and its causes (Node's
 *  `fetch failed` says why only there). */
export function described(error: unknown): string {
  if (isPennonError(error)) return error.message;
  if (!(error instanceof Error)) return String(error);
  const text = error.name === "Error" ? error.message : `${error.name}: ${error.message}`;
  return error.cause === undefined ? text : `${text} (${described(error.cause)})`;
}

/** Whether no retry can load the module: it does not compile or link, or the source
 *  says so (a URL serving a page, a file that is not there). */
export function isNeverLoadable(error: unknown): boolean {
  if (error instanceof WebAssembly.CompileError || error instanceof WebAssembly.LinkError) return true;
  return typeof error === "object" && error !== null && (error as { permanent?: unknown }).permanent === true;
}
