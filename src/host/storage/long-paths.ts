/**
 * Storage paths of any length in a database whose keys are bounded (LMDB:
 * 1978 bytes in lmdb-js builds). Vault's storage takes any path; a transit
 * key name of 3 000 characters makes a path far over that limit.
 *
 * A path whose UTF-8 form is shorter than the limit is its own database key,
 * as before. A longer path is stored under a key of exactly the limit's
 * length: the path's first bytes (cut at a character boundary), then the
 * SHA-256 of the whole path in hex, padded to the limit. The record under
 * such a key holds the full path beside the sealed value.
 *
 * Why this shape:
 * - No collision with a short path: short keys are shorter than the limit,
 *   long keys exactly as long. Between long keys, a SHA-256 collision would
 *   be needed, and a write that met one is refused (the stored full path
 *   differs), never silently merged.
 * - Prefix scans still work: a long key starts with its path's first
 *   `minPrefixBytes` bytes, so every path under a prefix is found by scanning
 *   the database from that prefix cut to `minPrefixBytes`, and filtering by
 *   the full path when the prefix is longer than that (LIST's children and
 *   their sorted order come from the full paths).
 */

import { hash } from "../../crypto/hash.ts";

const HASH_HEX = 64;
/** Fills a long key to its fixed length when the cut prefix is shorter by a partial character. */
const PAD = "~";
const PATH_LENGTH_BYTES = 4;

export class LongPaths {
  /** Bytes of the path a long key keeps (before the hash). */
  private readonly prefixBytes: number;

  constructor(
    /** The database's key limit in bytes; long keys are exactly this long. */
    readonly keyBytes: number,
  ) {
    this.prefixBytes = keyBytes - HASH_HEX;
    if (this.prefixBytes < 16) throw new Error(`database key limit ${keyBytes} is too small`);
  }

  /** Every long key starts with at least this many bytes of its path (the cut may drop up to 3). */
  get minPrefixBytes(): number {
    return this.prefixBytes - 3;
  }

  /** Whether the path is stored under itself. */
  isShort(path: string): boolean {
    return Buffer.byteLength(path, "utf8") < this.keyBytes;
  }

  /** Whether a database key is a long key (else it is a short path itself). */
  isLongKey(key: string): boolean {
    return Buffer.byteLength(key, "utf8") === this.keyBytes;
  }

  /** The database key of a path. */
  keyOf(path: string): string {
    if (this.isShort(path)) return path;
    const head = cutUtf8(path, this.prefixBytes);
    const digest = hash("sha2-256", Buffer.from(path, "utf8")).toString("hex");
    const pad = PAD.repeat(this.keyBytes - Buffer.byteLength(head, "utf8") - HASH_HEX);
    return head + pad + digest;
  }

  /** Where a prefix scan starts so that it meets every path under `prefix`, long ones included. */
  scanStart(prefix: string): string {
    return Buffer.byteLength(prefix, "utf8") <= this.minPrefixBytes
      ? prefix
      : cutUtf8(prefix, this.minPrefixBytes);
  }
}

/** The longest start of `s` whose UTF-8 form fits in `bytes`, never splitting a character. */
export function cutUtf8(s: string, bytes: number): string {
  if (Buffer.byteLength(s, "utf8") <= bytes) return s;
  let used = 0;
  let end = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, "utf8");
    if (used + n > bytes) break;
    used += n;
    end += ch.length;
  }
  return s.slice(0, end);
}

/** A long key's record: path length (uint32 BE) | path (UTF-8) | sealed value. */
export function encodeLongRecord(path: string, sealed: Uint8Array): Buffer {
  const p = Buffer.from(path, "utf8");
  const out = Buffer.allocUnsafe(PATH_LENGTH_BYTES + p.length + sealed.length);
  out.writeUInt32BE(p.length, 0);
  p.copy(out, PATH_LENGTH_BYTES);
  out.set(sealed, PATH_LENGTH_BYTES + p.length);
  return out;
}

/** The path and sealed value of a long key's record; null when it is not one (damage). */
export function decodeLongRecord(record: Uint8Array): { path: string; sealed: Buffer } | null {
  const buf = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  if (buf.length < PATH_LENGTH_BYTES) return null;
  const n = buf.readUInt32BE(0);
  if (PATH_LENGTH_BYTES + n > buf.length) return null;
  return {
    path: buf.toString("utf8", PATH_LENGTH_BYTES, PATH_LENGTH_BYTES + n),
    sealed: buf.subarray(PATH_LENGTH_BYTES + n),
  };
}
