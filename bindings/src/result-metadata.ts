/**
 * The flag metadata both providers give, as the Rust provider does: the flag's own,
 * then `snapshotVersion`, `version` (OpenFeature's well-known key, as a string: hooks
 * report it as `feature_flag.version`), `environment`, `flagSetId` (the environment:
 * one snapshot per environment) and the deciding rule's `ruleId`. These win over a
 * flag's own metadata of the same names, so a hook can trust them.
 */

import type { FlagMetadata } from "@openfeature/core";
import type { Resolution } from "./engine.js";

/** One flag's metadata in the served version: without a rule, and per deciding rule. */
interface FlagEntry {
  base: FlagMetadata;
  rules: Map<string, FlagMetadata> | undefined;
}

/** Metadata built once per flag and rule per snapshot version, frozen and shared by
 *  every result: a read allocates nothing. */
export class ResultMetadata {
  #version: number | undefined;
  readonly #flags = new Map<string, FlagEntry>();

  /** `environment`: the snapshot's, which the engine checked against it. */
  constructor(readonly environment: string) {}

  /** The metadata of `result`; a flag the snapshot lacks has none. */
  of(result: Resolution): FlagMetadata {
    if (result.errorCode === "FLAG_NOT_FOUND") return result.metadata;
    const version = result.explanation.snapshotVersion;
    if (version !== this.#version) {
      this.#flags.clear();
      this.#version = version;
    }
    let flag = this.#flags.get(result.key);
    if (flag === undefined) {
      const { environment } = this;
      const base = Object.freeze({ ...result.metadata, snapshotVersion: version, version: String(version), environment, flagSetId: environment });
      this.#flags.set(result.key, (flag = { base, rules: undefined }));
    }
    const ruleId = result.explanation.ruleId;
    if (ruleId === undefined) return flag.base;
    flag.rules ??= new Map();
    let withRule = flag.rules.get(ruleId);
    if (withRule === undefined) flag.rules.set(ruleId, (withRule = Object.freeze({ ...flag.base, ruleId })));
    return withRule;
  }
}
