/**
 * The module instance engines share, and its replacement after a trap.
 *
 * A call that traps inside the module (the caller's stack running out mid-call, or
 * memory) leaves its instance in an unknown state: a borrow still held, the allocator
 * mid-update. Before, every later call on that engine threw "recursive use of an
 * object". Anything but a refusal thrown out of a call now drops the instance: the next
 * call instantiates the compiled module again, from a fresh copy of the glue
 * (`scripts/glue-factory.mjs`), and each engine and prepared context builds itself
 * again there on its next use (`generation`).
 */

import { createGlue, type Glue } from "./wasm/pennon_wasm.js";
import { defaultWasm, resolveWasm } from "#platform";
import { isPennonError } from "./refusal.js";
import { isCompiledModule } from "./compiled-module.js";
import { sourceRefusal, usesOnly } from "./source-refusal.js";
import type { CompiledModule, WasmBytes, WasmSource } from "./engine.js";

/** The instance in use; `undefined` before `init` and after a trap. */
let glue: Glue | undefined;
/** The compiled module, kept to instantiate again after a trap. */
let compiled: WebAssembly.Module | undefined;
let ready: Promise<void> | undefined;

/** @internal Counts dropped instances: what was built on one builds itself again. */
export let generation = 0;

/** @internal What lets go of its module object when its instance is dropped. */
export interface Releasable {
  release(): void;
}

/** What was built on the instance in use; pruned of what was collected as it grows. */
let built: WeakRef<Releasable>[] = [];
let pruneAt = 64;

/**
 * @internal Remembers an engine, just built on the instance in use, so that it lets go
 * of its views of that instance's memory when the instance is dropped: an engine left
 * idle would otherwise keep the dropped memory alive. (Prepared contexts hold only an
 * object of the dropped glue copy, which `retire` empties.)
 */
export function track(object: Releasable): void {
  if (typeof WeakRef === "undefined") return; // Cloudflare Workers: no weak references
  built.push(new WeakRef(object));
  if (built.length >= pruneAt) {
    built = built.filter((reference) => reference.deref() !== undefined);
    pruneAt = Math.max(64, built.length * 2);
  }
}

/** @internal Whether `value` is what `init` takes (besides a promise of it). */
export function isWasmSource(value: unknown): boolean {
  if (typeof value === "string" || value instanceof URL || isCompiledModule(value)) return true;
  if (ArrayBuffer.isView(value) || Object.prototype.toString.call(value) === "[object ArrayBuffer]") return true;
  return typeof Response !== "undefined" && value instanceof Response;
}

/** Whether the module is instantiated, so engines can be built. */
export function isInitialized(): boolean {
  return compiled !== undefined;
}

/**
 * Instantiates the module synchronously from a `WebAssembly.Module` (or bytes, where
 * the runtime allows compiling them). Later calls do nothing.
 */
export function initSync(module: CompiledModule | WasmBytes): void {
  if (compiled !== undefined) return;
  const fresh = createGlue();
  fresh.initSync({ module: module as WebAssembly.Module | BufferSource });
  [glue, compiled] = [fresh, fresh.module()];
}

/**
 * @internal For an entry that imports its module (Workers): instantiates `module` on
 * import, and from then on refuses any other source `init` or a provider is given,
 * which would otherwise be ignored.
 */
export function initImported(module: WebAssembly.Module): void {
  initSync(module);
  usesOnly(module);
}

/** Instantiates the module once; concurrent and later calls share the first. A
 *  source that can never work (base64 text; in Workers, anything but the imported
 *  module) is refused, also once the module is in. */
export function init(source?: WasmSource | Promise<WasmSource>): Promise<void> {
  if (compiled !== undefined) return source === undefined ? Promise.resolve() : settled(source).then(refuseUnusable);
  ready ??= (async () => {
    const given = (await settled(source)) ?? (await defaultWasm());
    if (!isWasmSource(given)) {
      const kind = given === null ? "null" : Object.prototype.toString.call(given).slice(8, -1);
      throw Object.assign(new TypeError(`pennon: the WebAssembly module must be a WebAssembly.Module, its bytes, a URL or a path, not ${kind}`), { permanent: true });
    }
    refuseUnusable(given);
    const fresh = createGlue();
    await fresh.init({ module_or_path: await resolveWasm(given) });
    [glue, compiled] = [fresh, fresh.module()];
  })().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

/** Throws, never to be retried, if `source` can never work (`sourceRefusal`). */
function refuseUnusable(source: unknown): void {
  const refused = sourceRefusal(source, "the WebAssembly module given to `init`");
  if (refused !== undefined) throw Object.assign(new Error(refused), { permanent: true });
}

/** The `wasm` option's value; a promise that rejected can never resolve, so no retry
 *  awaits it again. */
async function settled<T>(source: T | Promise<T>): Promise<T> {
  try {
    return await source;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw Object.assign(new Error(`pennon: the \`wasm\` promise rejected: ${reason}`, { cause: error }), { permanent: true });
  }
}

/**
 * @internal What a call into the module threw, until the next call judges it. Catch
 * handlers record it without calling a function (at the edge of the stack, a call
 * would overflow again before it could act), and never over a trap, only over nothing
 * or a refusal (one with a `kind`): a refusal of an outer call must not hide the trap
 * of an inner one, nor a refusal recorded earlier the trap of a later call.
 *
 *     if (failure.error === undefined || (failure.error as Thrown)?.kind !== undefined) failure.error = error;
 */
export const failure: { error?: unknown } = {};

/** @internal What a catch handler reads of a recorded error. */
export type Thrown = { kind?: unknown } | null;

/**
 * @internal The instance to call. After a call threw anything but a refusal (it never returned,
 * so its instance may be mid-update), that one is dropped (`generation` goes up) and a
 * new one instantiated.
 */
export function instance(): Glue {
  if (failure.error !== undefined) {
    if (!isPennonError(failure.error)) {
      glue?.retire();
      glue = undefined;
      generation += 1;
      for (const object of built) object.deref()?.release();
      built = [];
    }
    failure.error = undefined;
  }
  if (glue !== undefined) return glue;
  if (compiled === undefined) throw new Error("pennon: the WebAssembly module is not initialized: call `await init()` first");
  const fresh = createGlue();
  fresh.initSync({ module: compiled });
  return (glue = fresh);
}

/**
 * @internal Frees `module`, built on instance `built` (a `generation`), if that instance
 * is in use and nothing has trapped in it since; one built on a dropped instance goes
 * with it (that instance may be mid-update).
 */
export function freeIn(built: number, module: { free(): void } | undefined): void {
  const live = built === generation && glue !== undefined && (failure.error === undefined || isPennonError(failure.error));
  try {
    if (live) module?.free();
  } catch (error) {
    if (failure.error === undefined || (failure.error as Thrown)?.kind !== undefined) failure.error = error;
    throw error;
  }
}
