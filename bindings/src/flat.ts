/**
 * Fresh flat context objects, written straight into the module's memory (the layout is
 * in `wasm/src/flat.rs`) instead of through `JSON.stringify` and the module's JSON
 * reader, which took about four fifths of an evaluation with a fresh object.
 *
 * Only what the flag can read is written: the module lists those names per flag
 * (`Snapshot::attributes_read`, proven complete against every vector), and a context
 * usually carries many more. An attribute the flag cannot read is never looked at, so
 * it can neither slow the evaluation down nor make it fail.
 *
 * The path is taken only where it means exactly what the JSON path means for the names
 * read: an object (without `toJSON`) whose own enumerable values under those names are
 * strings, numbers, booleans, null or values `JSON.stringify` leaves out (`undefined`,
 * functions, symbols), with well-formed UTF-16 strings, and whose `targetingKey`, if
 * present, is a string or null. Numbers get the kind their JSON text gets: a safe
 * integer is an integer, a fraction is a float, and NaN and ±Infinity are null.
 * Anything else declines, and the caller takes the JSON path, which converts the whole
 * object: a read attribute that is an object, an array, a date, a BigInt or an integer
 * beyond 2^53 (JSON writes it as the shortest digits that read back as the same float,
 * which are another integer), or a targeting key of another type.
 */

import { opaqueKind } from "./context-json.js";
import { PreparedContext } from "./prepared.js";

const RECORD = 3;
/** Strings longer than this (UTF-16 units) are not written flat: see `#text`. */
const FLAT_TEXT_LIMIT = 1 << 20;
const [NULL, FALSE, TRUE, INT, FLOAT, STRING, ABSENT] = [0, 1, 2, 3, 4, 5, 6];
const encoder = new TextEncoder();

/** `String.prototype.isWellFormed` (ES2024), where the runtime has it. */
type MaybeWellFormed = { isWellFormed?: (this: string) => boolean };
const isWellFormed = (String.prototype as MaybeWellFormed).isWellFormed;

/** Whether a string has a lone surrogate, which JSON text would keep and UTF-8 cannot. */
const malformed: (text: string) => boolean = isWellFormed !== undefined
  ? (text) => !isWellFormed.call(text)
  : (text) => /\p{Cs}/u.test(text);

/**
 * What a flag can read of a context (the module's `attributesRead`): whether it reads
 * the targeting key, and the other top-level names. Only these are written, a record
 * per name in this order, which is the order the module reads them in.
 */
export interface Reads {
  key: boolean;
  names: string[];
}

/** `Reads` from the module's list, where `targetingKey` stands for the targeting key. */
export function readsOf(list: string[]): Reads {
  return { key: list.includes("targetingKey"), names: list.filter((name) => name !== "targetingKey") };
}

const isEnumerable = Object.prototype.propertyIsEnumerable;

/**
 * Whether `object` must be converted (or refused) whole, never read name by name: a
 * boxed primitive (`new String("ann")`), which JSON writes as the primitive, so the
 * module refuses it as a context; or a built-in JSON writes as `{}` (a `Map`, a `Set`:
 * `opaqueKind`), which the conversion refuses. Read by name, either would be an empty
 * context. Plain objects answer from their prototype alone.
 */
function convertsWhole(object: object): boolean {
  const prototype = Object.getPrototypeOf(object);
  if (prototype === Object.prototype || prototype === null) return false;
  const boxed = object instanceof String || object instanceof Number || object instanceof Boolean || object instanceof BigInt;
  return boxed || opaqueKind(object) !== undefined;
}

/** What `JSON.stringify` sees of `object[name]`: own enumerable properties only. */
function ownValue(object: Record<string, unknown>, name: string): unknown {
  const value = object[name];
  return value !== undefined && isEnumerable.call(object, name) ? value : undefined;
}

/**
 * What `reads` names of `context`, as a new object (the targeting key is always kept:
 * its type is checked for every flag). Whatever must come through JSON (a result the
 * scratch buffer cannot hold, a context the flat write declined) is evaluated with
 * this, so that an attribute the flag does not read can never fail it. Arrays, objects
 * with `toJSON`, boxed primitives, `Map`s and `Set`s (`convertsWhole`) and non-objects
 * are returned as they are: they convert (or are refused) whole.
 */
