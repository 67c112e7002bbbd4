import { createCipheriv, createDecipheriv } from "node:crypto";
import { hchacha } from "@noble/ciphers/chacha.js";
import { randomPooled } from "./random-pool.ts";

/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03), the AEAD of OpenBao's
 * `xchacha20-poly1305` transit keys (Go's chacha20poly1305.NewX), in
 * OpenBao's wire layout: nonce (24 bytes) || ciphertext || tag (16 bytes).
 *
 * Built as the draft defines it: HChaCha20(key, nonce[0:16]) gives a subkey,
 * then IETF ChaCha20-Poly1305 runs under that subkey with the nonce
 * 0x00000000 || nonce[16:24]. The subkey (one ChaCha block, pure JS from
 * @noble/ciphers) is the only part not done by OpenSSL, so the cost per byte
 * is node:crypto's ChaCha20-Poly1305; @noble/ciphers' own
 * xchacha20poly1305 is pure JS and 10-20x slower above 1 KiB (see
 * aead.ts's table for chacha20). test/crypto/xchacha.test.ts checks both
 * against the draft's vector and Wycheproof's.
 *
 * Contract as aead.ts: `open` returns null on any authentication failure
 * (the candidate plaintext is zeroed first); errors carry no key or data
 * bytes; inputs are never modified or retained; the subkey is zeroed after use.
 */

export const XNONCE_SIZE = 24;
export const XKEY_SIZE = 32;
const TAG_SIZE = 16;

/** "expand 32-byte k" as little-endian words (RFC 8439 §2.3). */
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

function wordsLE(bytes: Uint8Array, offset: number, count: number): Uint32Array {
  const out = new Uint32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * 4);
  for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

/** HChaCha20(key, nonce[0:16]) as 32 bytes. */
export function hchacha20(key: Uint8Array, nonce16: Uint8Array): Buffer {
  if (key.length !== XKEY_SIZE) throw new RangeError("invalid key length for xchacha20-poly1305");
  if (nonce16.length < 16) throw new RangeError("hchacha20 needs a 16-byte input");
  const k = wordsLE(key, 0, 8);
  const n = wordsLE(nonce16, 0, 4);
  const words = new Uint32Array(8);
  hchacha(SIGMA, k, n, words);
  const out = Buffer.allocUnsafe(32);
  for (let i = 0; i < 8; i++) out.writeUInt32LE(words[i] as number, i * 4);
  k.fill(0);
  words.fill(0);
  return out;
}

function check(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== XKEY_SIZE) throw new RangeError("invalid key length for xchacha20-poly1305");
  if (nonce.length !== XNONCE_SIZE) throw new RangeError(`nonce must be ${XNONCE_SIZE} bytes`);
}

/** The inner IETF nonce: four zero bytes, then the last 8 bytes of the 24-byte nonce. */
function innerNonce(nonce: Uint8Array): Buffer {
  const n = Buffer.alloc(12);
  n.set(nonce.subarray(16, 24), 4);
  return n;
}

/** A fresh random 192-bit nonce from the CSPRNG. */
export function randomXNonce(): Buffer {
  return randomPooled(XNONCE_SIZE);
}

/** Seals: nonce || ciphertext || tag when `prefixNonce` (the default), else ciphertext || tag. */
export function sealX(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array | undefined,
  prefixNonce = true,
): Buffer {
  check(key, nonce);
  const subkey = hchacha20(key, nonce);
  try {
    const cipher = createCipheriv("chacha20-poly1305", subkey, innerNonce(nonce), {
      authTagLength: TAG_SIZE,
    });
    if (aad !== undefined && aad.length > 0) cipher.setAAD(aad, { plaintextLength: plaintext.length });
    const at = prefixNonce ? XNONCE_SIZE : 0;
    const out = Buffer.allocUnsafe(at + plaintext.length + TAG_SIZE);
    if (prefixNonce) out.set(nonce, 0);
    const body = cipher.update(plaintext);
    out.set(body, at);
    const rest = cipher.final();
    out.set(rest, at + body.length);
    out.set(cipher.getAuthTag(), at + body.length + rest.length);
    return out;
  } finally {
    subkey.fill(0);
  }
}

/** Opens ciphertext || tag under the 24-byte nonce; null when authentication fails. */
export function openX(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array | undefined,
): Buffer | null {
  check(key, nonce);
  if (sealed.length < TAG_SIZE) return null;
  const ctLen = sealed.length - TAG_SIZE;
  const subkey = hchacha20(key, nonce);
  try {
    const decipher = createDecipheriv("chacha20-poly1305", subkey, innerNonce(nonce), {
      authTagLength: TAG_SIZE,
    });
    decipher.setAuthTag(sealed.subarray(ctLen));
    if (aad !== undefined && aad.length > 0) decipher.setAAD(aad, { plaintextLength: ctLen });
    const plain = decipher.update(sealed.subarray(0, ctLen));
    try {
      const rest = decipher.final();
      if (rest.length === 0) return plain;
      const all = Buffer.concat([plain, rest]);
      plain.fill(0);
      return all;
    } catch {
      plain.fill(0);
      return null;
    }
  } finally {
    subkey.fill(0);
  }
}
