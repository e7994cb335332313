/**
 * `new Engine(options)`: the options object checked as a strict JSON schema would check
 * it (no unknown members, whole numbers in range where counts and versions go), then
 * handed to the module as plain arguments. Reading it here rather than through
 * `Reflect` in the module took 1.5 KB off the gzipped module.
 */

import type { EngineOptions, PennonError } from "./wasm/pennon_wasm.js";
import { refusal } from "./refusal.js";
import { shown } from "./shown.js";

/** The module's `Engine` constructor arguments, in order. */
export type EngineArguments = [
  /** Each key followed by a line break. */
  keys: string,
  environment: string,
  threshold: number | undefined,
  graceMs: number | undefined,
  maxBytes: number | undefined,
  minVersion: number | undefined,
  heldVersion: number | undefined,
  heldPayloadSha256: Uint8Array | undefined,
  /** 0 server, 1 client, 2 either (`wasm/src/lib.rs`). */
  audience: number | undefined,
];

const MEMBERS = ["keys", "environment", "audience", "threshold", "graceMs", "maxBytes", "minVersion", "held"];
const AUDIENCES = ["server", "client", "any"];
const HELD_MEMBERS = ["version", "payloadSha256"];
const I64_END = 2 ** 63;
const U64_END = 2 ** 64;
const U32_END = 2 ** 32;

function invalid(message: string): PennonError {
  return refusal("invalid_options", `engine options: ${message}`);
}

/** What a string option was given instead, shown; `undefined` is most likely an unset
 *  environment variable (`keys: [env.PENNON_KEY]`), and is said to be. */
function given(value: unknown): string {
  return value === undefined ? "undefined (an unset environment variable?)" : shown(value);
}

/** A required member that is absent, or `undefined` (an unset environment variable). */
function missing(name: string): PennonError {
  return invalid(`\`${name}\` is missing or undefined (an unset environment variable?)`);
}

type Members = Record<string, unknown>;

function object(value: unknown, message: string): Members {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid(message);
  return value as Members;
}

/** Refuses a member that is not one of `allowed` (a misspelt option would be ignored). */
function checkMembers(members: Members, allowed: string[]): void {
  for (const name of Object.keys(members)) {
    if (members[name] !== undefined && !allowed.includes(name)) {
      throw invalid(`unknown member \`${name}\`, expected one of ${allowed.join(", ")}`);
    }
  }
}

/** A member's value; `undefined` when it is `undefined` or `null`, as in JSON text. */
function get(members: Members, name: string): unknown {
  const value = members[name];
  return value === null ? undefined : value;
}

/** A whole number in `start..end`, or `undefined` when absent. */
function integer(members: Members, name: string, start: number, end: number): number | undefined {
  const value = get(members, name);
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < start || value >= end) {
    throw invalid(`\`${name}\` must be a whole number in range`);
  }
  return value;
}

/** Checks `options` and returns the module constructor's arguments. */
export function engineArguments(options: EngineOptions): EngineArguments {
  const members = object(options, "expected an object");
  checkMembers(members, MEMBERS);
  const keys = get(members, "keys");
  if (keys === undefined) throw missing("keys");
  // A loop, not `every`: that skips the holes of a sparse array.
  if (!Array.isArray(keys)) throw invalid(`\`keys\` must be an array of strings, not ${shown(keys)}${typeof keys === "string" ? " (one key: [key])" : ""}`);
  for (let i = 0; i < keys.length; i++) if (typeof keys[i] !== "string") throw invalid(`\`keys[${i}]\` must be a string (\`ed25519:…\`), not ${given(keys[i])}`);
  const broken = keys.findIndex((key: string) => key.includes("\n"));
  if (broken >= 0) throw invalid(`\`keys[${broken}]\` has a line break; a key is one line (\`ed25519:…\`)`);
  const environment = get(members, "environment");
  if (environment === undefined) throw missing("environment");
  if (typeof environment !== "string") throw invalid(`\`environment\` must be a string, not ${shown(environment)}`);
  const audience = get(members, "audience");
  if (audience !== undefined && !AUDIENCES.includes(audience as string)) {
    throw invalid("`audience` must be \"server\", \"client\" or \"any\"");
  }
  let heldVersion: number | undefined;
  let heldSha: Uint8Array | undefined;
  const held = get(members, "held");
  if (held !== undefined) {
    const heldMembers = object(held, "`held` must be an object");
    checkMembers(heldMembers, HELD_MEMBERS);
    heldVersion = integer(heldMembers, "version", 0, U64_END);
    if (heldVersion === undefined) throw invalid("missing member `held.version`");
    const hex = get(heldMembers, "payloadSha256");
    if (typeof hex !== "string" || !/^[0-9a-fA-F]{64}$/.test(hex)) {
      throw invalid("held.payloadSha256 must be 64 hex digits");
    }
    heldSha = Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
  }
  return [
    (keys as string[]).map((key) => `${key}\n`).join(""),
    environment,
    integer(members, "threshold", 0, U32_END),
    integer(members, "graceMs", -I64_END, I64_END),
    integer(members, "maxBytes", 0, U32_END),
    integer(members, "minVersion", 0, U64_END),
    heldVersion,
    heldSha,
    audience === undefined ? undefined : AUDIENCES.indexOf(audience as string),
  ];
}
