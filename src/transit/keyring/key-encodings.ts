import { ed25519ToPkcs8, pemEncode, pkcs8ToPkcs1, pkcs8ToSec1 } from "../../crypto/encodings.ts";
import { type KeyObject, toPublicKeyObject } from "../../crypto/keys.ts";
import { internalError } from "../../framework/errors.ts";
import { privateKeyMissing, privateKeyObject, publicKeyObject } from "./asymmetric.ts";
import { isEcdsa, isRsa, type KeyType } from "./key-types.ts";
import type { KeyVersion } from "./keyring.ts";

/**
 * A version's key material in the encodings Vault's export/ answers with
 * (transit path_export.go): base64 for symmetric, HMAC and ed25519 keys,
 * PKCS #1 "RSA PRIVATE KEY" PEM for RSA, SEC 1 "EC PRIVATE KEY" PEM for ECDSA,
 * PKIX "PUBLIC KEY" PEM for RSA and ECDSA public keys. Trailing newlines
 * follow Go's: EC PEMs are trimmed, RSA PEMs keep pem.EncodeToMemory's.
 */

/** The raw bytes behind "hmac-key" (the hmac type's key is its HMAC key). */
export function hmacKeyBytes(type: KeyType, entry: KeyVersion): Uint8Array | undefined {
  return type === "hmac" ? entry.key : entry.hmacKey;
}

/** Go's pem.EncodeToMemory (the one encoder, in src/crypto; re-exported for the keyring's modules). */
export { pemEncode };

export function rsaPrivatePkcs1Pem(entry: KeyVersion): string {
  if (privateKeyMissing(entry)) return "";
  if (entry.privateKey === undefined) return "";
  return pemEncode("RSA PRIVATE KEY", pkcs8ToPkcs1(entry.privateKey));
}

export function ecPrivateSec1Pem(entry: KeyVersion): string {
  if (privateKeyMissing(entry)) return "";
  if (entry.privateKey === undefined) return "";
  return pemEncode("EC PRIVATE KEY", pkcs8ToSec1(entry.privateKey)).trim();
}

export function publicPkixPem(entry: KeyVersion, trim: boolean): string {
  const key = publicKeyObject(entry);
  if (key === null) throw internalError("requested to encode a public key with no key present");
  const pem = pemEncode("PUBLIC KEY", key.export({ format: "der", type: "spki" }));
  return trim ? pem.trim() : pem;
}

/** The PKCS #8 DER of a version's private key, as Go's x509.MarshalPKCS8PrivateKey (BYOK wrapping). */
export function privatePkcs8(type: KeyType, entry: KeyVersion): Buffer {
  if (type === "ed25519") {
    const key = entry.key;
    if (key === undefined || key.length < 32) throw internalError("key version has no private key");
    return ed25519ToPkcs8(key.subarray(0, 32));
  }
  const key = privateKeyObject(entry);
  if (key === null) throw internalError("key version has no private key");
  return key.export({ format: "der", type: "pkcs8" });
}

/** The PEM CERTIFICATE blocks of a version's chain, trimmed and joined by newlines (export certificate-chain). */
export function certificateChainPem(entry: KeyVersion): string | null {
  if (entry.certificateChain === undefined || entry.certificateChain.length === 0) return null;
  return entry.certificateChain.map((der) => pemEncode("CERTIFICATE", der).trim()).join("\n");
}

/** A KeyObject's big-endian JWK parameters as bigints. */
export function jwkBigints(key: KeyObject, names: string[]): Record<string, bigint> {
  const jwk = key.export({ format: "jwk" }) as Record<string, unknown>;
  const out: Record<string, bigint> = {};
  for (const n of names) {
    const v = jwk[n];
    if (typeof v !== "string") throw internalError(`key has no ${n} parameter`);
    const hex = Buffer.from(v, "base64url").toString("hex");
    out[n] = hex === "" ? 0n : BigInt(`0x${hex}`);
  }
  return out;
}

export function bigintToBase64Url(v: bigint, size = 0): string {
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (size > 0) hex = hex.padStart(size * 2, "0");
  return Buffer.from(hex, "hex").toString("base64url");
}

/** The public KeyObject of an RSA or ECDSA private KeyObject, SPKI DER. */
export function spkiOf(key: KeyObject): Buffer {
  return toPublicKeyObject(key).export({ format: "der", type: "spki" });
}

export function isAsymmetricPrivate(type: KeyType): boolean {
  return isRsa(type) || isEcdsa(type) || type === "ed25519";
}
