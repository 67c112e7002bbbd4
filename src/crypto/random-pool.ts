import { randomFillSync } from "node:crypto";

/**
 * Small random values (AEAD nonces) cut from a pool filled by the CSPRNG.
 *
 * Each call into OpenSSL's RAND_bytes costs about 3 µs on these machines,
 * more than sealing 64 bytes with AES-GCM; filling 48 KiB at a time and
 * slicing it brings a nonce to well under 0.1 µs. Every byte is handed out
 * once and the pool is refilled before reuse, so nonces stay as unpredictable
 * and as unique as the CSPRNG's output. Nonces are public values: holding
 * future ones in memory reveals nothing about keys or plaintexts.
 */
const POOL_SIZE = 48 * 1024;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** Writes `length` fresh random bytes into `out` at `at`. */
export function fillRandom(out: Uint8Array, at: number, length: number): void {
  if (length > 1024) {
    randomFillSync(out, at, length);
    return;
  }
  if (offset + length > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  out.set(pool.subarray(offset, offset + length), at);
  // Spent bytes are overwritten so a nonce never lingers twice in memory.
  pool.fill(0, offset, offset + length);
  offset += length;
}

/** A new buffer of `length` random bytes from the pool. */
export function randomPooled(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  fillRandom(out, 0, length);
  return out;
}
