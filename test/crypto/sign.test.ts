import { createPublicKey, generateKeyPairSync, verify as nodeVerify, randomBytes } from "node:crypto";
import { p256 } from "@noble/curves/nist.js";
import { describe, expect, it } from "vitest";
import { type HashAlgorithm, hash } from "../../src/crypto/hash.ts";
import { type EcdsaCurve, ed25519FromSeed, generateEcdsa, generateRsaSync } from "../../src/crypto/keys.ts";
import {
  ecdsaSignDigest,
  ecdsaVerifyDigest,
  ed25519Sign,
  ed25519Verify,
  PSS_SALT_AUTO,
  PSS_SALT_EQUALS_HASH,
  parseEcdsaDer,
  RsaSignatureError,
  rsaPssMaxSaltLength,
  rsaPssSaltLengthValid,
  rsaSignPkcs1v15,
  rsaSignPss,
  rsaVerifyPkcs1v15,
  rsaVerifyPss,
  signMessage,
  splitEcdsaJws,
} from "../../src/crypto/sign.ts";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";
import { hex, runVectors } from "./wycheproof.ts";

const HASH: Record<string, HashAlgorithm> = {
  "SHA-1": "sha1",
  "SHA-256": "sha2-256",
  "SHA-384": "sha2-384",
  "SHA-512": "sha2-512",
  "SHA3-256": "sha3-256",
};
const CURVE: Record<string, EcdsaCurve> = { secp256r1: "p256", secp384r1: "p384", secp521r1: "p521" };
const CURVE_BYTES: Record<EcdsaCurve, number> = { p256: 32, p384: 48, p521: 66 };

describe("ECDSA over digests (Wycheproof)", () => {
  for (const name of [
    "ecdsa_secp256r1_sha256_test",
    "ecdsa_secp256r1_sha512_test",
    "ecdsa_secp384r1_sha384_test",
    "ecdsa_secp521r1_sha512_test",
  ]) {
    runVectors(name, (g, t) => {
      const curve = CURVE[(g["publicKey"] as { curve: string }).curve] as EcdsaCurve;
      const digest = hash(HASH[g["sha"] as string] as HashAlgorithm, hex(t["msg"]));
      const parsed = parseEcdsaDer(hex(t["sig"]));
      if (typeof parsed === "string") return false;
      return ecdsaVerifyDigest(curve, hex(g["publicKeyDer"]), digest, parsed.r, parsed.s);
    });
  }
  // P1363 (Vault's marshaling_algorithm=jws). keysutil splits a JWS signature of any length in half, so
  // vectors refused only for their length are Vault-compatible inputs, not ours to refuse: they are skipped.
  for (const name of [
    "ecdsa_secp256r1_sha256_p1363_test",
    "ecdsa_secp384r1_sha384_p1363_test",
    "ecdsa_secp521r1_sha512_p1363_test",
  ]) {
    runVectors(name, (g, t) => {
      const curve = CURVE[(g["publicKey"] as { curve: string }).curve] as EcdsaCurve;
      const sig = hex(t["sig"]);
      if (sig.length !== 2 * CURVE_BYTES[curve]) return null;
      const digest = hash(HASH[g["sha"] as string] as HashAlgorithm, hex(t["msg"]));
      const { r, s } = splitEcdsaJws(sig);
      return ecdsaVerifyDigest(curve, hex(g["publicKeyDer"]), digest, r, s);
    });
  }
});

