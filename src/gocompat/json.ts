/**
 * JSON as Go's encoding/json writes it (encoding/json/encode.go, through
 * keysutil's jsonutil.EncodeJSON, a json.Encoder): object keys in the given
 * order, big.Int values as numbers with all their digits, strings escaped
 * as Go escapes them (<, > and & as \u003c, \u003e, \u0026; U+2028 and
 * U+2029), a trailing newline.
 */

export class GoJsonEncodeError extends Error {}

/** A value for encodeGoJson: bigints become JSON numbers with all their digits; undefined fields are dropped. */
export type GoJsonInput =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | GoJsonInput[]
  | { [key: string]: GoJsonInput };

/** Encodes like Go's json.Encoder (jsonutil.EncodeJSON): object keys in the given order, a trailing newline. */
export function encodeGoJson(value: GoJsonInput): string {
  return `${encode(value)}\n`;
}

function encode(value: GoJsonInput): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new GoJsonEncodeError("unsupported number");
    return String(value);
  }
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return quoteJsonString(value);
  if (Array.isArray(value)) return `[${value.map(encode).join(",")}]`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    parts.push(`${quoteJsonString(k)}:${encode(v)}`);
  }
  return `{${parts.join(",")}}`;
}

/** encode.go appendString with HTML escaping on (Go's default). */
export function quoteJsonString(s: string): string {
  return JSON.stringify(s)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}
