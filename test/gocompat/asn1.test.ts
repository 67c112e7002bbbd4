/**
 * src/gocompat/asn1.ts and asn1-marshal.ts: a value parsed into Go's `any`
 * and marshaled back as encoding/asn1 does (asn1.go parseField; marshal.go:
 * strings as PrintableString when every character is printable, else
 * UTF8String; time.Time as UTCTime for 1950..2049, else GeneralizedTime,
 * always with seconds; nil and invalid UTF-8 refused with Go's texts).
 */
import { describe, expect, it } from "vitest";
import { encodeTlv, readTlv, TAG } from "../../src/crypto/der.ts";
import { parseAsn1Time, parseGoAny } from "../../src/gocompat/asn1.ts";
import { Asn1MarshalError, marshalAsn1String, marshalGoAny } from "../../src/gocompat/asn1-marshal.ts";

const roundTrip = (tag: number, body: string | Buffer): string | undefined => {
  const der = encodeTlv(tag, typeof body === "string" ? Buffer.from(body, "latin1") : body);
  const v = parseGoAny(der, readTlv(der, 0));
  return v === undefined ? undefined : marshalGoAny(v).toString("hex");
};
const tlvHex = (tag: number, s: string) => encodeTlv(tag, Buffer.from(s, "utf8")).toString("hex");

describe("strings", () => {
  it("every string type becomes a Go string, written Printable or UTF8", () => {
    expect(roundTrip(TAG.IA5_STRING, "ab c")).toBe(tlvHex(TAG.PRINTABLE_STRING, "ab c"));
    expect(roundTrip(TAG.IA5_STRING, "a@b")).toBe(tlvHex(TAG.UTF8_STRING, "a@b"));
    // '*' and '&' parse as PrintableString but do not marshal as one.
    expect(roundTrip(TAG.PRINTABLE_STRING, "a*b")).toBe(tlvHex(TAG.UTF8_STRING, "a*b"));
    expect(roundTrip(TAG.BMP_STRING, Buffer.from("00e90041", "hex"))).toBe(tlvHex(TAG.UTF8_STRING, "éA"));
    expect(roundTrip(TAG.NUMERIC_STRING, "12 3")).toBe(tlvHex(TAG.PRINTABLE_STRING, "12 3"));
    expect(marshalAsn1String("Example Org")).toEqual(
      encodeTlv(TAG.PRINTABLE_STRING, Buffer.from("Example Org")),
    );
  });

  it("Go's parse refusals and marshal refusals", () => {
    expect(roundTrip(TAG.PRINTABLE_STRING, "a@b")).toBeUndefined();
    expect(roundTrip(TAG.NUMERIC_STRING, "1a")).toBeUndefined();
    expect(roundTrip(TAG.UTF8_STRING, Buffer.from("ff", "hex"))).toBeUndefined();
    expect(roundTrip(TAG.BMP_STRING, Buffer.from("00", "hex"))).toBeUndefined();
    expect(() => roundTrip(TAG.T61_STRING, Buffer.from("ff", "hex"))).toThrow("asn1: string not valid UTF-8");
    expect(() => roundTrip(TAG.NULL, "")).toThrow(Asn1MarshalError);
    expect(() => roundTrip(TAG.NULL, "")).toThrow("asn1: cannot marshal nil value");
  });
});

describe("other values", () => {
  it("INTEGER (int64, minimal), BIT STRING, OID and OCTET STRING come back unchanged", () => {
    expect(roundTrip(TAG.INTEGER, Buffer.from("0080", "hex"))).toBe("02020080");
    expect(roundTrip(TAG.INTEGER, Buffer.from("007f", "hex"))).toBeUndefined();
    expect(roundTrip(TAG.INTEGER, Buffer.alloc(9, 1))).toBeUndefined();
    expect(roundTrip(TAG.BIT_STRING, Buffer.from("0680", "hex"))).toBe("03020680");
    expect(roundTrip(TAG.BIT_STRING, Buffer.from("0681", "hex"))).toBeUndefined();
    expect(roundTrip(TAG.OID, Buffer.from("2b6570", "hex"))).toBe("06032b6570");
    expect(roundTrip(TAG.OCTET_STRING, Buffer.from("00ff", "hex"))).toBe("040200ff");
  });

  it("times: UTCTime gains its seconds; GeneralizedTime in 1950..2049 becomes UTCTime", () => {
    const utc = (s: string) => encodeTlv(TAG.UTC_TIME, Buffer.from(s)).toString("hex");
    const gen = (s: string) => encodeTlv(TAG.GENERALIZED_TIME, Buffer.from(s)).toString("hex");
    expect(roundTrip(TAG.UTC_TIME, "2401011230Z")).toBe(utc("240101123000Z"));
    expect(roundTrip(TAG.GENERALIZED_TIME, "20240101123000+0130")).toBe(utc("240101123000+0130"));
    expect(roundTrip(TAG.GENERALIZED_TIME, "21000101000000Z")).toBe(gen("21000101000000Z"));
    expect(roundTrip(TAG.UTC_TIME, "490101000000Z")).toBe(utc("490101000000Z"));
    expect(parseAsn1Time("230229000000Z", true)).toBeNull();
    expect(parseAsn1Time("240229000000Z", true)?.day).toBe(29);
    expect(parseAsn1Time("240101000000+0000", true)).toBeNull();
    expect(parseAsn1Time("20240101000000.5Z", false)).toBeNull();
  });
});
