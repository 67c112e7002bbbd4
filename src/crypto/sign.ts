import {
  constants,
  createHash,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  privateEncrypt,
  publicDecrypt,
  randomBytes,
} from "node:crypto";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { constantTimeEqual, type HashAlgorithm, hashSize, opensslHashName } from "./hash.ts";
import {
  CURVE_BYTES,
  type EcdsaCurve,
  ecPrivateScalar,
  ecPublicPoint,
  ed25519PrivateKeyObject,
  ed25519PublicKeyObject,
  privateKeyObject,
  publicKeyObject,
} from "./keys.ts";

/**
 * Signatures as keysutil SignWithOptions / VerifySignatureWithOptions make
 * and check them, over what transit signs: the caller's message for
 * Ed25519 (pure), and a digest (computed by the engine, or the caller's with
 * prehashed=true) for ECDSA P-256/384/521 and RSA PSS / PKCS#1 v1.5.
 *
 * Guarantees:
 * - ECDSA is Go's ecdsa.Sign/Verify over a digest: bits2int truncation of a
 *   digest longer than the curve (Go's hashToInt), hedged nonces, high S
 *   neither produced on purpose nor refused (Go does neither), r and s in
 *   [1, n-1]. DER signatures parse strictly (minimal lengths and integers,
 *   nothing trailing); JWS r||s is split in half as keysutil splits it.
 * - RSA: EMSA-PSS (MGF1 with the signing hash) and EMSA-PKCS1-v1_5 (Go's
 *   DigestInfo prefixes; "none" signs the input as is, Go's NoOID) are built
 *   here, the private-key operation is OpenSSL's blinded raw RSA. PSS salt
 *   lengths follow Go: 0 auto (largest when signing, detected when
 *   verifying), -1 equals the hash size, n exactly n. A signature must be
 *   exactly the modulus length.
 * - Verification answers false for any malformed signature; it throws only
 *   for caller mistakes (wrong-size digest when signing, bad salt length).
 * - Errors carry no key, message or signature bytes.
 *
 * Implementation: node:crypto can only sign a message it hashes itself
 * (EVP_DigestSign), so ECDSA over a digest runs in @noble/curves and RSA
 * over a digest encodes here and runs the raw RSA operation in OpenSSL;
 * Ed25519 runs in OpenSSL with keys imported through JWK. The bench case
 * that compares them is bench/layers/primitives.ts runSignatures
 * (groups ed25519, ecdsa-p256, rsa-2048).
 */

// ---------------------------------------------------------------- Ed25519

/** Pure Ed25519 over the message with Go's 64-byte private key (seed || public). */
export function ed25519Sign(privateKey: Uint8Array, message: Uint8Array): Buffer {
  return nodeSign(null, message, ed25519PrivateKeyObject(privateKey));
}

/** Pure Ed25519 verification with a 32-byte public key; false for any malformed key or signature. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return nodeVerify(null, message, ed25519PublicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- ECDSA

export type SignatureMarshaling = "asn1" | "jws";

const NOBLE = { p256, p384, p521 } as const;

function noble(curve: EcdsaCurve): (typeof NOBLE)[EcdsaCurve] {
  const c = NOBLE[curve];
  if (c === undefined) throw new TypeError("unsupported curve");
  return c;
}

/**
 * Go's hashToInt only reads the leftmost order-size bytes of a digest (then
 * drops the excess bits, as noble's bits2int does); passing noble just those
 * bytes keeps any digest length working: noble refuses inputs over 8 KiB,
 * Go (and Vault's prehashed=true) takes any length.
 */
function digestPrefix(curve: EcdsaCurve, digest: Uint8Array): Uint8Array {
  const n = CURVE_BYTES[curve];
  return digest.length > n ? digest.subarray(0, n) : digest;
}

/** ECDSA over a digest with a PKCS#8 DER private key: DER (asn1) or fixed-length r || s (jws). */
export function ecdsaSignDigest(
  curve: EcdsaCurve,
  privateKey: Uint8Array,
  digest: Uint8Array,
  marshaling: SignatureMarshaling,
): Uint8Array {
  return noble(curve).sign(digestPrefix(curve, digest), ecPrivateScalar(privateKey, CURVE_BYTES[curve]), {
    prehash: false,
    lowS: false,
    extraEntropy: true,
    format: marshaling === "jws" ? "compact" : "der",
  });
}

/** ECDSA verification of (r, s) over a digest with an SPKI DER public key; false when out of range. */
export function ecdsaVerifyDigest(
  curve: EcdsaCurve,
  publicKey: Uint8Array,
  digest: Uint8Array,
  r: bigint,
  s: bigint,
): boolean {
  const c = noble(curve);
  const n = c.Point.Fn.ORDER;
  if (r <= 0n || s <= 0n || r >= n || s >= n) return false;
  const size = CURVE_BYTES[curve];
  const compact = Buffer.concat([bigToBytes(r, size), bigToBytes(s, size)]);
  try {
    return c.verify(compact, digestPrefix(curve, digest), ecPublicPoint(publicKey, size), {
      prehash: false,
      lowS: false,
      format: "compact",
    });
  } catch {
    return false;
  }
}

