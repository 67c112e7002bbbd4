import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { NONCE_SIZE, open, seal, sealTransient, TAG_SIZE } from "../../src/crypto/aead.ts";

/**
 * sealTransient (the engine's encrypt seals through it, a hot-path change the
 * bench measures) must produce exactly what seal produces; above 64 KiB its
 * result is a view of one reused buffer, valid until the next call.
 */
const ALGS = ["aes256-gcm96", "aes128-gcm96", "chacha20-poly1305"] as const;
const KiB = 1024;
const SIZES = [0, 1, 64, 64 * KiB, 64 * KiB + 1, 200 * KiB, 1024 * KiB, 4 * 1024 * KiB, 4 * 1024 * KiB + 1];

describe("sealTransient", () => {
  for (const alg of ALGS) {
    it(`${alg}: same bytes as seal at every size, and they open`, () => {
      const key = randomBytes(alg === "aes128-gcm96" ? 16 : 32);
      for (const size of SIZES) {
        const pt = randomBytes(size);
        const nonce = randomBytes(NONCE_SIZE);
        const aad = size % 2 === 0 ? randomBytes(16) : undefined;
        const want = seal(alg, key, nonce, pt, aad);
        const got = sealTransient(alg, key, nonce, pt, aad);
        expect(got.length, `${size}`).toBe(NONCE_SIZE + size + TAG_SIZE);
        expect(Buffer.compare(got, want), `${size}`).toBe(0);
        const opened = open(alg, key, got.subarray(0, NONCE_SIZE), got.subarray(NONCE_SIZE), aad);
        expect(opened?.equals(pt), `${size}`).toBe(true);
      }
    });
  }

  it("reuses one buffer above 64 KiB (the previous result is overwritten), owns small ones", () => {
    const key = randomBytes(32);
    const big1 = sealTransient(
      "aes256-gcm96",
      key,
      randomBytes(NONCE_SIZE),
      randomBytes(100 * KiB),
      undefined,
    );
    const copy = Buffer.from(big1);
    const big2 = sealTransient(
      "aes256-gcm96",
      key,
      randomBytes(NONCE_SIZE),
      randomBytes(100 * KiB),
      undefined,
    );
    expect(big2.buffer).toBe(big1.buffer);
    expect(big1.equals(copy)).toBe(false);
    const small1 = sealTransient("aes256-gcm96", key, randomBytes(NONCE_SIZE), randomBytes(64), undefined);
    const smallCopy = Buffer.from(small1);
    sealTransient("aes256-gcm96", key, randomBytes(NONCE_SIZE), randomBytes(64), undefined);
    expect(small1.equals(smallCopy)).toBe(true);
  });

  it("refuses bad parameters as seal does", () => {
    expect(() =>
      sealTransient("aes256-gcm96", randomBytes(16), randomBytes(12), randomBytes(100 * KiB), undefined),
    ).toThrow(RangeError);
    expect(() =>
      sealTransient("aes256-gcm96", randomBytes(32), randomBytes(8), randomBytes(100 * KiB), undefined),
    ).toThrow(RangeError);
  });
});
