import {
  createPrivateKey,
  createPublicKey,
  ECDH,
  generateKeyPair,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { promisify } from "node:util";

/** OpenSSL's key handle, for the layers that hold parsed keys (they never import node:crypto). */
export type { KeyObject };

/**
 * Key generation, key objects and the key encodings Vault uses.
 *
 * Storage forms (what the engine keeps per key version):
 * - symmetric and HMAC keys: raw bytes;
 * - Ed25519: Go's 64-byte private key seed || publicKey, and the 32-byte
 *   public key (Vault's FormattedPublicKey is its standard base64);
 * - ECDSA and RSA: PKCS#8 DER private key and SPKI DER public key.
 *
 * Parsing DER into an OpenSSL key costs more than the operation it serves
 * (Ed25519 keys go through JWK, cheaper than PKCS#8), so KeyObjects are
 * memoised per byte array (WeakMap keyed by the Uint8Array's identity:
 * dropped with the array). The engine's keyrings are immutable, so identity
 * is stable; never mutate a key array after it was used here. Bench case:
 * bench/layers/primitives.ts runSignatures (keys parsed as the engine holds them).
 *
 * The encodings of these keys (PEM, PKCS #1, SEC 1, Ed25519 PKCS #8/SPKI)
 * are in encodings.ts.
 *
 * Errors carry no key bytes.
 */

export type EcdsaCurve = "p256" | "p384" | "p521";
export type RsaBits = 2048 | 3072 | 4096;

/** Go's ed25519 layout: privateKey = seed (32) || publicKey (32). */
export interface Ed25519Key {
  privateKey: Buffer;
  publicKey: Buffer;
}

/** PKCS#8 DER private key and SPKI DER public key. */
export interface KeyPairDer {
  privateKey: Buffer;
  publicKey: Buffer;
}

export const HMAC_MIN_KEY_SIZE = 32;
export const HMAC_MAX_KEY_SIZE = 512;

const NAMED_CURVE: Record<EcdsaCurve, "P-256" | "P-384" | "P-521"> = {
  p256: "P-256",
  p384: "P-384",
  p521: "P-521",
};
/** Scalar / coordinate length in bytes. */
export const CURVE_BYTES: Record<EcdsaCurve, number> = { p256: 32, p384: 48, p521: 66 };

// ---------------------------------------------------------------- generation

/** `length` bytes from the CSPRNG: AES/ChaCha keys (16/32), HMAC keys (key_size), per-version HMAC keys (32). */
export function generateSymmetricKey(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 1) throw new RangeError("invalid key length");
  return randomBytes(length);
}

/** An HMAC key of `keySize` bytes, within Vault's 32..512. */
export function generateHmacKey(keySize: number): Buffer {
  if (!Number.isSafeInteger(keySize) || keySize < HMAC_MIN_KEY_SIZE || keySize > HMAC_MAX_KEY_SIZE) {
    throw new RangeError(
      `invalid key size for HMAC key, must be between ${HMAC_MIN_KEY_SIZE} and ${HMAC_MAX_KEY_SIZE} bytes`,
    );
  }
  return randomBytes(keySize);
}

/** A fresh Ed25519 key in Go's layout, from a CSPRNG seed (as ed25519.GenerateKey(rand.Reader)). */
export function generateEd25519(): Ed25519Key {
  const seed = randomBytes(32);
  try {
    return ed25519FromSeed(seed);
  } finally {
    seed.fill(0);
  }
}

// The seed as PKCS #8 (RFC 8410 OneAsymmetricKey, no public key): OpenSSL
// derives the public key from it.
export const ED25519_PKCS8_SEED_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** Go's ed25519.NewKeyFromSeed: 64-byte seed || publicKey, and the public key. */
export function ed25519FromSeed(seed: Uint8Array): Ed25519Key {
  if (seed.length !== 32) throw new RangeError("ed25519 seed must be 32 bytes");
  // Not a JWK with a placeholder "x": newer Node releases reject that as an invalid OKP key.
  const priv = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_SEED_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  const x = createPublicKey(priv).export({ format: "jwk" }).x;
  if (x === undefined) throw new Error("ed25519 public key derivation failed");
  const publicKey = Buffer.from(x, "base64url");
  const privateKey = Buffer.allocUnsafeSlow(64);
  privateKey.set(seed, 0);
  privateKey.set(publicKey, 32);
  return { privateKey, publicKey };
}

