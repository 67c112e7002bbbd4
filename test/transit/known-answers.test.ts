/**
 * Ciphertexts made by an independent implementation (@noble/hashes and
 * @noble/ciphers, following keysutil's algorithm as written in Vault's
 * source) decrypt here, and deterministic ones (convergent encryption) match
 * byte for byte. The keys are fixed by planting a keyring in storage.
 */
import { gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { counterModeHmacSha256 } from "../../src/crypto/kdf.ts";
import { encodeKeyring } from "../../src/transit/keyring/codec.ts";
import type { SymmetricKeyType } from "../../src/transit/keyring/key-types.ts";
import { KDF_HKDF_SHA256, KDF_HMAC_SHA256_COUNTER, newKeyring } from "../../src/transit/keyring/keyring.ts";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";

const KEY32 = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const KEY16 = KEY32.subarray(0, 16);

interface Plant {
  type: SymmetricKeyType;
  derived?: boolean;
  kdf?: number;
  convergent?: number;
}

function plant(engine: TestEngine, name: string, p: Plant): Uint8Array {
  const key = p.type === "aes128-gcm96" ? KEY16 : KEY32;
  const ring = newKeyring({
    name,
    type: p.type,
    derived: p.derived ?? false,
    convergentEncryption: p.convergent !== undefined,
  });
  ring.kdf = p.kdf ?? (p.derived ? KDF_HKDF_SHA256 : KDF_HMAC_SHA256_COUNTER);
  ring.convergentVersion = p.convergent ?? -1;
  ring.versions.set(1, { key, hmacKey: new Uint8Array(32), creationTime: "2024-01-01T00:00:00Z" });
  ring.latestVersion = 1;
  ring.minDecryptionVersion = 1;
  engine.storage.entries.set(`policy/${name}`, encodeKeyring(ring));
  return key;
}

function independentSeal(
  type: SymmetricKeyType,
  key: Uint8Array,
  nonce: Uint8Array,
  pt: Uint8Array,
  aad?: Uint8Array,
) {
  return type === "chacha20-poly1305"
    ? chacha20poly1305(key, nonce, aad).encrypt(pt)
    : gcm(key, nonce, aad).encrypt(pt);
}

function independentOpen(
  type: SymmetricKeyType,
  key: Uint8Array,
  nonce: Uint8Array,
  ct: Uint8Array,
  aad?: Uint8Array,
) {
  return type === "chacha20-poly1305"
    ? chacha20poly1305(key, nonce, aad).decrypt(ct)
    : gcm(key, nonce, aad).decrypt(ct);
}

const TYPES: SymmetricKeyType[] = ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"];

describe("vault:vN: format and interop with an independent AEAD", () => {
  for (const type of TYPES) {
    it(`${type}: our ciphertext is vault:v1: + base64(nonce || ct || tag) under the stored key`, async () => {
      const e = new TestEngine();
      const key = plant(e, "k", { type });
      const pt = Buffer.from("the quick brown fox");
      const aad = Buffer.from("header");
      const out = await e.write("encrypt/k", { plaintext: b64(pt), associated_data: b64(aad) });
      expect(out.status).toBe(200);
      const ct = String(out.data["ciphertext"]);
      expect(ct).toMatch(/^vault:v1:[A-Za-z0-9+/]+={0,2}$/);
      const raw = unb64(ct.slice("vault:v1:".length));
      expect(raw.length).toBe(12 + pt.length + 16);
      const opened = independentOpen(type, key, raw.subarray(0, 12), raw.subarray(12), aad);
      expect(Buffer.from(opened).toString()).toBe(pt.toString());
    });

    it(`${type}: a ciphertext sealed independently decrypts here`, async () => {
      const e = new TestEngine();
      const key = plant(e, "k", { type });
      const nonce = Uint8Array.from({ length: 12 }, (_, i) => 200 - i);
      const sealed = independentSeal(type, key, nonce, Buffer.from("interop"));
      const ct = `vault:v1:${b64(Buffer.concat([nonce, sealed]))}`;
      const out = await e.write("decrypt/k", { ciphertext: ct });
      expect(unb64(out.data["plaintext"]).toString()).toBe("interop");
    });
  }

  it("version 0 in a ciphertext means version 1, as keysutil reads it", async () => {
    const e = new TestEngine();
    const key = plant(e, "k", { type: "aes256-gcm96" });
    const nonce = new Uint8Array(12).fill(7);
    const ct = `vault:v0:${b64(Buffer.concat([nonce, gcm(key, nonce).encrypt(Buffer.from("zero"))]))}`;
    expect(unb64((await e.write("decrypt/k", { ciphertext: ct })).data["plaintext"]).toString()).toBe("zero");
  });
});

describe("key derivation as keysutil computes it", () => {
  it("matches Vault's counter-mode KDF vector (sdk/helper/kdf)", () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const expected = [
      219, 25, 238, 6, 185, 236, 180, 64, 248, 152, 251, 153, 79, 5, 141, 222, 66, 200, 66, 143, 40, 3, 101,
      221, 206, 163, 102, 80, 88, 234, 87, 157,
    ];
    expect([...counterModeHmacSha256(key, Buffer.from("the quick brown fox"), 256)]).toEqual(expected);
  });

  for (const type of TYPES) {
    it(`${type}: HKDF-SHA256(key, nil salt, context) derives the per-context key`, async () => {
      const e = new TestEngine();
      const key = plant(e, "d", { type, derived: true });
      const context = Buffer.from("user-42");
      const len = type === "aes128-gcm96" ? 16 : 32;
      const derivedKey = hkdf(sha256, key, undefined, context, len);
      const nonce = new Uint8Array(12).fill(3);
      const ct = `vault:v1:${b64(Buffer.concat([nonce, independentSeal(type, derivedKey, nonce, Buffer.from("derived"))]))}`;
      const out = await e.write("decrypt/d", { ciphertext: ct, context: b64(context) });
      expect(unb64(out.data["plaintext"]).toString()).toBe("derived");
      const wrongContext = await e.write("decrypt/d", { ciphertext: ct, context: b64("user-43") });
      expect(wrongContext.status).toBe(400);
      expect(wrongContext.error).toBe("cipher: message authentication failed");
    });
  }

  it("legacy counter-mode derivation (kdf 0) still decrypts", async () => {
    const e = new TestEngine();
    const key = plant(e, "legacy", { type: "aes256-gcm96", derived: true, kdf: KDF_HMAC_SHA256_COUNTER });
    const context = Buffer.from("ctx");
    const derivedKey = counterModeHmacSha256(key, context, 256);
    expect(Buffer.from(derivedKey)).toEqual(
      Buffer.from(hmac(sha256, key, Buffer.concat([Buffer.alloc(4), context, Buffer.from([0, 0, 1, 0])]))),
    );
    const nonce = new Uint8Array(12).fill(1);
    const ct = `vault:v1:${b64(Buffer.concat([nonce, gcm(derivedKey, nonce).encrypt(Buffer.from("old"))]))}`;
    expect(
      unb64(
        (await e.write("decrypt/legacy", { ciphertext: ct, context: b64(context) })).data["plaintext"],
      ).toString(),
    ).toBe("old");
  });

  it("a derived key without context is refused with Vault's message", async () => {
    const e = new TestEngine();
    plant(e, "d", { type: "aes256-gcm96", derived: true });
    const out = await e.write("encrypt/d", { plaintext: b64("x") });
    expect(out.status).toBe(400);
    expect(out.error).toMatch(/^missing 'context' for key derivation/);
  });
});

