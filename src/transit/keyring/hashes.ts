import { HASH_ALGORITHMS, type HashAlgorithm, hash, hashSize, isHashAlgorithm } from "../../crypto/hash.ts";

/**
 * The hash names transit accepts (keysutil HashTypeMap: "none" beside the
 * digests of ../../crypto/hash.ts) and their sizes.
 */
export type DigestName = HashAlgorithm;
export type HashName = "none" | DigestName;

export const HASH_NAMES: readonly HashName[] = ["none", ...HASH_ALGORITHMS];

export function isHashName(s: string): s is HashName {
  return s === "none" || isHashAlgorithm(s);
}

export const HASH_SIZE = {
  none: 0,
  ...Object.fromEntries(HASH_ALGORITHMS.map((a) => [a, hashSize(a)])),
} as Record<HashName, number>;

export const digest: (name: DigestName, data: Uint8Array) => Buffer = hash;

/** The input transit signs: the digest of `input`, or `input` itself for "none". */
export function hashInput(name: HashName, input: Uint8Array): Uint8Array {
  return name === "none" ? input : digest(name, input);
}
