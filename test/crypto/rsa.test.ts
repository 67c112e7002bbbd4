import { constants, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { HashAlgorithm } from "../../src/crypto/hash.ts";
import { generateRsaSync, spkiFromPkcs8 } from "../../src/crypto/keys.ts";
import { rsaDecrypt, rsaEncrypt, rsaMaxPlaintext } from "../../src/crypto/rsa.ts";
import { hex, runVectors } from "./wycheproof.ts";

describe("RSA-OAEP decryption (Wycheproof)", () => {
  const files: [string, HashAlgorithm][] = [
    ["rsa_oaep_2048_sha1_mgf1sha1_test", "sha1"],
    ["rsa_oaep_2048_sha256_mgf1sha256_test", "sha2-256"],
    ["rsa_oaep_4096_sha512_mgf1sha512_test", "sha2-512"],
  ];
  for (const [name, alg] of files) {
    // Vault's OAEP never carries a label (rsa.EncryptOAEP(..., nil)): labelled vectors are skipped.
    runVectors(
      name,
      (g, t) => {
        if (String(t["label"] ?? "") !== "") return null;
        const plain = rsaDecrypt(hex(g["privateKeyPkcs8"]), hex(t["ct"]), "oaep", alg);
        return plain?.equals(hex(t["msg"])) === true;
      },
      0.75,
    );
  }
});

describe("RSA encryption", () => {
  const { privateKey, publicKey } = generateRsaSync(2048);
  const key = createPrivateKey({ key: privateKey, format: "der", type: "pkcs8" });
  it("OAEP round trip and OpenSSL interop at the size limit", () => {
    for (const alg of ["sha1", "sha2-256", "sha2-512"] as const) {
      const max = rsaMaxPlaintext(publicKey, "oaep", alg);
      const m = Buffer.alloc(max, 1);
      const ct = rsaEncrypt(publicKey, m, "oaep", alg);
      const name = alg === "sha1" ? "sha1" : alg.replace("sha2-", "sha");
      expect(
        privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: name }, ct).equals(m),
      ).toBe(true);
      expect(rsaDecrypt(privateKey, ct, "oaep", alg)?.equals(m)).toBe(true);
      expect(() => rsaEncrypt(publicKey, Buffer.alloc(max + 1), "oaep", alg)).toThrow(RangeError);
    }
  });
  it("PKCS#1 v1.5: OpenSSL's ciphertext opens with the constant-time unpadding; tampering is null", () => {
    const m = Buffer.from("pkcs1 v1.5 message");
    const ct = publicEncrypt(
      { key: createPublicKey({ key: spkiFromPkcs8(privateKey), format: "der", type: "spki" }), padding: 1 },
      m,
    );
    expect(rsaDecrypt(privateKey, ct, "pkcs1v15")?.equals(m)).toBe(true);
    expect(rsaDecrypt(privateKey, rsaEncrypt(publicKey, m, "pkcs1v15"), "pkcs1v15")?.equals(m)).toBe(true);
    const bad = Buffer.from(ct);
    bad[10] = (bad[10] as number) ^ 1;
    expect(rsaDecrypt(privateKey, bad, "pkcs1v15")?.equals(m) ?? false).toBe(false);
    expect(rsaDecrypt(privateKey, ct.subarray(1), "pkcs1v15")).toBe(null);
  });
});
