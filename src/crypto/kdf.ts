import { createHmac } from "node:crypto";
import { type Ed25519Key, ed25519FromSeed } from "./keys.ts";

/**
 * Key derivation exactly as Vault's keysutil computes it (Policy.DeriveKey,
 * sdk/helper/kdf) and the convergent-encryption nonce (SymmetricEncryptRaw).
 *
 * HKDF is RFC 5869 extract/expand on createHmac, not crypto.hkdfSync:
 * hkdfSync refuses an info (Vault's derivation context, caller-supplied)
 * over 1024 bytes where Go's hkdf takes any length (issue #11). Bench case:
 * bench/layers/primitives.ts runMacs (groups hkdf-sha256,
 * kdf-counter-hmac-sha256); hkdfSync and @noble/hashes are the independent
 * implementations in the tests.
 *
 * Errors carry no key or context bytes. Outputs are fresh buffers owned by
 * the caller.
 */

const SHA256_LEN = 32;
const ZERO_SALT = Buffer.alloc(SHA256_LEN);

/**
 * HKDF-SHA256 (RFC 5869): Go's `hkdf.New(sha256.New, key, salt, info)` read
 * for `length` bytes. Vault passes salt = nil (same as empty: a zero key for
 * the extract HMAC) and info = the derivation context; length is 16 or 32
 * for an encryption key, 48 or 64 for convergent v3 (encKey || hmacKey, one
 * read), 32 for a derived Ed25519 seed.
 */
export function hkdfSha256(
  key: Uint8Array,
  info: Uint8Array,
  length: number,
  salt?: Uint8Array | undefined,
): Buffer {
  if (!Number.isSafeInteger(length) || length < 1 || length > 255 * SHA256_LEN) {
    throw new RangeError("invalid HKDF output length");
  }
  const prk = createHmac("sha256", salt !== undefined && salt.length > 0 ? salt : ZERO_SALT)
    .update(key)
    .digest();
  const blocks = Math.ceil(length / SHA256_LEN);
  const out = Buffer.allocUnsafeSlow(blocks * SHA256_LEN);
  const counter = Buffer.alloc(1);
  let prev: Buffer | undefined;
  for (let i = 0; i < blocks; i++) {
    const h = createHmac("sha256", prk);
    if (prev !== undefined) h.update(prev);
    h.update(info);
    counter[0] = i + 1;
    h.update(counter);
    const t = h.digest();
    t.copy(out, i * SHA256_LEN);
    if (prev !== undefined) prev.fill(0);
    prev = t;
  }
  prev?.fill(0);
  prk.fill(0);
  if (length === out.length) return out;
  const result = Buffer.from(out.subarray(0, length));
  out.fill(0);
  return result;
}

/**
 * NIST SP 800-108 counter mode with HMAC-SHA256 as the PRF, exactly Vault's
 * `kdf.CounterMode(kdf.HMACSHA256PRF, 256, key, context, bits)`: block i is
 * HMAC(key, BE32(i) || context || BE32(bits)) with i counting from 0 (Vault's
 * choice; SP 800-108 counts from 1), output truncated to bits/8 bytes.
 * keysutil's legacy KDF (Kdf_hmac_sha256_counter) always asks for 256 bits.
 */
export function counterModeHmacSha256(key: Uint8Array, context: Uint8Array, bits = 256): Buffer {
  if (!Number.isSafeInteger(bits) || bits <= 0 || bits % 8 !== 0 || bits > 0xffffffff) {
    throw new RangeError("bits required must be a positive multiple of 8");
  }
  const rounds = Math.ceil(bits / 256);
  const input = Buffer.alloc(4 + context.length + 4);
  input.set(context, 4);
  input.writeUInt32BE(bits, 4 + context.length);
  const out = Buffer.allocUnsafeSlow(rounds * SHA256_LEN);
  for (let i = 0; i < rounds; i++) {
    input.writeUInt32BE(i, 0);
    createHmac("sha256", key)
      .update(input)
      .digest()
      .copy(out, i * SHA256_LEN);
  }
  input.fill(0);
  if (bits / 8 === out.length) return out;
  const result = Buffer.from(out.subarray(0, bits / 8));
  out.fill(0);
  return result;
}

/**
 * A derived Ed25519 key as keysutil computes it: the HKDF-SHA256 reader
 * (salt nil, info = context) is fed to Go's `ed25519.GenerateKey(reader)`,
 * which reads a 32-byte seed; the result is Go's 64-byte private key
 * seed || publicKey.
 */
export function deriveEd25519Key(key: Uint8Array, context: Uint8Array): Ed25519Key {
  const seed = hkdfSha256(key, context, 32);
  try {
    return ed25519FromSeed(seed);
  } finally {
    seed.fill(0);
  }
}

/** The 96-bit nonce of convergent encryption v2/v3: HMAC-SHA256(hmacKey, plaintext)[:12]. */
export function convergentNonce(hmacKey: Uint8Array, plaintext: Uint8Array): Buffer {
  if (hmacKey.length === 0) throw new RangeError("invalid hmac key length of zero");
  const mac = createHmac("sha256", hmacKey).update(plaintext).digest();
  return Buffer.from(mac.subarray(0, 12));
}
