import { randomBytes } from "node:crypto";
import { gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { describe, expect, it } from "vitest";
import {
  type AeadAlgorithm,
  keySize,
  NONCE_SIZE,
  open,
  randomNonce,
  seal,
  TAG_SIZE,
} from "../../src/crypto/aead.ts";
import { runVectors, hex as wp } from "./wycheproof.ts";

const hex = (s: string): Buffer => Buffer.from(s, "hex");
const ALGS: AeadAlgorithm[] = ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"];

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases
// 1-4 (AES-128) and 13-16 (AES-256), 96-bit IVs; the same vectors as NIST
// SP 800-38D's validation examples.
const K = "feffe9928665731c6d6a8f9467308308";
const IV = "cafebabefacedbaddecaf888";
const AAD = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const P64 =
  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
const C128 =
  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e" +
  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985";
const C256 =
  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" +
  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";
const GCM_VECTORS: [string, AeadAlgorithm, string, string, string, string, string, string][] = [
  ["TC1", "aes128-gcm96", "00".repeat(16), "00".repeat(12), "", "", "", "58e2fccefa7e3061367f1d57a4e7455a"],
  [
    "TC2",
    "aes128-gcm96",
    "00".repeat(16),
    "00".repeat(12),
    "00".repeat(16),
    "",
    "0388dace60b6a392f328c2b971b2fe78",
    "ab6e47d42cec13bdf53a67b21257bddf",
  ],
  ["TC3", "aes128-gcm96", K, IV, P64, "", C128, "4d5c2af327cd64a62cf35abd2ba6fab4"],
  [
    "TC4",
    "aes128-gcm96",
    K,
    IV,
    P64.slice(0, 120),
    AAD,
    C128.slice(0, 120),
    "5bc94fbc3221a5db94fae95ae7121a47",
  ],
  ["TC13", "aes256-gcm96", "00".repeat(32), "00".repeat(12), "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"],
  [
    "TC14",
    "aes256-gcm96",
    "00".repeat(32),
    "00".repeat(12),
    "00".repeat(16),
    "",
    "cea7403d4d606b6e074ec5d3baf39d18",
    "d0d1c8a799996bf0265b98b5d48ab919",
  ],
  ["TC15", "aes256-gcm96", K + K, IV, P64, "", C256, "b094dac5d93471bdec1a502270e3cc6c"],
  [
    "TC16",
    "aes256-gcm96",
    K + K,
    IV,
    P64.slice(0, 120),
    AAD,
    C256.slice(0, 120),
    "76fc6ece0f4e1768cddf8853bb2d551b",
  ],
];

// RFC 8439 §2.8.2 AEAD_CHACHA20_POLY1305 example.
const RFC8439 = {
  key: "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
  nonce: "070000004041424344454647",
  aad: "50515253c0c1c2c3c4c5c6c7",
  plaintext:
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  ciphertext:
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b" +
    "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc" +
    "3ff4def08e4b7a9de576d26586cec64b6116",
  tag: "1ae10b594f09e26a7e902ecbd0600691",
};

describe("AEAD known answers", () => {
  for (const [name, alg, key, iv, pt, aad, ct, tag] of GCM_VECTORS) {
    it(`GCM spec ${name} (${alg}${aad ? ", with AAD" : ""})`, () => {
      const aadBytes = aad ? hex(aad) : undefined;
      const sealed = seal(alg, hex(key), hex(iv), hex(pt), aadBytes);
      expect(sealed.toString("hex")).toBe(iv + ct + tag);
      const bare = seal(alg, hex(key), hex(iv), hex(pt), aadBytes, false);
      expect(bare.toString("hex")).toBe(ct + tag);
      expect(open(alg, hex(key), hex(iv), hex(ct + tag), aadBytes)?.toString("hex")).toBe(pt);
    });
  }

  it("RFC 8439 §2.8.2 ChaCha20-Poly1305", () => {
    const pt = Buffer.from(RFC8439.plaintext, "latin1");
    const sealed = seal(
      "chacha20-poly1305",
      hex(RFC8439.key),
      hex(RFC8439.nonce),
      pt,
      hex(RFC8439.aad),
      false,
    );
    expect(sealed.toString("hex")).toBe(RFC8439.ciphertext + RFC8439.tag);
    const opened = open(
      "chacha20-poly1305",
      hex(RFC8439.key),
      hex(RFC8439.nonce),
      hex(RFC8439.ciphertext + RFC8439.tag),
      hex(RFC8439.aad),
    );
    expect(opened?.toString("latin1")).toBe(RFC8439.plaintext);
  });
});

const SIZES = [0, 1, 15, 16, 17, 64, 1024, 65535, 65536, 65537, 1 << 20];

describe("AEAD round trips against @noble/ciphers", () => {
  for (const alg of ALGS) {
    it(`${alg}: sizes ${SIZES.join(", ")}`, () => {
      const key = randomBytes(keySize(alg));
      for (const size of SIZES) {
        const pt = randomBytes(size);
        const aad = size % 2 === 0 ? randomBytes(13) : undefined;
        const nonce = randomNonce();
        const sealed = seal(alg, key, nonce, pt, aad);
        expect(sealed.length).toBe(NONCE_SIZE + size + TAG_SIZE);
        expect(Buffer.compare(sealed.subarray(0, NONCE_SIZE), nonce)).toBe(0);
        // independent implementation agrees on every byte
        const ref =
          alg === "chacha20-poly1305"
            ? chacha20poly1305(key, nonce, aad).encrypt(pt)
            : gcm(key, nonce, aad).encrypt(pt);
        expect(Buffer.compare(sealed.subarray(NONCE_SIZE), ref)).toBe(0);
        const opened = open(alg, key, nonce, sealed.subarray(NONCE_SIZE), aad);
        expect(opened).not.toBeNull();
        expect(Buffer.compare(opened as Buffer, pt)).toBe(0);
      }
    });
  }
});

describe("AEAD rejects forgeries", () => {
  for (const alg of ALGS) {
    const key = randomBytes(keySize(alg));
    const nonce = randomBytes(NONCE_SIZE);
    const aad = Buffer.from("context");
    const pt = Buffer.from("short secret");
    const body = seal(alg, key, nonce, pt, aad, false);

    it(`${alg}: every single-bit flip in every byte of ciphertext||tag fails`, () => {
      for (let i = 0; i < body.length; i++) {
        for (const bit of [0x01, 0x80]) {
          const bad = Buffer.from(body);
          bad[i] = (bad[i] as number) ^ bit;
          expect(open(alg, key, nonce, bad, aad)).toBeNull();
        }
      }
      expect(open(alg, key, nonce, body, aad)?.toString()).toBe("short secret");
    });

    it(`${alg}: wrong AAD, missing AAD, wrong nonce, wrong key fail`, () => {
      expect(open(alg, key, nonce, body, Buffer.from("contexu"))).toBeNull();
      expect(open(alg, key, nonce, body, undefined)).toBeNull();
      expect(open(alg, key, randomBytes(NONCE_SIZE), body, aad)).toBeNull();
      expect(open(alg, randomBytes(keySize(alg)), nonce, body, aad)).toBeNull();
    });

    it(`${alg}: every truncation and an extension fail`, () => {
      for (let n = 0; n < body.length; n++)
        expect(open(alg, key, nonce, body.subarray(0, n), aad)).toBeNull();
      expect(open(alg, key, nonce, Buffer.concat([body, Buffer.alloc(1)]), aad)).toBeNull();
    });
  }

  it("empty AAD equals absent AAD (as Go's AEADs)", () => {
    const key = randomBytes(32);
    const nonce = randomBytes(NONCE_SIZE);
    const a = seal("aes256-gcm96", key, nonce, Buffer.from("x"), undefined);
    const b = seal("aes256-gcm96", key, nonce, Buffer.from("x"), new Uint8Array(0));
    expect(Buffer.compare(a, b)).toBe(0);
  });
});

describe("AEAD parameter checks", () => {
  it("rejects wrong key and nonce lengths without echoing them", () => {
    const secretKey = Buffer.alloc(31, 0xab);
    try {
      seal("aes256-gcm96", secretKey, randomBytes(12), Buffer.from("p"), undefined);
      expect.unreachable();
    } catch (e) {
      expect(String(e)).not.toMatch(/ab/i);
      expect(e).toBeInstanceOf(RangeError);
    }
    expect(() => seal("aes128-gcm96", randomBytes(32), randomBytes(12), Buffer.alloc(1), undefined)).toThrow(
      RangeError,
    );
    expect(() =>
      open("chacha20-poly1305", randomBytes(32), randomBytes(24), Buffer.alloc(32), undefined),
    ).toThrow(RangeError);
  });

  it("randomNonce gives distinct 12-byte nonces", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const n = randomNonce();
      expect(n.length).toBe(NONCE_SIZE);
      seen.add(n.toString("hex"));
    }
    expect(seen.size).toBe(1000);
  });

  it("does not modify its inputs", () => {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const pt = randomBytes(70000);
    const copies = [Buffer.from(key), Buffer.from(nonce), Buffer.from(pt)];
    const sealed = seal("aes256-gcm96", key, nonce, pt, undefined);
    const sealedCopy = Buffer.from(sealed);
    open("aes256-gcm96", key, nonce, sealed.subarray(12), undefined);
    expect([key, nonce, pt].every((b, i) => b.equals(copies[i] as Buffer))).toBe(true);
    expect(sealed.equals(sealedCopy)).toBe(true);
  });
});

