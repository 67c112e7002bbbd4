/**
 * AES-CBC with PKCS#7 padding (NIST SP 800-38A; padding as RFC 5652 section 6.3), 128-, 192- or
 * 256-bit keys, a 16-byte IV chosen by the caller or drawn from the CSPRNG.
 *
 * Not authenticated: a ciphertext can be altered without detection, and a service that reveals
 * whether padding was valid is a padding oracle that decrypts everything. It exists for interop with
 * legacy systems that require CBC; the transit layer documents it so (SECURITY.md).
 *
 * Where it runs: node:crypto (OpenSSL) on every Node; tests cross-check it against @noble/ciphers'
 * cbc and Wycheproof's aes_cbc_pkcs5 vectors.
 *
 * Errors: a key or IV of the wrong length throws; decryption with bad padding or a ciphertext that is
 * not a positive multiple of 16 bytes throws one generic error (no detail that would help an oracle).
 */

import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export const CBC_IV_BYTES = 16;
export const CBC_BLOCK = 16;

export type CbcCipherName = "aes-128-cbc" | "aes-192-cbc" | "aes-256-cbc";

/** node:crypto's CBC cipher for an AES key's length; `scheme` names the caller in the error (CMAC uses it too). */
export function cbcCipherName(key: Uint8Array, scheme = "AES-CBC"): CbcCipherName {
  switch (key.length) {
    case 16:
      return "aes-128-cbc";
    case 24:
      return "aes-192-cbc";
    case 32:
      return "aes-256-cbc";
    default:
      throw new Error(`${scheme} key must be 16, 24 or 32 bytes`);
  }
}

function checkIv(iv: Uint8Array): void {
  if (iv.length !== CBC_IV_BYTES) throw new Error(`iv must be ${CBC_IV_BYTES} bytes`);
}

export function cbcGenerateIv(): Uint8Array {
  return new Uint8Array(randomBytes(CBC_IV_BYTES));
}

/** The ciphertext alone (IV not included): a whole number of blocks, at least one. */
export function cbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array {
  checkIv(iv);
  const c = createCipheriv(cbcCipherName(key), key, iv);
  return new Uint8Array(Buffer.concat([c.update(plaintext), c.final()]));
}

export function cbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  checkIv(iv);
  const name = cbcCipherName(key);
  if (ciphertext.length === 0 || ciphertext.length % CBC_BLOCK !== 0) throw new Error("invalid ciphertext");
  try {
    const d = createDecipheriv(name, key, iv);
    return new Uint8Array(Buffer.concat([d.update(ciphertext), d.final()]));
  } catch {
    throw new Error("invalid ciphertext");
  }
}
