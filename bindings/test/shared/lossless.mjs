// A JSON reader that keeps what JSON.parse loses: every number keeps its source text,
// so integers beyond 2^53 become BigInt and `42.0` can be written back as `42.0`.
// Runtime-agnostic: used by the Node, Chromium and workerd runners alike.

/** A number literal as written. */
export class Num {
  constructor(raw) {
    this.raw = raw;
  }
  /** Written without fraction or exponent. */
  get integer() {
    return !/[.eE]/.test(this.raw);
  }
}

/** Parses JSON text into plain objects and arrays whose numbers are `Num`s. */
export function parse(text) {
  let i = 0;
  const fail = (what) => {
    throw new SyntaxError(`lossless JSON: ${what} at ${i}`);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const out = {};
      ws();
      if (text[i] === "}") return i++, out;
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a key");
        const key = string();
        ws();
        if (text[i++] !== ":") fail("expected ':'");
        define(out, key, value());
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return i++, out;
        else fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const out = [];
      ws();
      if (text[i] === "]") return i++, out;
      for (;;) {
        out.push(value());
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return i++, out;
        else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m && m[0].length > 0) return (i += m[0].length), new Num(m[0]);
    for (const [word, v] of [["true", true], ["false", false], ["null", null]]) {
      if (text.startsWith(word, i)) return (i += word.length), v;
    }
    return fail("unexpected character");
  };
  const string = () => {
    const start = i;
    i++;
    while (text[i] !== '"') {
      if (i >= text.length) fail("unterminated string");
      i += text[i] === "\\" ? 2 : 1;
    }
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const out = value();
  ws();
  if (i !== text.length) fail("trailing text");
  return out;
}

/** Sets a member even when its name is `__proto__`. */
function define(object, key, value) {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** As a JavaScript value: unsafe integers become BigInt, other numbers Number. */
export function toJs(tree) {
  if (tree instanceof Num) {
    if (!tree.integer) return Number(tree.raw);
    const big = BigInt(tree.raw);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  if (Array.isArray(tree)) return tree.map(toJs);
  if (tree !== null && typeof tree === "object") {
    const out = {};
    for (const [k, v] of Object.entries(tree)) define(out, k, toJs(v));
    return out;
  }
  return tree;
}

/** Back to JSON text, numbers exactly as they were written. */
export function toText(tree) {
  if (tree instanceof Num) return tree.raw;
  if (Array.isArray(tree)) return `[${tree.map(toText).join(",")}]`;
  if (tree !== null && typeof tree === "object") {
    return `{${Object.entries(tree).map(([k, v]) => `${JSON.stringify(k)}:${toText(v)}`).join(",")}}`;
  }
  return JSON.stringify(tree);
}

/** Deep equality of JavaScript values; a BigInt equals only a BigInt. */
export function same(a, b) {
  if (typeof a !== typeof b) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, k) => same(x, b[k]));
  if (a !== null && typeof a === "object") {
    if (b === null || Array.isArray(b)) return false;
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return same(ka, kb) && ka.every((k) => same(a[k], b[k]));
  }
  return a === b;
}

/** Any value as text for messages (BigInt marked with `n`). */
export function show(value) {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
}
