/** A `.wasm` import: a precompiled module in Workers (and wrangler/miniflare rules). */
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
