import { createPrivateKey, createPublicKey, ECDH, type JsonWebKey } from "node:crypto";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { CURVE_BYTES, type EcdsaCurve } from "./keys.ts";

/**
 * Keys rebuilt from their numbers, as Go keeps them in keysutil's JSON
 * (big.Int fields: an ECDSA key's X, Y and D, an rsa.PrivateKey's N, E, D,
 * primes and CRT values), into PKCS #8 / SPKI DER. Every rebuilt key is
 * checked for consistency (OpenSSL takes numbers as given): the EC point
 * must be on its curve and match D; the RSA primes must multiply to N.
 * Errors name the problem, never a number.
 */

export class KeyRebuildError extends Error {}

/** a⁻¹ mod m (extended Euclid); m > 1 and gcd(a, m) = 1 are the caller's to ensure. */
export function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}

/** Big-endian base64url of a non-negative bigint, left-padded to `size` bytes when given (JWK's form). */
function b64u(n: bigint, size = 0): string {
  let hex = n.toString(16);
  if (hex.length % 2 !== 0) hex = `0${hex}`;
  const bytes = Buffer.from(hex, "hex");
  const out = size > bytes.length ? Buffer.concat([Buffer.alloc(size - bytes.length), bytes]) : bytes;
  return out.toString("base64url");
}

const JWK_CURVE: Record<EcdsaCurve, string> = { p256: "P-256", p384: "P-384", p521: "P-521" };
const NOBLE = { p256, p384, p521 } as const;

export interface RebuiltKey {
  /** PKCS #8 DER; absent for a public key. */
  privateKey?: Buffer;
  /** SPKI DER. */
  publicKey: Buffer;
}

/** An ECDSA key from its affine point (and scalar): the point must be on the curve and be d·G. */
export function ecKeyFromNumbers(curve: EcdsaCurve, x: bigint, y: bigint, d?: bigint): RebuiltKey {
  const size = CURVE_BYTES[curve];
  const jwk: JsonWebKey = { kty: "EC", crv: JWK_CURVE[curve], x: b64u(x, size), y: b64u(y, size) };
  let publicKey: Buffer;
  try {
    publicKey = createPublicKey({ key: jwk, format: "jwk" }).export({ format: "der", type: "spki" });
  } catch {
    throw new KeyRebuildError("EC public key is not a point on its curve");
  }
  if (d === undefined) return { publicKey };
  if (d <= 0n || Buffer.from(b64u(d), "base64url").length > size) {
    throw new KeyRebuildError("EC private key is out of range");
  }
  const expected = Buffer.concat([
    Buffer.of(4),
    Buffer.from(jwk.x as string, "base64url"),
    Buffer.from(jwk.y as string, "base64url"),
  ]);
  let point: Uint8Array;
  try {
    point = NOBLE[curve].getPublicKey(Buffer.from(b64u(d, size), "base64url"), false);
  } catch {
    throw new KeyRebuildError("EC private key is out of range");
  }
  if (!Buffer.from(point).equals(expected)) {
    throw new KeyRebuildError("EC private key does not match its public key");
  }
  const priv = createPrivateKey({ key: { ...jwk, d: b64u(d, size) }, format: "jwk" });
  return { privateKey: priv.export({ format: "der", type: "pkcs8" }), publicKey };
}

/** The numbers of Go's rsa.PrivateKey with two primes; the CRT values are computed when absent. */
export interface RsaNumbers {
  n: bigint;
  e: bigint;
  d: bigint;
  p: bigint;
  q: bigint;
  dp?: bigint | undefined;
  dq?: bigint | undefined;
  qinv?: bigint | undefined;
}

/** An RSA private key from its numbers (two primes whose product is N). */
export function rsaKeyFromNumbers(k: RsaNumbers): RebuiltKey {
  if (k.p <= 1n || k.q <= 1n || k.p * k.q !== k.n) {
    throw new KeyRebuildError("RSA primes do not match the modulus");
  }
  const jwk: JsonWebKey = {
    kty: "RSA",
    n: b64u(k.n),
    e: b64u(k.e),
    d: b64u(k.d),
    p: b64u(k.p),
    q: b64u(k.q),
    dp: b64u(k.dp ?? k.d % (k.p - 1n)),
    dq: b64u(k.dq ?? k.d % (k.q - 1n)),
    qi: b64u(k.qinv ?? modInverse(k.q, k.p)),
  };
  let priv: ReturnType<typeof createPrivateKey>;
  try {
    priv = createPrivateKey({ key: jwk, format: "jwk" });
  } catch {
    throw new KeyRebuildError("invalid RSA private key");
  }
  return {
    privateKey: priv.export({ format: "der", type: "pkcs8" }),
    publicKey: createPublicKey(priv).export({ format: "der", type: "spki" }),
  };
}

/** An RSA public key (SPKI DER) from N and E. */
export function rsaPublicKeyFromNumbers(n: bigint, e: bigint): Buffer {
  try {
    return createPublicKey({ key: { kty: "RSA", n: b64u(n), e: b64u(e) }, format: "jwk" }).export({
      format: "der",
      type: "spki",
    });
  } catch {
    throw new KeyRebuildError("invalid RSA public key");
  }
}

/** The modulus size in bits of an RSA SPKI key. */
export function rsaModulusBits(spki: Uint8Array): number {
  return (
    createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" }).asymmetricKeyDetails
      ?.modulusLength ?? 0
  );
}

/** OpenSSL's names of the curves Go's crypto/x509 knows, by OID. */
const OPENSSL_CURVE: Record<string, string> = {
  "1.3.132.0.33": "secp224r1",
  "1.2.840.10045.3.1.7": "prime256v1",
  "1.3.132.0.34": "secp384r1",
  "1.3.132.0.35": "secp521r1",
};

/** Curves by OID for which ecPointOnCurve answers (P-224, P-256, P-384, P-521). */
export const POINT_CHECK_CURVES: readonly string[] = Object.keys(OPENSSL_CURVE);

/** An uncompressed SEC 1 point (04 || X || Y) on the curve of that OID (OpenSSL checks it while converting). */
export function ecPointOnCurve(curveOid: string, point: Uint8Array): boolean {
  const name = OPENSSL_CURVE[curveOid];
  if (name === undefined || point[0] !== 4) return false;
  try {
    ECDH.convertKey(Buffer.from(point), name, undefined, undefined, "uncompressed");
    return true;
  } catch {
    return false;
  }
}
