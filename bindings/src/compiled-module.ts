/**
 * Whether `value` is a compiled `WebAssembly.Module`, from this realm or another.
 * `instanceof` answers only for this realm's: Vercel's `vercel dev` and Next.js compile
 * a `?module` import in Node's realm and hand it to the edge sandbox, where it is a
 * module `WebAssembly.instantiate` takes and `instanceof` denies.
 */
export function isCompiledModule(value: unknown): boolean {
  return Object.prototype.toString.call(value) === "[object WebAssembly.Module]";
}
