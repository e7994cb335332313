/** Pennon results as OpenFeature `ResolutionDetails`, shared by both providers. */

import type { ErrorCode, FlagMetadata, ResolutionDetails } from "@openfeature/core";
import type { FlagType, Resolution } from "./engine.js";

/** The value kinds OpenFeature asks for. */
export type Kind = "boolean" | "string" | "number" | "object";

/** The Pennon type to ask for: a number is an integer or a float flag. */
export function expectedType(kind: Kind, actual: FlagType | undefined): FlagType {
  if (kind === "number") return actual === "integer" ? "integer" : "float";
  return kind;
}

/** Whether a flag of type `actual` answers a request for `kind`. */
export function fits(kind: Kind, actual: FlagType): boolean {
  return kind === "number" ? actual === "integer" || actual === "float" : kind === actual;
}

/** An error resolution: the caller's default, reason `ERROR`. */
export function failed<T>(defaultValue: T, code: string, message: string, metadata?: FlagMetadata): ResolutionDetails<T> {
  return { value: defaultValue, reason: "ERROR", errorCode: code as ErrorCode, errorMessage: message, flagMetadata: metadata };
}

/**
 * A Pennon result as OpenFeature details. OpenFeature numbers are JavaScript numbers,
 * so an integer beyond 2^53 (a BigInt from the engine) is rounded to the nearest one.
 */
export function details<T>(result: Resolution, defaultValue: T, metadata: FlagMetadata): ResolutionDetails<T> {
  if (result.errorCode !== undefined) {
    return failed(defaultValue, result.errorCode, result.errorDetails ?? result.errorCode, metadata);
  }
  const value = typeof result.value === "bigint" ? Number(result.value) : result.value;
  return { value: value as T, variant: result.variant, reason: result.reason, flagMetadata: metadata };
}

/**
 * The message of a `TYPE_MISMATCH`, worded as the engine words it, except for a number:
 * OpenFeature has one number type, and its caller never asked for the "float" the
 * engine is asked for (`expectedType`), so the engine's "is string, not float" reads as
 * "is string, not a number".
 */
export function mismatch(key: string, actual: FlagType, kind: Kind): string {
  return `flag \`${key}\` is ${actual}, not ${kind === "number" ? "a number" : kind}`;
}
