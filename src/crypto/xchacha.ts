import { hchacha } from "@noble/ciphers/chacha.js";
import { open, sealInto, TAG_SIZE } from "./aead.ts";
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

/**
 * Seals: nonce || ciphertext || tag when `prefixNonce` (the default), else ciphertext || tag. The
 * ChaCha20-Poly1305 pass under the subkey is aead.ts's, with the inner 12-byte nonce.
 */
export function sealX(
  key: Uint8Array,
  xnonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array | undefined,
  prefixNonce = true,
): Buffer {
  check(key, xnonce);
  const subkey = hchacha20(key, xnonce);
  try {
    const at = prefixNonce ? XNONCE_SIZE : 0;
    const out = Buffer.allocUnsafe(at + plaintext.length + TAG_SIZE);
    if (prefixNonce) out.set(xnonce, 0);
    sealInto(out.subarray(at), "chacha20-poly1305", subkey, innerNonce(xnonce), plaintext, aad, false);
    return out;
  } finally {
    subkey.fill(0);
  }
}

/** Opens ciphertext || tag under the 24-byte nonce; null when authentication fails (aead.ts's `open`). */
export function openX(
  key: Uint8Array,
  xnonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array | undefined,
): Buffer | null {
  check(key, xnonce);
  if (sealed.length < TAG_SIZE) return null;
  const subkey = hchacha20(key, xnonce);
  try {
    return open("chacha20-poly1305", subkey, innerNonce(xnonce), sealed, aad);
  } finally {
    subkey.fill(0);
  }
}
