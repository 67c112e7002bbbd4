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
 * and check them: Ed25519 (pure), ECDSA P-256/384/521 (ASN.1 DER or JWS
 * r||s), RSA-PSS and RSA PKCS#1 v1.5, over a message hashed here or over a
 * caller's digest (Vault's prehashed=true; hash "none" for PKCS#1 v1.5).
 *
 * ## Implementation choice (measured 2026-11-25, bench/micro/sign.ts)
 *
 * 2 vCPU AMD EPYC (shared), Node 20.20.2 / OpenSSL 3.0.19, 64-byte message,
 * keys already parsed (see keys.ts: KeyObjects are memoised), ops/s:
 *
 * | primitive               | node:crypto | @noble/curves | chosen |
 * |-------------------------|------------:|--------------:|--------|
 * | ed25519 sign            |      28 920 |         1 981 | node   |
 * | ed25519 verify          |       8 914 |           810 | node   |
 * | ecdsa-p256 sign         |      39 178 |         1 711 | node (message); noble (digest) |
 * | ecdsa-p256 verify       |      14 094 |           478 | node (message); noble (digest) |
 * | ecdsa-p384 sign         |       1 269 |           891 | node (message); noble (digest) |
 * | ecdsa-p384 verify       |       1 508 |           193 | node (message); noble (digest) |
 * | ecdsa-p521 sign         |         472 |           471 | node (message); noble (digest) |
 * | ecdsa-p521 verify       |         640 |           107 | node (message); noble (digest) |
 *
 * OpenSSL wins everywhere, but node:crypto can only sign or verify a message
 * it hashes itself (EVP_DigestSign); it has no "sign this digest" call. So:
 * - ECDSA over a message: node (one call hashes and signs: same result as
 *   Go's ecdsa.Sign(hash(message))). ECDSA over a caller's digest
 *   (prehashed): @noble/curves with prehash:false (bits2int truncation as
 *   Go's hashToInt), lowS:false (Go neither normalises nor rejects high S),
 *   hedged nonces (extraEntropy).
 * - RSA over a message: node crypto.sign/verify. RSA over a digest: the
 *   EMSA encoding (PKCS#1 v1.5 DigestInfo, or EMSA-PSS with MGF1) is built
 *   here and the RSA operation is node's privateEncrypt / publicDecrypt
 *   (OpenSSL, blinded); verified against OpenSSL and the openssl CLI.
 * - Ed25519: node, keys imported through JWK (10× faster than PKCS#8).
 *
 * ## Contract
 * - Verification returns a boolean and never throws on a malformed
 *   signature (wrong length, bad DER, r or s out of range...). It throws
 *   only for caller errors (unknown curve/hash, salt length outside Vault's
 *   range, a key of the wrong type).
 * - ECDSA: ASN.1 must be strict DER with nothing trailing (as Go's
 *   asn1.Unmarshal + Vault's "extra data" check); high-S is accepted (as Go);
 *   JWS must be exactly 2 × the curve length (32/48/66 bytes per half) —
 *   stricter than Vault, which splits any length in half.
 * - RSA signatures must be exactly the modulus length (as Go).
 * - Errors carry no key, message or signature bytes.
 */

export type SignatureMarshaling = "asn1" | "jws";
export type RsaSignatureAlgorithm = "pss" | "pkcs1v15";
/** Go's rsa.PSSOptions.SaltLength: 0 = auto, -1 = equals hash, n > 0 exact; or Vault's words. */
export type PssSaltLength = "auto" | "hash" | number;

export const PSS_SALT_LENGTH_AUTO = 0;
export const PSS_SALT_LENGTH_EQUALS_HASH = -1;

// ---------------------------------------------------------------- Ed25519

/** Pure Ed25519 over the message with Go's 64-byte private key (seed || public). */
export function ed25519Sign(privateKey: Uint8Array, message: Uint8Array): Buffer {
  return nodeSign(null, message, ed25519PrivateKeyObject(privateKey));
}

/** Pure Ed25519 verification; false for any malformed key or signature. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  let key: KeyObject;
  try {
    key = ed25519PublicKeyObject(publicKey);
  } catch {
    return false;
  }
  try {
    return nodeVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- ECDSA

const NOBLE = { p256, p384, p521 } as const;
const NAMED_CURVE: Record<EcdsaCurve, string> = { p256: "prime256v1", p384: "secp384r1", p521: "secp521r1" };

export interface EcdsaOptions {
  /** The hash of the message; ignored when `prehashed` (the input is then the digest). */
  hash: HashAlgorithm;
  /** The input is already a digest (Vault's prehashed=true). */
  prehashed?: boolean | undefined;
  /** "asn1" (DER, default) or "jws" (fixed-length r || s). */
  marshaling?: SignatureMarshaling | undefined;
}

function checkCurve(curve: EcdsaCurve, key: KeyObject): void {
  if (NOBLE[curve] === undefined) throw new TypeError("unsupported curve");
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== NAMED_CURVE[curve]) {
    throw new TypeError(`key is not an ${curve} key`);
  }
}

/** ECDSA signature by a PKCS#8 DER private key. */
export function ecdsaSign(
  curve: EcdsaCurve,
  privateKey: Uint8Array,
  input: Uint8Array,
  opts: EcdsaOptions,
): Buffer {
  const key = privateKeyObject(privateKey);
  checkCurve(curve, key);
  const marshaling = opts.marshaling ?? "asn1";
  if (marshaling !== "asn1" && marshaling !== "jws")
    throw new TypeError("requested marshaling type is invalid");
  if (opts.prehashed === true) {
    const sig = NOBLE[curve].sign(input, ecPrivateScalar(privateKey), {
      prehash: false,
      lowS: false,
      extraEntropy: true,
      format: marshaling === "asn1" ? "der" : "compact",
    });
    return Buffer.from(sig);
  }
  return nodeSign(opensslHashName(opts.hash), input, {
    key,
    dsaEncoding: marshaling === "asn1" ? "der" : "ieee-p1363",
  });
}

/** ECDSA verification by an SPKI DER public key; false for any malformed signature. */
export function ecdsaVerify(
  curve: EcdsaCurve,
  publicKey: Uint8Array,
  input: Uint8Array,
  signature: Uint8Array,
  opts: EcdsaOptions,
): boolean {
  const key = publicKeyObject(publicKey);
  checkCurve(curve, key);
  const marshaling = opts.marshaling ?? "asn1";
  if (marshaling !== "asn1" && marshaling !== "jws")
    throw new TypeError("requested marshaling type is invalid");
  const hashName = opts.prehashed === true ? "" : opensslHashName(opts.hash);
  if (marshaling === "jws") {
    if (signature.length !== 2 * CURVE_BYTES[curve]) return false;
  } else if (!isStrictDerSignature(signature, CURVE_BYTES[curve])) {
    return false;
  }
  try {
    if (opts.prehashed === true) {
      return NOBLE[curve].verify(signature, input, ecPublicPoint(publicKey), {
        prehash: false,
        lowS: false,
        format: marshaling === "asn1" ? "der" : "compact",
      });
    }
    return nodeVerify(
      hashName,
      input,
      { key, dsaEncoding: marshaling === "asn1" ? "der" : "ieee-p1363" },
      signature,
    );
  } catch {
    return false;
  }
}

/**
 * SEQUENCE { INTEGER r, INTEGER s } in DER, nothing trailing: short or
 * minimal long-form lengths, minimal positive integers, each at most the
 * curve length. (Range checks r, s in [1, n-1] are the verifier's.)
 */
function isStrictDerSignature(sig: Uint8Array, curveBytes: number): boolean {
  let at = 0;
  const readLength = (): number => {
    const first = sig[at++];
    if (first === undefined) return -1;
    if (first < 0x80) return first;
    if (first === 0x81) {
      const n = sig[at++];
      return n === undefined || n < 0x80 ? -1 : n;
    }
    return -1; // longer forms never occur for these sizes; 0x80 (indefinite) is BER
  };
  const readInteger = (): boolean => {
    if (sig[at++] !== 0x02) return false;
    const len = readLength();
    if (len <= 0 || at + len > sig.length) return false;
    const b0 = sig[at] as number;
    if (b0 & 0x80) return false; // negative
    // 00 alone is zero (never a valid r or s); 00 before a byte < 0x80 is not minimal DER.
    if (b0 === 0 && (len === 1 || ((sig[at + 1] as number) & 0x80) === 0)) return false;
    const magnitude = b0 === 0 ? len - 1 : len;
    if (magnitude > curveBytes) return false;
    at += len;
    return true;
  };
  if (sig[at++] !== 0x30) return false;
  const seqLen = readLength();
  if (seqLen < 0 || at + seqLen !== sig.length) return false;
  return readInteger() && readInteger() && at === sig.length;
}

// ---------------------------------------------------------------- RSA

export interface RsaSignOptions {
  /** "none" only with prehashed PKCS#1 v1.5 (Vault's hash_algorithm=none): the input is signed as is. */
  hash: HashAlgorithm | "none";
  prehashed?: boolean | undefined;
  /** Default "pss" (Vault's default). */
  algorithm?: RsaSignatureAlgorithm | undefined;
  /** PSS only; default "auto" (as large as possible when signing, detected when verifying). */
  saltLength?: PssSaltLength | undefined;
}

/** Go's numeric salt length for Vault's words. */
export function pssSaltLengthValue(s: PssSaltLength): number {
  if (s === "auto") return PSS_SALT_LENGTH_AUTO;
  if (s === "hash") return PSS_SALT_LENGTH_EQUALS_HASH;
  if (!Number.isSafeInteger(s)) throw new RangeError("salt length neither 'auto', 'hash', nor an int");
  return s;
}

/** Vault's maxRSAPSSSaltLength: (bits - 1 + 7) / 8 - 2 - hashSize. */
export function rsaPssMaxSaltLength(modulusBits: number, hash: HashAlgorithm): number {
  return Math.floor((modulusBits - 1 + 7) / 8) - 2 - hashSize(hash);
}

/** Vault's validRSAPSSSaltLength: -1 (equals hash) <= s <= max; 0 is auto. */
export function rsaPssSaltLengthValid(
  modulusBits: number,
  hash: HashAlgorithm,
  saltLength: PssSaltLength,
): boolean {
  let s: number;
  try {
    s = pssSaltLengthValue(saltLength);
  } catch {
    return false;
  }
  return PSS_SALT_LENGTH_EQUALS_HASH <= s && s <= rsaPssMaxSaltLength(modulusBits, hash);
}

function rsaKeyBits(key: KeyObject): number {
  if (key.asymmetricKeyType !== "rsa") throw new TypeError("key is not an RSA key");
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined) throw new TypeError("key is not an RSA key");
  return bits;
}

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1; SHA-3 OIDs 2.16.840.1.101.3.4.2.7-10). */
const DIGEST_INFO: Record<HashAlgorithm, string> = {
  sha1: "3021300906052b0e03021a05000414",
  "sha2-224": "302d300d06096086480165030402040500041c",
  "sha2-256": "3031300d060960864801650304020105000420",
  "sha2-384": "3041300d060960864801650304020205000430",
  "sha2-512": "3051300d060960864801650304020305000440",
  "sha3-224": "302d300d06096086480165030402070500041c",
  "sha3-256": "3031300d060960864801650304020805000420",
  "sha3-384": "3041300d060960864801650304020905000430",
  "sha3-512": "3051300d060960864801650304020a05000440",
};
const DIGEST_INFO_BYTES = Object.fromEntries(
  Object.entries(DIGEST_INFO).map(([k, v]) => [k, Buffer.from(v, "hex")]),
) as Record<HashAlgorithm, Buffer>;

function checkRsaOpts(opts: RsaSignOptions): RsaSignatureAlgorithm {
  const algorithm = opts.algorithm ?? "pss";
  if (algorithm !== "pss" && algorithm !== "pkcs1v15")
    throw new TypeError("unsupported rsa signature algorithm");
  if (opts.hash === "none" && (opts.prehashed !== true || algorithm !== "pkcs1v15")) {
    throw new TypeError("hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15");
  }
  return algorithm;
}

function pssSaltFor(bits: number, hash: HashAlgorithm, saltLength: PssSaltLength | undefined): number {
  const s = pssSaltLengthValue(saltLength ?? "auto");
  if (!rsaPssSaltLengthValid(bits, hash, s)) throw new RangeError(`requested salt length ${s} is invalid`);
  return s;
}

/** RSA signature by a PKCS#8 DER private key (PSS or PKCS#1 v1.5, over a message or a digest). */
export function rsaSign(privateKey: Uint8Array, input: Uint8Array, opts: RsaSignOptions): Buffer {
  const key = privateKeyObject(privateKey);
  const bits = rsaKeyBits(key);
  const algorithm = checkRsaOpts(opts);
  const k = Math.ceil(bits / 8);
  if (algorithm === "pkcs1v15") {
    if (opts.prehashed !== true) {
      return nodeSign(opensslHashName(opts.hash as HashAlgorithm), input, {
        key,
        padding: constants.RSA_PKCS1_PADDING,
      });
    }
    let t: Buffer;
    if (opts.hash === "none") {
      t = Buffer.from(input);
    } else {
      if (input.length !== hashSize(opts.hash)) throw new RangeError("input must be hashed message");
      t = Buffer.concat([DIGEST_INFO_BYTES[opts.hash], input]);
    }
    if (t.length + 11 > k) throw new RangeError("message too long for RSA key size");
    return privateEncryptRaw(key, t, constants.RSA_PKCS1_PADDING);
  }
  const hash = opts.hash as HashAlgorithm;
  const salt = pssSaltFor(bits, hash, opts.saltLength);
  if (opts.prehashed !== true) {
    return nodeSign(opensslHashName(hash), input, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: salt === PSS_SALT_LENGTH_AUTO ? constants.RSA_PSS_SALTLEN_MAX_SIGN : pssOpenSslSalt(salt),
    });
  }
  if (input.length !== hashSize(hash)) throw new RangeError("input must be hashed message");
  const emBits = bits - 1;
  const emLen = Math.ceil(emBits / 8);
  const hLen = hashSize(hash);
  const sLen =
    salt === PSS_SALT_LENGTH_AUTO ? emLen - 2 - hLen : salt === PSS_SALT_LENGTH_EQUALS_HASH ? hLen : salt;
  const em = emsaPssEncode(hash, input, emBits, randomBytes(sLen));
  const block = Buffer.alloc(k);
  block.set(em, k - em.length);
  return privateEncryptRaw(key, block, constants.RSA_NO_PADDING);
}

