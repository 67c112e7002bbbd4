import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { describe, expect, it } from "vitest";
import { hchacha20, openX, sealX, XNONCE_SIZE } from "../../src/crypto/xchacha.ts";

const hex = (s: string): Buffer => Buffer.from(s, "hex");

// draft-irtf-cfrg-xchacha-03, appendix A.3.1 (AEAD_XChaCha20_Poly1305) and 2.2.1 (HChaCha20).
const DRAFT = {
  key: "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
  nonce: "404142434445464748494a4b4c4d4e4f5051525354555657",
  aad: "50515253c0c1c2c3c4c5c6c7",
  plaintext:
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  ciphertext:
    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb" +
    "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452" +
    "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9" +
    "21f9664c97637da9768812f615c68b13b52e",
  tag: "c0875924c1c7987947deafd8780acf49",
};

interface WycheproofTest {
  tcId: number;
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: "valid" | "invalid" | "acceptable";
}
interface WycheproofFile {
  testGroups: { ivSize: number; tests: WycheproofTest[] }[];
}

const wycheproof = JSON.parse(
  readFileSync(new URL("../vectors/wycheproof-xchacha20_poly1305_test.json", import.meta.url), "utf8"),
) as WycheproofFile;

describe("XChaCha20-Poly1305", () => {
  it("HChaCha20 matches draft-irtf-cfrg-xchacha-03 §2.2.1", () => {
    const key = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    const input = hex("000000090000004a0000000031415927");
    expect(hchacha20(key, input).toString("hex")).toBe(
      "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc",
    );
  });

  it("seals and opens the draft's A.3.1 known answer (nonce || ct || tag)", () => {
    const sealed = sealX(hex(DRAFT.key), hex(DRAFT.nonce), Buffer.from(DRAFT.plaintext), hex(DRAFT.aad));
    expect(sealed.toString("hex")).toBe(DRAFT.nonce + DRAFT.ciphertext + DRAFT.tag);
    const opened = openX(hex(DRAFT.key), hex(DRAFT.nonce), sealed.subarray(XNONCE_SIZE), hex(DRAFT.aad));
    expect(opened?.toString()).toBe(DRAFT.plaintext);
  });

  it("passes every Wycheproof vector with a 192-bit nonce, and refuses other nonce sizes", () => {
    let valid = 0;
    let invalid = 0;
    for (const group of wycheproof.testGroups) {
      for (const t of group.tests) {
        const key = hex(t.key);
        const iv = hex(t.iv);
        if (group.ivSize !== 192) {
          expect(() => sealX(key, iv, hex(t.msg), hex(t.aad)), `tcId ${t.tcId}`).toThrow(RangeError);
          continue;
        }
        const opened = openX(key, iv, hex(t.ct + t.tag), hex(t.aad));
        if (t.result === "valid") {
          expect(opened?.toString("hex"), `tcId ${t.tcId}`).toBe(t.msg);
          expect(sealX(key, iv, hex(t.msg), hex(t.aad), false).toString("hex"), `tcId ${t.tcId}`).toBe(
            t.ct + t.tag,
          );
          valid++;
        } else {
          expect(opened, `tcId ${t.tcId}`).toBeNull();
          invalid++;
        }
      }
    }
    expect(valid).toBeGreaterThan(200);
    expect(invalid).toBeGreaterThan(30);
  });

  it("agrees with @noble/ciphers' independent xchacha20poly1305 both ways", () => {
    for (const size of [0, 1, 63, 64, 65, 1000, 70_000]) {
      const key = randomBytes(32);
      const nonce = randomBytes(24);
      const aad = size % 2 === 0 ? randomBytes(17) : undefined;
      const msg = randomBytes(size);
      const ours = sealX(key, nonce, msg, aad, false);
      const theirs = xchacha20poly1305(key, nonce, aad).encrypt(msg);
      expect(Buffer.from(theirs).equals(ours)).toBe(true);
      expect(openX(key, nonce, theirs, aad)?.equals(msg)).toBe(true);
    }
  });

  it("refuses a changed tag, nonce, AAD or ciphertext", () => {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const body = sealX(key, nonce, Buffer.from("secret"), Buffer.from("ad"), false);
    const flip = (b: Buffer, i: number): Buffer => {
      const c = Buffer.from(b);
      c[i] = (c[i] as number) ^ 1;
      return c;
    };
    expect(openX(key, nonce, flip(body, body.length - 1), Buffer.from("ad"))).toBeNull();
    expect(openX(key, nonce, flip(body, 0), Buffer.from("ad"))).toBeNull();
    expect(openX(key, flip(nonce, 3), body, Buffer.from("ad"))).toBeNull();
    expect(openX(key, flip(nonce, 20), body, Buffer.from("ad"))).toBeNull();
    expect(openX(key, nonce, body, Buffer.from("ae"))).toBeNull();
    expect(openX(key, nonce, body.subarray(0, 10), Buffer.from("ad"))).toBeNull();
    expect(() => sealX(randomBytes(16), nonce, body, undefined)).toThrow(RangeError);
  });
});
