import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { HashAlgorithm } from "./hash.ts";
import { rsaDecrypt, rsaEncrypt } from "./rsa.ts";

/**
 * AES key wrap with padding (RFC 5649 / NIST SP 800-38F KWP) and Vault's
 * BYOK envelope (keysutil wrapTargetPKCS8ForImport, transit path_import
 * decryptImportedKey): base64( RSA-OAEP(wrappingKey, ephemeral AES-256 key)
 * || KWP(ephemeral key, target key) ). The target key is raw bytes for
 * symmetric/HMAC keys and PKCS#8 DER for asymmetric keys.
 *
 * Implementation: OpenSSL's id-aes{128,192,256}-wrap-pad through
 * node:crypto (verified against the RFC 5649 §6 vectors and against
 * @noble/ciphers aeskwp in the tests). The envelope follows Tink's KWP,
 * which Vault uses: wrapped keys of 16..8192 bytes.
 *
 * Unwrapping returns null on any integrity failure; no partial output.
 */

const KWP_IV = Buffer.from("a65959a6", "hex");
const CIPHER: Record<number, "id-aes128-wrap-pad" | "id-aes192-wrap-pad" | "id-aes256-wrap-pad"> = {
  16: "id-aes128-wrap-pad",
  24: "id-aes192-wrap-pad",
  32: "id-aes256-wrap-pad",
};

/** Tink's KWP bounds, which Vault's BYOK inherits. */
export const KWP_MIN_WRAP_SIZE = 16;
export const KWP_MAX_WRAP_SIZE = 8192;
/** The OAEP part of a BYOK blob: one RSA-4096 block. */
export const BYOK_ENCRYPTED_KEY_BYTES = 512;

function cipherFor(kek: Uint8Array): "id-aes128-wrap-pad" | "id-aes192-wrap-pad" | "id-aes256-wrap-pad" {
  const c = CIPHER[kek.length];
  if (c === undefined) throw new RangeError("KWP key must be 16, 24 or 32 bytes");
  return c;
}

/** RFC 5649 wrap of 1..2^32-1 bytes: 8 + |key| rounded up to 8 bytes. */
export function aesKeyWrapPad(kek: Uint8Array, key: Uint8Array): Buffer {
  const name = cipherFor(kek);
  if (key.length < 1) throw new RangeError("nothing to wrap");
  const c = createCipheriv(name, kek, KWP_IV);
  const a = c.update(key);
  const b = c.final();
  return b.length === 0 ? a : Buffer.concat([a, b]);
}

/** RFC 5649 unwrap; null when the integrity check (AIV, length, padding) fails. */
export function aesKeyUnwrapPad(kek: Uint8Array, wrapped: Uint8Array): Buffer | null {
  const name = cipherFor(kek);
  if (wrapped.length < 16 || wrapped.length % 8 !== 0) return null;
  try {
    const d = createDecipheriv(name, kek, KWP_IV);
    const a = d.update(wrapped);
    const b = d.final();
    return b.length === 0 ? a : Buffer.concat([a, b]);
  } catch {
    return null;
  }
}

/**
 * Vault's BYOK wrap (WrapKey): a fresh AES-256 key wraps `targetKey` with
 * KWP and is itself OAEP-encrypted (`hash` for OAEP and MGF1, empty label)
 * under the RSA wrapping key (SPKI DER). Returns the raw blob; Vault sends
 * its standard base64.
 */
export function byokWrap(
  wrappingPublicKey: Uint8Array,
  targetKey: Uint8Array,
  hash: HashAlgorithm = "sha2-256",
): Buffer {
  if (targetKey.length < KWP_MIN_WRAP_SIZE || targetKey.length > KWP_MAX_WRAP_SIZE) {
    throw new RangeError("kwp: key size to wrap out of range");
  }
  const ephemeral = randomBytes(32);
  try {
    const encryptedKey = rsaEncrypt(wrappingPublicKey, ephemeral, "oaep", hash);
    return Buffer.concat([encryptedKey, aesKeyWrapPad(ephemeral, targetKey)]);
  } finally {
    ephemeral.fill(0);
  }
}

/**
 * Vault's BYOK unwrap (path_import decryptImportedKey): the first
 * `encryptedKeyBytes` (512: RSA-4096) are the OAEP-encrypted ephemeral
 * key, the rest the KWP-wrapped target key. null on any failure.
 */
export function byokUnwrap(
  wrappingPrivateKey: Uint8Array,
  blob: Uint8Array,
  hash: HashAlgorithm = "sha2-256",
  encryptedKeyBytes = BYOK_ENCRYPTED_KEY_BYTES,
): Buffer | null {
  if (blob.length <= encryptedKeyBytes) return null;
  const wrapped = blob.subarray(encryptedKeyBytes);
  if (wrapped.length < KWP_MIN_WRAP_SIZE + 8 || wrapped.length > KWP_MAX_WRAP_SIZE + 8) return null;
  const ephemeral = rsaDecrypt(wrappingPrivateKey, blob.subarray(0, encryptedKeyBytes), "oaep", hash);
  if (ephemeral === null) return null;
  try {
    if (ephemeral.length !== 16 && ephemeral.length !== 32) return null;
    return aesKeyUnwrapPad(ephemeral, wrapped);
  } finally {
    ephemeral.fill(0);
  }
}
