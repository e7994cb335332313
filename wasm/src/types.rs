//! The TypeScript side of the exports, written next to the Rust that produces it:
//! `wasm-bindgen` copies this section into the generated `.d.ts`.

use wasm_bindgen::prelude::*;

use crate::convert::{refusal, JsResult};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Options of `new Engine(...)`. */
export interface EngineOptions {
  /** Trusted public keys, `ed25519:<base64>`. */
  keys: string[];
  /** The environment snapshots must be for. */
  environment: string;
  /**
   * Whom snapshots must be for (their `audience`): `"server"` (the default), `"client"`
   * (browser snapshots, client-visible flags only) or `"any"`. A server must not take a
   * browser snapshot: it lacks every server-only flag.
   */
  audience?: "server" | "client" | "any";
  /** Distinct trusted keys that must sign (default 1). */
  threshold?: number;
  /** Accept snapshots this many milliseconds past `expires_at` (default 0). */
  graceMs?: number;
  /** Refuse envelopes longer than this (default 16 MiB). */
  maxBytes?: number;
  /** While nothing is held, refuse versions below this one (the last version seen). */
  minVersion?: number;
  /** A snapshot the host already serves: loads are checked against it. */
  held?: { version: number; payloadSha256: string };
}

/** An evaluation context: `targetingKey` plus attributes. BigInt integers stay exact. */
export type EvaluationContext = { targetingKey?: string | null; [attribute: string]: unknown } | null | undefined;

/** A served value: integers beyond 2^53 come back as BigInt. */
export type FlagValue = boolean | string | number | bigint | object;

/** OpenFeature resolution reasons Pennon reports. */
export type Reason = "STATIC" | "TARGETING_MATCH" | "SPLIT" | "DEFAULT" | "DISABLED" | "ERROR";

/** OpenFeature error codes Pennon reports. */
export type ErrorCode = "FLAG_NOT_FOUND" | "TYPE_MISMATCH" | "PARSE_ERROR" | "TARGETING_KEY_MISSING" | "GENERAL";

/** Where a rollout placed the context. */
export interface Bucket { value: number; totalWeight: number; salt: string; attribute: string }

/** What decided a result. */
export interface Explanation {
  snapshotVersion: number;
  matched: "disabled" | "prerequisite_failed" | "target" | "rule" | "fallthrough" | "error";
  ruleId?: string;
  ruleIndex?: number;
  segment?: string;
  prerequisite?: string;
  bucket?: Bucket;
}

/** One flag's result, OFREP-shaped. `value` and `variant` are absent on error. */
export interface Resolution {
  key: string;
  value?: FlagValue;
  variant?: string;
  reason: Reason;
  errorCode?: ErrorCode;
  errorDetails?: string;
  /** The flag's metadata, read-only: results of one flag may share one frozen object. */
  readonly metadata: Readonly<Record<string, string | number | boolean>>;
  explanation: Explanation;
}

/** The `kind` of a thrown Pennon error: a SPEC 2.3 check name or a shim condition. */
export type ErrorKind =
  | "too_large" | "malformed_envelope" | "wrong_payload_type" | "unknown_key" | "bad_signature"
  | "below_threshold" | "malformed_payload" | "unsupported_schema" | "wrong_environment"
  | "wrong_audience" | "rollback"
  | "version_conflict" | "expired" | "limit_exceeded" | "invalid_snapshot" | "invalid_key"
  | "invalid_policy" | "invalid_context" | "invalid_time" | "invalid_options" | "invalid_type"
  | "not_ready" | "internal";

/** What every Pennon export throws: `message` starts with `kind`. */
export interface PennonError extends Error { kind: ErrorKind }
"#;

#[wasm_bindgen]
extern "C" {
    /// `EvaluationContext` in TypeScript.
    #[wasm_bindgen(typescript_type = "EvaluationContext")]
    pub type EvaluationContext;
    /// `Resolution` in TypeScript.
    #[wasm_bindgen(typescript_type = "Resolution")]
    pub type Resolution;
}

/// The type a caller expects of a flag; another type is a `TYPE_MISMATCH` result.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagType {
    /// `true` or `false`.
    Boolean = "boolean",
    /// A string.
    String = "string",
    /// A signed 64-bit integer.
    Integer = "integer",
    /// A 64-bit float.
    Float = "float",
    /// A JSON object or array.
    Object = "object",
}

impl FlagType {
    /// The exported name of a core type.
    pub(crate) fn from_core(kind: pennon_core::FlagType) -> FlagType {
        match kind {
            pennon_core::FlagType::Boolean => FlagType::Boolean,
            pennon_core::FlagType::String => FlagType::String,
            pennon_core::FlagType::Integer => FlagType::Integer,
            pennon_core::FlagType::Float => FlagType::Float,
            pennon_core::FlagType::Object => FlagType::Object,
        }
    }

    /// The core's type; an unknown string from JavaScript is `invalid_type`.
    pub(crate) fn to_core(self) -> JsResult<pennon_core::FlagType> {
        Ok(match self {
            FlagType::Boolean => pennon_core::FlagType::Boolean,
            FlagType::String => pennon_core::FlagType::String,
            FlagType::Integer => pennon_core::FlagType::Integer,
            FlagType::Float => pennon_core::FlagType::Float,
            FlagType::Object => pennon_core::FlagType::Object,
            #[allow(unreachable_patterns)] // wasm-bindgen adds a hidden variant for bad strings
            _ => return Err(refusal("invalid_type", "expected boolean, string, integer, float or object")),
        })
    }
}