/** A fresh ECDSA key pair on the named curve (PKCS#8 / SPKI DER). */
export function generateEcdsa(curve: EcdsaCurve): KeyPairDer {
  const namedCurve = NAMED_CURVE[curve];
  if (namedCurve === undefined) throw new TypeError("unsupported curve");
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve });
  return {
    privateKey: privateKey.export({ format: "der", type: "pkcs8" }),
    publicKey: publicKey.export({ format: "der", type: "spki" }),
  };
}

const generateKeyPairAsync = promisify(generateKeyPair);

function checkRsaBits(bits: number): void {
  if (bits !== 2048 && bits !== 3072 && bits !== 4096) throw new RangeError("unsupported RSA key size");
}

/** A fresh RSA key (e = 65537, as Go), generated off the event loop. */
export async function generateRsa(bits: RsaBits): Promise<KeyPairDer> {
  checkRsaBits(bits);
  const { privateKey, publicKey } = await generateKeyPairAsync("rsa", {
    modulusLength: bits,
    publicExponent: 65537,
  });
  return {
    privateKey: privateKey.export({ format: "der", type: "pkcs8" }),
    publicKey: publicKey.export({ format: "der", type: "spki" }),
  };
}

/** Synchronous RSA generation (blocks the event loop: ~0.1–2 s for 4096 bits). */
export function generateRsaSync(bits: RsaBits): KeyPairDer {
  checkRsaBits(bits);
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: bits,
    publicExponent: 65537,
  });
  return {
    privateKey: privateKey.export({ format: "der", type: "pkcs8" }),
    publicKey: publicKey.export({ format: "der", type: "spki" }),
  };
}

// ---------------------------------------------------------------- key objects

/**
 * `make` memoised per byte array, by identity: a keyring's stored keys are parsed once, and an entry
 * goes with its array. A throwing `make` caches nothing.
 */
function memoised<V>(make: (bytes: Uint8Array) => V): (bytes: Uint8Array) => V {
  const cache = new WeakMap<Uint8Array, V>();
  return (bytes) => {
    let v = cache.get(bytes);
    if (v === undefined) {
      v = make(bytes);
      cache.set(bytes, v);
    }
    return v;
  };
}

export function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const privateKeys = memoised((pkcs8) => {
  try {
    return createPrivateKey({ key: bufferOf(pkcs8), format: "der", type: "pkcs8" });
  } catch {
    throw new Error("invalid PKCS#8 private key");
  }
});

/** The OpenSSL key for a PKCS#8 DER private key (memoised). Throws a generic error on bad DER. */
export function privateKeyObject(pkcs8: Uint8Array): KeyObject {
  return privateKeys(pkcs8);
}

const publicKeys = memoised((spki) => {
  try {
    return createPublicKey({ key: bufferOf(spki), format: "der", type: "spki" });
  } catch {
    throw new Error("invalid SPKI public key");
  }
});

/** The OpenSSL key for an SPKI DER public key (memoised). Throws a generic error on bad DER. */
export function publicKeyObject(spki: Uint8Array): KeyObject {
  return publicKeys(spki);
}

const ed25519PrivateKeys = memoised((privateKey) => {
  if (privateKey.length !== 64) throw new RangeError("ed25519 private key must be 64 bytes");
  const b = bufferOf(privateKey);
  return createPrivateKey({
    key: {
      kty: "OKP",
      crv: "Ed25519",
      d: b.subarray(0, 32).toString("base64url"),
      x: b.subarray(32).toString("base64url"),
    },
    format: "jwk",
  });
});

/** The OpenSSL key for Go's 64-byte Ed25519 private key (memoised). */
export function ed25519PrivateKeyObject(privateKey: Uint8Array): KeyObject {
  return ed25519PrivateKeys(privateKey);
}

const ed25519PublicKeys = memoised((publicKey) => {
  if (publicKey.length !== 32) throw new RangeError("ed25519 public key must be 32 bytes");
  try {
    return createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: bufferOf(publicKey).toString("base64url") },
      format: "jwk",
    });
  } catch {
    throw new Error("invalid ed25519 public key");
  }
});

