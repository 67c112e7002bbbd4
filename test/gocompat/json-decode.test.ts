/**
 * src/gocompat/json-decode.ts against encoding/json's decoding with
 * UseNumber (decode.go: numbers as json.Number text, the last of duplicate
 * keys wins, data after the value is an error; scanner.go's grammar).
 */
import { describe, expect, it } from "vitest";
import { GoJsonError, JsonNumber, parseGoJson } from "../../src/gocompat/json-decode.ts";

describe("encoding/json decode", () => {
  it("numbers keep every digit; integers and others told apart", () => {
    const digits = (2n ** 4096n + 7n).toString();
    const v = parseGoJson(`{"n":${digits},"f":1.5e3,"neg":-0}`) as Record<string, JsonNumber>;
    expect(v["n"]).toBeInstanceOf(JsonNumber);
    expect(v["n"]?.toBigInt()).toBe(2n ** 4096n + 7n);
    expect(v["f"]?.toBigInt()).toBeNull();
    expect(v["f"]?.toNumber()).toBe(1500);
    expect(v["neg"]?.text).toBe("-0");
  });

  it("escapes, duplicate keys (the last wins), __proto__ as a plain key", () => {
    const v = parseGoJson('{"a":1,"a":"\\u003c\\n\\/","__proto__":{"x":true}}') as Record<string, unknown>;
    expect(v["a"]).toBe("<\n/");
    expect(Object.keys(v)).toEqual(["a", "__proto__"]);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });

  it("Go's refusals: trailing data, control characters in strings, bad escapes, leading zeros", () => {
    for (const bad of ['{"a":1} x', '"a\u0001"', '"\\x"', "01", "[1,]", '{"a" 1}', "nul", "1.", "-"]) {
      expect(() => parseGoJson(bad), bad).toThrow(GoJsonError);
    }
    expect(() => parseGoJson("[".repeat(100))).toThrow("nesting too deep");
  });
});
