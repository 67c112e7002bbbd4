import {
  HASH_ALGORITHMS,
  type HashAlgorithm,
  hash,
  hashSize,
  isHashAlgorithm,
  opensslHashName,
} from "../../crypto/hash.ts";

/**
 * The hash names transit accepts (keysutil HashTypeMap: "none" beside the
 * digests of ../../crypto/hash.ts), their sizes,
 * and the DER DigestInfo prefixes PKCS #1 v1.5 signatures carry
 * (RFC 8017 section 9.2, note 1; SHA-3 OIDs from NIST CSOR).
 */
export type DigestName = HashAlgorithm;
export type HashName = "none" | DigestName;

export const HASH_NAMES: readonly HashName[] = ["none", ...HASH_ALGORITHMS];

export function isHashName(s: string): s is HashName {
  return s === "none" || isHashAlgorithm(s);
}

/** OpenSSL's name for each digest. */
export const NODE_HASH = Object.fromEntries(HASH_ALGORITHMS.map((a) => [a, opensslHashName(a)])) as Record<
  DigestName,
  string
>;

export const HASH_SIZE = {
  none: 0,
  ...Object.fromEntries(HASH_ALGORITHMS.map((a) => [a, hashSize(a)])),
} as Record<HashName, number>;

export const digest: (name: DigestName, data: Uint8Array) => Buffer = hash;

/** The input transit signs: the digest of `input`, or `input` itself for "none". */
export function hashInput(name: HashName, input: Uint8Array): Uint8Array {
  return name === "none" ? input : digest(name, input);
}

const NIST_HASH_ARC = "0609608648016503040201";

function digestInfoPrefix(oidLastByte: number, size: number): Buffer {
  // SEQUENCE { SEQUENCE { OID 2.16.840.1.101.3.4.2.x, NULL }, OCTET STRING (size) }
  const oid = `${NIST_HASH_ARC.slice(0, -2)}${oidLastByte.toString(16).padStart(2, "0")}`;
  const algo = `300d${oid}0500`;
  return Buffer.from(`30${(size + 17).toString(16)}${algo}04${size.toString(16)}`, "hex");
}

/** DER DigestInfo prefixes, as Go's crypto/rsa hashPrefixes. "none" signs the raw input (PKCS1v15 NoOID). */
export const DIGEST_INFO_PREFIX: Record<HashName, Buffer> = {
  none: Buffer.alloc(0),
  sha1: Buffer.from("3021300906052b0e03021a05000414", "hex"),
  "sha2-224": digestInfoPrefix(0x04, 28),
  "sha2-256": digestInfoPrefix(0x01, 32),
  "sha2-384": digestInfoPrefix(0x02, 48),
  "sha2-512": digestInfoPrefix(0x03, 64),
  "sha3-224": digestInfoPrefix(0x07, 28),
  "sha3-256": digestInfoPrefix(0x08, 32),
  "sha3-384": digestInfoPrefix(0x09, 48),
  "sha3-512": digestInfoPrefix(0x0a, 64),
};