describe("AEAD (Wycheproof)", () => {
  const GCM: Record<number, "aes128-gcm96" | "aes256-gcm96"> = { 128: "aes128-gcm96", 256: "aes256-gcm96" };
  // Transit's AEADs use 96-bit nonces and 128-bit tags with 128/256-bit keys; other groups are skipped.
  runVectors(
    "aes_gcm_test",
    (g, t) => {
      const alg = GCM[g["keySize"] as number];
      if (alg === undefined || g["ivSize"] !== 96 || g["tagSize"] !== 128) return null;
      return aeadVector(alg, t);
    },
    0.4,
  );
  runVectors("chacha20_poly1305_test", (g, t) => {
    if (g["ivSize"] !== 96 || g["tagSize"] !== 128) return null;
    return aeadVector("chacha20-poly1305", t);
  });
});

/** Opening must give msg; for a valid vector sealing must also give ct || tag. */
function aeadVector(
  alg: "aes128-gcm96" | "aes256-gcm96" | "chacha20-poly1305",
  t: Record<string, unknown>,
): boolean {
  const key = wp(t["key"]);
  const iv = wp(t["iv"]);
  const aad = wp(t["aad"]);
  const msg = wp(t["msg"]);
  const sealed = Buffer.concat([wp(t["ct"]), wp(t["tag"])]);
  const opened = open(alg, key, iv, sealed, aad);
  const openOk = opened?.equals(msg) === true;
  if (t["result"] !== "valid") return openOk;
  return openOk && seal(alg, key, iv, msg, aad, false).equals(sealed);
}

describe("AEAD input sizes Vault's Go AEADs take", () => {
  it("a 1 MiB associated data seals and opens, agreeing with @noble/ciphers", () => {
    const aad = randomBytes(1024 * 1024);
    const pt = randomBytes(100);
    const nonce = randomNonce();
    for (const alg of ALGS) {
      const key = randomBytes(keySize(alg));
      const sealed = seal(alg, key, nonce, pt, aad, false);
      const ref = alg === "chacha20-poly1305" ? chacha20poly1305(key, nonce, aad) : gcm(key, nonce, aad);
      expect(sealed.equals(Buffer.from(ref.encrypt(pt)))).toBe(true);
      expect(open(alg, key, nonce, sealed, aad)?.equals(pt)).toBe(true);
    }
  });
});
