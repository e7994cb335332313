/**
 * Loading the Pennon WebAssembly module, and the engine it exports.
 *
 * The package never compiles base64 at run time: edge runtimes forbid compiling
 * WebAssembly from bytes they did not ship. Pass a precompiled `WebAssembly.Module`
 * (an imported `.wasm` file in Workers), the bytes, a URL, or (in Node) a file path.
 * Without one, each platform uses its default: the package's own `pennon.wasm`
 * (Node reads it from disk, browsers fetch it next to this file, workerd imports it).
 */

import glueInit, { initSync as glueInitSync, Engine as RawEngine, PreparedContext } from "./wasm/pennon_wasm.js";
import { defaultWasm, resolveWasm } from "#platform";
import { FlatWriter, readable, readsOf, type FlatBuffersHost, type Reads } from "./flat.js";
import { Unpacker } from "./unpack.js";
import { contextJson } from "./context-json.js";
import { engineArguments } from "./options.js";
import { refusal } from "./refusal.js";

export { PreparedContext, bucketHash, bucketPosition } from "./wasm/pennon_wasm.js";
export type {
  Bucket,
  EngineOptions,
  ErrorCode,
  ErrorKind,
  EvaluationContext,
  Explanation,
  FlagType,
  FlagValue,
  PennonError,
  Reason,
  Resolution,
} from "./wasm/pennon_wasm.js";

import type { EngineOptions, ErrorKind, EvaluationContext, FlagType, PennonError, Resolution } from "./wasm/pennon_wasm.js";

/**
 * A compiled `WebAssembly.Module`, typed as any object: TypeScript declares the
 * `WebAssembly` namespace only in the DOM and WebWorker libs, so a Node-only project
 * (`lib: ["es2022"]`, `@types/node`) could not check the package's types otherwise.
 * The module itself is checked at run time.
 */
export type CompiledModule = object;

/** Bytes of a `.wasm` file: the DOM's `BufferSource`, spelt out for the same reason. */
export type WasmBytes = ArrayBuffer | ArrayBufferView;

/** Where the WebAssembly module comes from. A `string` is a URL, or a path in Node. */
export type WasmSource = CompiledModule | WasmBytes | URL | string | Response;

/**
 * What the module's `evaluatePacked*` exports return when the result is in the scratch
 * buffer (`wasm/src/lib.rs`). Anything else (no room, a refusal) goes through the
 * general export, which answers or throws the refusal.
 */
const PACKED = 1;

let ready: Promise<void> | undefined;
let initialized = false;
let memory: WebAssembly.Memory | undefined;

/** Whether the module is instantiated, so engines can be built. */
export function isInitialized(): boolean {
  return initialized;
}

/**
 * Instantiates the module synchronously from a `WebAssembly.Module` (or bytes, where
 * the runtime allows compiling them). Later calls do nothing.
 */
export function initSync(module: CompiledModule | WasmBytes): void {
  if (initialized) return;
  memory = glueInitSync({ module: module as WebAssembly.Module | BufferSource }).memory;
  initialized = true;
}