export type EcdsaSignatureParse = { r: bigint; s: bigint } | "invalid" | "extra-data";

/**
 * ECDSA-Sig-Value SEQUENCE { INTEGER r, INTEGER s } parsed as Go's
 * encoding/asn1 parses keysutil's ecdsaSignature: minimal lengths and
 * integers ("invalid" otherwise), and "extra-data" when bytes follow it.
 */
export function parseEcdsaDer(der: Uint8Array): EcdsaSignatureParse {
  const tlv = (at: number, tag: number): { start: number; end: number } | null => {
    if (der[at] !== tag) return null;
    let pos = at + 1;
    const first = der[pos++];
    if (first === undefined) return null;
    let len = first;
    if (first & 0x80) {
      const count = first & 0x7f;
      if (count === 0 || count > 2) return null;
      len = 0;
      for (let i = 0; i < count; i++) {
        const b = der[pos++];
        if (b === undefined || (i === 0 && b === 0)) return null;
        len = (len << 8) | b;
      }
      if (len < 0x80) return null;
    }
    if (pos + len > der.length) return null;
    return { start: pos, end: pos + len };
  };
  const integer = (at: number): { value: bigint; end: number } | null => {
    const t = tlv(at, 0x02);
    if (t === null || t.end === t.start) return null;
    const bytes = der.subarray(t.start, t.end);
    const b0 = bytes[0] as number;
    const b1 = bytes[1] ?? 0;
    if (bytes.length > 1 && ((b0 === 0 && !(b1 & 0x80)) || (b0 === 0xff && b1 & 0x80))) return null;
    let value = bytesToBig(bytes);
    if (b0 & 0x80) value -= 1n << BigInt(bytes.length * 8);
    return { value, end: t.end };
  };
  const seq = tlv(0, 0x30);
  if (seq === null) return "invalid";
  const r = integer(seq.start);
  const s = r === null ? null : integer(r.end);
  if (r === null || s === null || s.end !== seq.end) return "invalid";
  if (seq.end !== der.length) return "extra-data";
  return { r: r.value, s: s.value };
}

/** JWS (RFC 7518) r || s split in half, as keysutil splits it (any length). */
export function splitEcdsaJws(sig: Uint8Array): { r: bigint; s: bigint } {
  const half = Math.floor(sig.length / 2);
  return { r: bytesToBig(sig.subarray(0, half)), s: bytesToBig(sig.subarray(half)) };
}

function bigToBytes(v: bigint, size: number): Buffer {
  return Buffer.from(v.toString(16).padStart(size * 2, "0"), "hex");
}

function bytesToBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex")}`);
}

// ---------------------------------------------------------------- RSA

/** Go's rsa.PSSSaltLengthAuto and rsa.PSSSaltLengthEqualsHash. */
export const PSS_SALT_AUTO = 0;
export const PSS_SALT_EQUALS_HASH = -1;

/** A caller mistake when signing (Go's crypto/rsa error text; Vault answers it). */
export class RsaSignatureError extends Error {}

/** The hash RSA PKCS#1 v1.5 signs under; "none" is Go's crypto.Hash(0): the input signed as is. */
export type Pkcs1v15Hash = HashAlgorithm | "none";

/** DER DigestInfo prefixes, as Go's crypto/rsa hashPrefixes (RFC 8017 §9.2 note 1; SHA-3 from NIST CSOR). */
const DIGEST_INFO: Record<Pkcs1v15Hash, Buffer> = {
  none: Buffer.alloc(0),
  sha1: Buffer.from("3021300906052b0e03021a05000414", "hex"),
  "sha2-224": Buffer.from("302d300d06096086480165030402040500041c", "hex"),
  "sha2-256": Buffer.from("3031300d060960864801650304020105000420", "hex"),
  "sha2-384": Buffer.from("3041300d060960864801650304020205000430", "hex"),
  "sha2-512": Buffer.from("3051300d060960864801650304020305000440", "hex"),
  "sha3-224": Buffer.from("302d300d06096086480165030402070500041c", "hex"),
  "sha3-256": Buffer.from("3031300d060960864801650304020805000420", "hex"),
  "sha3-384": Buffer.from("3041300d060960864801650304020905000430", "hex"),
  "sha3-512": Buffer.from("3051300d060960864801650304020a05000440", "hex"),
};

function modulusBits(key: KeyObject): number {
  const bits = key.asymmetricKeyType === "rsa" ? key.asymmetricKeyDetails?.modulusLength : undefined;
  if (bits === undefined) throw new TypeError("key is not an RSA key");
  return bits;
}

/** The modulus size in bits of an RSA SPKI DER public key. */
export function rsaModulusBits(publicKey: Uint8Array): number {
  return modulusBits(publicKeyObject(publicKey));
}

/** Vault's maxRSAPSSSaltLength: (bits - 1 + 7) / 8 - 2 - hashSize. */
export function rsaPssMaxSaltLength(bits: number, hash: HashAlgorithm): number {
  return Math.floor((bits - 1 + 7) / 8) - 2 - hashSize(hash);
}

