import { describe, expect, it } from "vitest";
import { fillRandom, randomPooled } from "../../src/crypto/random-pool.ts";

describe("random pool", () => {
  it("nonces are distinct across pool refills (48 KiB pool, 12-byte draws)", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(randomPooled(12).toString("hex"));
    expect(seen.size).toBe(10_000);
  });
  it("fillRandom writes exactly the requested range, pooled and direct (> 1 KiB)", () => {
    for (const length of [12, 2048]) {
      const out = Buffer.alloc(length + 8);
      fillRandom(out, 4, length);
      expect(out.subarray(0, 4).equals(Buffer.alloc(4))).toBe(true);
      expect(out.subarray(4 + length).equals(Buffer.alloc(4))).toBe(true);
      expect(out.subarray(4, 4 + length).equals(Buffer.alloc(length))).toBe(false);
    }
  });
});
