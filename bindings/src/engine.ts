/**
 * Loading the Pennon WebAssembly module, and the engine it exports.
 *
 * The package never compiles base64 at run time: edge runtimes forbid compiling
 * WebAssembly from bytes they did not ship. Pass a precompiled `WebAssembly.Module`
 * (an imported `.wasm` file in Workers), the bytes, a URL, or (in Node) a file path.
 * Without one, each platform uses its default: the package's own `pennon.wasm`
 * (Node reads it from disk, browsers fetch it next to this file, workerd imports it).
 */

import type { Engine as ModuleEngine } from "./wasm/pennon_wasm.js";
import { FlatWriter, readable, readsOf, type Reads } from "./flat.js";
import { Unpacker } from "./unpack.js";
import { contextJson } from "./context-json.js";
import { engineArguments, type EngineArguments } from "./options.js";
import { refusal, unwritable } from "./refusal.js";
import { failure, freeIn, generation, instance, track, type Thrown } from "./instance.js";
import { PreparedContext } from "./prepared.js";

export { init, initSync, isInitialized } from "./instance.js";
export { PreparedContext, bucketHash, bucketPosition } from "./prepared.js";
export { isPennonError } from "./refusal.js";
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

import type { EngineOptions, EvaluationContext, FlagType, Resolution } from "./wasm/pennon_wasm.js";

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

/**
 * The Pennon engine: a trust policy plus the snapshot it last accepted, over the
 * module's own engine. Common results are read from a scratch buffer instead of going
 * through JSON, with snapshot strings decoded once per load. After a trap replaced the
 * module's instance (`instance.ts`), the engine builds itself again there and loads
 * the envelope it had accepted, at the time it accepted it: the same snapshot, with
 * the same rollback floor.
 */
export class Engine {
  readonly #arguments: EngineArguments;
  #module: ModuleEngine | undefined;
  #generation: number;
  /** The envelope last accepted, and at what time: what a rebuilt engine loads. */
  #accepted: { bytes: Uint8Array; nowMs: number } | undefined;
  #freed = false;
  #unpacker: Unpacker | undefined;
  #flat: FlatWriter | undefined;
  #keys: string[] | undefined;
  /** Each flag key's position in `flagKeys()`, so an evaluation passes a number, not the key. */
  #positions: Record<string, number> | undefined;
  /** What each flag, by position, can read of a context; filled as flags are evaluated. */
  #reads: Reads[] = [];
  /** Each flag's type, by position; filled as asked for (providers ask on every resolve). */
  #types: FlagType[] = [];
  /** The flags whose results depend on the time; asked once per load. */
  #timeFlags: string[] | undefined;
  /** Counts snapshots loaded, so an evaluation can tell a getter loaded one mid-call. */
  #loads = 0;

  /** Throws `invalid_options` for a malformed object, `invalid_key` or `invalid_policy`. */
  constructor(options: EngineOptions) {
    this.#arguments = engineArguments(options);
    try {
      const glue = instance();
      this.#module = new glue.Engine(...this.#arguments);
      this.#generation = generation;
      track(this);
    } catch (error) {
      if (failure.error === undefined || (failure.error as Thrown)?.kind !== undefined) failure.error = error;
      throw error;
    }
  }

  /** Refuses a call after `free`, before any call into the module. */
  #alive(): void {
    if (this.#freed) throw new TypeError("pennon: this Engine was freed");
  }

  /**
   * The module's engine, built again (with its snapshot) if the instance was replaced.
   * Callers record what it throws in `failure`.
   */
  #engine(): ModuleEngine {
    if (this.#generation === generation && failure.error === undefined && this.#module !== undefined) return this.#module;
    return this.#rebuilt();
  }

