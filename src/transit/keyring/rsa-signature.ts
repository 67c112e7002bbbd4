import {
  constants,
  createHash,
  type KeyObject,
  privateEncrypt,
  publicDecrypt,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import { DIGEST_INFO_PREFIX, type DigestName, HASH_SIZE, type HashName, NODE_HASH } from "./hashes.ts";

/**
 * RSA signatures over a digest the caller already computed, as Go's
 * rsa.SignPSS / rsa.SignPKCS1v15 take it. node:crypto only signs messages it
 * hashes itself, so the encodings (EMSA-PSS, EMSA-PKCS1-v1_5, RFC 8017) are
 * built here and the private-key operation is OpenSSL's raw RSA
 * (RSA_NO_PADDING for PSS, type-1 padding for PKCS #1 v1.5).
 *
 * Written in the transit keyring because src/crypto did not offer
 * digest-level RSA signing when transit's sign/verify was built.
 */

/** Go's rsa.PSSSaltLengthAuto and rsa.PSSSaltLengthEqualsHash. */
export const PSS_SALT_AUTO = 0;
export const PSS_SALT_EQUALS_HASH = -1;

export class RsaSignatureError extends Error {}

function modulusBits(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined) throw new RsaSignatureError("not an RSA key");
  return bits;
}

function mgf1(hash: DigestName, seed: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  const counter = Buffer.alloc(4);
  let done = 0;
  for (let i = 0; done < length; i++) {
    counter.writeUInt32BE(i, 0);
    const block = createHash(NODE_HASH[hash]).update(seed).update(counter).digest();
    done += block.copy(out, done);
  }
  return out;
}

/** Vault's bound on PSS salt lengths: from "equals hash" (-1) to the largest the key allows. */
export function maxPssSaltLength(bits: number, hash: HashName): number {
  return Math.floor((bits - 1 + 7) / 8) - 2 - HASH_SIZE[hash];
}

export function validPssSaltLength(bits: number, hash: HashName, saltLength: number): boolean {
  return PSS_SALT_EQUALS_HASH <= saltLength && saltLength <= maxPssSaltLength(bits, hash);
}

/** RSASSA-PSS signature of `mHash` (MGF1 with the same hash), salt length with Go's conventions. */
export function signPss(key: KeyObject, hash: DigestName, mHash: Uint8Array, saltLength: number): Buffer {
  const hLen = HASH_SIZE[hash];
  if (mHash.length !== hLen) throw new RsaSignatureError("crypto/rsa: input must be hashed with given hash");
  const bits = modulusBits(key);
  const emBits = bits - 1;
  const emLen = Math.ceil(emBits / 8);
  const sLen =
    saltLength === PSS_SALT_AUTO ? emLen - 2 - hLen : saltLength === PSS_SALT_EQUALS_HASH ? hLen : saltLength;
  if (sLen < 0 || emLen < hLen + sLen + 2)
    throw new RsaSignatureError("crypto/rsa: key size too small for PSS signature");
  const salt = randomBytes(sLen);
  const h = createHash(NODE_HASH[hash]).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.alloc(emLen - hLen - 1);
  db[emLen - sLen - hLen - 2] = 0x01;
  salt.copy(db, db.length - sLen);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & (0xff >> (8 * emLen - emBits));
  const k = Math.ceil(bits / 8);
  const em = Buffer.alloc(k);
  db.copy(em, k - emLen);
  h.copy(em, k - emLen + db.length);
  em[k - 1] = 0xbc;
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, em);
}

/** Verifies an RSASSA-PSS signature; salt length 0 (auto) detects it, as Go does. */
export function verifyPss(
  key: KeyObject,
  hash: DigestName,
  mHash: Uint8Array,
  signature: Uint8Array,
  saltLength: number,
): boolean {
  const hLen = HASH_SIZE[hash];
  if (mHash.length !== hLen) return false;
  const bits = modulusBits(key);
  const k = Math.ceil(bits / 8);
  if (signature.length !== k) return false;
  let em: Buffer;
  try {
    em = publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature);
  } catch {
    return false;
  }
  const emBits = bits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (em.length < emLen) return false;
  for (let i = 0; i < em.length - emLen; i++) if (em[i] !== 0) return false;
  em = em.subarray(em.length - emLen);
  if (emLen < hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const db = Buffer.from(em.subarray(0, emLen - hLen - 1));
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if (((db[0] ?? 0) & ~topMask) !== 0) return false;
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & topMask;
  let sLen: number;
  if (saltLength === PSS_SALT_AUTO) {
    const one = db.indexOf(0x01);
    if (one === -1) return false;
    for (let i = 0; i < one; i++) if (db[i] !== 0) return false;
    sLen = db.length - one - 1;
  } else {
    sLen = saltLength === PSS_SALT_EQUALS_HASH ? hLen : saltLength;
    if (sLen < 0 || emLen < hLen + sLen + 2) return false;
    const sep = db.length - sLen - 1;
    for (let i = 0; i < sep; i++) if (db[i] !== 0) return false;
    if (db[sep] !== 0x01) return false;
  }
  const salt = db.subarray(db.length - sLen);
  const h2 = createHash(NODE_HASH[hash]).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return timingSafeEqual(h, h2);
}

/** RSASSA-PKCS1-v1_5 over a digest (or, for "none", over the raw input: PKCS1v15 NoOID). */
export function signPkcs1v15(key: KeyObject, hash: HashName, hashed: Uint8Array): Buffer {
  if (hash !== "none" && hashed.length !== HASH_SIZE[hash]) {
    throw new RsaSignatureError("crypto/rsa: input must be hashed message");
  }
  const t = Buffer.concat([DIGEST_INFO_PREFIX[hash], hashed]);
  if (t.length + 11 > Math.ceil(modulusBits(key) / 8))
    throw new RsaSignatureError("crypto/rsa: message too long for RSA key size");
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, t);
}

export function verifyPkcs1v15(
  key: KeyObject,
  hash: HashName,
  hashed: Uint8Array,
  signature: Uint8Array,
): boolean {
  const k = Math.ceil(modulusBits(key) / 8);
  if (signature.length !== k) return false;
  let t: Buffer;
  try {
    t = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
  const expected = Buffer.concat([DIGEST_INFO_PREFIX[hash], hashed]);
  return t.length === expected.length && timingSafeEqual(t, expected);
}
