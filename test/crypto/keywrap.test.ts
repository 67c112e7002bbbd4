import { randomBytes } from "node:crypto";
import { aeskwp } from "@noble/ciphers/aes.js";
import { describe, expect, it } from "vitest";
import { generateRsaSync } from "../../src/crypto/keys.ts";
import { aesKeyUnwrapPad, aesKeyWrapPad, byokUnwrap, byokWrap } from "../../src/crypto/keywrap.ts";
import { hex, runVectors } from "./wycheproof.ts";

describe("AES-KWP (RFC 5649) (Wycheproof)", () => {
  runVectors("aes_kwp_test", (_g, t) => {
    const kek = hex(t["key"]);
    const msg = hex(t["msg"]);
    const ct = hex(t["ct"]);
    const opened = aesKeyUnwrapPad(kek, ct);
    const unwrapOk = opened?.equals(msg) === true;
    if (t.result !== "valid" || msg.length === 0) return unwrapOk;
    return unwrapOk && aesKeyWrapPad(kek, msg).equals(ct);
  });
  it("agrees with @noble/ciphers aeskwp", () => {
    const kek = randomBytes(32);
    const key = randomBytes(45);
    expect(aesKeyWrapPad(kek, key).equals(Buffer.from(aeskwp(kek).encrypt(key)))).toBe(true);
  });
});

describe("BYOK envelope", () => {
  const { privateKey, publicKey } = generateRsaSync(4096);
  it("wraps and unwraps 16..8192-byte keys under each OAEP hash; a flipped byte is null", () => {
    for (const [size, hash] of [
      [16, "sha2-256"],
      [32, "sha1"],
      [8192, "sha2-512"],
    ] as const) {
      const target = randomBytes(size);
      const blob = byokWrap(publicKey, target, hash);
      expect(byokUnwrap(privateKey, blob, hash)?.equals(target)).toBe(true);
      const bad = Buffer.from(blob);
      bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
      expect(byokUnwrap(privateKey, bad, hash)).toBe(null);
    }
    expect(() => byokWrap(publicKey, randomBytes(15))).toThrow(RangeError);
  });
});
