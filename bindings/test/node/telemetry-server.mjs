// A control plane's telemetry endpoint on 127.0.0.1 that checks every request exactly
// as the wire format says (docs/OPERATIONS.md, "Telemetry"), answering as the test
// scripts it: 202 by default, or a queue of `{ status, retryAfter, message, field,
// delayMs, extra }` (`extra`: members added to a 202's body) or "hang". As `pennon serve`, it stores a batch once by its `batch` id: a repeat is
// answered `"duplicate": true`, and a post it never answered (hang) or answered late
// was stored all the same.
// It allows other origins (CORS) as `pennon serve` does, counting preflights.
import { createServer } from "node:http";
import { once } from "node:events";

export async function telemetryServer() {
  const state = { script: [], posts: [], waiters: [], preflights: 0, stored: [] };
  const ids = new Set();
  const server = createServer(async (request, response) => {
    response.setHeader("Access-Control-Allow-Origin", "*");
    if (request.method === "OPTIONS") {
      state.preflights++;
      return response.writeHead(204, {
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Max-Age": "600",
      }).end();
    }
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const raw = Buffer.concat(chunks);
    const violations = [];
    if (request.method !== "POST") violations.push(`method ${request.method}`);
    if (request.headers["content-type"] !== "application/json") violations.push(`Content-Type ${request.headers["content-type"]}`);
    if (raw.length > 1024 * 1024) violations.push(`body of ${raw.length} bytes, over 1 MiB`);
    let body = null;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch (error) {
      violations.push(`body is not JSON: ${error.message}`);
    }
    if (body !== null) checkReport(body, violations);
    const answer = state.script.shift() ?? { status: 202 };
    state.posts.push({ path: request.url, authorization: request.headers.authorization, body, status: answer === "hang" ? 0 : answer.status, violations });
    const storing = answer === "hang" || answer.status === 202;
    const duplicate = storing && body?.batch !== undefined && ids.has(body.batch);
    if (storing && !duplicate) {
      if (body?.batch !== undefined) ids.add(body.batch);
      state.stored.push(body);
    }
    for (const waiter of state.waiters.splice(0)) waiter();
    if (answer === "hang") return;
    if (answer.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.status === 202) {
      const accepted = duplicate ? { counts: 0, exposures: 0 } : { counts: body.counts.length, exposures: (body.exposures ?? []).length };
      return response.writeHead(202, { "Content-Type": "application/json" }).end(JSON.stringify({ accepted, ...(duplicate && { duplicate: true }), ...answer.extra }));
    }
    const headers = { "Content-Type": "application/json", ...(answer.retryAfter && { "Retry-After": answer.retryAfter }) };
    response.writeHead(answer.status, headers).end(JSON.stringify({ error: { code: "refused", message: answer.message ?? "no", ...(answer.field && { field: answer.field }) } }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  state.base = `http://127.0.0.1:${server.address().port}`;
  /** The bodies of the posts answered 2xx, each checked against the wire format. */
  state.accepted = () => state.posts.filter((post) => post.status >= 200 && post.status < 300).map((post) => {
    if (post.violations.length > 0) throw new Error(`the post breaks the wire format: ${post.violations.join("; ")}`);
    return post.body;
  });
  /** Resolves once `n` posts have arrived in all. */
  state.waitPosts = async (n) => {
    while (state.posts.length < n) await new Promise((resolve) => state.waiters.push(resolve));
  };
  state.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  return state;
}

const ascii = (value) => typeof value === "string" && value.length >= 1 && value.length <= 64 && /^[\x20-\x7e]+$/.test(value);
// `pennon serve` cannot read a lone surrogate's escape, which `JSON.stringify` writes and `JSON.parse` reads.
const text = (value, min = 1) => typeof value === "string" && value.length >= min && !/[\u0000-\u001f\u007f-\u009f]/.test(value) && value.isWellFormed();
const count = (value) => Number.isSafeInteger(value) && value >= 1;
/** As `pennon serve` bounds them: names 256 bytes, rule texts and context texts 1,024, reasons 64. */
const short = (value, bytes) => typeof value !== "string" || Buffer.byteLength(value) <= bytes;

/** Every way `body` breaks the wire format's request (unknown members are allowed). */
export function checkReport(body, violations) {
  if (!ascii(body.sdk)) violations.push(`sdk: ${JSON.stringify(body.sdk)}`);
  if (body.instance !== undefined && !ascii(body.instance)) violations.push(`instance: ${JSON.stringify(body.instance)}`);
  if (body.batch !== undefined && !ascii(body.batch)) violations.push(`batch: ${JSON.stringify(body.batch)}`);
  const { start_ms, end_ms } = body.window ?? {};
  if (!Number.isSafeInteger(start_ms) || !Number.isSafeInteger(end_ms) || start_ms > end_ms) violations.push(`window: ${JSON.stringify(body.window)}`);
  if (body.snapshot_version !== undefined && !(Number.isSafeInteger(body.snapshot_version) && body.snapshot_version >= 0)) violations.push("snapshot_version");
  if (!Array.isArray(body.counts)) violations.push("counts: not an array");
  else if (body.counts.length > 10_000) violations.push(`counts: ${body.counts.length} entries`);
  (body.counts ?? []).forEach((c, i) => {
    const named = text(c.flag) && (c.variant === null || text(c.variant)) && short(c.flag, 256) && short(c.variant, 256);
    if (!named || !count(c.count)) violations.push(`counts[${i}]: ${JSON.stringify(c)}`);
  });
  (body.flag_not_found ?? []).forEach((c, i) => {
    if (!(c.flag === null || text(c.flag)) || !count(c.count)) violations.push(`flag_not_found[${i}]: ${JSON.stringify(c)}`);
  });
  if ((body.exposures ?? []).length > 1_000) violations.push(`exposures: ${body.exposures.length} entries`);
  (body.exposures ?? []).forEach((e, i) => {
    const required = ["flag", "variant", "reason"].every((name) => text(e[name]));
    // `pennon serve` refuses one from more than 7 days before its clock (here, the window's end).
    const numbers = Number.isSafeInteger(e.snapshot_version) && Number.isSafeInteger(e.timestamp_ms) && e.timestamp_ms >= end_ms - 7 * 86_400_000;
    const optional = Object.entries({ rule_id: 0, targeting_key: 0, bucket_attribute: 1, bucket_value: 0 }).every(([name, min]) => !(name in e) || text(e[name], min));
    const bounded = Object.entries({ flag: 256, variant: 256, reason: 64, rule_id: 1_024, bucket_attribute: 1_024, targeting_key: 1_024, bucket_value: 1_024 })
      .every(([name, bytes]) => short(e[name], bytes));
    if (!(required && numbers && optional && bounded)) violations.push(`exposures[${i}]: ${JSON.stringify(e)}`);
  });
  if (body.exposures_dropped !== undefined && !(Number.isSafeInteger(body.exposures_dropped) && body.exposures_dropped >= 0)) violations.push("exposures_dropped");
}
