import { constants, type KeyObject, privateDecrypt, publicEncrypt } from "node:crypto";
import { type HashAlgorithm, hashSize, opensslHashName } from "./hash.ts";
import { privateKeyObject, publicKeyObject } from "./keys.ts";

/**
 * RSA encryption for rsa-2048/3072/4096 keys (keysutil EncryptWithFactory /
 * DecryptWithFactory, padding_scheme) and the OAEP step of BYOK.
 *
 * - OAEP: MGF1 and the label hash are the same function (as Go's
 *   rsa.EncryptOAEP(hash, ...)); label empty; Vault's encrypt/decrypt use
 *   SHA-256, BYOK lets the caller pick SHA-1/224/256/384/512.
 * - PKCS#1 v1.5 encryption: OpenSSL. PKCS#1 v1.5 *decryption*: Node 20
 *   refuses RSA_PKCS1_PADDING in privateDecrypt (CVE-2023-46809, Marvin)
 *   with this OpenSSL (no implicit rejection before 3.2), so the raw RSA
 *   operation runs in OpenSSL (RSA_NO_PADDING, blinded) and the type-2
 *   unpadding is done here without data-dependent branches or early exits.
 *   JavaScript gives no hard constant-time guarantee: PKCS#1 v1.5
 *   decryption stays a padding-oracle risk (as Vault documents); prefer OAEP.
 * - Decryption returns null on any failure (never an error with details:
 *   no padding oracle through messages). Encryption throws a RangeError
 *   "message too long for RSA key size" when the plaintext does not fit.
 */
export type RsaPadding = "oaep" | "pkcs1v15";

function modulusBytes(key: KeyObject): number {
  if (key.asymmetricKeyType !== "rsa") throw new TypeError("key is not an RSA key");
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined) throw new TypeError("key is not an RSA key");
  return Math.ceil(bits / 8);
}

/** The longest plaintext the key takes with this padding. */
export function rsaMaxPlaintext(
  publicKey: Uint8Array,
  padding: RsaPadding,
  oaepHash: HashAlgorithm = "sha2-256",
): number {
  const k = modulusBytes(publicKeyObject(publicKey));
  return padding === "oaep" ? k - 2 * hashSize(oaepHash) - 2 : k - 11;
}

/** Encrypts under an SPKI DER public key. */
export function rsaEncrypt(
  publicKey: Uint8Array,
  plaintext: Uint8Array,
  padding: RsaPadding = "oaep",
  oaepHash: HashAlgorithm = "sha2-256",
): Buffer {
  const key = publicKeyObject(publicKey);
  if (padding !== "oaep" && padding !== "pkcs1v15") throw new TypeError("unsupported padding scheme");
  if (plaintext.length > rsaMaxPlaintext(publicKey, padding, oaepHash)) {
    throw new RangeError("message too long for RSA key size");
  }
  return padding === "oaep"
    ? publicEncrypt(
        { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: opensslHashName(oaepHash) },
        plaintext,
      )
    : publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, plaintext);
}

/** Decrypts with a PKCS#8 DER private key; null on any failure. */
export function rsaDecrypt(
  privateKey: Uint8Array,
  ciphertext: Uint8Array,
  padding: RsaPadding = "oaep",
  oaepHash: HashAlgorithm = "sha2-256",
): Buffer | null {
  const key = privateKeyObject(privateKey);
  if (padding !== "oaep" && padding !== "pkcs1v15") throw new TypeError("unsupported padding scheme");
  const k = modulusBytes(key);
  if (ciphertext.length !== k) return null;
  if (padding === "oaep") {
    try {
      return privateDecrypt(
        { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: opensslHashName(oaepHash) },
        ciphertext,
      );
    } catch {
      return null;
    }
  }
  let em: Buffer;
  try {
    em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ciphertext);
  } catch {
    return null;
  }
  const result = unpadType2(em);
  em.fill(0);
  return result;
}

/**
 * EME-PKCS1-v1_5 decoding (RFC 8017 §7.2.2) of EM = 00 02 PS 00 M with
 * |PS| >= 8, scanning every byte whatever the content (as Go's
 * DecryptPKCS1v15 does with constant-time selects).
 */
function unpadType2(em: Uint8Array): Buffer | null {
  const k = em.length;
  let good = ((em[0] as number) ^ 0) | ((em[1] as number) ^ 2); // 0 when the header is right
  let zeroIndex = 0; // index of the first 00 after the header
  let found = 0; // 1 once it is found
  for (let i = 2; i < k; i++) {
    const isZero = (((em[i] as number) - 1) >>> 31) & 1; // 1 iff byte == 0
    const take = isZero & (found ^ 1);
    zeroIndex = zeroIndex | (-take & i);
    found = found | isZero;
  }
  // PS must be at least 8 bytes: first zero at index >= 10.
  const psShort = ((zeroIndex - 10) >>> 31) & 1;
  good = good | (found ^ 1) | psShort;
  if (good !== 0) return null;
  return Buffer.from(em.subarray(zeroIndex + 1));
}
