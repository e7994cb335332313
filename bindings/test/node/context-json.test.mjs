// Contexts as JSON text for the module: JSON.stringify's text, BigInts exact, and no
// string of the context ever taken for a BigInt.
import { test } from "node:test";
import assert from "node:assert/strict";
import { contextJson } from "../../dist/context-json.js";

test("JSON.stringify's text, with BigInts as exact integers", () => {
  const plain = { targetingKey: "ann", n: 1.5, list: [1, "x", null, undefined], skip: undefined, f() {} };
  assert.equal(contextJson(plain), JSON.stringify(plain));
  assert.equal(contextJson({ n: 9007199254740993n }), '{"n":9007199254740993}');
  assert.equal(contextJson({ n: -(2n ** 70n) }), '{"n":-1180591620717411303424}');
  assert.equal(
    contextJson({ a: [1n, { b: 2n }], c: { toJSON: () => 3n }, d: new Date(0) }),
    '{"a":[1,{"b":2}],"c":3,"d":"1970-01-01T00:00:00.000Z"}',
  );
  assert.equal(contextJson(() => {}), undefined);
  const cyclic = { n: 1n };
  cyclic.self = cyclic;
  assert.throws(() => contextJson(cyclic), TypeError);
  assert.throws(() => contextJson({ n: 1n, bad: { toJSON: () => { throw new RangeError("no"); } } }), RangeError);
});

test("a string or key holding the marker is never taken for a BigInt", () => {
  const random = Math.random;
  const draws = [0.25, 0.5];
  Math.random = () => draws.shift() ?? random();
  try {
    const clashing = `\u0000pennon-bigint-${(0.25).toString(36).slice(2)}:`;
    const context = { n: 5n, note: `${clashing}7`, [`${clashing}8`]: true };
    const text = contextJson(context);
    assert.equal(draws.length, 0, "the first marker clashed, the second was used");
    assert.deepEqual(JSON.parse(text), { n: 5, note: `${clashing}7`, [`${clashing}8`]: true });
  } finally {
    Math.random = random;
  }
});
