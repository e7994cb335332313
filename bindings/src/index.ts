/**
 * `pennon`: the Pennon engine for JavaScript. Providers live in `pennon/web` and
 * `pennon/server`. In Cloudflare Workers this entry is `workerd-engine.ts` (the module
 * imported and instantiated), and `pennon/workerd` adds the server provider.
 */

export * from "./engine.js";
export { Telemetry, type EvaluationCount, type EvaluationCounts, type Exposure, type ExposureOptions, type ExposureScope, type NotFoundCount } from "./telemetry.js";
