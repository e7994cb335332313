/**
 * `pennon`: the Pennon engine for JavaScript. Providers live in `pennon/web` and
 * `pennon/server`; `pennon/workerd` is this entry plus the server provider, with the
 * module imported for Cloudflare Workers.
 */

export * from "./engine.js";
export { Telemetry, type EvaluationCount, type EvaluationCounts, type Exposure } from "./telemetry.js";