describe("ECDSA sign", () => {
  for (const curve of ["p256", "p384", "p521"] as const) {
    it(`${curve}: DER and JWS signatures verify in OpenSSL over the same message`, () => {
      const { privateKey, publicKey } = generateEcdsa(curve);
      const msg = randomBytes(100);
      const h = curve === "p256" ? "sha2-256" : curve === "p384" ? "sha2-384" : "sha2-512";
      const name = h.replace("sha2-", "sha");
      const der = ecdsaSignDigest(curve, privateKey, hash(h, msg), "asn1");
      const jws = ecdsaSignDigest(curve, privateKey, hash(h, msg), "jws");
      const key = createPublicKey({ key: publicKey, format: "der", type: "spki" });
      expect(nodeVerify(name, msg, { key, dsaEncoding: "der" }, der)).toBe(true);
      expect(jws.length).toBe(2 * CURVE_BYTES[curve]);
      expect(nodeVerify(name, msg, { key, dsaEncoding: "ieee-p1363" }, jws)).toBe(true);
    });
  }
  it("a digest of any length: only the leftmost order-size bytes count (Go's hashToInt; noble refuses > 8 KiB)", () => {
    const { privateKey, publicKey } = generateEcdsa("p256");
    const long = randomBytes(100_000);
    const sig = ecdsaSignDigest("p256", privateKey, long, "jws");
    const { r, s } = splitEcdsaJws(sig);
    expect(ecdsaVerifyDigest("p256", publicKey, long, r, s)).toBe(true);
    expect(ecdsaVerifyDigest("p256", publicKey, long.subarray(0, 32), r, s)).toBe(true);
    // Independent: @noble/curves over the 32-byte prefix (the whole input would be refused).
    const point = createPublicKey({ key: publicKey, format: "der", type: "spki" }).export({ format: "jwk" });
    const pub = Buffer.concat([
      Buffer.of(4),
      Buffer.from(point.x ?? "", "base64url"),
      Buffer.from(point.y ?? "", "base64url"),
    ]);
    expect(p256.verify(sig, long.subarray(0, 32), pub, { prehash: false, lowS: false })).toBe(true);
    expect(() => p256.sign(long, p256.utils.randomSecretKey(), { prehash: false })).toThrow();
  });
  it("r or s out of [1, n-1] is false, not an error", () => {
    const { publicKey } = generateEcdsa("p256");
    const d = randomBytes(32);
    expect(ecdsaVerifyDigest("p256", publicKey, d, 0n, 1n)).toBe(false);
    expect(ecdsaVerifyDigest("p256", publicKey, d, 1n, p256.Point.Fn.ORDER)).toBe(false);
  });
  it("DER parsing: strict lengths and integers, trailing bytes reported apart", () => {
    expect(parseEcdsaDer(hex("3006020101020102"))).toEqual({ r: 1n, s: 2n });
    expect(parseEcdsaDer(hex("300602010102010200"))).toBe("extra-data");
    expect(parseEcdsaDer(hex("30070201010202000102"))).toBe("invalid"); // 00 before a byte < 0x80
    expect(parseEcdsaDer(hex("3081060201010201020"))).toBe("invalid"); // long form for a short length
    expect(parseEcdsaDer(hex(""))).toBe("invalid");
  });
});

