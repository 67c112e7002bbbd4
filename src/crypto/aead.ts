import { createCipheriv, createDecipheriv } from "node:crypto";
import { randomPooled } from "./random-pool.ts";

/**
 * The AEADs behind transit's symmetric key types, in Vault's wire layout:
 * nonce (12 bytes) || ciphertext || tag (16 bytes), as Go's
 * `append(nonce, aead.Seal(nil, nonce, pt, aad)...)` in keysutil
 * SymmetricEncryptRaw. This module is the one place that decides which
 * implementation runs on the hot path.
 *
 * ## Implementation
 * node:crypto (OpenSSL: AES-NI, vectorised ChaCha20) for every size; the
 * alternatives (@noble/ciphers, WebCrypto, node with 64 KiB chunks) are the
 * bench cases bench/micro/aead.ts and bench/layers/primitives.ts (AEAD
 * groups, implementations from bench/layers/aead-impls.ts), which chose it.
 * - Seal above 64 KiB copies 64 KiB chunks into one preallocated output:
 *   peak memory is the output plus 64 KiB, never two full-size copies.
 * - Open returns OpenSSL's own update() buffer (no second full copy).
 *
 * ## Contract
 * - `open` returns null on any authentication failure (wrong key, nonce,
 *   AAD, tag, truncation). The candidate plaintext is zeroed before null is
 *   returned and never leaves this module.
 * - Errors thrown (bad key or nonce length) carry no key or data bytes.
 * - Buffers returned are owned by the caller (except `sealTransient`'s above
 *   64 KiB: valid until its next call); `seal`'s output may be a view
 *   into Node's shared allocation pool (use byteOffset/length, never
 *   `.buffer` whole). Inputs are never modified or retained.
 * - An empty or absent AAD is the same as no AAD (as Go's AEADs).
 */
export type AeadAlgorithm = "aes128-gcm96" | "aes256-gcm96" | "chacha20-poly1305";

export const NONCE_SIZE = 12;
export const TAG_SIZE = 16;

/** Messages above this length are sealed in chunks of this length. */
const CHUNK = 64 * 1024;

const CIPHER_NAME: Record<AeadAlgorithm, "aes-128-gcm" | "aes-256-gcm" | "chacha20-poly1305"> = {
  "aes128-gcm96": "aes-128-gcm",
  "aes256-gcm96": "aes-256-gcm",
  "chacha20-poly1305": "chacha20-poly1305",
};

export function keySize(alg: AeadAlgorithm): number {
  return alg === "aes128-gcm96" ? 16 : 32;
}

/** A fresh random 96-bit nonce from the CSPRNG (pooled; see random-pool.ts). */
export function randomNonce(): Buffer {
  return randomPooled(NONCE_SIZE);
}

function checkParams(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array): void {
  const name = CIPHER_NAME[alg];
  if (name === undefined) throw new TypeError("unsupported AEAD algorithm");
  if (key.length !== keySize(alg)) throw new RangeError(`invalid key length for ${alg}`);
  if (nonce.length !== NONCE_SIZE) throw new RangeError(`nonce must be ${NONCE_SIZE} bytes`);
}

/** Seals into one buffer: nonce || ciphertext || tag when `prefixNonce`, else ciphertext || tag. */
export function seal(
  alg: AeadAlgorithm,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array | undefined,
  prefixNonce = true,
): Buffer {
  checkParams(alg, key, nonce);
  const out = Buffer.allocUnsafe((prefixNonce ? NONCE_SIZE : 0) + plaintext.length + TAG_SIZE);
  sealInto(out, alg, key, nonce, plaintext, aad, prefixNonce);
  return out;
}

/** Largest sealed message sealTransient keeps a buffer for (a bigger one gets its own). */
const TRANSIENT_MAX = 4 * 1024 * 1024;
let transient: Buffer | null = null;

/**
 * As `seal` (nonce prefixed), but messages above 64 KiB are sealed into one
 * buffer kept from call to call, and the result is a view of it that is only
 * valid until the next sealTransient call: for a caller that encodes it at
 * once (transit's encrypt). A fresh megabyte per message costs page faults
 * and collection: at 1 MiB this is about 1.3× faster than `seal`
 * (bench/results, primitives: "node:crypto chunked+reused"). The buffer holds
 * only sealed output (nonce, ciphertext, tag), never plaintext or keys.
 */
export function sealTransient(
  alg: AeadAlgorithm,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array | undefined,
): Buffer {
  const size = NONCE_SIZE + plaintext.length + TAG_SIZE;
  if (plaintext.length <= CHUNK || size > TRANSIENT_MAX) return seal(alg, key, nonce, plaintext, aad);
  checkParams(alg, key, nonce);
  if (transient === null || transient.length < size) {
    transient = Buffer.allocUnsafeSlow(Math.min(TRANSIENT_MAX, Math.max(size, 2 * (transient?.length ?? 0))));
  }
  const out = transient.subarray(0, size);
  sealInto(out, alg, key, nonce, plaintext, aad, true);
  return out;
}

/**
 * Seals into `out`, exactly the sealed length. Parameters are not checked here: callers check them
 * first (`seal`, `sealTransient`; xchacha.ts with its HChaCha20 subkey and inner nonce).
 */
export function sealInto(
  out: Buffer,
  alg: AeadAlgorithm,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array | undefined,
  prefixNonce: boolean,
): void {
  const cipher = createCipheriv(CIPHER_NAME[alg] as "aes-256-gcm", key, nonce, { authTagLength: TAG_SIZE });
  if (aad !== undefined && aad.length > 0) cipher.setAAD(aad);
  const offset = prefixNonce ? NONCE_SIZE : 0;
  const n = plaintext.length;
  if (prefixNonce) out.set(nonce, 0);
  let at = offset;
  if (n <= CHUNK) {
    const body = cipher.update(plaintext);
    out.set(body, at);
    at += body.length;
  } else {
    for (let i = 0; i < n; i += CHUNK) {
      const part = cipher.update(plaintext.subarray(i, Math.min(n, i + CHUNK)));
      out.set(part, at);
      at += part.length;
    }
  }
  const rest = cipher.final();
  if (rest.length > 0) {
    out.set(rest, at);
    at += rest.length;
  }
  out.set(cipher.getAuthTag(), at);
}

/**
 * Opens ciphertext || tag under the given nonce; null when authentication
 * fails (the candidate plaintext is zeroed first and never returned).
 */
export function open(
  alg: AeadAlgorithm,
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array | undefined,
): Buffer | null {
  checkParams(alg, key, nonce);
  if (sealed.length < TAG_SIZE) return null;
  const ctLen = sealed.length - TAG_SIZE;
  const decipher = createDecipheriv(CIPHER_NAME[alg] as "aes-256-gcm", key, nonce, {
    authTagLength: TAG_SIZE,
  });
  decipher.setAuthTag(sealed.subarray(ctLen));
  if (aad !== undefined && aad.length > 0) decipher.setAAD(aad);
  const plain = decipher.update(sealed.subarray(0, ctLen));
  try {
    const rest = decipher.final();
    if (rest.length > 0) {
      // Stream AEADs in OpenSSL flush nothing at final; kept for safety.
      const all = Buffer.allocUnsafe(plain.length + rest.length);
      all.set(plain, 0);
      all.set(rest, plain.length);
      plain.fill(0);
      return all;
    }
  } catch {
    plain.fill(0);
    return null;
  }
  return plain;
}