export function readable(context: unknown, reads: Reads): unknown {
  if (typeof context !== "object" || context === null || Array.isArray(context) || convertsWhole(context)) return context;
  const object = context as Record<string, unknown>;
  // What `toJSON` gives is the context: it is converted whole.
  if (typeof object.toJSON === "function") return context;
  // No prototype: a `__proto__` attribute is an own property here, as in JSON text.
  const lean: Record<string, unknown> = Object.create(null);
  // The targeting key's type is checked for every flag, its text only where the flag
  // reads it, as in `FlatWriter.write`: a lone surrogate in a key the flag never reads
  // fails nothing, whichever path the evaluation takes.
  const key = ownValue(object, "targetingKey");
  if (key !== undefined && (reads.key || typeof key !== "string")) lean.targetingKey = key;
  for (const name of reads.names) {
    const value = ownValue(object, name);
    if (value !== undefined) lean[name] = value;
  }
  return lean;
}

/** The module exports that size the two buffers and return their addresses. */
export interface FlatBuffersHost {
  flatBytes(capacity: number): number;
  flatRecords(count: number): number;
}

/** Writes flat contexts for one engine. */
export class FlatWriter {
  readonly #host: FlatBuffersHost;
  readonly #memory: WebAssembly.Memory;
  #bytesAddress = 0;
  #bytesCapacity = 0;
  #recordsAddress = 0;
  /** In records. */
  #recordsCapacity = 0;
  #bytes = new Uint8Array(0);
  #records = new Float64Array(0);
  /** Whether the last successful `write` put a targeting key in record 0. */
  hasKey = false;
  /** Set by the caller around `write`, so that a getter's own evaluation can tell. */
  busy = false;
  /** Counts writes, so that one whose getters wrote another (re-entering) can tell. */
  #serial = 0;
  /** Counts the views found detached, so that a write can tell one was mid-write. */
  #detached = 0;

  constructor(host: FlatBuffersHost, memory: WebAssembly.Memory) {
    this.#host = host;
    this.#memory = memory;
  }