describe("Ed25519 (Wycheproof)", () => {
  runVectors("ed25519_test", (g, t) =>
    ed25519Verify(hex((g["publicKey"] as { pk: string }).pk), hex(t["msg"]), hex(t["sig"])),
  );
  it("RFC 8032 §7.1 test 1: Go's 64-byte key signs the published signature", () => {
    const seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    const k = ed25519FromSeed(seed);
    expect(k.publicKey.toString("hex")).toBe(
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    );
    expect(ed25519Sign(k.privateKey, Buffer.alloc(0)).toString("hex")).toBe(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
  });
  it("malformed keys and signatures are false", () => {
    const k = ed25519FromSeed(randomBytes(32));
    const sig = ed25519Sign(k.privateKey, Buffer.from("m"));
    expect(ed25519Verify(k.publicKey, Buffer.from("m"), sig)).toBe(true);
    expect(ed25519Verify(k.publicKey.subarray(1), Buffer.from("m"), sig)).toBe(false);
    expect(ed25519Verify(k.publicKey, Buffer.from("m"), sig.subarray(1))).toBe(false);
  });
});

describe("RSA PSS and PKCS#1 v1.5 over digests (Wycheproof)", () => {
  for (const name of ["rsa_pss_2048_sha256_mgf1_32_test", "rsa_pss_3072_sha256_mgf1_32_test"]) {
    runVectors(name, (g, t) => {
      const h = HASH[g["sha"] as string] as HashAlgorithm;
      if (g["mgfSha"] !== g["sha"]) return null;
      return rsaVerifyPss(
        hex(g["publicKeyDer"]),
        h,
        hash(h, hex(t["msg"])),
        hex(t["sig"]),
        g["sLen"] as number,
      );
    });
  }
  // sLen 0: Go's salt length 0 means "auto" (detect), the only way Vault verifies a salt-less signature;
  // auto accepts any salt length, so the vectors whose only change is the salt length are skipped.
  runVectors("rsa_pss_2048_sha256_mgf1_0_test", (g, t) => {
    if (String(t["comment"]).startsWith("s_len changed")) return null;
    const h = HASH[g["sha"] as string] as HashAlgorithm;
    return rsaVerifyPss(hex(g["publicKeyDer"]), h, hash(h, hex(t["msg"])), hex(t["sig"]), PSS_SALT_AUTO);
  });
  for (const name of [
    "rsa_signature_2048_sha256_test",
    "rsa_signature_3072_sha3_256_test",
    "rsa_signature_4096_sha512_test",
  ]) {
    runVectors(name, (g, t) => {
      const h = HASH[g["sha"] as string] as HashAlgorithm;
      return rsaVerifyPkcs1v15(hex(g["publicKeyDer"]), h, hash(h, hex(t["msg"])), hex(t["sig"]));
    });
  }
});

describe("RSA sign", () => {
  const { privateKey, publicKey } = generateRsaSync(2048);
  const key = createPublicKey({ key: publicKey, format: "der", type: "spki" });
  const msg = randomBytes(50);
  const digest = hash("sha2-256", msg);
  it("PSS with each salt convention verifies in OpenSSL", () => {
    for (const [salt, openssl] of [
      [PSS_SALT_AUTO, 2048 / 8 - 2 - 32],
      [PSS_SALT_EQUALS_HASH, 32],
      [10, 10],
    ] as const) {
      const sig = rsaSignPss(privateKey, "sha2-256", digest, salt);
      expect(nodeVerify("sha256", msg, { key, padding: 6, saltLength: openssl }, sig)).toBe(true);
      expect(rsaVerifyPss(publicKey, "sha2-256", digest, sig, salt)).toBe(true);
      expect(rsaVerifyPss(publicKey, "sha2-256", digest, sig, PSS_SALT_AUTO)).toBe(true);
    }
  });
  it("PKCS#1 v1.5 equals OpenSSL's (deterministic); 'none' signs the input as is", () => {
    const sig = rsaSignPkcs1v15(privateKey, "sha2-256", digest);
    expect(nodeVerify("sha256", msg, key, sig)).toBe(true);
    expect(rsaVerifyPkcs1v15(publicKey, "sha2-256", digest, sig)).toBe(true);
    const raw = rsaSignPkcs1v15(privateKey, "none", msg);
    expect(rsaVerifyPkcs1v15(publicKey, "none", msg, raw)).toBe(true);
    expect(rsaVerifyPkcs1v15(publicKey, "sha2-256", digest, raw)).toBe(false);
  });
  it("caller mistakes: wrong digest size, salt out of Vault's range", () => {
    expect(() => rsaSignPss(privateKey, "sha2-256", msg, 0)).toThrow(RsaSignatureError);
    expect(() => rsaSignPkcs1v15(privateKey, "sha2-256", msg)).toThrow(RsaSignatureError);
    expect(rsaPssMaxSaltLength(2048, "sha2-256")).toBe(222);
    expect(rsaPssSaltLengthValid(2048, "sha2-256", 222)).toBe(true);
    expect(rsaPssSaltLengthValid(2048, "sha2-256", 223)).toBe(false);
    expect(rsaPssSaltLengthValid(2048, "sha2-256", -2)).toBe(false);
  });
});

describe("signMessage (X.509 bodies)", () => {
  it("ECDSA, RSA and Ed25519 signatures verify in OpenSSL", () => {
    const msg = randomBytes(64);
    const ec = generateKeyPairSync("ec", { namedCurve: "P-384" });
    expect(nodeVerify("sha384", msg, ec.publicKey, signMessage(ec.privateKey, "sha2-384", msg))).toBe(true);
    const ed = generateKeyPairSync("ed25519");
    expect(nodeVerify(null, msg, ed.publicKey, signMessage(ed.privateKey, null, msg))).toBe(true);
  });
});

describe("ECDSA prehashed input over 8 KiB through the engine", () => {
  it("sign and verify answer 200 (Vault's ecdsa.Sign takes any digest length)", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { type: "ecdsa-p256" });
    const input = randomBytes(100_000);
    const s = await e.write("sign/k", { input: b64(input), prehashed: true });
    expect(s.status).toBe(200);
    const v = await e.write("verify/k", {
      input: b64(input),
      prehashed: true,
      signature: s.data["signature"],
    });
    expect(v.data["valid"]).toBe(true);
    // Only the first 32 bytes count, as in Go.
    const prefix = await e.write("verify/k", {
      input: b64(input.subarray(0, 32)),
      prehashed: true,
      signature: s.data["signature"],
    });
    expect(prefix.data["valid"]).toBe(true);
    expect(unb64(String(s.data["signature"]).split(":")[2]).length).toBeGreaterThan(0);
  });
});
