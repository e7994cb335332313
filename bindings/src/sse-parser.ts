/**
 * The `text/event-stream` format (server-sent events), read incrementally from bytes as
 * they arrive, as the Rust provider's `EventParser` (`provider/src/sync/sse.rs`) reads
 * it: a chunk may end anywhere, inside a UTF-8 sequence or between a CR and its LF.
 */

import { joined } from "./joined.js";

/** Longest line, and longest event data, accepted (bytes); longer is a broken or
 *  hostile stream. */
export const MAX_LINE = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/**
 * `data:` lines joined by newlines, dispatched at a blank line; comments (heartbeats),
 * `event:`, `id:` and unknown fields read and dropped, except `retry:`, kept as the
 * least reconnect delay. `id:` needs no keeping: a reconnect fetches the snapshot
 * anyway, so nothing missed while disconnected has to be replayed (`Last-Event-ID`).
 * Unlike the Rust parser, a byte-order mark opening the stream is dropped, as the
 * format says (Rust would read the first field's name with it).
 */
export class EventParser {
  /** The reconnect delay the stream asked for (`retry:`), ms. */
  retryMs: number | undefined;
  /** Lines completed so far: whether anything of the protocol was heard. */
  lines = 0;
  /** The bytes of the line so far, in pieces. */
  #line: Uint8Array[] = [];
  #lineBytes = 0;
  #afterCr = false;
  #data: string | undefined;
  #dataBytes = 0;
  readonly #decoder = new TextDecoder("utf-8", { ignoreBOM: true });

  /** Feeds bytes; returns the data of every event completed by them. Throws, saying
   *  which, at a line or an event's data over `MAX_LINE`. */
  feed(bytes: Uint8Array): string[] {
    const events: string[] = [];
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i]!;
      // A line ends at CR, LF or CRLF: the LF of a CRLF split across chunks included.
      if (byte === LF && this.#afterCr) {
        this.#afterCr = false;
        start = i + 1;
        continue;
      }
      this.#afterCr = byte === CR;
      if (byte !== LF && byte !== CR) continue;
      this.#append(bytes.subarray(start, i));
      this.#lineDone(events);
      start = i + 1;
    }
    this.#append(bytes.subarray(start));
    return events;
  }

  #append(piece: Uint8Array): void {
    if (piece.length === 0) return;
    if (this.#lineBytes + piece.length > MAX_LINE) throw new Error(`a line is longer than ${MAX_LINE} bytes`);
    // Copied: a reader may hand the same buffer back refilled.
    this.#line.push(piece.slice());
    this.#lineBytes += piece.length;
  }

  #lineDone(events: string[]): void {
    const raw = this.#takeLine();
    this.lines++;
    if (raw.length === 0) {
      if (this.#data !== undefined) events.push(this.#data);
      this.#data = undefined;
      this.#dataBytes = 0;
      return;
    }
    let line = this.#decoder.decode(raw);
    if (this.lines === 1 && line.startsWith("\uFEFF")) line = line.slice(1);
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") {
      const bytes = utf8Length(value);
      if (this.#data === undefined) {
        this.#data = value;
        this.#dataBytes = bytes;
      } else {
        if (this.#dataBytes + 1 + bytes > MAX_LINE) throw new Error(`an event's data is longer than ${MAX_LINE} bytes`);
        this.#data += `\n${value}`;
        this.#dataBytes += 1 + bytes;
      }
    } else if (field === "retry" && /^[0-9]+$/.test(value)) {
      this.retryMs = Number(value);
    }
    // Comments (`: heartbeat`), `event`, `id` and unknown fields: nothing to keep.
  }

  /** The line's bytes, whole, and the buffer emptied. */
  #takeLine(): Uint8Array {
    const pieces = this.#line;
    this.#line = [];
    const length = this.#lineBytes;
    this.#lineBytes = 0;
    return joined(pieces, length);
  }
}

/** The length of `text` in UTF-8, as the Rust parser measures event data. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A surrogate is half of a 4-byte character (the decoder leaves none alone).
    bytes += unit < 0x80 ? 1 : unit < 0x800 ? 2 : unit >= 0xd800 && unit < 0xe000 ? 2 : 3;
  }
  return bytes;
}

/**
 * The version an event names: `{"version": N}`, a bare `N`, or the first number in
 * text such as `version N is available`. As a snapshot's version, it is an integer
 * from 1 to 2^53 - 1 written as one: `11.0`, `1e15`, `-1` or 2^53 name none (the event
 * then asks for a fetch as one naming none does), as the Rust provider's
 * `announced_version` reads them.
 */
export function announcedVersion(data: string): number | undefined {
  const version = (value: number) => (Number.isSafeInteger(value) && value >= 1 ? value : undefined);
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    // Not JSON: the first number in the text.
  }
  // `JSON.parse` reads `11.0` and `1e1` as integers: the text says how it was written.
  if (typeof json === "number") return /^\s*[0-9]+\s*$/.test(data) ? version(json) : undefined;
  const member = typeof json === "object" && json !== null && !Array.isArray(json) ? (json as { version?: unknown }).version : undefined;
  if (typeof member === "number") return new RegExp(`"version"\\s*:\\s*${member}\\s*[,}]`).test(data) ? version(member) : undefined;
  // Digits, and any sign, exponent or point (one before a digit: `version 7.` names 7)
  // around them.
  const number = /[-+]?\.?[0-9](?:[0-9eE+-]|\.(?=[0-9]))*/.exec(data)?.[0];
  return number !== undefined && /^[0-9]+$/.test(number) ? version(Number(number)) : undefined;
}
