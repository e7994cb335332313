/**
 * Reads the engine's scratch buffer (see `wasm/src/packed.rs` for the layout) into a
 * `Resolution`. Snapshot strings arrive as address and length; each is decoded once
 * and cached until the engine loads another snapshot (which may reuse addresses).
 * Metadata is cached per flag, frozen, and shared by that flag's results.
 */

import type { Explanation, Reason, Resolution } from "./wasm/pennon_wasm.js";

const REASONS: Reason[] = ["STATIC", "TARGETING_MATCH", "SPLIT", "DEFAULT", "DISABLED", "ERROR"];
const MATCHED: Explanation["matched"][] = ["disabled", "prerequisite_failed", "target", "rule", "fallthrough", "error"];
const SLOTS = 24;
const decoder = new TextDecoder();

/** Decodes scratch results for one engine. */
export class Unpacker {
  readonly #memory: WebAssembly.Memory;
  readonly #address: number;
  #view: Float64Array | undefined;
  #strings = new Map<number, { length: number; text: string }>();
  #metadata = new Map<number, Resolution["metadata"]>();
  /** The metadata address of the last read that missed the cache. */
  #pendingMetadata = 0;

  constructor(memory: WebAssembly.Memory, address: number) {
    this.#memory = memory;
    this.#address = address;
  }

  /** Forgets every cached string: the snapshot they pointed into is gone. */
  clear(): void {
    this.#strings.clear();
    this.#metadata.clear();
  }

  /** The result in the scratch buffer, or `undefined` when its metadata is not cached yet. */
  read(key: string): Resolution | undefined {
    const s = this.#slots();
    const metadataAddress = s[7];
    let metadata: Resolution["metadata"] | undefined = {};
    if (metadataAddress !== 0) {
      metadata = this.#metadata.get(metadataAddress);
      if (metadata === undefined) {
        this.#pendingMetadata = metadataAddress;
        return undefined;
      }
    }
    const explanation: Explanation = { matched: MATCHED[s[1]], snapshotVersion: s[21] };
    if (s[16] > 0) {
      explanation.bucket = { attribute: this.#text(s[19], s[20])!, salt: this.#text(s[17], s[18])!, totalWeight: s[16], value: s[15] };
    }
    if (s[13] !== 0) explanation.prerequisite = this.#text(s[13], s[14]);
    if (s[8] !== 0) {
      explanation.ruleId = this.#text(s[8], s[9]);
      explanation.ruleIndex = s[10];
    }
    if (s[11] !== 0) explanation.segment = this.#text(s[11], s[12]);
    const kind = s[2];
    const value = kind === 2 ? true : kind === 1 ? false : kind === 3 ? s[3] : this.#text(s[3], s[4]);
    return { explanation, key, metadata, reason: REASONS[s[0]], value, variant: this.#text(s[5], s[6]) };
  }

  /** Caches (frozen) the metadata of the read that missed; returns what to serve. */
  rememberMetadata(metadata: Resolution["metadata"]): Resolution["metadata"] {
    if (this.#pendingMetadata === 0) return metadata;
    const frozen = Object.freeze(metadata);
    this.#metadata.set(this.#pendingMetadata, frozen);
    this.#pendingMetadata = 0;
    return frozen;
  }

  #slots(): Float64Array {
    // Memory growth detaches the old buffer: re-view it then.
    if (this.#view === undefined || this.#view.buffer !== this.#memory.buffer) {
      this.#view = new Float64Array(this.#memory.buffer, this.#address, SLOTS);
    }
    return this.#view;
  }

  #text(address: number, length: number): string | undefined {
    if (address === 0) return undefined;
    const hit = this.#strings.get(address);
    if (hit !== undefined && hit.length === length) return hit.text;
    const text = decoder.decode(new Uint8Array(this.#memory.buffer, address, length));
    this.#strings.set(address, { length, text });
    return text;
  }
}
