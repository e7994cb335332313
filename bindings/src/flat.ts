/**
 * Fresh flat context objects, written straight into the module's memory (the layout is
 * in `wasm/src/flat.rs`) instead of through `JSON.stringify` and the module's JSON
 * reader, which took about four fifths of an evaluation with a fresh object.
 *
 * The path is taken only where it means exactly what the JSON path means: an object
 * (without `toJSON`) whose own enumerable values are strings, numbers, booleans, null
 * or values `JSON.stringify` leaves out (`undefined`, functions, symbols), whose
 * strings and names are well-formed UTF-16, and whose `targetingKey`, if present, is a
 * string or null. Numbers get the kind their JSON text gets: a safe integer is an
 * integer, a fraction is a float, and NaN and ±Infinity are null. Anything else
 * declines, and the caller takes the JSON path: nested objects, arrays, dates, BigInts,
 * a malformed targeting key, and integers beyond 2^53 (JSON writes them as the
 * shortest digits that read back as the same float, which are another integer).
 */

const RECORD = 5;
const [NULL, FALSE, TRUE, INT, FLOAT, STRING] = [0, 1, 2, 3, 4, 5];
const encoder = new TextEncoder();

/** `String.prototype.isWellFormed` (ES2024), where the runtime has it. */
type MaybeWellFormed = { isWellFormed?: (this: string) => boolean };
const isWellFormed = (String.prototype as MaybeWellFormed).isWellFormed;

/** Whether a string has a lone surrogate, which JSON text would keep and UTF-8 cannot. */
const malformed: (text: string) => boolean = isWellFormed !== undefined
  ? (text) => !isWellFormed.call(text)
  : (text) => /\p{Cs}/u.test(text);

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
  /** Records written by the last successful `write`, the targeting key's slot included. */
  count = 0;
  /** Whether the last successful `write` put a targeting key in record 0. */
  hasKey = false;

  constructor(host: FlatBuffersHost, memory: WebAssembly.Memory) {
    this.#host = host;
    this.#memory = memory;
  }

  /** Writes `context`; `false` when it must take the JSON path instead. */
  write(context: unknown): boolean {
    if (context === undefined || context === null) {
      this.#reserve(0, 1);
      [this.count, this.hasKey] = [1, false];
      return true;
    }
    if (typeof context !== "object" || Array.isArray(context)) return false;
    const object = context as Record<string, unknown>;
    if (typeof object.toJSON === "function") return false;
    this.#reserve(0, 1);
    let [count, at, hasKey] = [1, 0, false];
    for (const name of Object.keys(object)) {
      const value = object[name];
      if (name === "targetingKey") {
        if (typeof value === "string") {
          if (malformed(value)) return false;
          at = this.#record(0, 0, 0, STRING, value, at);
          hasKey = true;
        } else if (value !== null && value !== undefined && typeof value !== "function" && typeof value !== "symbol") {
          return false;
        }
        continue;
      }
      let kind: number;
      let number = 0;
      switch (typeof value) {
        case "string":
          if (malformed(value)) return false;
          kind = STRING;
          break;
        case "number":
          if (!Number.isFinite(value)) kind = NULL;
          else if (Number.isSafeInteger(value)) [kind, number] = [INT, value];
          // JSON writes 2^60 as 1152921504606847000: past 2^53 its text is another integer.
          else if (Number.isInteger(value)) return false;
          else [kind, number] = [FLOAT, value];
          break;
        case "boolean":
          kind = value ? TRUE : FALSE;
          break;
        case "undefined":
        case "function":
        case "symbol":
          continue;
        default:
          if (value !== null) return false;
          kind = NULL;
      }
      if (malformed(name)) return false;
      this.#reserve(at, count + 1);
      const nameAt = at;
      at = this.#text(name, at);
      at = this.#record(count, nameAt, at - nameAt, kind, kind === STRING ? (value as string) : number, at);
      count += 1;
    }
    [this.count, this.hasKey] = [count, hasKey];
    return true;
  }

  /** Fills record `index`; writes a string value's bytes at `at`; returns the next free byte. */
  #record(index: number, nameAt: number, nameLength: number, kind: number, value: string | number, at: number): number {
    let [payload, length] = [value as number, 0];
    if (kind === STRING) {
      const start = at;
      at = this.#text(value as string, at);
      [payload, length] = [start, at - start];
    }
    const r = this.#records;
    const base = index * RECORD;
    r[base] = nameAt;
    r[base + 1] = nameLength;
    r[base + 2] = kind;
    r[base + 3] = payload;
    r[base + 4] = length;
    return at;
  }

  /** Writes `text` as UTF-8 at byte `at`; returns the byte after it. */
  #text(text: string, at: number): number {
    this.#reserve(at + 3 * text.length, 0);
    const bytes = this.#bytes;
    const length = text.length;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) return at + i + encoder.encodeInto(text.slice(i), bytes.subarray(at + i)).written;
      bytes[at + i] = code;
    }
    return at + length;
  }

  /**
   * Grows the buffers to at least `bytes` bytes and `records` records, and keeps the
   * views over them current: growing may move a buffer or grow the memory, and memory
   * growth (here or in any other call into the module) detaches every view, leaving it
   * empty.
   */
  #reserve(bytes: number, records: number): void {
    let moved = this.#records.length === 0;
    if (bytes > this.#bytesCapacity) {
      const capacity = Math.max(bytes, 2 * this.#bytesCapacity, 256);
      this.#bytesAddress = this.#host.flatBytes(capacity);
      this.#bytesCapacity = capacity;
      moved = true;
    }
    if (records > this.#recordsCapacity) {
      const capacity = Math.max(records, 2 * this.#recordsCapacity, 16);
      this.#recordsAddress = this.#host.flatRecords(capacity);
      this.#recordsCapacity = capacity;
      moved = true;
    }
    if (moved) {
      const buffer = this.#memory.buffer;
      this.#bytes = new Uint8Array(buffer, this.#bytesAddress, this.#bytesCapacity);
      this.#records = new Float64Array(buffer, this.#recordsAddress, this.#recordsCapacity * RECORD);
    }
  }
}
