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
  "aes128-cmac",
  "aes192-cmac",
  "aes256-cmac",
  "ml-dsa",
  "slh-dsa",
  "hybrid",
  "aes128-cbc",
  "aes256-cbc",
  "aes256-gcm-siv",
] as const;

export type KeyType = (typeof KEY_TYPES)[number];

/** xchacha20-poly1305 (OpenBao) and aes256-gcm-siv have no Vault number: see backup-numbering.ts. */
export const VAULT_KEY_TYPE_ID: Partial<Record<KeyType, number>> = {
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
  "aes128-cmac": 12,
  "aes256-cmac": 13,
  "ml-dsa": 14,
  hybrid: 15,
  "aes192-cmac": 16,
  "slh-dsa": 17,
  "aes128-cbc": 18,
  "aes256-cbc": 19,
};

export function keyTypeFromVaultId(id: number): KeyType | undefined {
  return KEY_TYPES.find((t) => VAULT_KEY_TYPE_ID[t] === id);
}

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

export type CmacKeyType = "aes128-cmac" | "aes192-cmac" | "aes256-cmac";
export type CbcKeyType = "aes128-cbc" | "aes256-cbc";
export type PqSigningKeyType = "ml-dsa" | "slh-dsa" | "hybrid";

export function isCmac(t: KeyType): t is CmacKeyType {
  return t === "aes128-cmac" || t === "aes192-cmac" || t === "aes256-cmac";
}

export function isCbc(t: KeyType): t is CbcKeyType {
  return t === "aes128-cbc" || t === "aes256-cbc";
}

/** The post-quantum signing types (Vault Enterprise's PQC types). */
export function isPqSigning(t: KeyType): t is PqSigningKeyType {
  return t === "ml-dsa" || t === "slh-dsa" || t === "hybrid";
}

/** Key bytes of the raw AES types beyond the AEADs (CMAC, CBC, GCM-SIV); 0 for other types. */
export function rawAesKeySize(t: KeyType): number {
  switch (t) {
    case "aes128-cmac":
    case "aes128-cbc":
      return 16;
    case "aes192-cmac":
      return 24;
    case "aes256-cmac":
    case "aes256-cbc":
    case "aes256-gcm-siv":
      return 32;
    default:
      return 0;
  }
}

export function encryptionSupported(t: KeyType): boolean {
  return isSymmetric(t) || isRsa(t) || isCbc(t) || t === "aes256-gcm-siv";
}

export const decryptionSupported = encryptionSupported;

export function signingSupported(t: KeyType): boolean {
  return t === "ed25519" || isEcdsa(t) || isRsa(t) || isPqSigning(t);
}

/** Whether sign/verify hash the input first (ed25519 signs the message itself). */
export function hashSignatureInput(t: KeyType): boolean {
  return isEcdsa(t) || isRsa(t);
}

export function derivationSupported(t: KeyType): boolean {
  return isSymmetric(t) || t === "ed25519" || t === "aes256-gcm-siv";
}

export function associatedDataSupported(t: KeyType): boolean {
  return isSymmetric(t) || t === "aes256-gcm-siv";
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
