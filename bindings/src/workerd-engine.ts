/**
 * `pennon` under the `workerd` condition: the engine alone, instantiated on import from
 * `pennon.wasm` imported as a module. No OpenFeature SDK comes with it (that is
 * `pennon/workerd`), so a worker that only evaluates needs no `nodejs_compat`.
 */

import wasm from "./workerd-wasm.js";
import { initImported } from "./instance.js";

initImported(wasm);

export * from "./index.js";
