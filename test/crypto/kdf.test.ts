import { createPrivateKey, createPublicKey, hkdfSync, randomBytes, sign } from "node:crypto";
import { gcm } from "@noble/ciphers/aes.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac as nobleHmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { seal } from "../../src/crypto/aead.ts";
import { hmac } from "../../src/crypto/hash.ts";
import {
  convergentNonce,
  counterModeHmacSha256,
  deriveEd25519Key,
  hkdfSha256,
} from "../../src/crypto/kdf.ts";
import { MISSING_CONTEXT } from "../../src/transit/keyring/derive.ts";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";
import { runVectors, hex as wp } from "./wycheproof.ts";

const hex = (s: string): Buffer => Buffer.from(s, "hex");
const range = (a: number, b: number): Buffer =>
  Buffer.from(Array.from({ length: b - a + 1 }, (_, i) => a + i));

describe("HKDF-SHA256: RFC 5869 Appendix A", () => {
  it("test case 1 (basic)", () => {
    const okm = hkdfSha256(Buffer.alloc(22, 0x0b), range(0xf0, 0xf9), 42, range(0x00, 0x0c));
    expect(okm.toString("hex")).toBe(
      "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    );
  });
  it("test case 2 (longer inputs/outputs)", () => {
    const okm = hkdfSha256(range(0x00, 0x4f), range(0xb0, 0xff), 82, range(0x60, 0xaf));
    expect(okm.toString("hex")).toBe(
      "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c" +
        "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71" +
        "cc30c58179ec3e87c14c01d5c1f3434f1d87",
    );
  });
  it("test case 3 (zero-length salt and info) = Vault's salt nil", () => {
    const expected = "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8";
    expect(hkdfSha256(Buffer.alloc(22, 0x0b), Buffer.alloc(0), 42).toString("hex")).toBe(expected);
    expect(hkdfSha256(Buffer.alloc(22, 0x0b), Buffer.alloc(0), 42, Buffer.alloc(0)).toString("hex")).toBe(
      expected,
    );
  });
  it("agrees with OpenSSL hkdfSync and @noble/hashes for Vault's lengths and random contexts", () => {
    for (const n of [16, 32, 48, 64]) {
      for (const ctxLen of [1, 16, 100, 1024]) {
        const key = randomBytes(32);
        const ctx = randomBytes(ctxLen);
        const ours = hkdfSha256(key, ctx, n);
        expect(ours.length).toBe(n);
        expect(ours.equals(Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), ctx, n)))).toBe(true);
        expect(ours.equals(Buffer.from(hkdf(sha256, key, undefined, ctx, n)))).toBe(true);
      }
    }
  });
  it("takes contexts above hkdfSync's 1024-byte info limit", () => {
    const key = randomBytes(32);
    const ctx = randomBytes(5000);
    expect(hkdfSha256(key, ctx, 64).equals(Buffer.from(hkdf(sha256, key, undefined, ctx, 64)))).toBe(true);
  });
  it("a 64-byte read is the 32-byte read extended (convergent v3 reads encKey||hmacKey at once)", () => {
    const key = randomBytes(32);
    const ctx = randomBytes(8);
    expect(
      hkdfSha256(key, ctx, 64)
        .subarray(0, 32)
        .equals(hkdfSha256(key, ctx, 32)),
    ).toBe(true);
  });
  it("rejects impossible lengths", () => {
    expect(() => hkdfSha256(randomBytes(32), Buffer.alloc(1), 0)).toThrow(RangeError);
    expect(() => hkdfSha256(randomBytes(32), Buffer.alloc(1), 255 * 32 + 1)).toThrow(RangeError);
    expect(hkdfSha256(randomBytes(32), Buffer.alloc(1), 255 * 32).length).toBe(8160);
  });
});

