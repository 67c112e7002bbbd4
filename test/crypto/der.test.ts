/**
 * src/crypto/der.ts: the TLV reader's strictness (X.690 DER: definite,
 * minimal lengths), the cursor, the OID codec against well-known encodings
 * (RFC 5480 and RFC 8410 OIDs as they appear in every SPKI) and DER's
 * canonical-form checks.
 */
import { describe, expect, it } from "vitest";
import {
  DerCursor,
  DerError,
  decodeOid,
  encodeOid,
  encodeTlv,
  minimalInteger,
  readTlv,
  rightAlign,
  TAG,
  validBitStringBody,
  validOid,
} from "../../src/crypto/der.ts";

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ""), "hex");

describe("OIDs", () => {
  it("well-known encodings both ways", () => {
    const known: [string, string][] = [
      ["1.2.840.10045.2.1", "06072a8648ce3d0201"],
      ["1.2.840.10045.3.1.7", "06082a8648ce3d030107"],
      ["1.3.101.112", "06032b6570"],
      ["2.5.29.17", "0603551d11"],
      ["1.2.840.113549.1.1.11", "06092a864886f70d01010b"],
    ];
    for (const [dotted, der] of known) {
      expect(encodeOid(dotted).toString("hex")).toBe(der);
      expect(decodeOid(hex(der).subarray(2))).toBe(dotted);
    }
    expect(decodeOid(encodeOid("2.999.18446744073709551616").subarray(2))).toBe("2.999.18446744073709551616");
  });

  it("validOid: non-empty, last arc ended, no 0x80 arc padding", () => {
    const ok = (h: string) => validOid(hex(h), readTlv(hex(h), 0));
    expect(ok("06032b6570")).toBe(true);
    expect(ok("0600")).toBe(false);
    expect(ok("06022b86")).toBe(false);
    expect(ok("06032b8001")).toBe(false);
  });
});

describe("TLVs", () => {
  it("reads definite minimal lengths; refuses indefinite, non-minimal, long and truncated ones", () => {
    expect(readTlv(hex("3003020101"), 0)).toEqual({ tag: 0x30, start: 0, contentStart: 2, end: 5 });
    const long = encodeTlv(TAG.OCTET_STRING, Buffer.alloc(200));
    expect(long.subarray(0, 3).toString("hex")).toBe("0481c8");
    expect(readTlv(long, 0).end).toBe(203);
    for (const [bad, why] of [
      ["3080", "indefinite length"],
      ["04810100", "not minimally encoded"],
      ["0482000100", "not minimally encoded"],
      ["0485", "length too large"],
      ["0403aabb", "data truncated"],
      ["1f01", "high tag numbers"],
    ]) {
      expect(() => readTlv(hex(bad as string), 0)).toThrow(DerError);
      expect(() => readTlv(hex(bad as string), 0)).toThrow(why as string);
    }
  });

  it("the cursor reads from the front and consumes nothing on a mismatch or a malformed element", () => {
    const der = hex("3008 0201 05 0403 aabbcc");
    const c = DerCursor.of(der, readTlv(der, 0));
    expect(c.read(TAG.OCTET_STRING)).toBeNull();
    expect(c.read(TAG.INTEGER)?.contentStart).toBe(4);
    expect(c.peek(TAG.OCTET_STRING)).toBe(true);
    expect(c.readAny()?.end).toBe(10);
    expect(c.empty()).toBe(true);
    const truncated = DerCursor.of(hex("0405aa"));
    expect(truncated.readAny()).toBeNull();
    expect(truncated.pos).toBe(0);
  });

  it("DER's canonical INTEGER and BIT STRING contents; RightAlign", () => {
    expect(minimalInteger(hex("00"))).toBe(true);
    expect(minimalInteger(hex("0080"))).toBe(true);
    expect(minimalInteger(hex("007f"))).toBe(false);
    expect(minimalInteger(hex("ff80"))).toBe(false);
    expect(minimalInteger(hex(""))).toBe(false);
    expect(validBitStringBody(hex("00"))).toBe(true);
    expect(validBitStringBody(hex("01"))).toBe(false);
    expect(validBitStringBody(hex("0480"))).toBe(true);
    expect(validBitStringBody(hex("0481"))).toBe(false);
    expect(validBitStringBody(hex("08ff"))).toBe(false);
    expect(rightAlign(hex("04abc0")).toString("hex")).toBe("0abc");
    expect(rightAlign(hex("00abcd")).toString("hex")).toBe("abcd");
  });
});
