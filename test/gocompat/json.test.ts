/**
 * src/gocompat/json.ts against encoding/json's documented encoding
 * (encode.go: "String values encode as JSON strings coerced to valid UTF-8
 * ... <, >, & are escaped to \u003c, \u003e, \u0026 ... U+2028 and U+2029
 * are escaped"; json.Encoder ends each value with a newline) and big.Int's
 * MarshalJSON (a number with all its digits).
 */
import { describe, expect, it } from "vitest";
import { encodeGoJson, quoteJsonString } from "../../src/gocompat/json.ts";

describe("encoding/json encode", () => {
  it("HTML characters and line separators escaped as Go escapes them", () => {
    expect(quoteJsonString("<a&b>")).toBe('"\\u003ca\\u0026b\\u003e"');
    expect(quoteJsonString("x\u2028y\u2029")).toBe('"x\\u2028y\\u2029"');
    expect(quoteJsonString('q"\\\n\t\u0001')).toBe('"q\\"\\\\\\n\\t\\u0001"');
  });

  it("keys in the given order, undefined fields dropped, bigints with all digits, a trailing newline", () => {
    const big = 2n ** 2048n - 1n;
    const out = encodeGoJson({ b: 1, a: [true, null, "s"], skip: undefined, n: big, o: {} });
    expect(out).toBe(`{"b":1,"a":[true,null,"s"],"n":${big.toString()},"o":{}}\n`);
    expect(() => encodeGoJson(Number.NaN)).toThrow("unsupported number");
  });
});
