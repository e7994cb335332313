// Signs test snapshots with the public test keys (tests/vectors/keys/), per SPEC 2.
import { createHash, createPrivateKey, createPublicKey, sign } from "node:crypto";
import { read, vectors } from "./helpers.mjs";
import { TRAP_FLAGS, TRAP_VERSIONS } from "../shared/traps.mjs";

const TYPE = "application/vnd.pennon.snapshot+json";

function key(n) {
  const seed = Buffer.from(read(`${vectors}keys/test-key-${n}.private`).trim().replace("ed25519-private:", ""), "base64");
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  const privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  const raw = createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(-32);
  return { privateKey, keyid: createHash("sha256").update(raw).digest("hex").slice(0, 16), text: `ed25519:${raw.toString("base64")}` };
}

/** The public key text of test key `n`. */
export const publicKey = (n = 1) => key(n).text;

/** A snapshot payload for environment `test`: flags (and segments) given, dates fixed. */
export function payload(version, flags, segments = {}, expiresAt = "2099-01-01T00:00:00Z") {
  return { schema: 1, environment: "test", version, issued_at: "2026-01-01T00:00:00Z", expires_at: expiresAt, flags, segments };
}

/** A signed envelope (bytes) of `body` (an object, or exact payload text). */
export function envelope(body, n = 1) {
  const bytes = Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${TYPE.length} ${TYPE} ${bytes.length} `), bytes]);
  const { privateKey, keyid } = key(n);
  const sig = sign(null, pae, privateKey).toString("base64");
  return new TextEncoder().encode(JSON.stringify({ payloadType: TYPE, payload: bytes.toString("base64"), signatures: [{ keyid, sig }] }));
}

/** The envelope with one signature byte flipped: a tampered snapshot. */
export function tamper(bytes) {
  const env = JSON.parse(new TextDecoder().decode(bytes));
  const sig = Buffer.from(env.signatures[0].sig, "base64");
  sig[10] ^= 1;
  env.signatures[0].sig = sig.toString("base64");
  return new TextEncoder().encode(JSON.stringify(env));
}

/** A boolean flag: `on` for targeting keys in `staff`, else the fallthrough. */
export function boolFlag({ fallthrough = "off", staff = [], enabled = true, segment } = {}) {
  const rules = [];
  if (staff.length > 0) rules.push({ id: "staff", conditions: [{ attribute: "targetingKey", op: "in", value: staff }], serve: { variant: "on" } });
  if (segment) rules.push({ id: "segment", conditions: [{ op: "in_segment", value: segment }], serve: { variant: "on" } });
  return { type: "boolean", enabled, variants: { on: true, off: false }, off_variant: "off", fallthrough: { variant: fallthrough }, rules };
}

let trapped;
/** Versions 1 to `TRAP_VERSIONS` of the trap test's flags (`test/shared/traps.mjs`), signed by test key 1. */
export function trapEnvelopes() {
  return (trapped ??= Array.from({ length: TRAP_VERSIONS }, (_, i) => envelope(payload(i + 1, TRAP_FLAGS))));
}

/** `trapEnvelopes()` as base64 strings, for runtimes outside this process (`base64Bytes` reads them). */
export const trapEnvelopesBase64 = () => trapEnvelopes().map((bytes) => Buffer.from(bytes).toString("base64"));
