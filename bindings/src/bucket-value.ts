/**
 * The value a rollout hashed (SPEC 5.6 step 1), read again from the context object the
 * engine was given, for exposures: a split by `company.id` is analysed per company,
 * which the targeting key alone cannot join.
 *
 * The engine reads a context as `JSON.stringify` writes it (`context-json.ts`), so this
 * reads it the same way: own enumerable members, `toJSON` applied (a `Date` is its ISO
 * text), boxed primitives unboxed, and a number as its JSON digits. The path is found as
 * SPEC 3.3 says: the exact top-level name, else the dotted segments through objects.
 * Asked only for a result that hashed, so the value is a string or an integer; the
 * vectors check that it hashes to the position served (`telemetry.test.mjs`).
 */
export function bucketValue(context: unknown, attribute: string): string | undefined {
  const root = jsonForm(context, "");
  const value = attribute === "targetingKey" ? member(root, "targetingKey") : lookup(root, attribute);
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      return Number.isInteger(value) ? JSON.stringify(value) : undefined;
    case "bigint":
      return value.toString();
    default:
      return undefined;
  }
}

function lookup(root: unknown, path: string): unknown {
  const exact = member(root, path);
  if (exact !== undefined) return exact;
  const segments = path.split(".");
  // `targetingKey` is not an attribute, so no path goes through it.
  if (segments.length < 2 || segments[0] === "targetingKey") return undefined;
  let current = root;
  for (const segment of segments) {
    current = member(current, segment);
    if (current === undefined) return undefined;
  }
  return current;
}

/** `holder[key]` as JSON writes it; `undefined` where JSON leaves it out. */
function member(holder: unknown, key: string): unknown {
  if (holder === null || typeof holder !== "object" || Array.isArray(holder)) return undefined;
  if (!Object.prototype.propertyIsEnumerable.call(holder, key)) return undefined;
  const value = jsonForm((holder as Record<string, unknown>)[key], key);
  return typeof value === "function" || typeof value === "symbol" ? undefined : value;
}

function jsonForm(value: unknown, key: string): unknown {
  if (value === null || typeof value !== "object") return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  const shown = typeof toJSON === "function" ? (toJSON as (key: string) => unknown).call(value, key) : value;
  if (shown instanceof Number || shown instanceof String || shown instanceof BigInt) return shown.valueOf();
  return shown;
}
