/**
 * `pennon/workerd`: for Cloudflare Workers. Imports `pennon.wasm` as a module (wrangler
 * and miniflare compile it at deploy time) and instantiates it on import, so engines
 * and the server provider work at once, with no run-time compilation.
 */

import "./workerd-engine.js";

export * from "./server.js";