describe("convergent encryption", () => {
  for (const type of TYPES) {
    it(`${type} v3: nonce = HMAC-SHA256(second half of HKDF output, plaintext)[:12], byte for byte`, async () => {
      const e = new TestEngine();
      const key = plant(e, "c", { type, derived: true, convergent: 3 });
      const context = Buffer.from("tenant-a");
      const pt = Buffer.from("same in, same out");
      const encLen = type === "aes128-gcm96" ? 16 : 32;
      const okm = hkdf(sha256, key, undefined, context, encLen + 32);
      const nonce = hmac(sha256, okm.subarray(encLen), pt).subarray(0, 12);
      const expected = `vault:v1:${b64(Buffer.concat([nonce, independentSeal(type, okm.subarray(0, encLen), nonce, pt)]))}`;
      const a = await e.write("encrypt/c", { plaintext: b64(pt), context: b64(context) });
      const b = await e.write("encrypt/c", { plaintext: b64(pt), context: b64(context) });
      expect(a.data["ciphertext"]).toBe(expected);
      expect(b.data["ciphertext"]).toBe(expected);
    });
  }

  it("v2: nonce = HMAC-SHA256(context, plaintext)[:12] under the HKDF key", async () => {
    const e = new TestEngine();
    const key = plant(e, "c2", { type: "aes256-gcm96", derived: true, convergent: 2 });
    const context = Buffer.from("ctx-v2");
    const pt = Buffer.from("v2 plaintext");
    const nonce = hmac(sha256, context, pt).subarray(0, 12);
    const encKey = hkdf(sha256, key, undefined, context, 32);
    const expected = `vault:v1:${b64(Buffer.concat([nonce, gcm(encKey, nonce).encrypt(pt)]))}`;
    expect(
      (await e.write("encrypt/c2", { plaintext: b64(pt), context: b64(context) })).data["ciphertext"],
    ).toBe(expected);
  });

  it("v1: the caller's nonce is used and left out of the ciphertext", async () => {
    const e = new TestEngine();
    const key = plant(e, "c1", { type: "aes256-gcm96", derived: true, convergent: 1 });
    const context = Buffer.from("ctx-v1");
    const nonce = Buffer.alloc(12, 9);
    const pt = Buffer.from("v1 plaintext");
    const encKey = hkdf(sha256, key, undefined, context, 32);
    const expected = `vault:v1:${b64(gcm(encKey, nonce).encrypt(pt))}`;
    const out = await e.write("encrypt/c1", { plaintext: b64(pt), context: b64(context), nonce: b64(nonce) });
    expect(out.data["ciphertext"]).toBe(expected);
    const back = await e.write("decrypt/c1", {
      ciphertext: expected,
      context: b64(context),
      nonce: b64(nonce),
    });
    expect(unb64(back.data["plaintext"]).toString()).toBe("v1 plaintext");
    const noNonce = await e.write("decrypt/c1", { ciphertext: expected, context: b64(context) });
    expect(noNonce.error).toBe("invalid convergent nonce supplied");
    const shortNonce = await e.write("encrypt/c1", {
      plaintext: b64(pt),
      context: b64(context),
      nonce: b64("short"),
    });
    expect(shortNonce.error).toBe(
      "base64-decoded nonce must be 12 bytes long when using convergent encryption with this key",
    );
  });

  it("a nonce is refused for keys that do not take one", async () => {
    const e = new TestEngine();
    plant(e, "plain", { type: "aes256-gcm96" });
    const out = await e.write("encrypt/plain", { plaintext: b64("x"), nonce: b64("123456789012") });
    expect(out.status).toBe(400);
    expect(out.error).toBe("provided nonce not allowed for this key");
  });

  it("new convergent keys are version 3 and deterministic per context", async () => {
    const e = new TestEngine();
    expect(
      (await e.write("keys/new", { derived: true, convergent_encryption: true })).data[
        "convergent_encryption_version"
      ],
    ).toBe(3);
    const enc = (ctx: string) => e.write("encrypt/new", { plaintext: b64("p"), context: b64(ctx) });
    expect((await enc("a")).data["ciphertext"]).toBe((await enc("a")).data["ciphertext"]);
    expect((await enc("a")).data["ciphertext"]).not.toBe((await enc("b")).data["ciphertext"]);
  });
});
