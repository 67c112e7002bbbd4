/**
 * JSON as Go's encoding/json reads it (encoding/json/decode.go with
 * UseNumber, as keysutil's jsonutil.DecodeJSON): numbers keep every digit
 * (big.Int values are JSON numbers hundreds of digits long, which
 * JSON.parse would round), duplicate keys keep the last value, trailing
 * data is an error.
 */

/** A JSON number as written: parse it with toBigInt or toNumber. */
export class JsonNumber {
  constructor(readonly text: string) {}

  toBigInt(): bigint | null {
    return /^-?\d+$/.test(this.text) ? BigInt(this.text) : null;
  }

  toNumber(): number {
    return Number(this.text);
  }
}

export type GoJsonValue =
  | null
  | boolean
  | string
  | JsonNumber
  | GoJsonValue[]
  | { [key: string]: GoJsonValue };

export class GoJsonError extends Error {}

const MAX_DEPTH = 64;

/** Parses JSON text, numbers as JsonNumber. Rejects trailing data, as Go's decoder does. */
export function parseGoJson(text: string): GoJsonValue {
  let pos = 0;
  const fail = (what: string): never => {
    throw new GoJsonError(`invalid JSON: ${what} at offset ${pos}`);
  };
  const ws = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) pos++;
      else break;
    }
  };
  const value = (depth: number): GoJsonValue => {
    if (depth > MAX_DEPTH) fail("nesting too deep");
    ws();
    const c = text[pos];
    if (c === "{") {
      pos++;
      const out: { [key: string]: GoJsonValue } = {};
      ws();
      if (text[pos] === "}") {
        pos++;
        return out;
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') fail("expected a string key");
        const key = string();
        ws();
        if (text[pos] !== ":") fail("expected ':'");
        pos++;
        // Go keeps the last of duplicate keys.
        Object.defineProperty(out, key, {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        ws();
        if (text[pos] === ",") {
          pos++;
          continue;
        }
        if (text[pos] === "}") {
          pos++;
          return out;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      pos++;
      const out: GoJsonValue[] = [];
      ws();
      if (text[pos] === "]") {
        pos++;
        return out;
      }
      for (;;) {
        out.push(value(depth + 1));
        ws();
        if (text[pos] === ",") {
          pos++;
          continue;
        }
        if (text[pos] === "]") {
          pos++;
          return out;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (text.startsWith("true", pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith("false", pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith("null", pos)) {
      pos += 4;
      return null;
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(pos, pos + 4096));
    if (m === null) return fail("unexpected character");
    pos += m[0].length;
    return new JsonNumber(m[0]);
  };
  const string = (): string => {
    pos++;
    let out = "";
    for (;;) {
      let end = pos;
      while (end < text.length) {
        const code = text.charCodeAt(end);
        if (code === 0x22 || code === 0x5c || code < 0x20) break;
        end++;
      }
      if (end === text.length) fail("unterminated string");
      out += text.slice(pos, end);
      pos = end;
      const c = text[pos];
      if (c === '"') {
        pos++;
        return out;
      }
      if (c !== "\\") fail("control character in string");
      const e = text[pos + 1];
      pos += 2;
      switch (e) {
        case '"':
        case "\\":
        case "/":
          out += e;
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case "u": {
          const hex = text.slice(pos, pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
          out += String.fromCharCode(Number.parseInt(hex, 16));
          pos += 4;
          break;
        }
        default:
          fail("bad escape");
      }
    }
  };
  const result = value(0);
  ws();
  if (pos !== text.length) fail("trailing data");
  return result;
}
