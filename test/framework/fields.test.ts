import { describe, expect, it } from "vitest";
import { convertField, FieldData, FieldError } from "../../src/framework/fields.ts";
import { parseDurationSeconds } from "../../src/util/duration.ts";

describe("field conversion follows Go's weak decoding", () => {
  it("ints accept numbers, numeric strings and bools, and refuse the rest", () => {
    expect(convertField("int", 7)).toBe(7);
    expect(convertField("int", "42")).toBe(42);
    expect(convertField("int", "-3")).toBe(-3);
    expect(convertField("int", true)).toBe(1);
    expect(convertField("int", "")).toBe(0);
    expect(() => convertField("int", "4x")).toThrow(/invalid syntax/);
    expect(() => convertField("int", { a: 1 })).toThrow(/unconvertible type 'object'/);
    expect(() => convertField("int", [1])).toThrow(/unconvertible/);
    expect(() => convertField("int", 2 ** 60)).toThrow(/out of range/);
  });

  it("bools accept Go's ParseBool spellings", () => {
    for (const t of [true, 1, "1", "t", "TRUE", "true", "True"]) expect(convertField("bool", t)).toBe(true);
    for (const f of [false, 0, "0", "f", "false", "FALSE", ""]) expect(convertField("bool", f)).toBe(false);
    expect(() => convertField("bool", "yes")).toThrow(/invalid syntax/);
  });

  it("strings accept scalars and refuse maps and arrays", () => {
    expect(convertField("string", "a")).toBe("a");
    expect(convertField("string", 12)).toBe("12");
    expect(convertField("string", true)).toBe("1");
    expect(() => convertField("string", {})).toThrow(/unconvertible/);
    expect(() => convertField("string", ["a"])).toThrow(/unconvertible/);
    expect(convertField("lowercase_string", "AbC")).toBe("abc");
    expect(() => convertField("name_string", "-bad")).toThrow(/formatting rules/);
  });

  it("durations take seconds, Go duration strings and days", () => {
    expect(parseDurationSeconds(90)).toBe(90);
    expect(parseDurationSeconds("90")).toBe(90);
    expect(parseDurationSeconds("1h30m")).toBe(5400);
    expect(parseDurationSeconds("2d")).toBe(172800);
    expect(parseDurationSeconds("1.5h")).toBe(5400);
    expect(() => parseDurationSeconds("soon")).toThrow(/invalid duration/);
    expect(() => convertField("duration_second", "-5")).toThrow(/negative/);
    expect(convertField("signed_duration_second", "-5")).toBe(-5);
  });

  it("slices wrap single values and split comma lists", () => {
    expect(convertField("slice", "x")).toEqual(["x"]);
    expect(convertField("slice", [1, 2])).toEqual([1, 2]);
    expect(convertField("comma_string_slice", "a, b,c")).toEqual(["a", "b", "c"]);
    expect(convertField("comma_int_slice", "1,2")).toEqual([1, 2]);
    expect(convertField("kv_pairs", ["a=1", "b=2=3"])).toEqual({ a: "1", b: "2=3" });
    expect(() => convertField("kv_pairs", ["novalue"])).toThrow(/invalid key pair/);
  });

  it("base64 fields decode strictly", () => {
    expect(Buffer.from(convertField("base64", "aGk=")).toString()).toBe("hi");
    expect(() => convertField("base64", "aGk")).toThrow(/illegal base64/);
    expect(() => convertField("base64", "a?k=")).toThrow(/illegal base64/);
  });
});

describe("FieldData", () => {
  const schema = {
    name: { type: "string" as const },
    size: { type: "int" as const, default: 256 },
    flag: { type: "bool" as const },
    must: { type: "string" as const, required: true },
  };

  it("returns the value, else the default, else the zero value", () => {
    const d = new FieldData({ name: "k", must: "x" }, schema);
    expect(d.get("name")).toBe("k");
    expect(d.get("size")).toBe(256);
    expect(d.get("flag")).toBe(false);
    expect(d.getOk("flag")).toEqual([undefined, false]);
  });

  it("validate reports the first bad field and missing required ones", () => {
    expect(() => new FieldData({ size: "big", must: "x" }, schema).validate()).toThrow(FieldError);
    expect(() => new FieldData({ size: "big", must: "x" }, schema).validate()).toThrow(
      /error converting input for field "size"/,
    );
    expect(() => new FieldData({}, schema).validate()).toThrow(/missing required field "must"/);
  });

  it("never echoes the rejected value of a long input", () => {
    const secret = "s3cr3t".repeat(20);
    try {
      new FieldData({ size: secret, must: "x" }, schema).validate();
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain(secret);
    }
  });
});
