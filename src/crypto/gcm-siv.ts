/**
 * AES-GCM-SIV (RFC 8452) with 128- or 256-bit keys, 12-byte nonces and 16-byte tags: nonce-misuse-
 * resistant AEAD. Reusing a nonce reveals only whether two (plaintext, AAD) pairs are identical; it
 * never exposes a key stream or the authentication key, unlike GCM.
 *
 * Layout: `seal` returns ciphertext || tag (RFC 8452's output); the transit layer prepends the nonce
 * (vault:vN: + base64(nonce || ciphertext || tag), as the other AEADs).
 *
 * Where it runs: node:crypto (OpenSSL 3.2+ has "aes-256-gcm-siv"; the plugin executable's Node 26)
 * when the probe below reproduces RFC 8452's first AES-256 vector; @noble/ciphers' gcmsiv otherwise
 * (Node 20). Both are checked against RFC 8452 and Wycheproof and against each other, byte for byte.
 *
 * Errors: wrong key, nonce or tag sizes throw; a failed authentication throws one generic error.
 */

import { createCipheriv, createDecipheriv, getCiphers } from "node:crypto";
import { gcmsiv } from "@noble/ciphers/aes.js";
import { type Backend, hex, probe } from "./pq-runtime.ts";

export const GCM_SIV_NONCE_BYTES = 12;
export const GCM_SIV_TAG_BYTES = 16;

export interface GcmSivImpl {
  readonly backend: Backend;
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array;
}

function cipherName(key: Uint8Array): "aes-128-gcm-siv" | "aes-256-gcm-siv" {
  if (key.length === 16) return "aes-128-gcm-siv";
  if (key.length === 32) return "aes-256-gcm-siv";
  throw new Error("AES-GCM-SIV key must be 16 or 32 bytes");
}

function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== GCM_SIV_NONCE_BYTES)
    throw new Error(`AES-GCM-SIV nonce must be ${GCM_SIV_NONCE_BYTES} bytes`);
}

const AUTH_FAILED = "message authentication failed";

export const nobleGcmSiv: GcmSivImpl = {
  backend: "noble",
  seal(key, nonce, plaintext, aad) {
    cipherName(key);
    checkNonce(nonce);
    return gcmsiv(key, nonce, aad).encrypt(plaintext);
  },
  open(key, nonce, sealed, aad) {
    cipherName(key);
    checkNonce(nonce);
    if (sealed.length < GCM_SIV_TAG_BYTES) throw new Error(AUTH_FAILED);
    try {
      return gcmsiv(key, nonce, aad).decrypt(sealed);
    } catch {
      throw new Error(AUTH_FAILED);
    }
  },
};

export const opensslGcmSiv: GcmSivImpl = {
  backend: "openssl",
  seal(key, nonce, plaintext, aad) {
    checkNonce(nonce);
    const c = createCipheriv(cipherName(key) as "aes-256-gcm", key, nonce);
    if (aad !== undefined && aad.length > 0) c.setAAD(aad);
    const out = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  },
  open(key, nonce, sealed, aad) {
    checkNonce(nonce);
    const name = cipherName(key);
    if (sealed.length < GCM_SIV_TAG_BYTES) throw new Error(AUTH_FAILED);
    const split = sealed.length - GCM_SIV_TAG_BYTES;
    try {
      const d = createDecipheriv(name as "aes-256-gcm", key, nonce);
      d.setAuthTag(sealed.subarray(split));
      if (aad !== undefined && aad.length > 0) d.setAAD(aad);
      const out = Buffer.concat([d.update(sealed.subarray(0, split)), d.final()]);
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    } catch {
      throw new Error(AUTH_FAILED);
    }
  },
};

/** RFC 8452 appendix C.2, first vector: key 01 00..00, nonce 03 00..00, empty plaintext and AAD. */
export const opensslHasGcmSiv = probe(() => {
  if (!getCiphers().includes("aes-256-gcm-siv")) return false;
  const key = new Uint8Array(32);
  key[0] = 1;
  const nonce = new Uint8Array(12);
  nonce[0] = 3;
  const out = opensslGcmSiv.seal(key, nonce, new Uint8Array(0));
  return Buffer.from(out).equals(hex("07f5f4169bbf55a8400cd47ea6fd400f"));
});

export function gcmSivImpl(): GcmSivImpl {
  return opensslHasGcmSiv() ? opensslGcmSiv : nobleGcmSiv;
}

export function gcmSivSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad?: Uint8Array,
): Uint8Array {
  return gcmSivImpl().seal(key, nonce, plaintext, aad);
}

export function gcmSivOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad?: Uint8Array,
): Uint8Array {
  return gcmSivImpl().open(key, nonce, sealed, aad);
}
