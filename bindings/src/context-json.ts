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
 * `toJSON` method that throws, nesting deeper than the runtime's stack; and for a
 * `Date` outside years 0 to 9999.
 */
export function contextJson(context: unknown): string | undefined {
  let text: string | undefined;
  try {
    text = JSON.stringify(context);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    text = withBigInts(context);
  }
  if (text !== undefined && EXTENDED_YEAR.test(text)) refuseFarDates(context);
  return text;
}

/** `toISOString`'s form of a year outside 0 to 9999: six digits and a sign. */
const EXTENDED_YEAR = /"[+-]\d{6}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\d\dZ"/;

/**
 * Throws when a `Date` in `context` is outside years 0 to 9999, which RFC 3339 cannot
 * write: SPEC 5.1 makes that `INVALID_CONTEXT` in every client, as the Rust provider
 * does with an OpenFeature date-time. Only called when the text holds such a string,
 * which a `Date` or the user's own text may have written; this walk tells which.
 */
function refuseFarDates(context: unknown): void {
  JSON.stringify(context, function (this: Record<string, unknown>, key: string, value: unknown) {
    // Not `instanceof`: a date from another realm (a `vm` context, an iframe) is one too.
    if (typeof value === "string" && /^[+-]\d{6}-/.test(value) && Object.prototype.toString.call(this[key]) === "[object Date]") {
      throw new RangeError(`context field \`${key}\`: the date ${value} is outside years 0 to 9999, which RFC 3339 cannot write`);
    }
    return typeof value === "bigint" ? 0 : value;
  });
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
