import { createHash, createHmac, randomBytes as nodeRandomBytes, timingSafeEqual } from "node:crypto";

/**
 * Hashes, HMACs, constant-time comparison and random bytes, under Vault's
 * algorithm names (keysutil HashType: path_hash, path_hmac, sign/verify).
 *
 * Implementation: node:crypto (OpenSSL) for every algorithm, SHA-3
 * included; @noble/hashes is the independent implementation in the tests.
 * Bench case: bench/layers/primitives.ts runMacs (group hmac-sha256).
 * HMAC keys and inputs of any length are accepted, as Go's hmac.New.
 */
export type HashAlgorithm =
  | "sha1"
  | "sha2-224"
  | "sha2-256"
  | "sha2-384"
  | "sha2-512"
  | "sha3-224"
  | "sha3-256"
  | "sha3-384"
  | "sha3-512";

export const HASH_ALGORITHMS: readonly HashAlgorithm[] = [
  "sha1",
  "sha2-224",
  "sha2-256",
  "sha2-384",
  "sha2-512",
  "sha3-224",
  "sha3-256",
  "sha3-384",
  "sha3-512",
];

const OPENSSL_NAME: Record<HashAlgorithm, string> = {
  sha1: "sha1",
  "sha2-224": "sha224",
  "sha2-256": "sha256",
  "sha2-384": "sha384",
  "sha2-512": "sha512",
  "sha3-224": "sha3-224",
  "sha3-256": "sha3-256",
  "sha3-384": "sha3-384",
  "sha3-512": "sha3-512",
};

const SIZE: Record<HashAlgorithm, number> = {
  sha1: 20,
  "sha2-224": 28,
  "sha2-256": 32,
  "sha2-384": 48,
  "sha2-512": 64,
  "sha3-224": 28,
  "sha3-256": 32,
  "sha3-384": 48,
  "sha3-512": 64,
};

export function isHashAlgorithm(name: string): name is HashAlgorithm {
  return Object.hasOwn(OPENSSL_NAME, name);
}

/** Digest length in bytes. */
export function hashSize(alg: HashAlgorithm): number {
  const n = SIZE[alg];
  if (n === undefined) throw new TypeError("unsupported hash algorithm");
  return n;
}

/** The OpenSSL / node:crypto digest name ("sha256", "sha3-256", ...). */
export function opensslHashName(alg: HashAlgorithm): string {
  const n = OPENSSL_NAME[alg];
  if (n === undefined) throw new TypeError("unsupported hash algorithm");
  return n;
}

export function hash(alg: HashAlgorithm, data: Uint8Array): Buffer {
  return createHash(opensslHashName(alg)).update(data).digest();
}

export function hmac(alg: HashAlgorithm, key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac(opensslHashName(alg), key).update(data).digest();
}

/**
 * Constant-time equality for MACs, tags and tokens. Different lengths return
 * false at once (length is not secret for these values); equal lengths are
 * compared with crypto.timingSafeEqual.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** `n` bytes from the CSPRNG (OpenSSL RAND_bytes). */
export function randomBytes(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError("invalid random byte count");
  return nodeRandomBytes(n);
}
