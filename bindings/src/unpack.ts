/**
 * Reads the engine's scratch buffer (see `wasm/src/packed.rs` for the layout) into a
 * `Resolution`. Snapshot strings arrive as address and length; each is decoded once
 * and cached until the engine loads another snapshot (which may reuse addresses).
 * Metadata is cached per flag, frozen, and shared by that flag's results.
 *
 * Caches are kept per flag, by its position in the snapshot: a flag has a handful of
 * strings (variants, rule ids, a salt), so finding one is a scan of a few numbers
 * rather than a `Map` lookup per string, which took a sixth of a prepared evaluation.
 */

import type { Explanation, Reason, Resolution } from "./wasm/pennon_wasm.js";

const REASONS: Reason[] = ["STATIC", "TARGETING_MATCH", "SPLIT", "DEFAULT", "DISABLED", "ERROR"];
const MATCHED: Explanation["matched"][] = ["disabled", "prerequisite_failed", "target", "rule", "fallthrough", "error"];
const SLOTS = 24;
/** Strings kept per flag; a flag with more (a rollout over hundreds of variants) uses the shared map too. */
const PER_FLAG = 32;
const decoder = new TextDecoder();

/** What one flag's results share: its metadata and its decoded strings. */
class FlagCache {
  metadata: Resolution["metadata"] | undefined;
  /** Address and length of each decoded string, in pairs. */
  readonly spans: number[] = [];
  readonly texts: string[] = [];
}

/** Decodes scratch results for one engine. */
export class Unpacker {
  readonly #memory: WebAssembly.Memory;
  readonly #address: number;
  #view: Float64Array | undefined;
  #flags: (FlagCache | undefined)[] = [];
  #strings = new Map<number, { length: number; text: string }>();
  /** The flag of the last read that missed its metadata. */
  #pending: FlagCache | undefined;

  constructor(memory: WebAssembly.Memory, address: number) {
    this.#memory = memory;
    this.#address = address;
  }

  /** Forgets everything cached: the snapshot it pointed into is gone. */
  clear(): void {
    this.#flags = [];
    this.#strings.clear();
    this.#pending = undefined;
  }

  /**
   * The result in the scratch buffer for flag `key` at `position`, or `undefined` when
   * its metadata is not cached yet.
   */
  read(key: string, position: number): Resolution | undefined {
    const s = this.#slots();
    const flag = (this.#flags[position] ??= new FlagCache());
    let metadata: Resolution["metadata"] | undefined = {};
    if (s[7] !== 0) {
      metadata = flag.metadata;
      if (metadata === undefined) {
        this.#pending = flag;
        return undefined;
      }
    }
    const explanation: Explanation = { matched: MATCHED[s[1]], snapshotVersion: s[21] };
    if (s[16] > 0) {
      explanation.bucket = { attribute: this.#text(flag, s[19], s[20]), salt: this.#text(flag, s[17], s[18]), totalWeight: s[16], value: s[15] };
    }
    if (s[13] !== 0) explanation.prerequisite = this.#text(flag, s[13], s[14]);
    if (s[8] !== 0) {
      explanation.ruleId = this.#text(flag, s[8], s[9]);
      explanation.ruleIndex = s[10];
    }
    if (s[11] !== 0) explanation.segment = this.#text(flag, s[11], s[12]);
    const kind = s[2];
    const value = kind === 2 ? true : kind === 1 ? false : kind === 3 ? s[3] : this.#text(flag, s[3], s[4]);
    return { explanation, key, metadata, reason: REASONS[s[0]], value, variant: this.#text(flag, s[5], s[6]) };
  }

  /** Caches (frozen) the metadata of the read that missed; returns what to serve. */
  rememberMetadata(metadata: Resolution["metadata"]): Resolution["metadata"] {
    const flag = this.#pending;
    if (flag === undefined) return metadata;
    this.#pending = undefined;
    return (flag.metadata = Object.freeze(metadata));
  }

  #slots(): Float64Array {
    // Memory growth detaches the old buffer, and a view of a detached buffer is empty:
    // re-view it then. (Comparing `memory.buffer` on every read cost ~25 ns.)
    if (this.#view === undefined || this.#view.length === 0) {
      this.#view = new Float64Array(this.#memory.buffer, this.#address, SLOTS);
    }
    return this.#view;
  }

  /** The string at `address`, from `flag`'s own strings when it has been read before. */
  #text(flag: FlagCache, address: number, length: number): string {
    const spans = flag.spans;
    for (let i = 0; i < spans.length; i += 2) {
      if (spans[i] === address && spans[i + 1] === length) return flag.texts[i >> 1];
    }
    const text = this.#decoded(address, length);
    if (spans.length < 2 * PER_FLAG) {
      spans.push(address, length);
      flag.texts.push(text);
    }
    return text;
  }

  #decoded(address: number, length: number): string {
    const hit = this.#strings.get(address);
    if (hit !== undefined && hit.length === length) return hit.text;
    const text = decoder.decode(new Uint8Array(this.#memory.buffer, address, length));
    this.#strings.set(address, { length, text });
    return text;
  }
}