describe("Vault sdk/helper/kdf CounterMode(HMACSHA256PRF)", () => {
  const key = range(1, 16);
  const context = Buffer.from("the quick brown fox");
  // Vault's kdf_test.go TestCounterMode expect256.
  const expect256 = Buffer.from([
    219, 25, 238, 6, 185, 236, 180, 64, 248, 152, 251, 153, 79, 5, 141, 222, 66, 200, 66, 143, 40, 3, 101,
    221, 206, 163, 102, 80, 88, 234, 87, 157,
  ]);
  it("kdf_test.go TestCounterMode: 256 bits", () => {
    expect(counterModeHmacSha256(key, context, 256).equals(expect256)).toBe(true);
    expect(counterModeHmacSha256(key, context).equals(expect256)).toBe(true);
  });
  it("kdf_test.go lengths 128, 384, 1024: right length, no key bytes inside", () => {
    for (const bits of [128, 384, 1024]) {
      const out = counterModeHmacSha256(key, context, bits);
      expect(out.length * 8).toBe(bits);
      expect(out.includes(key)).toBe(false);
    }
  });
  it("block layout: HMAC(key, BE32(i) || context || BE32(bits)), i from 0", () => {
    const block = (i: number, bits: number): Buffer => {
      const input = Buffer.concat([Buffer.alloc(4), context, Buffer.alloc(4)]);
      input.writeUInt32BE(i, 0);
      input.writeUInt32BE(bits, 4 + context.length);
      return Buffer.from(nobleHmac(sha256, key, input));
    };
    expect(block(0, 256).equals(expect256)).toBe(true);
    const out = counterModeHmacSha256(key, context, 1024);
    for (let i = 0; i < 4; i++) expect(out.subarray(32 * i, 32 * i + 32).equals(block(i, 1024))).toBe(true);
    expect(
      counterModeHmacSha256(key, context, 384).equals(
        Buffer.concat([block(0, 384), block(1, 384)]).subarray(0, 48),
      ),
    ).toBe(true);
  });
  it("kdf_test.go TestHMACSHA256PRF vector (the PRF is plain HMAC-SHA256)", () => {
    const expected = Buffer.from([
      9, 50, 146, 8, 188, 130, 150, 107, 205, 147, 82, 170, 253, 183, 26, 38, 167, 194, 220, 111, 56, 118,
      219, 209, 31, 52, 137, 90, 246, 133, 191, 124,
    ]);
    expect(hmac("sha2-256", key, Buffer.from("foobarbaz")).equals(expected)).toBe(true);
  });
  it("rejects non byte-aligned bit counts", () => {
    expect(() => counterModeHmacSha256(key, context, 100)).toThrow(RangeError);
    expect(() => counterModeHmacSha256(key, context, 0)).toThrow(RangeError);
  });
});

describe("derived Ed25519 (HKDF reader -> Go ed25519.GenerateKey)", () => {
  // Vector computed for this project: HKDF-SHA256 (salt nil) of key 00..1f
  // with the context below, first 32 bytes = seed; 64-byte key from Go
  // 1.19.8 crypto/ed25519.NewKeyFromSeed (HKDF written with Go crypto/hmac),
  // cross-checked with OpenSSL (node hkdfSync + createPrivateKey(PKCS#8 seed)).
  const key = range(0, 31);
  const context = Buffer.from("vault-plugin-secrets-transit-ts derived ed25519 KAT");
  const seed = "7ff4d40f5d23526479c7ef53528fe772de5405e9bd45a69f7e5ba42a5960a79a";
  const pub = "1b3d4b27e80accb8e14b1a1a180911bc4adfaab9d8b1d1109d947615169bd3b0";
  const sig =
    "a5c02bf117cd44409fae940390308892c79a11625b9390a30af1f9822b129850" +
    "33804583177cc55edc664dabff58e73295ddb5396861adca06f21dd875907e01";

  it("matches the Go-computed 64-byte key and public key", () => {
    const k = deriveEd25519Key(key, context);
    expect(k.privateKey.toString("hex")).toBe(seed + pub);
    expect(k.publicKey.toString("hex")).toBe(pub);
  });
  it("signs like Go with the derived key (Ed25519 is deterministic)", () => {
    const k = deriveEd25519Key(key, context);
    const pkcs8 = Buffer.concat([hex("302e020100300506032b657004220420"), k.privateKey.subarray(0, 32)]);
    const priv = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
    expect(sign(null, Buffer.from("derived key message"), priv).toString("hex")).toBe(sig);
    expect(createPublicKey(priv).export({ format: "der", type: "spki" }).subarray(12).toString("hex")).toBe(
      pub,
    );
  });
  it("different contexts give different keys", () => {
    const a = deriveEd25519Key(key, Buffer.from("a"));
    const b = deriveEd25519Key(key, Buffer.from("b"));
    expect(a.publicKey.equals(b.publicKey)).toBe(false);
  });
});

describe("convergent encryption nonce and end-to-end vectors", () => {
  // Computed with Go 1.19.8 (crypto/aes, crypto/cipher GCM, crypto/hmac) and
  // an RFC 5869 HKDF, following keysutil EncryptWithFactory +
  // SymmetricEncryptRaw for aes256-gcm96 derived convergent keys.
  const key = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x80 + i));
  const context = Buffer.from("convergent context");
  const pt = Buffer.from("the same plaintext always gives the same ciphertext");

  it("v3: HKDF 64 bytes = encKey || hmacKey; nonce = HMAC(hmacKey, pt)[:12]", () => {
    const km = hkdfSha256(key, context, 64);
    expect(km.toString("hex")).toBe(
      "1ee49b1c5dfae7d067671f6513bc177c9c90fdc39da7853b4ac9aaee5786ffd2" +
        "d8a41f75356bccc6790d9b6903d628115a9f87c6f17d880fe92841059ea37e37",
    );
    const nonce = convergentNonce(km.subarray(32), pt);
    expect(nonce.length).toBe(12);
    expect(seal("aes256-gcm96", km.subarray(0, 32), nonce, pt, undefined).toString("hex")).toBe(
      "0769d63ae5197b8b020e122f507d6c95317dc6fba0df8c1b168f4e1f485f76dfbdd4923cb577d11238a9cd066edb7a0e" +
        "edaeb4c430eb269fdd1ed708ac3d3da851f48e8f77366688bf56acc819607f",
    );
  });
  it("v2: HKDF 32 bytes; hmacKey = the context", () => {
    const k = hkdfSha256(key, context, 32);
    const nonce = convergentNonce(context, pt);
    expect(seal("aes256-gcm96", k, nonce, pt, undefined).toString("hex")).toBe(
      "25f94d667e41d5386fb27ee9b399ffbd84201733ecf9207e227896b0c3a2e525aa89048ef7b922668edff7dfb13190a7" +
        "8121a3cadee4308852ce7c2c4bdb5a14df6b1890e03bdf64930fab93499b8d",
    );
  });
  it("nonce is HMAC-SHA256 truncated to 12 bytes; empty hmac key refused", () => {
    const hk = randomBytes(32);
    const m = Buffer.from(nobleHmac(sha256, hk, pt));
    expect(convergentNonce(hk, pt).equals(m.subarray(0, 12))).toBe(true);
    expect(() => convergentNonce(Buffer.alloc(0), pt)).toThrow(RangeError);
  });
});

