/**
 * Contexts converted once for many evaluations, and the bucketing functions: the
 * module's own, through the instance in use (`instance.ts`).
 */

import type { EvaluationContext, PreparedContext as ModuleContext } from "./wasm/pennon_wasm.js";
import { contextJsonForModule } from "./context-json.js";
import { failure, freeIn, generation, instance, type Thrown } from "./instance.js";
import { refusal, unwritable } from "./refusal.js";

/**
 * A context converted once, for many evaluations (`Engine.evaluatePrepared`). It keeps
 * its JSON text, so that after a trap it converts again in the new instance.
 */
export class PreparedContext {
  /** Set by `fromJson` for the constructor it calls. */
  static #pendingText: string | undefined;
  readonly #text: string;
  #module: ModuleContext | undefined;
  #generation = -1;
  #freed = false;

  /**
   * Converts a context object (`targetingKey` plus attributes; BigInt integers are
   * kept exact). Throws `invalid_context` when it is not an object. Given another
   * `PreparedContext`, copies it (read as an object, it would be an empty one).
   */
  constructor(context: EvaluationContext | PreparedContext) {
    this.#text = PreparedContext.#pendingText ?? (context instanceof PreparedContext ? context.#live().#text : textOf(context));
    this.moduleContext();
  }

  /** This context; a `TypeError` once freed. */
  #live(): this {
    if (this.#freed) throw new TypeError("pennon: this PreparedContext was freed");
    return this;
  }

  /**
   * Reads a context from JSON text with the core's own reader, exactly as Rust hosts
   * do: for request bodies passed through, and numbers JavaScript cannot express (a
   * float `42.0` stays a float). Throws `invalid_context`.
   */
  static fromJson(text: string): PreparedContext {
    if (typeof text !== "string") throw new TypeError("pennon: PreparedContext.fromJson takes JSON text, a string");
    PreparedContext.#pendingText = text;
    try {
      return new PreparedContext(undefined as unknown as EvaluationContext);
    } finally {
      PreparedContext.#pendingText = undefined;
    }
  }

  /** The targeting key, if the context has one. */
  get targetingKey(): string | undefined {
    const context = this.moduleContext();
    try {
      return context.targetingKey;
    } catch (error) {
      if (failure.error === undefined || (failure.error as Thrown)?.kind !== undefined) failure.error = error;
      throw error;
    }
  }

  /** Frees the module's copy now rather than when this object is collected. */
  free(): void {
    this.#freed = true;
    freeIn(this.#generation, this.#module);
    this.#module = undefined;
  }

  [Symbol.dispose](): void {
    this.free();
  }

  /** @internal Whether `free` was called. */
  get freed(): boolean {
    return this.#freed;
  }

  /**
   * @internal `moduleContext()` for a caller that has just called `instance()`, so
   * that an evaluation asks for the instance once.
   */
  moduleContextNow(): ModuleContext {
    if (this.#generation === generation && this.#module !== undefined) return this.#module;
    return this.moduleContext();
  }

  /** @internal The module's copy, converted again if the instance was replaced. */
  moduleContext(): ModuleContext {
    this.#live();
    try {
      const glue = instance();
      if (this.#generation !== generation || this.#module === undefined) {
        // Not tracked (`track`): a dropped instance's copy lets go of its memory itself,
        // and a `WeakRef` per context would keep every one made in a synchronous loop
        // alive until the loop ends (a batch of `evaluateAll` ran out of heap).
        this.#module = glue.PreparedContext.fromJson(this.#text);
        this.#generation = generation;
      }
      return this.#module;
    } catch (error) {
      if (failure.error === undefined || (failure.error as Thrown)?.kind !== undefined) failure.error = error;
      throw error;
    }
  }
}

/**
 * `context` as the module's conversion reads it: its JSON text (`contextJson`), with
 * the module's own refusals for what has none. `undefined` and `null` are empty.
 */
function textOf(context: unknown): string {
  if (context === undefined || context === null) return "{}";
  let text: string | undefined;
  try {
    text = contextJsonForModule(context);
  } catch (reason) {
    throw unwritable(reason);
  }
  if (text === undefined) throw refusal("invalid_context", "the context must be a JSON object");
  return text;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** SPEC 5.6: the 64-bit hash `h` of a bucketing `value` under `salt`. */
export function bucketHash(salt: string, value: string): bigint {
  if (typeof salt !== "string" || typeof value !== "string") throw new TypeError("pennon: bucketHash takes two strings");
  // UTF-8 would write a lone surrogate as U+FFFD, which `evaluate` refuses.
  if (LONE_SURROGATE.test(salt) || LONE_SURROGATE.test(value)) throw new TypeError("pennon: bucketHash: a lone surrogate is not UTF-8 text");
  try {
    return instance().bucketHash(salt, value);
  } catch (error) {
    if (failure.error === undefined || (failure.error as Thrown)?.kind !== undefined) failure.error = error;
    throw error;
  }
}

/** SPEC 5.6: the position `x = (h × W) >> 64` of hash `h` among `totalWeight` units. */
export function bucketPosition(hash: bigint, totalWeight: number): number {
  if (typeof hash !== "bigint" || hash < 0n || hash >= 2n ** 64n) throw new TypeError("pennon: bucketPosition: `hash` must be a BigInt from 0 to 2^64 - 1");
  // The glue would wrap a weight past 2^32 and take a BigInt for a module crash.
  if (typeof totalWeight !== "number" || !Number.isInteger(totalWeight) || totalWeight < 1 || totalWeight >= 2 ** 32) {
    throw new TypeError(`pennon: bucketPosition: \`totalWeight\` must be a whole number from 1 to 2^32 - 1, not ${typeof totalWeight === "number" ? totalWeight : typeof totalWeight}`);
  }
  try {
    return instance().bucketPosition(hash, totalWeight);
  } catch (error) {
    if (failure.error === undefined || (failure.error as Thrown)?.kind !== undefined) failure.error = error;
    throw error;
  }
}
