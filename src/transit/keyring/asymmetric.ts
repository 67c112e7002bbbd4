import type { EcdsaCurve, KeyObject } from "../../crypto/keys.ts";
import {
  ed25519FromSeed,
  ed25519PrivateKeyObject,
  ed25519PublicKeyObject,
  privateKeyObject as pkcs8KeyObject,
  spkiFromPkcs8,
  publicKeyObject as spkiKeyObject,
  toPublicKeyObject,
} from "../../crypto/keys.ts";
import {
  ecdsaSignDigest,
  ecdsaVerifyDigest,
  ed25519Sign,
  ed25519Verify,
  parseEcdsaDer,
  RsaSignatureError,
  rsaModulusBits,
  rsaPssSaltLengthValid,
  rsaSignPkcs1v15,
  rsaSignPss,
  rsaVerifyPkcs1v15,
  rsaVerifyPss,
  splitEcdsaJws,
} from "../../crypto/sign.ts";
import { goError, internalError, LogicalError, userError } from "../../framework/errors.ts";
import {
  decodeRawUrlBase64,
  decodeStdBase64,
  encodeRawUrlBase64,
  encodeStdBase64,
} from "../../util/base64.ts";
import { getKey, keyEntry } from "./derive.ts";
import { type Ed25519Mode, ed25519ModeSign, ed25519ModeVerify } from "./ed25519-modes.ts";
import type { HashName } from "./hashes.ts";
import { type EcdsaKeyType, isEcdsa, isPqSigning, isRsa, signingSupported } from "./key-types.ts";
import { type Keyring, type KeyVersion, refuseSoftDeleted, versionPrefix } from "./keyring.ts";
import { pqSign, pqVerify } from "./pq-keys.ts";
import { ERR_TOO_OLD } from "./symmetric.ts";

/**
 * Signing and verification with a keyring's asymmetric versions
 * (keysutil SignWithOptions / VerifySignatureWithOptions): which version,
 * which key bytes, Vault's error texts and signature framing. The
 * cryptography is ../../crypto/sign.ts: ed25519 (pure, optionally derived
 * per context) over the message, ECDSA and RSA over the digest.
 */

export type Marshaling = "asn1" | "jws";

export interface SignOptions {
  hash: HashName;
  marshaling: Marshaling;
  /** Go's convention: 0 auto, -1 equals the hash size, else the salt length in bytes. */
  saltLength: number;
  /** "pss" (default when empty) or "pkcs1v15"; RSA only. */
  signatureAlgorithm: string;
  /** FIPS 204/205 (and composite) context: signature_context, for the post-quantum types. */
  signatureContext?: Uint8Array | undefined;
  /** Ed25519ph / Ed25519ctx on an ed25519 key (absent or pure: RFC 8032 pure Ed25519). */
  ed25519Mode?: Ed25519Mode | undefined;
}

export interface SigningResult {
  signature: string;
  version: number;
  /** The derived ed25519 public key, for derived keys only. */
  publicKey?: Uint8Array;
}

const CURVE: Record<EcdsaKeyType, EcdsaCurve> = {
  "ecdsa-p256": "p256",
  "ecdsa-p384": "p384",
  "ecdsa-p521": "p521",
};

/** Go's 64-byte ed25519 key of a version: stored as seed || public (a bare seed is completed). */
function ed25519GoKey(key: Uint8Array): Uint8Array {
  return key.length === 64 ? key : ed25519FromSeed(key.subarray(0, 32)).privateKey;
}

/** The private KeyObject of a version (PKCS #8 for ECDSA/RSA, Go's seed||public for ed25519). */
export function privateKeyObject(entry: KeyVersion): KeyObject | null {
  if (entry.privateKey !== undefined) return pkcs8KeyObject(entry.privateKey);
  const goKey = entry.key;
  if (goKey !== undefined && goKey.length >= 32) return ed25519PrivateKeyObject(ed25519GoKey(goKey));
  return null;
}

/** The public KeyObject of an asymmetric version, from the SPKI, the private key or ed25519's public key. */
export function publicKeyObject(entry: KeyVersion): KeyObject | null {
  if (entry.publicKey !== undefined) return spkiKeyObject(entry.publicKey);
  const priv = privateKeyObject(entry);
  if (priv !== null && entry.key === undefined) return toPublicKeyObject(priv);
  const raw = ed25519PublicKey(entry);
  if (raw !== null) return ed25519PublicKeyObject(raw);
  if (priv !== null) return toPublicKeyObject(priv);
  return null;
}

