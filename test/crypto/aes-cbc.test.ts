// AES-CBC with PKCS#7 padding (src/crypto/aes-cbc.ts): Wycheproof aes_cbc_pkcs5 (valid ciphertexts,
// bad paddings), @noble/ciphers' cbc on pseudorandom inputs, and the caller-IV rules.
import { cbc } from "@noble/ciphers/aes.js";
import { describe, expect, it } from "vitest";
import { cbcDecrypt, cbcEncrypt, cbcGenerateIv } from "../../src/crypto/aes-cbc.ts";
import { hex, loadVectors, toHex, type WycheproofFile, type WycheproofTest } from "./helpers/vectors.ts";

interface CbcGroup {
  keySize: number;
  tests: (WycheproofTest & { key: string; iv: string; msg: string; ct: string })[];
}
const wycheproof = loadVectors<WycheproofFile<CbcGroup>>("wycheproof/aes_cbc_pkcs5_test.json");

describe("AES-CBC-PKCS7", () => {
  it("Wycheproof aes_cbc_pkcs5: encrypts valid cases to their ciphertext; bad paddings fail generically", () => {
    let n = 0;
    for (const g of wycheproof.testGroups) {
      for (const t of g.tests) {
        n++;
        const [key, iv] = [hex(t.key), hex(t.iv)];
        if (t.result === "valid") {
          expect(toHex(cbcEncrypt(key, iv, hex(t.msg))), `tcId ${t.tcId}`).toBe(t.ct);
          expect(toHex(cbcDecrypt(key, iv, hex(t.ct)))).toBe(t.msg);
        } else {
          expect(() => cbcDecrypt(key, iv, hex(t.ct)), `tcId ${t.tcId}`).toThrow(/^invalid ciphertext$/);
        }
      }
    }
    expect(n).toBe(216);
  });

  it("agrees with @noble/ciphers' cbc for 128/192/256-bit keys and lengths around the block size", () => {
    for (const keyLen of [16, 24, 32]) {
      for (const len of [0, 1, 15, 16, 17, 32, 100]) {
        const key = new Uint8Array(keyLen).map((_, i) => i * 7 + len);
        const iv = cbcGenerateIv();
        const pt = new Uint8Array(len).map((_, i) => i ^ keyLen);
        const ct = cbcEncrypt(key, iv, pt);
        expect(ct.length).toBe((Math.floor(len / 16) + 1) * 16);
        expect(toHex(ct)).toBe(toHex(cbc(key, iv).encrypt(pt)));
        expect(toHex(cbcDecrypt(key, iv, ct))).toBe(toHex(pt));
      }
    }
  });

  it("requires a 16-byte IV and a 16/24/32-byte key; rejects ciphertexts that are not whole blocks", () => {
    const key = new Uint8Array(32);
    for (const ivLen of [0, 12, 15, 17, 32]) {
      expect(() => cbcEncrypt(key, new Uint8Array(ivLen), new Uint8Array(1))).toThrow(/iv must be 16 bytes/);
    }
    expect(() => cbcEncrypt(new Uint8Array(20), new Uint8Array(16), new Uint8Array(1))).toThrow(
      /16, 24 or 32/,
    );
    for (const len of [0, 15, 17]) {
      expect(() => cbcDecrypt(key, new Uint8Array(16), new Uint8Array(len))).toThrow(/^invalid ciphertext$/);
    }
  });

  it("a fresh IV per encryption: the same plaintext encrypts differently", () => {
    const key = new Uint8Array(16).fill(9);
    const pt = new TextEncoder().encode("legacy system payload");
    expect(toHex(cbcEncrypt(key, cbcGenerateIv(), pt))).not.toBe(toHex(cbcEncrypt(key, cbcGenerateIv(), pt)));
  });
});
