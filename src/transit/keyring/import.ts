import { pemDecode, pemEncode } from "../../crypto/encodings.ts";
import { randomBytes } from "../../crypto/hash.ts";
import {
  type KeyObject,
  privateKeyObject as pkcs8KeyObject,
  publicKeyObject as spkiKeyObject,
  toPublicKeyObject,
} from "../../crypto/keys.ts";
import { privateKeyMissing, publicKeyObject } from "./asymmetric.ts";
import {
  type EcdsaKeyType,
  isEcdsa,
  isHmacKeySize,
  isRsa,
  isSymmetric,
  type KeyType,
  rawAesKeySize,
  rsaBits,
  symmetricKeySize,
} from "./key-types.ts";
import { cloneKeyring, ERR_SOFT_DELETED, type Keyring, type KeyVersion, nowRfc3339 } from "./keyring.ts";

/**
 * Key import (BYOK) on keyrings, as keysutil does it: ImportPublicOrPrivate
 * (a new version from raw symmetric/HMAC bytes, a PKCS #8 private key or a
 * PKIX PEM public key), KeyVersionCanBeUpdated and ImportPrivateKeyForVersion
 * (a private key for a version that only has its public key), and
 * KeyEntry.parseFromKey's type/curve/size checks. Error texts are Vault's
 * (Go's x509 parser messages are approximated).
 *
 * Every function returns a new keyring; the input is left untouched.
 */

export class ImportError extends Error {}

/** keysutil KeyType.ImportPublicKeySupported. */
export function importPublicKeySupported(type: KeyType): boolean {
  return isRsa(type) || isEcdsa(type) || type === "ed25519";
}

const CURVE_NAME: Record<EcdsaKeyType, string> = {
  "ecdsa-p256": "P-256",
  "ecdsa-p384": "P-384",
  "ecdsa-p521": "P-521",
};
const OPENSSL_CURVE: Record<string, string> = {
  prime256v1: "P-256",
  secp384r1: "P-384",
  secp521r1: "P-521",
};

/** Go's %T of what x509 would have parsed the key into. */
function goTypeName(key: KeyObject): string {
  const star = key.type === "private" ? "PrivateKey" : "PublicKey";
  switch (key.asymmetricKeyType) {
    case "rsa":
    case "rsa-pss":
      return `*rsa.${star}`;
    case "ec":
      return `*ecdsa.${star}`;
    case "ed25519":
      return `ed25519.${star}`;
    case "x25519":
    case "x448":
      return `*ecdh.${star}`;
    default:
      return `*${key.asymmetricKeyType ?? "unknown"}.${star}`;
  }
}

/** x509.ParsePKCS8PrivateKey, approximately: RSA, EC on the NIST curves and Ed25519. */
function parsePkcs8(der: Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    key = pkcs8KeyObject(Buffer.from(der));
  } catch {
    throw new ImportError("error parsing asymmetric key: x509: failed to parse private key");
  }
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? "";
    if (OPENSSL_CURVE[curve] === undefined) {
      throw new ImportError("error parsing asymmetric key: x509: unknown elliptic curve");
    }
  }
  if (key.asymmetricKeyType === "rsa-pss") {
    // Vault re-parses RSA-PSS PKCS #8 keys as plain RSA; not supported here.
    throw new ImportError("error parsing asymmetric key: RSA-PSS private keys are not supported");
  }
  if (!["rsa", "ec", "ed25519", "x25519", "x448"].includes(key.asymmetricKeyType ?? "")) {
    throw new ImportError(
      `error parsing asymmetric key: x509: PKCS#8 wrapping contained private key with unknown algorithm`,
    );
  }
  return key;
}

/** pem.Decode + x509.ParsePKIXPublicKey. */
function parsePublicPem(text: string): KeyObject {
  const block = pemDecode(text);
  if (block === null) throw new ImportError("error parsing public key: not in PEM format");
  let key: KeyObject;
  try {
    key = spkiKeyObject(block.der);
  } catch {
    throw new ImportError("error parsing public key: x509: failed to parse public key");
  }
  if (
    key.asymmetricKeyType === "ec" &&
    OPENSSL_CURVE[key.asymmetricKeyDetails?.namedCurve ?? ""] === undefined
  ) {
    throw new ImportError("error parsing public key: x509: unsupported elliptic curve");
  }
  return key;
}