/** The 32-byte ed25519 public key of a version: its FormattedPublicKey, or the half of Go's key. */
function ed25519PublicKey(entry: KeyVersion): Uint8Array | null {
  if (entry.formattedPublicKey !== undefined && entry.formattedPublicKey !== "") {
    const raw = decodeStdBase64(entry.formattedPublicKey.trim());
    if (raw !== null && raw.length === 32) return raw;
  }
  if (entry.key !== undefined && entry.key.length >= 32) return ed25519GoKey(entry.key).subarray(32);
  return null;
}

const derivedSpki = new WeakMap<Uint8Array, Uint8Array>();

/** The SPKI DER public key of an ECDSA/RSA version (from its private key when only that is stored). */
function spkiOf(entry: KeyVersion): Uint8Array {
  if (entry.publicKey !== undefined) return entry.publicKey;
  const der = entry.privateKey;
  if (der === undefined) throw internalError("key version has no public key");
  let spki = derivedSpki.get(der);
  if (spki === undefined) {
    spki = spkiFromPkcs8(der);
    derivedSpki.set(der, spki);
  }
  return spki;
}

/** keysutil KeyEntry.IsPrivateKeyMissing. */
export function privateKeyMissing(entry: KeyVersion): boolean {
  return (
    entry.privateKey === undefined &&
    entry.pqKey === undefined &&
    (entry.key === undefined || entry.key.length === 0)
  );
}

/** The version a sign request uses (keysutil SignWithOptions' checks). */
export function signingVersion(ring: Keyring, requested: number): number {
  if (requested === 0) return ring.latestVersion;
  if (requested < 0) throw userError("requested version for signing is negative");
  if (requested > ring.latestVersion) {
    throw userError("requested version for signing is higher than the latest key version");
  }
  if (ring.minEncryptionVersion > 0 && requested < ring.minEncryptionVersion) {
    throw userError("requested version for signing is less than the minimum encryption key version");
  }
  return requested;
}

/** The 64-byte ed25519 key of a derived keyring for a context: keysutil GetKey's 32-byte seed. */
function derivedEd25519(ring: Keyring, context: Uint8Array | undefined, version: number): Uint8Array {
  try {
    return ed25519FromSeed(getKey(ring, context, version, 32)).privateKey;
  } catch (e) {
    // Vault wraps these as internal errors; a missing or wrong context is the caller's mistake.
    if (e instanceof LogicalError) throw new LogicalError(e.kind, `error deriving key: ${e.message}`);
    throw e;
  }
}

export function signWithKeyring(
  ring: Keyring,
  requestedVersion: number,
  context: Uint8Array | undefined,
  input: Uint8Array,
  opts: SignOptions,
): SigningResult {
  refuseSoftDeleted(ring);
  if (!signingSupported(ring.type))
    throw userError(`message signing not supported for key type ${ring.type}`);
  const version = signingVersion(ring, requestedVersion);
  const entry = keyEntry(ring, version);
  if (privateKeyMissing(entry))
    throw userError("requested version for signing does not contain a private part");

  let sig: Uint8Array;
  let publicKey: Uint8Array | undefined;
  if (isEcdsa(ring.type)) {
    if (entry.privateKey === undefined) throw internalError("key version has no private key");
    sig = ecdsaSignDigest(CURVE[ring.type], entry.privateKey, input, opts.marshaling);
  } else if (ring.type === "ed25519") {
    let goKey: Uint8Array;
    if (ring.derived) {
      goKey = derivedEd25519(ring, context, version);
      publicKey = goKey.subarray(32);
    } else {
      if (entry.key === undefined || entry.key.length < 32)
        throw internalError("key version has no private key");
      goKey = ed25519GoKey(entry.key);
    }
    const mode = opts.ed25519Mode;
    sig =
      mode === undefined || mode.kind === "pure"
        ? ed25519Sign(goKey, input)
        : ed25519ModeSign(mode, goKey.subarray(0, 32), input);
  } else if (isRsa(ring.type)) {
    if (entry.privateKey === undefined) throw internalError("key version has no private key");
    sig = rsaSign(entry.privateKey, spkiOf(entry), input, opts);
  } else if (isPqSigning(ring.type)) {
    sig = pqSign(ring, entry, input, opts.signatureContext);
  } else {
    throw internalError(`unsupported key type ${ring.type}`);
  }
  const encoded = opts.marshaling === "jws" ? encodeRawUrlBase64(sig) : encodeStdBase64(sig);
  const result: SigningResult = { signature: versionPrefix(version) + encoded, version };
  if (publicKey !== undefined) result.publicKey = publicKey;
  return result;
}

