import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from "node:crypto";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { goError, internalError, LogicalError, userError } from "../../framework/errors.ts";
import {
  decodeRawUrlBase64,
  decodeStdBase64,
  encodeRawUrlBase64,
  encodeStdBase64,
} from "../../util/base64.ts";
import { getKey, keyEntry } from "./derive.ts";
import { HASH_SIZE, type HashName } from "./hashes.ts";
import { type EcdsaKeyType, isEcdsa, isRsa, signingSupported } from "./key-types.ts";
import { type Keyring, type KeyVersion, versionPrefix } from "./keyring.ts";
import {
  RsaSignatureError,
  signPkcs1v15,
  signPss,
  validPssSaltLength,
  verifyPkcs1v15,
  verifyPss,
} from "./rsa-signature.ts";
import { ERR_TOO_OLD } from "./symmetric.ts";

/**
 * Signing and verification with a keyring's asymmetric versions
 * (keysutil SignWithOptions / VerifySignatureWithOptions): ed25519 (pure,
 * optionally derived per context), ECDSA over the caller's digest with ASN.1
 * or JWS marshaling, RSA PSS and PKCS #1 v1.5 over the digest.
 *
 * Implementations: ed25519 and RSA run in OpenSSL (node:crypto); ECDSA runs
 * in @noble/curves because node:crypto cannot sign a digest it did not
 * compute itself, and transit signs digests (prehashed input, any hash).
 */

export type Marshaling = "asn1" | "jws";

export interface SignOptions {
  hash: HashName;
  marshaling: Marshaling;
  /** Go's convention: 0 auto, -1 equals the hash size, else the salt length in bytes. */
  saltLength: number;
  /** "pss" (default when empty) or "pkcs1v15"; RSA only. */
  signatureAlgorithm: string;
}

export interface SigningResult {
  signature: string;
  version: number;
  /** The derived ed25519 public key, for derived keys only. */
  publicKey?: Uint8Array;
}

const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

const CURVES = { "ecdsa-p256": p256, "ecdsa-p384": p384, "ecdsa-p521": p521 } as const;
const CURVE_BYTES: Record<EcdsaKeyType, number> = { "ecdsa-p256": 32, "ecdsa-p384": 48, "ecdsa-p521": 66 };

/** Prepared keys per stored buffer: version entries are immutable, so a buffer's key never changes. */
const privateKeys = new WeakMap<Uint8Array, KeyObject>();
const publicKeys = new WeakMap<Uint8Array, KeyObject>();
const ecdsaSecrets = new WeakMap<Uint8Array, Uint8Array>();
const ecdsaPoints = new WeakMap<Uint8Array, Uint8Array>();

export function ed25519PrivateKeyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed.subarray(0, 32)]),
    format: "der",
    type: "pkcs8",
  });
}

export function ed25519PublicKeyFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" });
}

/** The private KeyObject of a version (PKCS #8 for ECDSA/RSA, Go's seed||public for ed25519). */
export function privateKeyObject(entry: KeyVersion): KeyObject | null {
  const der = entry.privateKey;
  if (der !== undefined) {
    let key = privateKeys.get(der);
    if (key === undefined) {
      key = createPrivateKey({ key: Buffer.from(der), format: "der", type: "pkcs8" });
      privateKeys.set(der, key);
    }
    return key;
  }
  const goKey = entry.key;
  if (goKey !== undefined && goKey.length >= 32) {
    let key = privateKeys.get(goKey);
    if (key === undefined) {
      key = ed25519PrivateKeyFromSeed(goKey);
      privateKeys.set(goKey, key);
    }
    return key;
  }
  return null;
}

/** The public KeyObject of an asymmetric version, from the SPKI, the private key or ed25519's public key. */
export function publicKeyObject(entry: KeyVersion): KeyObject | null {
  const spki = entry.publicKey;
  if (spki !== undefined) {
    let key = publicKeys.get(spki);
    if (key === undefined) {
      key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
      publicKeys.set(spki, key);
    }
    return key;
  }
  const priv = privateKeyObject(entry);
  if (priv !== null && entry.key === undefined) return createPublicKey(priv);
  if (entry.formattedPublicKey !== undefined && entry.formattedPublicKey !== "") {
    const raw = decodeStdBase64(entry.formattedPublicKey.trim());
    if (raw !== null && raw.length === 32) return ed25519PublicKeyFromRaw(raw);
  }
  if (priv !== null) return createPublicKey(priv);
  return null;
}

/** keysutil KeyEntry.IsPrivateKeyMissing. */
export function privateKeyMissing(entry: KeyVersion): boolean {
  return entry.privateKey === undefined && (entry.key === undefined || entry.key.length === 0);
}

