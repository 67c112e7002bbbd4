import { createDecipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  AEAD_IMPLS,
  AEADS,
  CHUNK,
  CounterNonce,
  keyLength,
  NONCE,
  TAG,
} from "../../bench/layers/aead-impls.ts";

/** Opens nonce || ct || tag with node:crypto directly: the bench's candidates must all produce real AEAD output. */
function reference(alg: string, key: Uint8Array, sealed: Uint8Array): Buffer {
  const d = createDecipheriv(alg as "aes-256-gcm", key, sealed.subarray(0, NONCE), { authTagLength: TAG });
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  return Buffer.concat([d.update(sealed.subarray(NONCE, sealed.length - TAG)), d.final()]);
}

describe("the AEAD candidates the primitives layer measures", () => {
  for (const alg of AEADS) {
    for (const impl of AEAD_IMPLS.filter((i) => i.supports(alg) && i.reference !== true)) {
      it(`${impl.name} ${alg}: seals what node:crypto opens and opens what it seals, across the chunk boundary`, async () => {
        const key = randomBytes(keyLength(alg));
        const inst = await impl.create(alg, key);
        const nonces = new CounterNonce(9);
        for (const size of [0, 64, CHUNK + 17, 2 * CHUNK]) {
          const pt = randomBytes(size);
          const nonce = Buffer.from(nonces.next());
          const sealed = Buffer.from(await inst.seal(nonce, pt));
          expect(sealed.length).toBe(NONCE + size + TAG);
          expect(sealed.subarray(0, NONCE).equals(nonce)).toBe(true);
          expect(reference(alg, key, sealed).equals(pt)).toBe(true);
          expect(Buffer.from(await inst.open(sealed)).equals(pt)).toBe(true);
        }
      });
    }
  }

  it("rejects a forged tag in every implementation", async () => {
    const key = randomBytes(32);
    for (const impl of AEAD_IMPLS.filter((i) => i.reference !== true)) {
      const inst = await impl.create("aes-256-gcm", key);
      const sealed = Buffer.from(await inst.seal(new CounterNonce(1).next(), randomBytes(64)));
      sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1;
      await expect(async () => inst.open(sealed)).rejects.toThrow();
    }
  });

  it("never hands out the same nonce twice", () => {
    const nonces = new CounterNonce(3);
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(nonces.next().toString("hex"));
    expect(seen.size).toBe(10_000);
  });
});
