/**
 * `pennon.wasm` imported as a compiled module, for Workers: the package's only import
 * of it. Every workerd entry takes it from here, so a bundle that leaves `.wasm`
 * imports to the runtime (`external: ["*.wasm"]`) holds one specifier, `./pennon.wasm`,
 * met by one module beside the bundle. (Two entries importing it by their own relative
 * paths, `./` and `../`, left a bundle two specifiers to satisfy.)
 */

import wasm from "./pennon.wasm";

export default wasm;