function ecdsaSecret(entry: KeyVersion, type: EcdsaKeyType): Uint8Array {
  const der = entry.privateKey;
  if (der === undefined) throw internalError("key version has no private key");
  let d = ecdsaSecrets.get(der);
  if (d === undefined) {
    const jwk = privateKeyObject(entry)?.export({ format: "jwk" });
    d = leftPad(Buffer.from(jwk?.d ?? "", "base64url"), CURVE_BYTES[type]);
    ecdsaSecrets.set(der, d);
  }
  return d;
}

function ecdsaPoint(entry: KeyVersion, type: EcdsaKeyType): Uint8Array {
  const holder = entry.publicKey ?? entry.privateKey;
  if (holder === undefined) throw internalError("key version has no public key");
  let point = ecdsaPoints.get(holder);
  if (point === undefined) {
    const pub = publicKeyObject(entry);
    if (pub === null) throw internalError("key version has no public key");
    const jwk = pub.export({ format: "jwk" });
    const n = CURVE_BYTES[type];
    point = Buffer.concat([
      Buffer.from([4]),
      leftPad(Buffer.from(jwk.x ?? "", "base64url"), n),
      leftPad(Buffer.from(jwk.y ?? "", "base64url"), n),
    ]);
    ecdsaPoints.set(holder, point);
  }
  return point;
}