/** KeyEntry.parseFromKey: fills `entry` from a parsed key after checking it fits the policy's type. */
function parseFromKey(type: KeyType, key: KeyObject, entry: KeyVersion): void {
  const wrongType = (): never => {
    throw new ImportError(`invalid key type: expected ${type}, got ${goTypeName(key)}`);
  };
  const kind = key.asymmetricKeyType;
  if (kind === "ec") {
    if (!isEcdsa(type)) wrongType();
    const expected = CURVE_NAME[type as EcdsaKeyType];
    const got = OPENSSL_CURVE[key.asymmetricKeyDetails?.namedCurve ?? ""] ?? "unknown";
    if (got !== expected) throw new ImportError(`invalid curve: expected ${expected}, got ${got}`);
    const pub = toPublicKeyObject(key);
    if (key.type === "private") entry.privateKey = key.export({ format: "der", type: "pkcs8" });
    entry.publicKey = pub.export({ format: "der", type: "spki" });
    entry.formattedPublicKey = pemEncode("PUBLIC KEY", entry.publicKey);
  } else if (kind === "ed25519") {
    if (type !== "ed25519") wrongType();
    const jwk = key.export({ format: "jwk" });
    const pub = Buffer.from(jwk.x ?? "", "base64url");
    if (key.type === "private") entry.key = Buffer.concat([Buffer.from(jwk.d ?? "", "base64url"), pub]);
    entry.formattedPublicKey = pub.toString("base64");
  } else if (kind === "rsa") {
    if (!isRsa(type)) wrongType();
    const want = rsaBits(type as Parameters<typeof rsaBits>[0]) / 8;
    const got = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    if (got !== want) throw new ImportError(`invalid key size: expected ${want} bytes, got ${got} bytes`);
    const pub = toPublicKeyObject(key);
    if (key.type === "private") entry.privateKey = key.export({ format: "der", type: "pkcs8" });
    entry.publicKey = pub.export({ format: "der", type: "spki" });
  } else {
    wrongType();
  }
}

/** A new version's entry from imported bytes (the KeyEntry part of ImportPublicOrPrivate). */
export function importedEntry(ring: Keyring, key: Uint8Array, isPrivateKey: boolean): KeyVersion {
  const type = ring.type;
  const entry: KeyVersion = { creationTime: nowRfc3339() };
  if (type !== "hmac") entry.hmacKey = randomBytes(32);
  if (type === "ed25519" && ring.derived && !isPrivateKey) {
    throw new ImportError(
      "unable to import only public key for derived Ed25519 key: imported key should not be an Ed25519 key pair but is instead an HKDF key",
    );
  }
  if (
    (isSymmetric(type) && key.length !== symmetricKeySize(type)) ||
    (type === "hmac" && !isHmacKeySize(key.length)) ||
    (rawAesKeySize(type) > 0 && key.length !== rawAesKeySize(type))
  ) {
    throw new ImportError(`invalid key size ${key.length} bytes for key type ${type}`);
  }
  if (isSymmetric(type) || type === "hmac" || rawAesKeySize(type) > 0) {
    entry.key = Buffer.from(key);
    if (type === "hmac") entry.hmacKey = entry.key;
    return entry;
  }
  const parsed = isPrivateKey ? parsePkcs8(key) : parsePublicPem(Buffer.from(key).toString("utf8"));
  parseFromKey(type, parsed, entry);
  return entry;
}

/**
 * keysutil Policy.ImportPublicOrPrivate: a private key for a latest version
 * that only has its public key completes that version; anything else
 * becomes a new latest version.
 */
export function withImportedKey(ring: Keyring, key: Uint8Array, isPrivateKey: boolean): Keyring {
  if (ring.softDeleted === true) throw new ImportError(ERR_SOFT_DELETED);
  if (ring.latestVersion > 0 && isPrivateKey) {
    const latest = ring.versions.get(ring.latestVersion);
    if (latest !== undefined && privateKeyMissing(latest) && importPublicKeySupported(ring.type)) {
      try {
        return withPrivateKeyForVersion(ring, ring.latestVersion, key);
      } catch (e) {
        if (!(e instanceof ImportError)) throw e;
        // Vault falls through to importing a new version.
      }
    }
  }
  const entry = importedEntry(ring, key, isPrivateKey);
  const next = cloneKeyring(ring);
  next.latestVersion += 1;
  next.versions.set(next.latestVersion, entry);
  if (next.type === "hmac") next.keySize = key.length;
  if (next.minDecryptionVersion === 0) next.minDecryptionVersion = 1;
  return next;
}

/** keysutil Policy.KeyVersionCanBeUpdated. */
export function checkVersionCanBeUpdated(ring: Keyring, version: number, isPrivateKey: boolean): void {
  const entry = ring.versions.get(version);
  if (entry === undefined) throw new ImportError("no such key version");
  if (!importPublicKeySupported(ring.type)) {
    throw new ImportError("provided type does not support importing key versions");
  }
  const missing = privateKeyMissing(entry);
  if (missing && !isPrivateKey) {
    throw new ImportError("cannot add a public key to a key version that already has a public key set");
  }
  if (!missing) throw new ImportError("private key imported, key version cannot be updated");
}

/** keysutil Policy.ImportPrivateKeyForVersion: the private key must match the version's public key. */
export function withPrivateKeyForVersion(ring: Keyring, version: number, key: Uint8Array): Keyring {
  if (ring.softDeleted === true) throw new ImportError(ERR_SOFT_DELETED);
  const entry = ring.versions.get(version);
  if (entry === undefined) throw new ImportError("no such key version");
  const parsed = parsePkcs8(key);
  const existing = publicKeyObject(entry);
  const publicOfParsed = toPublicKeyObject(parsed);
  if (existing === null || !existing.equals(publicOfParsed)) {
    throw new ImportError("cannot import key, key pair does not match");
  }
  const updated: KeyVersion = { ...entry };
  parseFromKey(ring.type, parsed, updated);
  const next = cloneKeyring(ring);
  next.versions.set(version, updated);
  return next;
}