function rsaAlgorithm(opts: SignOptions, spki: Uint8Array): "pss" | "pkcs1v15" {
  const algorithm = opts.signatureAlgorithm === "" ? "pss" : opts.signatureAlgorithm;
  if (algorithm === "pss") {
    if (opts.hash === "none") throw userError("unsupported hash algorithm");
    if (!rsaPssSaltLengthValid(rsaModulusBits(spki), opts.hash, opts.saltLength)) {
      throw userError(`requested salt length ${opts.saltLength} is invalid`);
    }
    return algorithm;
  }
  if (algorithm === "pkcs1v15") return algorithm;
  // keysutil answers errutil.InternalError here (not a UserError), so both sign and verify are a 500.
  throw internalError(`unsupported rsa signature algorithm ${algorithm}`);
}

function rsaSign(pkcs8: Uint8Array, spki: Uint8Array, input: Uint8Array, opts: SignOptions): Uint8Array {
  const algorithm = rsaAlgorithm(opts, spki);
  try {
    return algorithm === "pss" && opts.hash !== "none"
      ? rsaSignPss(pkcs8, opts.hash, input, opts.saltLength)
      : rsaSignPkcs1v15(pkcs8, opts.hash, input);
  } catch (e) {
    // Go reports a wrongly sized prehashed input as a plain error: a 500 in Vault, so here too.
    if (e instanceof RsaSignatureError) throw goError(e.message);
    throw e;
  }
}

/** Splits "vault:vN:sig" with keysutil's signature error texts. */
function parseSignature(ring: Keyring, sig: string): { version: number; payload: string } {
  if (!sig.startsWith("vault:v")) throw userError("invalid signature: no prefix");
  const rest = sig.slice("vault:v".length);
  const colon = rest.indexOf(":");
  if (colon === -1) throw userError("invalid signature: wrong number of fields");
  const versionText = rest.slice(0, colon);
  if (!/^[+-]?\d+$/.test(versionText) || !Number.isSafeInteger(Number(versionText))) {
    throw userError("invalid signature: version number could not be decoded");
  }
  const version = Number(versionText);
  if (version > ring.latestVersion) throw userError("invalid signature: version is too new");
  if (ring.minDecryptionVersion > 0 && version < ring.minDecryptionVersion) throw userError(ERR_TOO_OLD);
  return { version, payload: rest.slice(colon + 1) };
}

export function verifyWithKeyring(
  ring: Keyring,
  context: Uint8Array | undefined,
  input: Uint8Array,
  signature: string,
  opts: SignOptions,
): boolean {
  refuseSoftDeleted(ring);
  if (!signingSupported(ring.type)) {
    throw userError(`message verification not supported for key type ${ring.type}`);
  }
  const { version, payload } = parseSignature(ring, signature);
  const sigBytes = opts.marshaling === "jws" ? decodeRawUrlBase64(payload) : decodeStdBase64(payload);
  if (sigBytes === null) throw userError("invalid base64 signature value");

  if (isEcdsa(ring.type)) {
    const entry = keyEntry(ring, version);
    let rs: { r: bigint; s: bigint };
    if (opts.marshaling === "jws") {
      rs = splitEcdsaJws(sigBytes);
    } else {
      const parsed = parseEcdsaDer(sigBytes);
      if (parsed === "invalid") throw userError("supplied signature is invalid");
      if (parsed === "extra-data") throw userError("supplied signature contains extra data");
      rs = parsed;
    }
    return ecdsaVerifyDigest(CURVE[ring.type], spkiOf(entry), input, rs.r, rs.s);
  }
  if (ring.type === "ed25519") {
    let pub: Uint8Array | null;
    if (ring.derived) {
      pub = derivedEd25519(ring, context, version).subarray(32);
    } else {
      pub = ed25519PublicKey(keyEntry(ring, version));
      if (pub === null) throw internalError("no Ed25519 public key on policy");
    }
    const mode = opts.ed25519Mode;
    return mode === undefined || mode.kind === "pure"
      ? ed25519Verify(pub, input, sigBytes)
      : ed25519ModeVerify(mode, pub, input, sigBytes);
  }
  if (isRsa(ring.type)) {
    const spki = spkiOf(keyEntry(ring, version));
    if (rsaAlgorithm(opts, spki) === "pss" && opts.hash !== "none") {
      return rsaVerifyPss(spki, opts.hash, input, sigBytes, opts.saltLength);
    }
    return rsaVerifyPkcs1v15(spki, opts.hash, input, sigBytes);
  }
  if (isPqSigning(ring.type))
    return pqVerify(ring, keyEntry(ring, version), input, sigBytes, opts.signatureContext);
  throw internalError(`unsupported key type ${ring.type}`);
}