/** Vault's validRSAPSSSaltLength: from -1 (equals hash) to the largest the key allows; 0 is auto. */
export function rsaPssSaltLengthValid(bits: number, hash: HashAlgorithm, saltLength: number): boolean {
  return PSS_SALT_EQUALS_HASH <= saltLength && saltLength <= rsaPssMaxSaltLength(bits, hash);
}

function mgf1(hash: HashAlgorithm, seed: Uint8Array, length: number): Buffer {
  const name = opensslHashName(hash);
  const out = Buffer.alloc(length);
  const counter = Buffer.alloc(4);
  let done = 0;
  for (let i = 0; done < length; i++) {
    counter.writeUInt32BE(i, 0);
    done += createHash(name).update(seed).update(counter).digest().copy(out, done);
  }
  return out;
}

function pssHash(hash: HashAlgorithm, mHash: Uint8Array, salt: Uint8Array): Buffer {
  return createHash(opensslHashName(hash)).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
}

/** RSASSA-PSS signature of a digest with a PKCS#8 DER private key (MGF1 with the same hash). */
export function rsaSignPss(
  privateKey: Uint8Array,
  hash: HashAlgorithm,
  mHash: Uint8Array,
  saltLength: number,
): Buffer {
  const key = privateKeyObject(privateKey);
  const hLen = hashSize(hash);
  if (mHash.length !== hLen) throw new RsaSignatureError("crypto/rsa: input must be hashed with given hash");
  const bits = modulusBits(key);
  const emBits = bits - 1;
  const emLen = Math.ceil(emBits / 8);
  const sLen =
    saltLength === PSS_SALT_AUTO ? emLen - 2 - hLen : saltLength === PSS_SALT_EQUALS_HASH ? hLen : saltLength;
  if (sLen < 0 || emLen < hLen + sLen + 2)
    throw new RsaSignatureError("crypto/rsa: key size too small for PSS signature");
  const salt = randomBytes(sLen);
  const h = pssHash(hash, mHash, salt);
  const db = Buffer.alloc(emLen - hLen - 1);
  db[emLen - sLen - hLen - 2] = 0x01;
  salt.copy(db, db.length - sLen);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (mask[i] as number);
  db[0] = (db[0] as number) & (0xff >> (8 * emLen - emBits));
  const k = Math.ceil(bits / 8);
  const em = Buffer.alloc(k);
  db.copy(em, k - emLen);
  h.copy(em, k - emLen + db.length);
  em[k - 1] = 0xbc;
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, em);
}

/** Verifies RSASSA-PSS over a digest with an SPKI DER public key; salt 0 (auto) detects the length, as Go. */
export function rsaVerifyPss(
  publicKey: Uint8Array,
  hash: HashAlgorithm,
  mHash: Uint8Array,
  signature: Uint8Array,
  saltLength: number,
): boolean {
  const key = publicKeyObject(publicKey);
  const hLen = hashSize(hash);
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
  if (((db[0] as number) & ~topMask & 0xff) !== 0) return false;
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (mask[i] as number);
  db[0] = (db[0] as number) & topMask;
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
  return constantTimeEqual(h, pssHash(hash, mHash, db.subarray(db.length - sLen)));
}

/** RSASSA-PKCS1-v1_5 over a digest with a PKCS#8 DER private key ("none": the input as is, Go's NoOID). */
export function rsaSignPkcs1v15(privateKey: Uint8Array, hash: Pkcs1v15Hash, hashed: Uint8Array): Buffer {
  const key = privateKeyObject(privateKey);
  if (hash !== "none" && hashed.length !== hashSize(hash)) {
    throw new RsaSignatureError("crypto/rsa: input must be hashed message");
  }
  const t = Buffer.concat([DIGEST_INFO[hash], hashed]);
  if (t.length + 11 > Math.ceil(modulusBits(key) / 8))
    throw new RsaSignatureError("crypto/rsa: message too long for RSA key size");
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, t);
}

/** Verifies RSASSA-PKCS1-v1_5 over a digest with an SPKI DER public key (the full block, as Go re-encodes). */
export function rsaVerifyPkcs1v15(
  publicKey: Uint8Array,
  hash: Pkcs1v15Hash,
  hashed: Uint8Array,
  signature: Uint8Array,
): boolean {
  const key = publicKeyObject(publicKey);
  const k = Math.ceil(modulusBits(key) / 8);
  if (signature.length !== k) return false;
  if (hash !== "none" && hashed.length !== hashSize(hash)) return false;
  let t: Buffer;
  try {
    t = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
  return constantTimeEqual(t, Buffer.concat([DIGEST_INFO[hash], hashed]));
}

// ---------------------------------------------------------------- messages (X.509)

/**
 * A signature over a message OpenSSL hashes itself, as Go's x509 signs a
 * certificate or CSR body: RSA PKCS#1 v1.5 or ECDSA (DER) under `hash`,
 * Ed25519 with hash null.
 */
export function signMessage(key: KeyObject, hash: HashAlgorithm | null, message: Uint8Array): Buffer {
  return nodeSign(hash === null ? null : opensslHashName(hash), message, key);
}
