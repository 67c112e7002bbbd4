import {
  bufferOf,
  ED25519_PKCS8_SEED_PREFIX,
  type Ed25519Key,
  ed25519FromSeed,
  ed25519PublicKeyObject,
  privateKeyObject,
  publicKeyObject,
} from "./keys.ts";

/**
 * The key encodings Vault uses, for every layer: one PEM encoder and
 * decoder (Go's pem.EncodeToMemory layout), PKCS #1 and SEC 1 forms of
 * PKCS #8/SPKI keys, and the Ed25519 PKCS #8 (RFC 8410 seed only, as
 * x509.MarshalPKCS8PrivateKey) and SPKI forms. Errors carry no key bytes.
 */

/**
 * PEM exactly as Go's pem.EncodeToMemory: "-----BEGIN <label>-----\n",
 * base64 in 64-character lines, "-----END <label>-----\n" (trailing newline;
 * some Vault paths TrimSpace it, that is the caller's choice).
 */
export function pemEncode(label: string, der: Uint8Array): string {
  const b64 = bufferOf(der).toString("base64");
  let body = "";
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/** The first PEM block of `text`: label and DER bytes; null when there is none or the base64 is bad. */
export function pemDecode(text: string): { label: string; der: Buffer } | null {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n\t ]*?)-----END \1-----/.exec(text);
  if (m === null || m[1] === undefined || m[2] === undefined) return null;
  const b64 = m[2].replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return null;
  return { label: m[1], der: Buffer.from(b64, "base64") };
}

/** "PUBLIC KEY" PEM of an SPKI DER key (Vault's FormattedPublicKey for ECDSA, export public-key for RSA/EC). */
export function publicKeyPem(spki: Uint8Array): string {
  return pemEncode("PUBLIC KEY", spki);
}

/** Standard base64 of the 32-byte Ed25519 public key (Vault's FormattedPublicKey for ed25519). */
export function ed25519PublicKeyBase64(publicKey: Uint8Array): string {
  return bufferOf(publicKey).toString("base64");
}

/** SEC1 "EC PRIVATE KEY" DER (Go's x509.MarshalECPrivateKey: named curve and public key included). */
export function pkcs8ToSec1(pkcs8: Uint8Array): Buffer {
  const k = privateKeyObject(pkcs8);
  if (k.asymmetricKeyType !== "ec") throw new TypeError("not an EC private key");
  return k.export({ format: "der", type: "sec1" });
}

/** PKCS#1 "RSA PRIVATE KEY" DER (Go's x509.MarshalPKCS1PrivateKey). */
export function pkcs8ToPkcs1(pkcs8: Uint8Array): Buffer {
  const k = privateKeyObject(pkcs8);
  if (k.asymmetricKeyType !== "rsa") throw new TypeError("not an RSA private key");
  return k.export({ format: "der", type: "pkcs1" });
}

/** PKCS#1 "RSA PUBLIC KEY" DER of an RSA SPKI key. */
export function spkiToPkcs1(spki: Uint8Array): Buffer {
  const k = publicKeyObject(spki);
  if (k.asymmetricKeyType !== "rsa") throw new TypeError("not an RSA public key");
  return k.export({ format: "der", type: "pkcs1" });
}

/**
 * PKCS#8 DER (RFC 8410: the seed only) of Go's 64-byte Ed25519 key (or its
 * 32-byte seed), byte for byte x509.MarshalPKCS8PrivateKey's output.
 */
export function ed25519ToPkcs8(privateKey: Uint8Array): Buffer {
  if (privateKey.length !== 32 && privateKey.length !== 64) {
    throw new RangeError("ed25519 private key must be 32 or 64 bytes");
  }
  return Buffer.concat([ED25519_PKCS8_SEED_PREFIX, privateKey.subarray(0, 32)]);
}

/** SPKI DER of a 32-byte Ed25519 public key, as x509.MarshalPKIXPublicKey. */
export function ed25519ToSpki(publicKey: Uint8Array): Buffer {
  return ed25519PublicKeyObject(publicKey).export({ format: "der", type: "spki" });
}

/** Go's 64-byte Ed25519 key from a PKCS#8 DER Ed25519 private key (import / BYOK). */
export function ed25519FromPkcs8(pkcs8: Uint8Array): Ed25519Key {
  const k = privateKeyObject(pkcs8);
  if (k.asymmetricKeyType !== "ed25519") throw new TypeError("not an Ed25519 private key");
  const d = k.export({ format: "jwk" }).d;
  if (d === undefined) throw new TypeError("not an Ed25519 private key");
  const seed = Buffer.from(d, "base64url");
  try {
    return ed25519FromSeed(seed);
  } finally {
    seed.fill(0);
  }
}

/** The 32-byte public key of an Ed25519 SPKI DER key (public-key import). */
export function ed25519FromSpki(spki: Uint8Array): Buffer {
  const k = publicKeyObject(spki);
  if (k.asymmetricKeyType !== "ed25519") throw new TypeError("not an Ed25519 public key");
  const x = k.export({ format: "jwk" }).x;
  if (x === undefined) throw new TypeError("not an Ed25519 public key");
  return Buffer.from(x, "base64url");
}