/** RSA verification by an SPKI DER public key; false for any malformed signature. */
export function rsaVerify(
  publicKey: Uint8Array,
  input: Uint8Array,
  signature: Uint8Array,
  opts: RsaSignOptions,
): boolean {
  const key = publicKeyObject(publicKey);
  const bits = rsaKeyBits(key);
  const algorithm = checkRsaOpts(opts);
  const k = Math.ceil(bits / 8);
  const salt = algorithm === "pss" ? pssSaltFor(bits, opts.hash as HashAlgorithm, opts.saltLength) : 0;
  if (signature.length !== k) return false;
  try {
    if (algorithm === "pkcs1v15") {
      if (opts.prehashed !== true) {
        return nodeVerify(
          opensslHashName(opts.hash as HashAlgorithm),
          input,
          { key, padding: constants.RSA_PKCS1_PADDING },
          signature,
        );
      }
      let expected: Buffer;
      if (opts.hash === "none") {
        expected = Buffer.from(input);
      } else {
        if (input.length !== hashSize(opts.hash)) return false;
        expected = Buffer.concat([DIGEST_INFO_BYTES[opts.hash], input]);
      }
      const recovered = publicDecryptRaw(key, signature, constants.RSA_PKCS1_PADDING);
      // Full type-1 block: 00 01 FF..FF 00 || T, FF run = k - 3 - |T| (>= 8) — Go re-encodes and compares.
      return recovered !== null && expected.length + 11 <= k && constantTimeEqual(recovered, expected);
    }
    const hash = opts.hash as HashAlgorithm;
    if (opts.prehashed !== true) {
      return nodeVerify(
        opensslHashName(hash),
        input,
        {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: salt === PSS_SALT_LENGTH_AUTO ? constants.RSA_PSS_SALTLEN_AUTO : pssOpenSslSalt(salt),
        },
        signature,
      );
    }
    if (input.length !== hashSize(hash)) return false;
    const m = publicDecryptRaw(key, signature, constants.RSA_NO_PADDING);
    if (m === null) return false;
    const emBits = bits - 1;
    const emLen = Math.ceil(emBits / 8);
    for (let i = 0; i < k - emLen; i++) if (m[i] !== 0) return false;
    return emsaPssVerify(hash, input, m.subarray(k - emLen), emBits, salt);
  } catch {
    return false;
  }
}