function leftPad(b: Uint8Array, n: number): Uint8Array {
  if (b.length >= n) return b;
  const out = new Uint8Array(n);
  out.set(b, n - b.length);
  return out;
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

/** The ed25519 key of a derived keyring for a context: keysutil GetKey's 32-byte seed. */
function derivedEd25519(ring: Keyring, context: Uint8Array | undefined, version: number): KeyObject {
  try {
    return ed25519PrivateKeyFromSeed(getKey(ring, context, version, 32));
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
  if (!signingSupported(ring.type))
    throw userError(`message signing not supported for key type ${ring.type}`);
  const version = signingVersion(ring, requestedVersion);
  const entry = keyEntry(ring, version);
  if (privateKeyMissing(entry))
    throw userError("requested version for signing does not contain a private part");

  let sig: Uint8Array;
  let publicKey: Uint8Array | undefined;
  if (isEcdsa(ring.type)) {
    const curve = CURVES[ring.type];
    const compact = curve.sign(input, ecdsaSecret(entry, ring.type), {
      prehash: false,
      lowS: false,
      extraEntropy: true,
      format: "compact",
    });
    sig = opts.marshaling === "jws" ? compact : derEncodeSignature(compact);
  } else if (ring.type === "ed25519") {
    let key: KeyObject;
    if (ring.derived) {
      key = derivedEd25519(ring, context, version);
      publicKey = createPublicKey(key).export({ format: "der", type: "spki" }).subarray(-32);
    } else {
      const k = privateKeyObject(entry);
      if (k === null) throw internalError("key version has no private key");
      key = k;
    }
    sig = nodeSign(null, input, key);
  } else if (isRsa(ring.type)) {
    const key = privateKeyObject(entry);
    if (key === null) throw internalError("key version has no private key");
    sig = rsaSign(key, input, opts);
  } else {
    throw internalError(`unsupported key type ${ring.type}`);
  }
  const encoded = opts.marshaling === "jws" ? encodeRawUrlBase64(sig) : encodeStdBase64(sig);
  const result: SigningResult = { signature: versionPrefix(version) + encoded, version };
  if (publicKey !== undefined) result.publicKey = publicKey;
  return result;
}

function rsaSign(key: KeyObject, input: Uint8Array, opts: SignOptions): Uint8Array {
  const algorithm = opts.signatureAlgorithm === "" ? "pss" : opts.signatureAlgorithm;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  try {
    switch (algorithm) {
      case "pss":
        if (opts.hash === "none") throw userError("unsupported hash algorithm");
        if (!validPssSaltLength(bits, opts.hash, opts.saltLength)) {
          throw userError(`requested salt length ${opts.saltLength} is invalid`);
        }
        return signPss(key, opts.hash, input, opts.saltLength);
      case "pkcs1v15":
        return signPkcs1v15(key, opts.hash, input);
      default:
        throw userError(`unsupported rsa signature algorithm ${algorithm}`);
    }
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
  if (!signingSupported(ring.type)) {
    throw userError(`message verification not supported for key type ${ring.type}`);
  }
  const { version, payload } = parseSignature(ring, signature);
  const sigBytes = opts.marshaling === "jws" ? decodeRawUrlBase64(payload) : decodeStdBase64(payload);
  if (sigBytes === null) throw userError("invalid base64 signature value");

  if (isEcdsa(ring.type)) {
    const entry = keyEntry(ring, version);
    const rs = opts.marshaling === "jws" ? splitJws(sigBytes) : derDecodeSignature(sigBytes);
    return ecdsaVerify(ring.type, entry, input, rs.r, rs.s);
  }
  if (ring.type === "ed25519") {
    let key: KeyObject;
    if (ring.derived) {
      key = createPublicKey(derivedEd25519(ring, context, version));
    } else {
      const pub = publicKeyObject(keyEntry(ring, version));
      if (pub === null) throw internalError("no Ed25519 public key on policy");
      key = pub;
    }
    try {
      return sigBytes.length === 64 && nodeVerify(null, input, key, sigBytes);
    } catch {
      return false;
    }
  }
  if (isRsa(ring.type)) {
    const key = publicKeyObject(keyEntry(ring, version));
    if (key === null) throw internalError("key version has no public key");
    const algorithm = opts.signatureAlgorithm === "" ? "pss" : opts.signatureAlgorithm;
    switch (algorithm) {
      case "pss": {
        if (opts.hash === "none") throw userError("unsupported hash algorithm");
        const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
        if (!validPssSaltLength(bits, opts.hash, opts.saltLength)) {
          throw userError(`requested salt length ${opts.saltLength} is invalid`);
        }
        return verifyPss(key, opts.hash, input, sigBytes, opts.saltLength);
      }
      case "pkcs1v15":
        if (opts.hash !== "none" && input.length !== HASH_SIZE[opts.hash]) return false;
        return verifyPkcs1v15(key, opts.hash, input, sigBytes);
      default:
        throw userError(`unsupported rsa signature algorithm ${algorithm}`);
    }
  }
  throw internalError(`unsupported key type ${ring.type}`);
}

function ecdsaVerify(
  type: EcdsaKeyType,
  entry: KeyVersion,
  digest: Uint8Array,
  r: bigint,
  s: bigint,
): boolean {
  const curve = CURVES[type];
  const n = curve.Point.Fn.ORDER;
  if (r <= 0n || s <= 0n || r >= n || s >= n) return false;
  const size = CURVE_BYTES[type];
  const compact = Buffer.concat([bigToBytes(r, size), bigToBytes(s, size)]);
  try {
    return curve.verify(compact, digest, ecdsaPoint(entry, type), {
      prehash: false,
      lowS: false,
      format: "compact",
    });
  } catch {
    return false;
  }
}

function bigToBytes(v: bigint, size: number): Buffer {
  return Buffer.from(v.toString(16).padStart(size * 2, "0"), "hex");
}

function bytesToBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString("hex")}`);
}

/** JWS (RFC 7518) r||s, split in half as keysutil does. */
function splitJws(sig: Uint8Array): { r: bigint; s: bigint } {
  const half = Math.floor(sig.length / 2);
  return { r: bytesToBig(sig.subarray(0, half)), s: bytesToBig(sig.subarray(half)) };
}

/** DER SEQUENCE { INTEGER r, INTEGER s } from a compact r||s. */
export function derEncodeSignature(compact: Uint8Array): Buffer {
  const half = compact.length / 2;
  const int = (b: Uint8Array): Buffer => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    let v = Buffer.from(b.subarray(i));
    if ((v[0] ?? 0) & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02]), derLength(v.length), v]);
  };
  const body = Buffer.concat([int(compact.subarray(0, half)), int(compact.subarray(half))]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}

/**
 * Parses DER ECDSA-Sig-Value strictly, as Go's encoding/asn1 does for
 * keysutil's ecdsaSignature: minimal lengths and integers, nothing after.
 */
export function derDecodeSignature(der: Uint8Array): { r: bigint; s: bigint } {
  const invalid = (): never => {
    throw userError("supplied signature is invalid");
  };
  const readTlv = (buf: Uint8Array, at: number, tag: number): { start: number; end: number } => {
    if (buf[at] !== tag) return invalid();
    let pos = at + 1;
    const first = buf[pos++];
    if (first === undefined) return invalid();
    let len = first;
    if (first & 0x80) {
      const count = first & 0x7f;
      if (count === 0 || count > 2) return invalid();
      len = 0;
      for (let i = 0; i < count; i++) {
        const b = buf[pos++];
        if (b === undefined || (i === 0 && b === 0)) return invalid();
        len = (len << 8) | b;
      }
      if (len < 0x80) return invalid();
    }
    if (pos + len > buf.length) return invalid();
    return { start: pos, end: pos + len };
  };
  const seq = readTlv(der, 0, 0x30);
  const readInt = (at: number): { value: bigint; end: number } => {
    const { start, end } = readTlv(der, at, 0x02);
    if (end === start) return invalid();
    const bytes = der.subarray(start, end);
    if (
      bytes.length > 1 &&
      ((bytes[0] === 0 && !((bytes[1] ?? 0) & 0x80)) || (bytes[0] === 0xff && (bytes[1] ?? 0) & 0x80))
    ) {
      return invalid();
    }
    let value = bytesToBig(bytes);
    if ((bytes[0] ?? 0) & 0x80) value -= 1n << BigInt(bytes.length * 8);
    return { value, end };
  };
  const r = readInt(seq.start);
  const s = readInt(r.end);
  if (s.end !== seq.end) invalid();
  if (seq.end !== der.length) throw userError("supplied signature contains extra data");
  return { r: r.value, s: s.value };
}