  /**
   * Writes what `reads` names of `context`; `false` when it must take the JSON path
   * instead. The targeting key's type is checked whether or not the flag reads it: a
   * key that is not a string is a problem for every flag (SPEC section 5.1).
   */
  write(context: unknown, reads: Reads): boolean {
    const names = reads.names;
    const serial = ++this.#serial;
    if (!this.#reserve(0, 1 + names.length)) return false; // every record this write fills
    const detached = this.#detached;
    let r = this.#records; // taken again after writing a string, which may move it
    if (context === undefined || context === null) {
      for (let i = 1; i <= names.length; i++) r[i * RECORD] = ABSENT;
      this.hasKey = false;
      return true;
    }
    // An object literal answers from its constructor, a cached load: asking for the
    // prototype here cost a fresh evaluation ~5% (20-30 ns) in V8 11.
    // A `PreparedContext` declines too, for the engine to evaluate it as prepared: asked
    // of class instances alone, so an object literal pays nothing for it.
    if (typeof context !== "object" || Array.isArray(context) || ((context as { constructor?: unknown }).constructor !== Object && (convertsWhole(context) || context instanceof PreparedContext))) {
      return false;
    }
    const object = context as Record<string, unknown>;
    if (typeof object.toJSON === "function") return false;
    let at = 0;
    let hasKey = false;
    // A named load, then the own-property check only where the answer matters: a key
    // the flag does not read is only type-checked, and most contexts have a string.
    const key = object.targetingKey;
    if (typeof key === "string") {
      if (reads.key && isEnumerable.call(object, "targetingKey")) {
        at = this.#string(0, key, at);
        if (at < 0) return false;
        r = this.#records;
        hasKey = true;
      }
    } else if (key !== null && key !== undefined && typeof key !== "function" && typeof key !== "symbol") {
      if (isEnumerable.call(object, "targetingKey")) return false;
    }
    for (let i = 0; i < names.length; i++) {
      const value = ownValue(object, names[i]);
      const base = (i + 1) * RECORD;
      switch (typeof value) {
        case "string":
          at = this.#string(base, value, at);
          if (at < 0) return false;
          r = this.#records;
          break;
        case "number":
          if (!Number.isFinite(value)) r[base] = NULL;
          else if (Number.isInteger(value)) {
            // JSON writes 2^60 as 1152921504606847000: past 2^53 its text is another integer.
            if (!Number.isSafeInteger(value)) return false;
            r[base] = INT;
            r[base + 1] = value;
          } else {
            r[base] = FLOAT;
            r[base + 1] = value;
          }
          break;
        case "boolean":
          r[base] = value ? TRUE : FALSE;
          break;
        case "undefined":
        case "function":
        case "symbol":
          r[base] = ABSENT;
          break;
        default:
          if (value !== null) return false;
          r[base] = NULL;
      }
    }
    // A getter is user code: it may have grown the module's memory, which detaches the
    // views (what was written through them after that is lost), or evaluated on this
    // engine, overwriting the records. Either way the JSON path takes over. (`length`,
    // not `byteLength`: V8 reads the latter of a view over wasm memory ~30 ns slower.)
    if (serial !== this.#serial || detached !== this.#detached || r.length === 0) return false;
    this.hasKey = hasKey;
    return true;
  }

  /**
   * Fills the string record at `base` with `text`, its bytes written at `at`; returns
   * the next free byte, or -1 for a lone surrogate.
   */
  #string(base: number, text: string, at: number): number {
    const end = this.#text(text, at);
    if (end < 0) return end;
    const r = this.#records; // writing the bytes may have moved the buffers
    r[base] = STRING;
    r[base + 1] = at;
    r[base + 2] = end - at;
    return end;
  }

  /**
   * Writes `text` as UTF-8 at byte `at`; returns the byte after it, or -1 when `text`
   * has a lone surrogate, is too long or finds no room. Only text past ASCII is
   * checked for a lone surrogate.
   */
  #text(text: string, at: number): number {
    // A string this long takes the JSON path, whose buffer lives for one call, rather
    // than growing the flat buffer, which the engine keeps.
    if (text.length > FLAT_TEXT_LIMIT || !this.#reserve(at + 3 * text.length, 0)) return -1;
    const bytes = this.#bytes;
    const length = text.length;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) {
        if (malformed(text)) return -1;
        return at + i + encoder.encodeInto(text.slice(i), bytes.subarray(at + i)).written;
      }
      bytes[at + i] = code;
    }
    return at + length;
  }

  /**
   * Grows the buffers to at least `bytes` bytes and `records` records, and keeps the
   * views over them current: growing may move a buffer or grow the memory, and memory
   * growth (here or in any other call into the module) detaches every view, leaving it
   * empty. `false` when the module has no memory to give.
   */
  #reserve(bytes: number, records: number): boolean {
    let moved = this.#records.length === 0;
    if (moved) this.#detached++;
    if (bytes > this.#bytesCapacity) {
      const capacity = Math.max(bytes, 2 * this.#bytesCapacity, 256);
      const address = this.#host.flatBytes(capacity);
      if (address === 0) return false; // the module could not allocate it
      this.#bytesAddress = address;
      this.#bytesCapacity = capacity;
      moved = true;
    }
    if (records > this.#recordsCapacity) {
      const capacity = Math.max(records, 2 * this.#recordsCapacity, 16);
      const address = this.#host.flatRecords(capacity);
      if (address === 0) return false;
      this.#recordsAddress = address;
      this.#recordsCapacity = capacity;
      moved = true;
    }
    if (moved) {
      const buffer = this.#memory.buffer;
      this.#bytes = new Uint8Array(buffer, this.#bytesAddress, this.#bytesCapacity);
      this.#records = new Float64Array(buffer, this.#recordsAddress, this.#recordsCapacity * RECORD);
    }
    return true;
  }
}