  /** `#engine()` once something may have changed: a trap, a replaced instance, `free`. */
  #rebuilt(): ModuleEngine {
    this.#alive();
    const glue = instance();
    if (this.#generation !== generation || this.#module === undefined) {
      const rebuilt = new glue.Engine(...this.#arguments);
      if (this.#accepted !== undefined) rebuilt.load(this.#accepted.bytes, this.#accepted.nowMs);
      [this.#module, this.#generation] = [rebuilt, generation];
      track(this);
      // Their addresses were in the old instance's memory, and the new engine has been
      // asked for no flag's attributes yet (its flat path needs that first).
      this.#unpacker = undefined;
      this.#flat = undefined;
      this.#reads = [];
    }
    return this.#module;
  }

  /** @internal Lets go of the module's engine: its instance was dropped after a trap. */
  release(): void {
    this.#module = undefined;
    this.#unpacker = undefined;
    this.#flat = undefined;
  }

  #reader(engine: ModuleEngine): Unpacker {
    return (this.#unpacker ??= new Unpacker(instance().memory(), engine.scratchAddress()));
  }

  /**
   * Verifies, checks and compiles envelope `bytes` at `nowMs` (Unix milliseconds):
   * its bytes, or its JSON text (UTF-8 encoded here), as the providers' `envelope`
   * option and `load` take it.
   *
   * Returns `true` when a newer snapshot is now served and `false` when the bytes are
   * the version already held. Throws a refusal (`bad_signature: …`, with a `kind`
   * property) and keeps serving the previous snapshot otherwise.
   */
  load(bytes: Uint8Array | number[] | string, nowMs: number): boolean {
    checkedNow(nowMs);
    if (typeof bytes === "string") bytes = new TextEncoder().encode(bytes);
    if (!(bytes instanceof Uint8Array) && !Array.isArray(bytes)) {
      throw new TypeError(`pennon: load takes the envelope's bytes, a Uint8Array, or its JSON text, not ${bytes === null ? "null" : typeof bytes}`);
    }
    this.#alive();
    // Copied first and the copy loaded: the caller may reuse its buffer (and `slice` of
    // a Node buffer is a view), and the bytes kept to load again after a trap must be
    // the ones verified, even if the caller's changed meanwhile (a shared buffer).
    let copy: Uint8Array;
    try {
      copy = Uint8Array.from(bytes);
    } catch (error) {
      // A detached buffer (transferred to a worker), or an array whose reads throw.
      throw refusal("malformed_envelope", `the envelope's bytes cannot be read: ${error instanceof Error ? error.message : String(error)}`);
    }
    // An element's getter may have freed this engine: that is no trap of the instance.
    this.#alive();
    let updated: boolean;
    try {
      updated = this.#engine().load(copy, nowMs);
    } catch (error) {
      if (failure.error === undefined || (failure.error as Thrown)?.kind !== undefined) failure.error = error;
      throw error;
    }
    if (updated) {
      this.#accepted = { bytes: copy, nowMs };
      this.#loads++;
      this.#unpacker?.clear();
      this.#keys = undefined;
      this.#positions = undefined;
      this.#reads = [];
      this.#types = [];
      this.#timeFlags = undefined;
    }
    return updated;
  }

  /** Like `evaluate`, with a context converted once by `new PreparedContext(...)`. */
  evaluatePrepared(flagKey: string, context: PreparedContext, nowMs: number, expectedType?: FlagType | null): Resolution {
    checkedKey(flagKey);
    checkedNow(nowMs);
    checkedType(expectedType);
    checkedContext(context);
    this.#alive();
    try {
      const engine = this.#engine();
      const prepared = context.moduleContextNow();
      const position = this.#positionOf(engine, flagKey);
      if (position === undefined) return byKey(flagKey, (key) => engine.evaluatePrepared(key, prepared, nowMs, expectedType));
      if (engine.evaluatePacked(position, prepared, nowMs, expectedType) !== PACKED) {
        return engine.evaluatePrepared(flagKey, prepared, nowMs, expectedType);
      }
      return this.#reader(engine).read(flagKey, position) ?? this.#remember(engine, engine.evaluatePrepared(flagKey, prepared, nowMs, expectedType));
    } catch (error) {
      if (failure.error === undefined || (failure.error as Thrown)?.kind !== undefined) failure.error = error;
      throw error;
    }
  }

  /**
   * Evaluates `flagKey` for a plain context object at `nowMs`, optionally asking for a
   * type (a flag of another type is a `TYPE_MISMATCH` result, not a throw). A
   * `PreparedContext` is evaluated as `evaluatePrepared` does.
   */
  evaluate(flagKey: string, context: EvaluationContext | PreparedContext, nowMs: number, expectedType?: FlagType | null): Resolution {
    checkedKey(flagKey);
    checkedNow(nowMs);
    checkedType(expectedType);
    this.#alive();
    let result: Resolution | undefined;
    enterEvaluation();
    try {
      result = this.#evaluate(flagKey, context as EvaluationContext, nowMs, expectedType);
    } catch (error) {
      if (failure.error === undefined || (failure.error as Thrown)?.kind !== undefined) failure.error = error;
      throw error;
    } finally {
      depth--;
    }
    if (result === undefined) throw new TypeError("pennon: this Engine was freed during the evaluation, by a getter or `toJSON`");
    return result;
  }

  /** `evaluate`; `undefined` when a getter freed the engine. */
  #evaluate(flagKey: string, context: EvaluationContext, nowMs: number, expectedType?: FlagType | null): Resolution | undefined {
    let engine = this.#engine();
    const position = this.#positionOf(engine, flagKey);
    if (position === undefined) {
      if (context instanceof PreparedContext) return this.evaluatePrepared(flagKey, context, nowMs, expectedType);
      return byKey(flagKey, (key) => engine.evaluate(key, context, nowMs, expectedType));
    }
    const flat = (this.#flat ??= new FlatWriter(flatBuffers(engine, () => this.#freed), instance().memory()));
    const reads = (this.#reads[position] ??= readsOf(engine.attributesRead(position)));
    const loads = this.#loads;
    let written = false;
    let prepared: PreparedContext | undefined;
    let lean: EvaluationContext | undefined;
    let text: string | undefined;
    // A getter that evaluates on this engine re-enters here while this context is read:
    // that evaluation takes the JSON path, reading each getter once. Were it to write
    // flat too, the outer write would find its records overwritten, or the getter
    // throwing, and read every getter again: nested getters ran 2^depth times.
    const nested = flat.busy;
    flat.busy = true;
    try {
      if (!nested) {
        try {
          written = flat.write(context, reads);
        } catch {
          written = false; // a getter threw: `leanOf` below says so as every path does
        }
      }
      // A `PreparedContext` (which the flat write declines) is evaluated as prepared:
      // read as an object, it would be an empty one. Only what the flag reads goes
      // through JSON too: an attribute it does not read (a cycle, a lone surrogate, an
      // object) can neither fail nor slow it. Without text (a cycle, say), the general
      // path below throws the refusal.
      if (!written) {
        if (context instanceof PreparedContext) prepared = context;
        else text = contextText((lean = leanOf(context, reads)));
      }
    } finally {
      flat.busy = nested;
    }
    if (prepared !== undefined) return this.evaluatePrepared(flagKey, prepared, nowMs, expectedType);
    // Getters and `toJSON` are user code: one that loaded a snapshot has moved flags to
    // other positions, and one that trapped the instance has replaced this engine's, so
    // this flag is evaluated by its key.
    if (this.#freed) return undefined;
    if (this.#loads !== loads) return this.#afterLoad(flagKey, context, nowMs, expectedType);
    if (this.#generation !== generation || failure.error !== undefined) {
      engine = this.#engine();
      return engine.evaluate(flagKey, lean ?? leanOf(context, reads), nowMs, expectedType);
    }
    const packed = written
      ? engine.evaluatePackedFlat(position, flat.hasKey, nowMs, expectedType) === PACKED
      : text !== undefined && engine.evaluatePackedText(position, text, nowMs, expectedType) === PACKED;
    if (packed) {
      const result = this.#reader(engine).read(flagKey, position);
      if (result !== undefined) return result;
    }
    // Through JSON: an error, a JSON value, metadata not cached yet, or the refusal. From
    // the text already written, where there is one: converting `lean` again would run
    // its getters and `toJSON` again, inside the module's call, where one that
    // evaluates on this engine meets it mid-call ("recursive use of an object").
    const result = text === undefined
      ? engine.evaluate(flagKey, lean ?? leanOf(context, reads), nowMs, expectedType)
      : evaluateText(engine, flagKey, text, nowMs, expectedType);
    return packed ? this.#remember(engine, result) : result;
  }

  /**
   * `evaluate` once a getter loaded a snapshot mid-call: the flag may read other
   * attributes now, so its lean context is taken again with the new list. Its text is
   * written here rather than in the module, where a getter that loads again would meet
   * the engine mid-call; should one load yet again, the whole context goes in.
   */
  #afterLoad(flagKey: string, context: EvaluationContext, nowMs: number, expectedType?: FlagType | null): Resolution | undefined {
    for (let tries = 1; ; tries++) {
      const loads = this.#loads;
      const engine = this.#engine();
      const position = this.#positionOf(engine, flagKey);
      const whole = position === undefined || tries > 2;
      const subject = whole ? context : leanOf(context, (this.#reads[position] ??= readsOf(engine.attributesRead(position))));
      const text = textOf(subject);
      if (this.#freed) return undefined;
      if (!whole && this.#loads !== loads) continue;
      if (text === undefined) return this.#engine().evaluate(flagKey, subject, nowMs, expectedType); // the module's refusal
      return evaluateText(this.#engine(), flagKey, text, nowMs, expectedType);
    }
  }

  /** Evaluates every flag for a `PreparedContext`, in ascending key order. */
  evaluateAllPrepared(context: PreparedContext, nowMs: number): Resolution[] {
    checkedNow(nowMs);
    return this.flagKeys().map((key) => this.evaluatePrepared(key, context, nowMs));
  }

  /** Evaluates every flag for a plain context object, in ascending key order; a
   *  `PreparedContext` as `evaluateAllPrepared` does. */
  evaluateAll(context: EvaluationContext | PreparedContext, nowMs: number): Resolution[] {
    if (context instanceof PreparedContext) return this.evaluateAllPrepared(context, nowMs);
    enterEvaluation();
    try {
      const prepared = new PreparedContext(context);
      try {
        return this.evaluateAllPrepared(prepared, nowMs);
      } finally {
        prepared.free();
      }
    } finally {
      depth--;
    }
  }

  /**
   * Every flag's result as one JSON array (`[{key, value, …}, …]`; OFREP's bulk answer
   * is such a list under `flags`): for hosts
   * that forward JSON, and the exact text the native identity test compares.
   */
  evaluateAllJson(context: PreparedContext, nowMs: number): string {
    checkedNow(nowMs);
    checkedContext(context);
    return this.#call((engine) => engine.evaluateAllJson(context.moduleContextNow(), nowMs));
  }

  /** One flag's result as JSON text (see `evaluateAllJson`). */
  evaluateJson(flagKey: string, context: PreparedContext, nowMs: number, expectedType?: FlagType | null): string {
    checkedKey(flagKey);
    checkedNow(nowMs);
    checkedType(expectedType);
    checkedContext(context);
    return this.#call((engine) => engine.evaluateJson(flagKey, context.moduleContextNow(), nowMs, expectedType));
  }

  /**
   * The flags the last update changed, ascending: added, removed or edited, or
   * reaching a changed segment or prerequisite (every flag after the first load, and
   * after a trap replaced the instance). What providers report as `flagsChanged`.
   */
  changedFlags(): string[] {
    return this.#call((engine) => engine.changedFlags());
  }

  /** The served flag keys, ascending (empty before the first load). */
  flagKeys(): string[] {
    return [...(this.#keys ??= this.#call((engine) => engine.flagKeys()))];
  }

  /** The type of flag `flagKey` in the served snapshot; `undefined` when it is not there. */
  flagType(flagKey: string): FlagType | undefined {
    checkedKey(flagKey);
    return this.#call((engine) => {
      const position = this.#positionOf(engine, flagKey);
      if (position === undefined) return undefined;
      return (this.#types[position] ??= engine.flagType(flagKey)!);
    });
  }

  /**
   * Whether any flag's result depends on the time (a scheduled rollout, or a
   * prerequisite with one): results cached for a context go stale as time passes.
   */
  usesTime(): boolean {
    return this.timeFlags().length > 0;
  }

  /** The flags whose results depend on the time, ascending (see `usesTime`). */
  timeFlags(): string[] {
    return [...(this.#timeFlags ??= this.#call((engine) => engine.timeFlags()))];
  }

  /** The served snapshot's version, or `undefined` before the first load. */
  version(): number | undefined {
    return this.#call((engine) => engine.version());
  }

  /** Whom the served snapshot is for (`"server"`, `"client"`), or `undefined`. */
  audience(): "server" | "client" | undefined {
    return this.#call((engine) => engine.audience()) as "server" | "client" | undefined;
  }

  /** The served snapshot's `expires_at`, Unix milliseconds, or `undefined`. */
  expiresAt(): number | undefined {
    return this.#call((engine) => engine.expiresAt());
  }

  /** Lowercase hex SHA-256 of the served payload: its identity, or `undefined`. */
  payloadSha256(): string | undefined {
    return this.#call((engine) => engine.payloadSha256());
  }

  /** Frees the module's engine and snapshot now rather than when this object is collected. */
  free(): void {
    this.#freed = true;
    freeIn(this.#generation, this.#module);
    this.#module = undefined;
    this.#accepted = undefined;
  }

  [Symbol.dispose](): void {
    this.free();
  }

  /** @internal The module's own engine, for tests of what the wrapper keeps to itself. */
  moduleEngine(): ModuleEngine {
    return this.#call((engine) => engine);
  }

  /** `call` on the module's engine; a throw other than a refusal drops the instance. */
  #call<T>(call: (engine: ModuleEngine) => T): T {
    this.#alive();
    try {
      return call(this.#engine());
    } catch (error) {
      if (failure.error === undefined || (failure.error as Thrown)?.kind !== undefined) failure.error = error;
      throw error;
    }
  }

  /** Where `flagKey` is in the served snapshot; `undefined` when it is not there. */
  #positionOf(engine: ModuleEngine, flagKey: string): number | undefined {
    if (this.#positions === undefined) {
      this.#keys ??= engine.flagKeys();
      const positions: Record<string, number> = Object.create(null);
      this.#keys.forEach((key, position) => (positions[key] = position));
      this.#positions = positions;
    }
    return this.#positions[flagKey];
  }

  /** A JSON-path result after a metadata cache miss: its metadata is cached now. */
  #remember(engine: ModuleEngine, result: Resolution): Resolution {
    return Object.assign(result, { metadata: this.#reader(engine).rememberMetadata(result.metadata) });
  }
}

/**
 * The module engine's flat context buffers, which only the wrapper's `FlatWriter`
 * grows. The writer declines on any throw, so a trap is recorded here.
 */
function flatBuffers(engine: ModuleEngine, freed: () => boolean) {
  const recorded = (grow: () => number) => {
    // A getter may have freed the engine mid-write: that is no trap, and must not be
    // taken for one.
    if (freed()) throw new TypeError("pennon: this Engine was freed");
    try {
      return grow();
    } catch (error) {
      if (failure.error === undefined || (failure.error as Thrown)?.kind !== undefined) failure.error = error;
      throw error;
    }
  };
  return {
    flatBytes: (capacity: number) => recorded(() => engine.flatBytes(capacity)),
    flatRecords: (count: number) => recorded(() => engine.flatRecords(count)),
  };
}

/** `context`, which must be a live `PreparedContext` of this package. */
function checkedContext(context: PreparedContext): void {
  if (!(context instanceof PreparedContext)) throw new TypeError("pennon: expected a PreparedContext (`new PreparedContext(context)`)");
  if (context.freed) throw new TypeError("pennon: this PreparedContext was freed");
}

/**
 * `readable(context, reads)`; a getter that throws is the `invalid_context` refusal the
 * module gives for the same object (`wasm/src/convert.rs`), naming what it threw.
 */
function leanOf(context: EvaluationContext, reads: Reads): EvaluationContext {
  try {
    return readable(context, reads) as EvaluationContext;
  } catch (error) {
    throw unwritable(error);
  }
}

/** `contextJson(context)`; what it throws is the `invalid_context` refusal, as in `leanOf`. */
function textOf(context: EvaluationContext): string | undefined {
  try {
    return contextJson(context);
  } catch (error) {
    throw unwritable(error);
  }
}


/**
 * How deep evaluations of plain objects may nest: a getter or `toJSON` that evaluates,
 * on a context whose getter evaluates, and so on. Past it the call is refused before
 * any user code runs. Left to the end of the stack, the overflow may land inside the
 * module at any depth, whose trap replaces the instance and retries the levels below:
 * an endless getter then ran hundreds of thousands of times instead of once per level.
 */
const MAX_DEPTH = 64;
/** Evaluations of plain objects under way, across engines (a getter may use another). */
let depth = 0;

/** Counts one more nested evaluation, or refuses it past `MAX_DEPTH`. */
function enterEvaluation(): void {
  if (depth >= MAX_DEPTH) {
    throw refusal("invalid_context", `getters or toJSON evaluated flags ${MAX_DEPTH} levels deep, each within the last`);
  }
  depth++;
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

/** Evaluates a context already written as JSON text: no user code runs in the call. */
function evaluateText(engine: ModuleEngine, flagKey: string, text: string, nowMs: number, expectedType?: FlagType | null): Resolution {
  const prepared = PreparedContext.fromJson(text);
  try {
    return engine.evaluatePrepared(flagKey, prepared.moduleContextNow(), nowMs, expectedType);
  } finally {
    prepared.free();
  }
}

/** Refuses an `expectedType` no flag has, naming it (`"number"`, `"bool"`). Compared
 *  one by one: `includes` on an array cost every evaluation about 10 ns. */
function checkedType(expectedType: unknown): void {
  switch (expectedType) {
    case undefined: case null: case "boolean": case "string": case "integer": case "float": case "object":
      return;
  }
  const shown = typeof expectedType === "string" ? JSON.stringify(expectedType) : typeof expectedType;
  throw refusal("invalid_type", `\`expectedType\` must be "boolean", "string", "integer", "float" or "object", not ${shown}`);
}

/** A BigInt or Symbol `nowMs` would throw inside the glue, taken for a module crash. */
function checkedNow(nowMs: number): void {
  if (typeof nowMs === "number") return;
  const hint = (nowMs as unknown) instanceof Date ? " (a Date: pass its getTime())" : "";
  throw new TypeError(`pennon: \`nowMs\` must be Unix milliseconds, a number, not ${nowMs === null ? "null" : typeof nowMs}${hint}`);
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
