import { createHash, createHmac } from "node:crypto";
import { sha3_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import {
  constantTimeEqual,
  HASH_ALGORITHMS,
  type HashAlgorithm,
  hash,
  hashSize,
  hmac,
  isHashAlgorithm,
  opensslHashName,
  randomBytes,
} from "../../src/crypto/hash.ts";
import { hex, runVectors } from "./wycheproof.ts";

describe("HMAC (Wycheproof)", () => {
  const files: [string, HashAlgorithm][] = [
    ["hmac_sha1_test", "sha1"],
    ["hmac_sha256_test", "sha2-256"],
    ["hmac_sha512_test", "sha2-512"],
    ["hmac_sha3_256_test", "sha3-256"],
  ];
  for (const [name, alg] of files) {
    // Tags may be truncated (tagSize bits): a tag is valid when it is that prefix of the HMAC.
    runVectors(name, (g, t) => {
      const tag = hex(t["tag"]);
      const full = hmac(alg, hex(t["key"]), hex(t["msg"]));
      return (
        tag.length * 8 === (g["tagSize"] as number) && constantTimeEqual(full.subarray(0, tag.length), tag)
      );
    });
  }
  it("any key size works, as Go's hmac.New (empty and 10 000-byte keys)", () => {
    for (const key of [Buffer.alloc(0), Buffer.alloc(10_000, 7)]) {
      expect(
        hmac("sha2-256", key, Buffer.from("m")).equals(createHmac("sha256", key).update("m").digest()),
      ).toBe(true);
    }
  });
});

describe("hashes", () => {
  it("FIPS 180/202 known answers for 'abc'", () => {
    expect(hash("sha2-256", Buffer.from("abc")).toString("hex")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(hash("sha3-256", Buffer.from("abc")).toString("hex")).toBe(
      "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
    );
    expect(hash("sha1", Buffer.from("abc")).toString("hex")).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
  });
  it("every algorithm: size and OpenSSL name agree with node and noble", () => {
    for (const a of HASH_ALGORITHMS) {
      expect(isHashAlgorithm(a)).toBe(true);
      const d = hash(a, Buffer.from("x"));
      expect(d.length).toBe(hashSize(a));
      expect(d.equals(createHash(opensslHashName(a)).update("x").digest())).toBe(true);
    }
    expect(hash("sha3-256", Buffer.from("x")).equals(Buffer.from(sha3_256(Buffer.from("x"))))).toBe(true);
    expect(isHashAlgorithm("md5")).toBe(false);
    expect(isHashAlgorithm("none")).toBe(false);
  });
  it("constantTimeEqual: equal, different, different lengths", () => {
    expect(constantTimeEqual(Buffer.from("ab"), Buffer.from("ab"))).toBe(true);
    expect(constantTimeEqual(Buffer.from("ab"), Buffer.from("ac"))).toBe(false);
    expect(constantTimeEqual(Buffer.from("ab"), Buffer.from("abc"))).toBe(false);
  });
  it("randomBytes: length, distinct outputs, bad counts refused", () => {
    expect(randomBytes(0).length).toBe(0);
    expect(randomBytes(32).equals(randomBytes(32))).toBe(false);
    expect(() => randomBytes(-1)).toThrow(RangeError);
    expect(() => randomBytes(1.5)).toThrow(RangeError);
  });
});