/** The OpenSSL key for a 32-byte Ed25519 public key (memoised); throws on a wrong length. */
export function ed25519PublicKeyObject(publicKey: Uint8Array): KeyObject {
  return ed25519PublicKeys(publicKey);
}

/** The public half of a private KeyObject (or the key itself when it is public). */
export function toPublicKeyObject(key: KeyObject): KeyObject {
  return key.type === "public" ? key : createPublicKey(key);
}

// ---------------------------------------------------------------- inspection

export type KeyInfo =
  | { type: "rsa"; bits: number }
  | { type: "ec"; curve: EcdsaCurve }
  | { type: "ed25519" }
  | { type: "unsupported" };

function describe(k: KeyObject): KeyInfo {
  switch (k.asymmetricKeyType) {
    case "rsa":
      return { type: "rsa", bits: k.asymmetricKeyDetails?.modulusLength ?? 0 };
    case "ec": {
      const curve = curveFromOid(k.asymmetricKeyDetails?.namedCurve);
      return curve === undefined ? { type: "unsupported" } : { type: "ec", curve };
    }
    case "ed25519":
      return { type: "ed25519" };
    default:
      return { type: "unsupported" };
  }
}

function curveFromOid(name: string | undefined): EcdsaCurve | undefined {
  switch (name) {
    case "prime256v1":
      return "p256";
    case "secp384r1":
      return "p384";
    case "secp521r1":
      return "p521";
    default:
      return undefined;
  }
}

/** What a PKCS#8 DER private key is (for import/BYOK type checks). Throws a generic error on bad DER. */
export function describePrivateKey(pkcs8: Uint8Array): KeyInfo {
  return describe(privateKeyObject(pkcs8));
}

/** What an SPKI DER public key is. Throws a generic error on bad DER. */
export function describePublicKey(spki: Uint8Array): KeyInfo {
  return describe(publicKeyObject(spki));
}

/** The SPKI DER public key of a PKCS#8 DER private key (RSA or EC). */
export function spkiFromPkcs8(pkcs8: Uint8Array): Buffer {
  return createPublicKey(privateKeyObject(pkcs8)).export({ format: "der", type: "spki" });
}

function leftPad(b: Buffer, n: number): Buffer {
  if (b.length >= n) return b;
  const out = Buffer.alloc(n);
  b.copy(out, n - b.length);
  return out;
}

const pointCache = new WeakMap<Uint8Array, Buffer>();

/** The uncompressed SEC1 point 04 || X || Y of an EC SPKI public key, coordinates padded to `size` (memoised). */
export function ecPublicPoint(spki: Uint8Array, size = 0): Buffer {
  let point = pointCache.get(spki);
  if (point === undefined) {
    const jwk = publicKeyObject(spki).export({ format: "jwk" });
    if (jwk.kty !== "EC" || jwk.x === undefined || jwk.y === undefined)
      throw new TypeError("not an EC public key");
    point = Buffer.concat([
      Buffer.of(4),
      leftPad(Buffer.from(jwk.x, "base64url"), size),
      leftPad(Buffer.from(jwk.y, "base64url"), size),
    ]);
    pointCache.set(spki, point);
  }
  return point;
}

const scalarCache = new WeakMap<Uint8Array, Buffer>();

/** The private scalar d (big-endian, padded to `size`) of an EC PKCS#8 key (memoised). */
export function ecPrivateScalar(pkcs8: Uint8Array, size = 0): Buffer {
  let d = scalarCache.get(pkcs8);
  if (d === undefined) {
    const jwk = privateKeyObject(pkcs8).export({ format: "jwk" });
    if (jwk.kty !== "EC" || jwk.d === undefined) throw new TypeError("not an EC private key");
    d = leftPad(Buffer.from(jwk.d, "base64url"), size);
    scalarCache.set(pkcs8, d);
  }
  return d;
}

/**
 * Whether `point` is an uncompressed point (04 || X || Y) on the curve
 * OpenSSL names `curve` ("prime256v1", "secp384r1", ...): Go's
 * elliptic.Unmarshal check, run by OpenSSL while converting the point.
 */
export function isUncompressedPointOnCurve(curve: string, point: Uint8Array): boolean {
  if (point[0] !== 4) return false;
  try {
    ECDH.convertKey(bufferOf(point), curve, undefined, undefined, "uncompressed");
    return true;
  } catch {
    return false;
  }
}
