/**
 * Transit key types and what each supports. The numbers a backup carries
 * for them (keysutil's KeyType enum, which Vault and OpenBao number
 * differently from 10 up) live in backup-numbering.ts; VAULT_KEY_TYPE_ID
 * below is only its fallback, Vault's number for a type added here
 * without a line there.
 */

import { HMAC_MAX_KEY_SIZE, HMAC_MIN_KEY_SIZE } from "../../crypto/keys.ts";

export const KEY_TYPES = [
  "aes128-gcm96",
  "aes256-gcm96",
  "chacha20-poly1305",
  "xchacha20-poly1305",
  "ed25519",
  "ecdsa-p256",
  "ecdsa-p384",
  "ecdsa-p521",
  "rsa-2048",
  "rsa-3072",
  "rsa-4096",
  "hmac",
] as const;

export type KeyType = (typeof KEY_TYPES)[number];

export const VAULT_KEY_TYPE_ID: Record<Exclude<KeyType, "xchacha20-poly1305">, number> = {
  "aes256-gcm96": 0,
  "ecdsa-p256": 1,
  ed25519: 2,
  "rsa-2048": 3,
  "rsa-4096": 4,
  "chacha20-poly1305": 5,
  "ecdsa-p384": 6,
  "ecdsa-p521": 7,
  "aes128-gcm96": 8,
  "rsa-3072": 9,
  hmac: 11,
};

export function isKeyType(s: string): s is KeyType {
  return (KEY_TYPES as readonly string[]).includes(s);
}

export type SymmetricKeyType = "aes128-gcm96" | "aes256-gcm96" | "chacha20-poly1305" | "xchacha20-poly1305";
export type RsaKeyType = "rsa-2048" | "rsa-3072" | "rsa-4096";
export type EcdsaKeyType = "ecdsa-p256" | "ecdsa-p384" | "ecdsa-p521";

export function isSymmetric(t: KeyType): t is SymmetricKeyType {
  return (
    t === "aes128-gcm96" || t === "aes256-gcm96" || t === "chacha20-poly1305" || t === "xchacha20-poly1305"
  );
}

export function isRsa(t: KeyType): t is RsaKeyType {
  return t === "rsa-2048" || t === "rsa-3072" || t === "rsa-4096";
}

export function isEcdsa(t: KeyType): t is EcdsaKeyType {
  return t === "ecdsa-p256" || t === "ecdsa-p384" || t === "ecdsa-p521";
}

export function encryptionSupported(t: KeyType): boolean {
  return isSymmetric(t) || isRsa(t);
}

export const decryptionSupported = encryptionSupported;

export function signingSupported(t: KeyType): boolean {
  return t === "ed25519" || isEcdsa(t) || isRsa(t);
}

/** Whether sign/verify hash the input first (ed25519 signs the message itself). */
export function hashSignatureInput(t: KeyType): boolean {
  return isEcdsa(t) || isRsa(t);
}

export function derivationSupported(t: KeyType): boolean {
  return isSymmetric(t) || t === "ed25519";
}

export function associatedDataSupported(t: KeyType): boolean {
  return isSymmetric(t);
}

export function rsaBits(t: RsaKeyType): number {
  return t === "rsa-2048" ? 2048 : t === "rsa-3072" ? 3072 : 4096;
}

/** The raw key length of a symmetric type: 16 bytes for AES-128-GCM, 32 for the others. */
export function symmetricKeySize(t: SymmetricKeyType): 16 | 32 {
  return t === "aes128-gcm96" ? 16 : 32;
}

/** keysutil's bounds on an HMAC key's length, the same for generated, imported and restored keys. */
export function isHmacKeySize(n: number): boolean {
  return n >= HMAC_MIN_KEY_SIZE && n <= HMAC_MAX_KEY_SIZE;
}

/** HMAC key size limits, in bytes (keysutil HmacMinKeySize / HmacMaxKeySize), defined with HMAC key generation. */
export { HMAC_MAX_KEY_SIZE, HMAC_MIN_KEY_SIZE } from "../../crypto/keys.ts";
