import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { p256 } from "@noble/curves/nist.js";
import { describe, expect, it } from "vitest";
import {
  ed25519FromPkcs8,
  ed25519FromSpki,
  ed25519ToPkcs8,
  ed25519ToSpki,
  pemDecode,
  pemEncode,
  pkcs8ToPkcs1,
  pkcs8ToSec1,
  publicKeyPem,
} from "../../src/crypto/encodings.ts";
import {
  describePrivateKey,
  describePublicKey,
  ecPublicPoint,
  ed25519FromSeed,
  generateEcdsa,
  generateEd25519,
  generateHmacKey,
  isUncompressedPointOnCurve,
  spkiFromPkcs8,
  toPublicKeyObject,
} from "../../src/crypto/keys.ts";

describe("PEM", () => {
  it("encodes as Go's pem.EncodeToMemory (64 columns, trailing newline) and matches OpenSSL's export", () => {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const der = publicKey.export({ format: "der", type: "spki" });
    expect(pemEncode("PUBLIC KEY", der)).toBe(publicKey.export({ format: "pem", type: "spki" }));
    expect(publicKeyPem(der)).toBe(pemEncode("PUBLIC KEY", der));
    expect(pemEncode("X", Buffer.alloc(0))).toBe("-----BEGIN X-----\n-----END X-----\n");
  });
  it("decodes the first block, with CRLF or trailing text; bad base64 or mismatched labels are null", () => {
    const der = Buffer.from("0123456789abcdef0123456789abcdef0123456789abcdef0123456789", "utf8");
    const pem = pemEncode("CERTIFICATE", der);
    expect(pemDecode(pem)).toEqual({ label: "CERTIFICATE", der });
    expect(pemDecode(`junk\n${pem.replace(/\n/g, "\r\n")}more`)?.der.equals(der)).toBe(true);
    expect(pemDecode("-----BEGIN A-----\n!!!!\n-----END A-----\n")).toBe(null);
    expect(pemDecode("-----BEGIN A-----\nAAAA\n-----END B-----\n")).toBe(null);
    expect(pemDecode("no pem here")).toBe(null);
  });
});

describe("Ed25519 encodings", () => {
  it("seed -> Go's 64-byte key agrees with @noble/curves; PKCS#8 is Go's 48-byte form, SPKI OpenSSL's", () => {
    const { privateKey, publicKey } = generateEd25519();
    const seed = privateKey.subarray(0, 32);
    expect(publicKey.equals(Buffer.from(ed25519.getPublicKey(seed)))).toBe(true);
    expect(ed25519FromSeed(seed).privateKey.equals(privateKey)).toBe(true);
    const pkcs8 = ed25519ToPkcs8(privateKey);
    expect(pkcs8.toString("hex")).toBe(`302e020100300506032b657004220420${seed.toString("hex")}`);
    expect(ed25519ToPkcs8(seed).equals(pkcs8)).toBe(true);
    const node = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
    expect(node.export({ format: "der", type: "pkcs8" }).equals(pkcs8)).toBe(true);
    expect(ed25519FromPkcs8(pkcs8).privateKey.equals(privateKey)).toBe(true);
    const spki = ed25519ToSpki(publicKey);
    expect(spki.equals(createPublicKey(node).export({ format: "der", type: "spki" }))).toBe(true);
    expect(ed25519FromSpki(spki).equals(publicKey)).toBe(true);
    expect(() => ed25519FromSeed(Buffer.alloc(31))).toThrow(RangeError);
    expect(() => ed25519ToPkcs8(Buffer.alloc(40))).toThrow(RangeError);
  });
});

describe("EC and RSA keys", () => {
  it("ECDSA generation, inspection, SEC1 and the padded public point (noble derives the same point)", () => {
    for (const curve of ["p256", "p384", "p521"] as const) {
      const { privateKey, publicKey } = generateEcdsa(curve);
      expect(describePrivateKey(privateKey)).toEqual({ type: "ec", curve });
      expect(describePublicKey(publicKey)).toEqual({ type: "ec", curve });
      expect(spkiFromPkcs8(privateKey).equals(publicKey)).toBe(true);
      const size = { p256: 32, p384: 48, p521: 66 }[curve];
      const point = ecPublicPoint(publicKey, size);
      expect(point.length).toBe(1 + 2 * size);
      const name = { p256: "prime256v1", p384: "secp384r1", p521: "secp521r1" }[curve];
      expect(isUncompressedPointOnCurve(name, point)).toBe(true);
      const off = Buffer.from(point);
      off[off.length - 1] = (off[off.length - 1] as number) ^ 1;
      expect(isUncompressedPointOnCurve(name, off)).toBe(false);
      const sec1 = createPrivateKey({ key: pkcs8ToSec1(privateKey), format: "der", type: "sec1" });
      expect(toPublicKeyObject(sec1).export({ format: "der", type: "spki" }).equals(publicKey)).toBe(true);
    }
    const { privateKey } = generateEcdsa("p256");
    const jwk = createPrivateKey({ key: privateKey, format: "der", type: "pkcs8" }).export({ format: "jwk" });
    const d = Buffer.from(jwk.d ?? "", "base64url");
    expect(
      ecPublicPoint(spkiFromPkcs8(privateKey), 32).equals(Buffer.from(p256.getPublicKey(d, false))),
    ).toBe(true);
  });
  it("RSA PKCS#1 exports parse back to the same key", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
    expect(describePrivateKey(pkcs8)).toEqual({ type: "rsa", bits: 2048 });
    const back = createPrivateKey({ key: pkcs8ToPkcs1(pkcs8), format: "der", type: "pkcs1" });
    expect(back.export({ format: "der", type: "pkcs8" }).equals(pkcs8)).toBe(true);
  });
  it("HMAC key sizes are Vault's 32..512 bytes; bad DER is a generic error", () => {
    expect(generateHmacKey(32).length).toBe(32);
    expect(() => generateHmacKey(31)).toThrow(RangeError);
    expect(() => generateHmacKey(513)).toThrow(RangeError);
    expect(() => describePrivateKey(Buffer.from("not der"))).toThrow("invalid PKCS#8 private key");
    expect(() => describePublicKey(Buffer.from("not der"))).toThrow("invalid SPKI public key");
  });
});
