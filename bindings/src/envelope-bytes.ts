/** Envelopes as hosts hand them over, as the bytes the engine loads. */

/**
 * The bytes of an envelope as hosts hold it: bytes (any typed-array view), an
 * `ArrayBuffer`, or its JSON text. Anything else is refused by name: `new Uint8Array`
 * would make a parsed object (a KV `get(key, "json")`) zero bytes, refused as empty text.
 */
export function envelopeBytes(envelope: unknown, what: string): Uint8Array {
  if (typeof envelope === "string") return new TextEncoder().encode(envelope);
  // Copied: the host may reuse its buffer while the module loads.
  if (ArrayBuffer.isView(envelope)) return new Uint8Array(envelope.buffer, envelope.byteOffset, envelope.byteLength).slice();
  const tag = Object.prototype.toString.call(envelope);
  if (tag === "[object ArrayBuffer]" || tag === "[object SharedArrayBuffer]") return new Uint8Array(envelope as ArrayBuffer);
  const kind = envelope === null ? "null" : typeof envelope === "object" ? tag.slice(8, -1) : typeof envelope;
  const hint = kind === "Object" ? " (a parsed envelope? pass its text)" : "";
  throw new TypeError(`pennon: ${what} must be the envelope's bytes (a Uint8Array or ArrayBuffer) or its JSON text, not ${kind}${hint}`);
}
