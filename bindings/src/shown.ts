/** How option checks show a value they refuse, for every option's message. */

/** A value as an option's message shows it: text quoted, numbers as such, objects by
 *  their class (`Date`, `Headers`; a plain one is "an object"). */
export function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
  if (typeof value === "bigint") return `${value}n (a BigInt)`;
  if (typeof value === "number" || value === null || value === undefined) return String(value);
  if (typeof value !== "object") return typeof value;
  return Object.prototype.toString.call(value).slice(8, -1).replace(/^Object$/, "an object");
}

/** A hint for URL text built from an unset environment variable (`${env.PENNON_URL}/v1/…`
 *  reads "undefined/v1/…"); empty otherwise. */
export function unsetIn(text: string): string {
  return /^(undefined|null)(\/|$)/.test(text) ? " (built from an unset environment variable?)" : "";
}

/** How much of a text a message quotes (UTF-16 units). */
const QUOTED_LIMIT = 200;

/** `text` as a message quotes it: whole when short, else its start and its length. A
 *  message never quotes unbounded input (base64 taken for a path was 341,920 bytes). */
export function clipped(text: string): string {
  return text.length > QUOTED_LIMIT ? `${text.slice(0, QUOTED_LIMIT)}… (${text.length} characters)` : text;
}