// Issue #11: node's hkdfSync refuses an info over 1024 bytes; Vault's HKDF
// (golang.org/x/crypto/hkdf) takes any length, so derived keys must too.
const CONTEXT_SIZES = [1, 1024, 1025, 4096, 65536];

describe("HKDF-SHA256 against @noble/hashes hkdf across context sizes (issue #11)", () => {
  for (const size of CONTEXT_SIZES) {
    it(`context of ${size} bytes, Vault's output lengths`, () => {
      const key = randomBytes(32);
      const ctx = randomBytes(size);
      for (const n of [16, 32, 48, 64]) {
        expect(hkdfSha256(key, ctx, n).equals(Buffer.from(hkdf(sha256, key, undefined, ctx, n)))).toBe(true);
      }
    });
  }
  it("an empty info is still HKDF (RFC 5869 case 3); the engine refuses it before deriving", () => {
    const key = randomBytes(32);
    const empty = Buffer.alloc(0);
    expect(hkdfSha256(key, empty, 32).equals(Buffer.from(hkdf(sha256, key, undefined, empty, 32)))).toBe(
      true,
    );
  });
});

describe("derived keys through the engine with any context size (issue #11)", () => {
  const exportKey = async (e: TestEngine, type: string): Promise<Buffer> => {
    const out = await e.read(`export/${type}/k/1`);
    expect(out.status).toBe(200);
    return unb64((out.data["keys"] as Record<string, string>)["1"]);
  };

  it("context of 0 bytes: 400 with Vault's DeriveKey text", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { type: "aes256-gcm96", derived: true });
    const out = await e.write("encrypt/k", { plaintext: b64("x"), context: "" });
    expect(out.status).toBe(400);
    expect(out.error).toBe(MISSING_CONTEXT);
  });

  for (const size of CONTEXT_SIZES) {
    it(`aes256-gcm96: encrypt and decrypt with a ${size}-byte context, key = noble HKDF`, async () => {
      const e = new TestEngine();
      await e.write("keys/k", { type: "aes256-gcm96", derived: true, exportable: true });
      const base = await exportKey(e, "encryption-key");
      const ctx = randomBytes(size);
      const pt = randomBytes(40);
      const enc = await e.write("encrypt/k", { plaintext: b64(pt), context: b64(ctx) });
      expect(enc.status).toBe(200);
      const ct = String(enc.data["ciphertext"]);
      // Independent check: @noble/hashes HKDF (salt nil, info = context) and @noble/ciphers GCM.
      const raw = unb64(ct.slice("vault:v1:".length));
      const derived = hkdf(sha256, base, undefined, ctx, 32);
      expect(Buffer.from(gcm(derived, raw.subarray(0, 12)).decrypt(raw.subarray(12))).equals(pt)).toBe(true);
      const dec = await e.write("decrypt/k", { ciphertext: ct, context: b64(ctx) });
      expect(dec.status).toBe(200);
      expect(unb64(dec.data["plaintext"]).equals(pt)).toBe(true);
    });
  }

  it("ed25519 derived: sign and verify with a 65536-byte context, public key from noble HKDF", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { type: "ed25519", derived: true });
    const ctx = randomBytes(65536);
    const input = b64("message");
    const s = await e.write("sign/k", { input, context: b64(ctx) });
    expect(s.status).toBe(200);
    const v = await e.write("verify/k", { input, context: b64(ctx), signature: s.data["signature"] });
    expect(v.status).toBe(200);
    expect(v.data["valid"]).toBe(true);
    const other = await e.write("verify/k", {
      input,
      context: b64(Buffer.concat([ctx, Buffer.of(0)])),
      signature: s.data["signature"],
    });
    expect(other.data["valid"]).toBe(false);
  });
});

describe("HKDF-SHA256 (Wycheproof)", () => {
  // Invalid vectors ask for more than 255 × 32 bytes: refused with a RangeError.
  runVectors("hkdf_sha256_test", (_g, t) => {
    try {
      return hkdfSha256(wp(t["ikm"]), wp(t["info"]), t["size"] as number, wp(t["salt"])).equals(wp(t["okm"]));
    } catch (e) {
      if (e instanceof RangeError) return false;
      throw e;
    }
  });
});
