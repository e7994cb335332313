// The event-stream parser of the notification stream, fed the same bytes cut at every
// place (inside UTF-8 characters, between CR and LF) and byte by byte, as a network
// may deliver them; and the versions events name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { announcedVersion, EventParser, MAX_LINE } from "../../dist/sse-parser.js";

const STREAM = Buffer.from(
  "\uFEFFdata: bom\r\n\r\n: heartbeat caf\u00e9\r\n\r\n" + // a byte-order mark opening the stream; a comment
    "event: version\ndata: version 7\u00e9 is available\r\rdata:{\"version\": 8}\n" +
    "data: second line\r\nid: 41\nretry: 2500\nretry: soon\n\n" + // `retry` not a number: ignored
    "data\n\n" + // a field with no colon: empty data, dispatched
    "event: only\n\n" + // no data: nothing dispatched
    "unknown: x\ndata:  two spaces\n\n" +
    "data: never finished", // no blank line yet: not dispatched
);
const EVENTS = ["bom", "version 7\u00e9 is available", "{\"version\": 8}\nsecond line", "", " two spaces"];

/** Every event `chunks` make, and the parser after them. */
function parse(chunks) {
  const parser = new EventParser();
  const events = chunks.flatMap((chunk) => parser.feed(chunk));
  return { events, retryMs: parser.retryMs, lines: parser.lines };
}

test("events are the same however the bytes are cut", () => {
  const whole = parse([STREAM]);
  assert.deepEqual(whole.events, EVENTS);
  assert.equal(whole.retryMs, 2500);
  for (let cut = 0; cut <= STREAM.length; cut++) {
    assert.deepEqual(parse([STREAM.subarray(0, cut), STREAM.subarray(cut)]), whole, `cut at ${cut}`);
  }
  const bytes = [...STREAM].map((byte) => Uint8Array.of(byte));
  assert.deepEqual(parse(bytes), whole, "byte by byte");
  // A reader may hand the same buffer back refilled: what was kept is a copy.
  const parser = new EventParser();
  const buffer = new Uint8Array(1);
  const events = [];
  for (const byte of STREAM) {
    buffer[0] = byte;
    events.push(...parser.feed(buffer));
  }
  assert.deepEqual(events, EVENTS);
});

test("a line or an event's data over 64 KiB is refused, as soon as it passes", () => {
  const long = new EventParser();
  assert.deepEqual(long.feed(Buffer.from("x".repeat(MAX_LINE))), []);
  assert.throws(() => long.feed(Buffer.from("x")), { message: `a line is longer than ${MAX_LINE} bytes` });
  const data = new EventParser();
  const line = Buffer.from(`data: ${"\u00e9".repeat(500)}\n`); // 1,000 bytes of data a line
  let fed = 0;
  const error = (() => {
    for (;;) {
      try {
        assert.deepEqual(data.feed(line), []);
      } catch (error) {
        return error;
      }
      fed++;
    }
  })();
  assert.equal(error.message, `an event's data is longer than ${MAX_LINE} bytes`);
  assert.equal(fed, Math.floor(MAX_LINE / 1001), "refused as soon as the data passes the limit");
});

test("versions are read from JSON or text", () => {
  assert.equal(announcedVersion('{"version": 12, "environment": "prod"}'), 12);
  assert.equal(announcedVersion("13"), 13);
  assert.equal(announcedVersion("version 14 is available"), 14);
  assert.equal(announcedVersion("something changed"), undefined);
  assert.equal(announcedVersion('{"version": "15"}'), 15, "not a JSON number: the first number in the text");
  assert.equal(announcedVersion("99999999999999999999"), undefined, "past 2^53: not a version this side can hold");
  assert.equal(announcedVersion("1000000000000001"), 1_000_000_000_000_001);
  assert.equal(announcedVersion("9007199254740991"), Number.MAX_SAFE_INTEGER);
  assert.equal(announcedVersion("version 7."), 7, "a sentence's full stop");
  // As a snapshot's version: an integer from 1 to 2^53 - 1, written as one (the Rust
  // provider's `announced_version` reads the same).
  for (const data of ["11.0", "1e15", "1e15+1", "-1", "0", "9007199254740992", '{"version": 11.0}', '{"version": 1e15}',
    '{"version": -3}', "version 1.5 is available", "v2.1.0", "version -2", "version .5", "released 2026-01-01"]) {
    assert.equal(announcedVersion(data), undefined, data);
  }
});
