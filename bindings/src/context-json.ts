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
 * `toJSON` method that throws, nesting deeper than the runtime's stack.
 */
export function contextJson(context: unknown): string | undefined {
  try {
    return JSON.stringify(context);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
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
