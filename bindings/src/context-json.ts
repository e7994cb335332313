/**
 * Contexts as JSON text for the module, which reads them with the core's own JSON
 * reader: exactly `JSON.stringify`'s text, except that a BigInt (which it refuses) is
 * written as its exact integer, so integers beyond 2^53 keep every digit. The module
 * imports this (`wasm/src/convert.rs`); it replaced a walk over the object in Rust
 * that was 3.9 KB of the gzipped module.
 *
 * BigInts are first written as marker strings, which are then replaced by their digits
 * in the text. The marker carries a random tag, and a context whose keys or strings
 * contain it is written again with another, so no string of the context is ever taken
 * for a BigInt.
 */

/**
 * `context` as JSON text; `undefined` where `JSON.stringify` writes nothing (a
 * function, a symbol). Throws where it throws for anything but a BigInt: a cycle, a
 * `toJSON` method that throws, nesting deeper than the runtime's stack; for a `Date`
 * outside years 0 to 9999; and for a `Map`, a `Set` or another built-in whose contents
 * JSON drops (`OPAQUE`), which would otherwise be evaluated as an empty object.
 */
export function contextJson(context: unknown): string | undefined {
  let text: string | undefined;
  try {
    text = JSON.stringify(context);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    text = withBigInts(context);
  }
  // Both refusals are rare, and each leaves a mark in the text: only then is it walked.
  if (text !== undefined && (text.includes("{}") || EXTENDED_YEAR.test(text))) refuseLossy(context);
  return text;
}

/** `toISOString`'s form of a year outside 0 to 9999: six digits and a sign. */
const EXTENDED_YEAR = /"[+-]\d{6}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\d\dZ"/;

/**
 * Built-ins that keep what they hold out of their own properties, so JSON writes them
 * as `{}`: a `Map` of groups would be evaluated as an empty object, and targeting would
 * silently not match. By `Object.prototype.toString`'s tag, not `instanceof`, so that
 * one from another realm (a `vm` context, an iframe) is one too. Typed arrays are not
 * here: JSON writes their elements (as an object keyed by index).
 */
const OPAQUE = new Set(["Map", "Set", "WeakMap", "WeakSet", "RegExp", "Error", "ArrayBuffer", "SharedArrayBuffer", "DataView", "Promise", "WeakRef"]);

/** What to pass instead of each kind, for the refusal. */
const INSTEAD: Record<string, string> = {
  Map: "a plain object (`Object.fromEntries(map)`)",
  Set: "an array (`[...set]`)",
};

/**
 * The kind of `value` if it is a built-in that JSON writes as `{}` though it holds
 * something (`OPAQUE`, with no own enumerable property of its own); else `undefined`.
 * Plain objects and arrays answer at once.
 */
export function opaqueKind(value: object): string | undefined {
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null || Array.isArray(value)) return undefined;
  const kind = Object.prototype.toString.call(value).slice(8, -1);
  return OPAQUE.has(kind) && Object.keys(value).length === 0 ? kind : undefined;
}

/**
 * Throws for what JSON would write without error but with a wrong meaning, naming
 * where it is (`groups`, `user.groups`, `list[2]`):
 * - a `Date` outside years 0 to 9999, which RFC 3339 cannot write: SPEC 5.1 makes that
 *   `INVALID_CONTEXT` in every client, as the Rust provider does with an OpenFeature
 *   date-time;
 * - a built-in JSON writes as `{}` (`opaqueKind`), as a `Map` or `Set` is: refused as
 *   boxed primitives are, rather than evaluated as an empty object.
 * Only called when the text holds a mark of either (`{}`, a six-digit year), which an
 * empty object or the user's own strings may have written too; this walk tells which.
 */
function refuseLossy(context: unknown): void {
  const paths = new WeakMap<object, string>();
  JSON.stringify(context, function (this: Record<string, unknown>, key: string, value: unknown) {
    const path = pathOf(paths.get(this), key, Array.isArray(this));
    // Not `instanceof`: a date from another realm is one too.
    if (typeof value === "string" && /^[+-]\d{6}-/.test(value) && Object.prototype.toString.call(this[key]) === "[object Date]") {
      throw new RangeError(`${where(path)}: the date ${value} is outside years 0 to 9999, which RFC 3339 cannot write`);
    }
    if (typeof value === "object" && value !== null) {
      const kind = opaqueKind(value);
      if (kind !== undefined) {
        const instead = INSTEAD[kind] ?? "a string, number, boolean, array or plain object";
        throw new TypeError(`${where(path)} is a ${kind}, which JSON writes as {} (what it holds is lost): pass ${instead}`);
      }
      paths.set(value, path);
    }
    return typeof value === "bigint" ? 0 : value;
  });
}

/** The path of `key` in a holder at `parent` (`undefined` for the wrapper around the
 *  whole context, whose one key is `""`). */
function pathOf(parent: string | undefined, key: string, inArray: boolean): string {
  if (parent === undefined) return "";
  if (inArray) return `${parent}[${key}]`;
  return parent === "" ? key : `${parent}.${key}`;
}

/** How a refusal names a path: the whole context, or a field. */
function where(path: string): string {
  return path === "" ? "the context" : `context field \`${path}\``;
}

/** `JSON.stringify`'s text of `context`, which holds a BigInt, with each as its digits. */
function withBigInts(context: unknown): string | undefined {
  for (;;) {
    const marker = `\u0000pennon-bigint-${Math.random().toString(36).slice(2)}:`;
    let clash = false;
    const text = JSON.stringify(context, (key: string, value: unknown) => {
      if (typeof value === "bigint") return marker + value.toString();
      if (key.includes(marker) || (typeof value === "string" && value.includes(marker))) clash = true;
      return value;
    }) as string | undefined;
    if (clash) continue;
    // The marker as JSON writes it, inside quotes, then the digits.
    const written = JSON.stringify(marker).slice(1, -1).replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
    return text?.replace(new RegExp(`"${written}(-?\\d+)"`, "g"), "$1");
  }
}

/**
 * `contextJson` for the module (`wasm/src/convert.rs`): what it throws becomes its
 * message, a string the module puts into its `invalid_context` refusal.
 */
export function contextJsonForModule(context: unknown): string | undefined {
  try {
    return contextJson(context);
  } catch (error) {
    throw error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}