/** Instantiates the module once; concurrent and later calls share the first. */
export function init(source?: WasmSource | Promise<WasmSource>): Promise<void> {
  if (initialized) return Promise.resolve();
  ready ??= (async () => {
    const given = (await source) ?? defaultWasm();
    if (given === undefined) {
      throw new Error("pennon: no WebAssembly module: pass `wasm` (a WebAssembly.Module, bytes or URL)");
    }
    memory = (await glueInit({ module_or_path: await resolveWasm(given) })).memory;
    initialized = true;
  })().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

/** Whether `error` is a Pennon refusal, optionally of one kind. */
export function isPennonError(error: unknown, kind?: ErrorKind): error is PennonError {
  if (!(error instanceof Error) || typeof (error as Partial<PennonError>).kind !== "string") return false;
  return kind === undefined || (error as PennonError).kind === kind;
}

/**
 * The Pennon engine: a trust policy plus the snapshot it last accepted. Methods and
 * types are those of the WebAssembly export (see its `.d.ts`); this class adds a fast
 * path for the common results: they are read from a scratch buffer instead of going
 * through JSON, with snapshot strings decoded once per load.
 */
export class Engine extends RawEngine {
  /** Throws `invalid_options` for a malformed object, `invalid_key` or `invalid_policy`. */
  constructor(options: EngineOptions) {
    super(...engineArguments(options));
  }

  #unpacker: Unpacker | undefined;
  #flat: FlatWriter | undefined;
  #keys: string[] | undefined;
  /** Each flag key's position in `flagKeys()`, so an evaluation passes a number, not the key. */
  #positions: Record<string, number> | undefined;
  /** What each flag, by position, can read of a context; filled as flags are evaluated. */
  #reads: Reads[] = [];
  /** Each flag's type, by position; filled as asked for (providers ask on every resolve). */
  #types: FlagType[] = [];
  /** Counts snapshots loaded, so an evaluation can tell a getter loaded one mid-call. */
  #loads = 0;

  #memory(): WebAssembly.Memory {
    if (memory === undefined) throw new Error("pennon: the WebAssembly module is not initialized");
    return memory;
  }

  #reader(): Unpacker {
    return (this.#unpacker ??= new Unpacker(this.#memory(), this.scratchAddress()));
  }

  override load(bytes: Uint8Array, nowMs: number): boolean {
    const updated = super.load(bytes, nowMs);
    if (updated) {
      this.#loads++;
      this.#unpacker?.clear();
      this.#keys = undefined;
      this.#positions = undefined;
      this.#reads = [];
      this.#types = [];
    }
    return updated;
  }

  override evaluatePrepared(flagKey: string, context: PreparedContext, nowMs: number, expectedType?: FlagType | null): Resolution {
    const position = this.#positionOf(checkedKey(flagKey));
    if (position === undefined) return byKey(flagKey, (key) => super.evaluatePrepared(key, context, nowMs, expectedType));
    if (this.evaluatePacked(position, context, nowMs, expectedType) !== PACKED) {
      return super.evaluatePrepared(flagKey, context, nowMs, expectedType);
    }
    return this.#reader().read(flagKey, position) ?? this.#remember(super.evaluatePrepared(flagKey, context, nowMs, expectedType));
  }

  override evaluate(flagKey: string, context: EvaluationContext, nowMs: number, expectedType?: FlagType | null): Resolution {
    const position = this.#positionOf(checkedKey(flagKey));
    if (position === undefined) return byKey(flagKey, (key) => super.evaluate(key, context, nowMs, expectedType));
    const flat = (this.#flat ??= new FlatWriter(this.#buffers(), this.#memory()));
    const reads = (this.#reads[position] ??= readsOf(this.attributesRead(position)));
    const loads = this.#loads;
    let written: boolean;
    try {
      written = flat.write(context, reads);
    } catch {
      written = false; // a getter threw: `leanOf` below says so as every path does
    }
    // Only what the flag reads goes through JSON too: an attribute it does not read
    // (a cycle, a lone surrogate, an object) can neither fail nor slow it.
    let lean: EvaluationContext | undefined;
    let text: string | undefined;
    // Without text (a cycle, say), the general path below throws the refusal.
    if (!written) text = contextText((lean = leanOf(context, reads)));
    // Getters and `toJSON` are user code: one that loaded a snapshot has moved flags to
    // other positions, so this flag is evaluated by its key.
    if (this.#loads !== loads) return super.evaluate(flagKey, lean ?? leanOf(context, reads), nowMs, expectedType);
    const packed = written
      ? this.evaluatePackedFlat(position, flat.hasKey, nowMs, expectedType) === PACKED
      : text !== undefined && this.evaluatePackedText(position, text, nowMs, expectedType) === PACKED;
    if (packed) {
      const result = this.#reader().read(flagKey, position);
      if (result !== undefined) return result;
    }
    // Through JSON: an error, a JSON value, metadata not cached yet, or the refusal.
    lean ??= leanOf(context, reads);
    const result = super.evaluate(flagKey, lean, nowMs, expectedType);
    return packed ? this.#remember(result) : result;
  }

  /** The type of flag `flagKey` in the served snapshot; `undefined` when it is not there. */
  override flagType(flagKey: string): FlagType | undefined {
    const position = this.#positionOf(checkedKey(flagKey));
    if (position === undefined) return undefined;
    return (this.#types[position] ??= super.flagType(flagKey)!);
  }

  /**
   * Internal to the wrapper, which keeps the buffers' addresses: a caller growing them
   * would leave it writing into freed memory. `#buffers` reaches the module's own.
   */
  override flatBytes(_capacity: number): number {
    throw new TypeError("pennon: flatBytes is internal to the Engine wrapper");
  }

  override flatRecords(_count: number): number {
    throw new TypeError("pennon: flatRecords is internal to the Engine wrapper");
  }

  #buffers(): FlatBuffersHost {
    return {
      flatBytes: (capacity) => RawEngine.prototype.flatBytes.call(this, capacity),
      flatRecords: (count) => RawEngine.prototype.flatRecords.call(this, count),
    };
  }

  /** Evaluates every flag for a `PreparedContext`, in ascending key order. */
  evaluateAllPrepared(context: PreparedContext, nowMs: number): Resolution[] {
    this.#keys ??= this.flagKeys();
    return this.#keys.map((key) => this.evaluatePrepared(key, context, nowMs));
  }

  /** Where `flagKey` is in the served snapshot; `undefined` when it is not there. */
  #positionOf(flagKey: string): number | undefined {
    if (this.#positions === undefined) {
      this.#keys ??= this.flagKeys();
      const positions: Record<string, number> = Object.create(null);
      this.#keys.forEach((key, position) => (positions[key] = position));
      this.#positions = positions;
    }
    return this.#positions[flagKey];
  }

  /** Evaluates every flag for a plain context object, in ascending key order. */
  evaluateAll(context: EvaluationContext, nowMs: number): Resolution[] {
    const prepared = new PreparedContext(context);
    try {
      return this.evaluateAllPrepared(prepared, nowMs);
    } finally {
      prepared.free();
    }
  }

  /** A JSON-path result after a metadata cache miss: its metadata is cached now. */
  #remember(result: Resolution): Resolution {
    return Object.assign(result, { metadata: this.#reader().rememberMetadata(result.metadata) });
  }
}

/**
 * `readable(context, reads)`; a getter that throws is the `invalid_context` refusal the
 * module gives for the same object (`wasm/src/convert.rs`), naming what it threw.
 */
function leanOf(context: EvaluationContext, reads: Reads): EvaluationContext {
  try {
    return readable(context, reads) as EvaluationContext;
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw refusal("invalid_context", `the context cannot be written as JSON: ${reason}`);
  }
}

/** Longer than any flag key may be (256 bytes, SPEC 3), so it names no flag. */
const NO_FLAG = "\u0000".repeat(257);

/**
 * `evaluate(flagKey)`, for a key not among the snapshot's. A key with a lone surrogate
 * names no flag (snapshot keys are UTF-8), yet the module would receive it with U+FFFD
 * in that place and could find one: such a key is asked for as `NO_FLAG` instead, so the
 * module still refuses what it refuses (the context, the time, no snapshot) and answers
 * FLAG_NOT_FOUND, here under the key the caller gave.
 */
function byKey(flagKey: string, evaluate: (key: string) => Resolution): Resolution {
  if (!/\p{Cs}/u.test(flagKey)) return evaluate(flagKey);
  const result = evaluate(NO_FLAG);
  return { ...result, key: flagKey, errorDetails: result.errorDetails?.replace(NO_FLAG, flagKey) };
}

/** `flagKey`, which must be a string: anything else is a clear `TypeError`. */
function checkedKey(flagKey: string): string {
  if (typeof flagKey !== "string") throw new TypeError(`pennon: a flag key must be a string, not ${flagKey === null ? "null" : typeof flagKey}`);
  return flagKey;
}

/**
 * A context object as the module's own conversion writes it (`contextJson`), or
 * `undefined` where that throws or writes nothing: the general path then refuses it.
 */
function contextText(context: EvaluationContext): string | undefined {
  try {
    return contextJson(context);
  } catch {
    return undefined;
  }
}