function pssOpenSslSalt(salt: number): number {
  return salt === PSS_SALT_LENGTH_EQUALS_HASH ? constants.RSA_PSS_SALTLEN_DIGEST : salt;
}

/** RSA_private_encrypt (the signing primitive) on a full block or a type-1 padded T. */
function privateEncryptRaw(key: KeyObject, data: Uint8Array, padding: number): Buffer {
  return privateEncrypt({ key, padding }, data);
}

/** RSA_public_decrypt; null when OpenSSL rejects (out of range, bad padding). */
function publicDecryptRaw(key: KeyObject, data: Uint8Array, padding: number): Buffer | null {
  try {
    return publicDecrypt({ key, padding }, data);
  } catch {
    return null;
  }
}

function mgf1(hash: HashAlgorithm, seed: Uint8Array, length: number): Buffer {
  const name = opensslHashName(hash);
  const hLen = hashSize(hash);
  const out = Buffer.alloc(Math.ceil(length / hLen) * hLen);
  const counter = Buffer.alloc(4);
  for (let i = 0; i * hLen < length; i++) {
    counter.writeUInt32BE(i, 0);
    createHash(name)
      .update(seed)
      .update(counter)
      .digest()
      .copy(out, i * hLen);
  }
  return out.subarray(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) of a digest with MGF1 over the same hash. */
function emsaPssEncode(hash: HashAlgorithm, mHash: Uint8Array, emBits: number, salt: Uint8Array): Buffer {
  const hLen = hashSize(hash);
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + salt.length + 2) throw new RangeError("key size too small for PSS signature");
  const h = createHash(opensslHashName(hash)).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.alloc(emLen - hLen - 1);
  db[emLen - salt.length - hLen - 2] = 0x01;
  db.set(salt, emLen - salt.length - hLen - 1);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (mask[i] as number);
  db[0] = (db[0] as number) & (0xff >> (8 * emLen - emBits));
  return Buffer.concat([db, h, Buffer.of(0xbc)]);
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2); salt 0 = detect (auto), -1 = hash length, n = exactly n. */
function emsaPssVerify(
  hash: HashAlgorithm,
  mHash: Uint8Array,
  em: Uint8Array,
  emBits: number,
  salt: number,
): boolean {
  const hLen = hashSize(hash);
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen || emLen < hLen + 2) return false;
  if (em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if (((maskedDb[0] as number) & ~topMask & 0xff) !== 0) return false;
  const db = mgf1(hash, h, maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (maskedDb[i] as number);
  db[0] = (db[0] as number) & topMask;
  // DB = PS (zeros) || 0x01 || salt
  let sep = 0;
  while (sep < db.length && db[sep] === 0) sep++;
  if (sep >= db.length || db[sep] !== 0x01) return false;
  const sLen = db.length - sep - 1;
  const want = salt === PSS_SALT_LENGTH_AUTO ? sLen : salt === PSS_SALT_LENGTH_EQUALS_HASH ? hLen : salt;
  if (sLen !== want) return false;
  const s = db.subarray(sep + 1);
  const h2 = createHash(opensslHashName(hash)).update(Buffer.alloc(8)).update(mHash).update(s).digest();
  return constantTimeEqual(h, h2);
}
