import { NONCE_SIZE, open, seal, sealTransient } from "../../crypto/aead.ts";
import type { HashAlgorithm } from "../../crypto/hash.ts";
import { hmac } from "../../crypto/hash.ts";
import { convergentNonce } from "../../crypto/kdf.ts";
import { randomPooled } from "../../crypto/random-pool.ts";
import { rsaDecrypt as rsaDecryptRaw, rsaEncrypt as rsaEncryptRaw } from "../../crypto/rsa.ts";
import { openX, randomXNonce, sealX, XNONCE_SIZE } from "../../crypto/xchacha.ts";
import { internalError, userError } from "../../framework/errors.ts";
import { decodeStdBase64, encodeStdBase64 } from "../../util/base64.ts";
import { getKey, keyEntry } from "./derive.ts";
import {
  decryptionSupported,
  encryptionSupported,
  isCbc,
  isRsa,
  isSymmetric,
  type SymmetricKeyType,
} from "./key-types.ts";
import {
  CURRENT_CONVERGENT_VERSION,
  convergentVersionOf,
  type Keyring,
  refuseSoftDeleted,
  versionPrefix,
} from "./keyring.ts";
import { isRawAesCipher, openRawAes, sealRawAes } from "./raw-aes-cipher.ts";

export const ERR_TOO_OLD = "ciphertext or signature version is disallowed by policy (too old)";

export type PaddingScheme = "oaep" | "pkcs1v15";

export interface CipherOptions {
  /** Derivation context (derived keys). */
  context?: Uint8Array | undefined;
  /** Caller nonce: only convergent version 1 keys use one. */
  nonce?: Uint8Array | undefined;
  associatedData?: Uint8Array | undefined;
  paddingScheme?: PaddingScheme | undefined;
  /** AES-CBC only: the caller's 16-byte IV (encrypt). */
  iv?: Uint8Array | undefined;
  /** RSA OAEP's hash (MGF1 and label alike); SHA-256 when absent. */
  oaepHash?: HashAlgorithm | undefined;
}

/** The version encrypt uses for a requested key_version (0 = latest), with Vault's errors. */
export function encryptionVersion(ring: Keyring, requested: number): number {
  if (requested === 0) return ring.latestVersion;
  if (requested < 0) throw userError("requested version for encryption is negative");
  if (requested > ring.latestVersion) {
    throw userError("requested version for encryption is higher than the latest key version");
  }
  if (requested < ring.minEncryptionVersion) {
    throw userError("requested version for encryption is less than the minimum encryption key version");
  }
  return requested;
}

/** keysutil EncryptWithFactory: `vault:vN:` + base64 of the sealed bytes. */
export function encrypt(
  ring: Keyring,
  requestedVersion: number,
  plaintext: Uint8Array,
  opts: CipherOptions,
): string {
  refuseSoftDeleted(ring);
  if (!encryptionSupported(ring.type))
    throw userError(`message encryption not supported for key type ${ring.type}`);
  const version = encryptionVersion(ring, requestedVersion);
  if (opts.iv !== undefined && !isCbc(ring.type)) {
    throw userError(`iv is only supported for AES-CBC keys, not ${ring.type}`);
  }
  let sealed: Uint8Array;
  if (isSymmetric(ring.type)) {
    sealed = sealSymmetric(ring, ring.type, version, plaintext, opts);
  } else if (isRsa(ring.type)) {
    sealed = rsaEncrypt(ring, version, plaintext, opts.paddingScheme ?? "oaep", opts.oaepHash);
  } else if (isRawAesCipher(ring.type)) {
    sealed = sealRawAes(ring, version, plaintext, opts);
  } else {
    throw internalError(`unsupported key type ${ring.type}`);
  }
  return versionPrefix(version) + encodeStdBase64(sealed);
}

function sealSymmetric(
  ring: Keyring,
  alg: SymmetricKeyType,
  version: number,
  plaintext: Uint8Array,
  opts: CipherOptions,
): Uint8Array {
  const encBytes = alg === "aes128-gcm96" ? 16 : 32;
  const convergentVersion = convergentVersionOf(ring, version);
  const nonceGiven = opts.nonce !== undefined && opts.nonce.length > 0;
  let hmacBytes = 0;
  if (convergentVersion > 2) {
    hmacBytes = 32;
    if (nonceGiven) throw userError("nonce provided when not allowed");
  } else if (nonceGiven && (!ring.convergentEncryption || convergentVersion !== 1)) {
    throw userError("nonce provided when not allowed");
  }
  const key = getKey(ring, opts.context, version, encBytes + hmacBytes);
  if (key.length < encBytes + hmacBytes) throw internalError("could not derive key, length too small");
  // A view only when there is more than the AES key (convergent v3 carries its HMAC key after it).
  const encKey = key.length === encBytes ? key : key.subarray(0, encBytes);

  if (alg === "xchacha20-poly1305") return sealXChaCha(ring, version, encKey, key, plaintext, opts);
  if (!ring.convergentEncryption) {
    // encrypt() base64-encodes the sealed bytes at once: large messages reuse one output buffer.
    return sealTransient(alg, encKey, randomPooled(NONCE_SIZE), plaintext, opts.associatedData);
  }
  let nonce: Uint8Array;
  switch (convergentVersion) {
    case 1:
      if (opts.nonce === undefined || opts.nonce.length !== NONCE_SIZE) {
        throw userError(
          `base64-decoded nonce must be ${NONCE_SIZE} bytes long when using convergent encryption with this key`,
        );
      }
      // Version 1 leaves the nonce out of the ciphertext: the caller keeps it.
      return seal(alg, encKey, opts.nonce, plaintext, opts.associatedData, false);
    case 2:
    case 3: {
      const hmacKey = convergentVersion === 3 ? key.subarray(encBytes) : opts.context;
      if (hmacKey === undefined || hmacKey.length === 0)
        throw internalError("invalid hmac key length of zero");
      nonce = convergentNonce(hmacKey, plaintext);
      return seal(alg, encKey, nonce, plaintext, opts.associatedData);
    }
    default:
      throw internalError(`unhandled convergent version ${convergentVersion}`);
  }
}

/**
 * OpenBao's xchacha20-poly1305 (keysutil SymmetricEncryptRaw with NewX):
 * a random 192-bit nonce, or for convergent keys (only scheme 3 exists for
 * this type) the first 24 bytes of HMAC-SHA256(derived HMAC key, plaintext).
 */
function sealXChaCha(
  ring: Keyring,
  version: number,
  encKey: Uint8Array,
  key: Uint8Array,
  plaintext: Uint8Array,
  opts: CipherOptions,
): Uint8Array {
  if (!ring.convergentEncryption) return sealX(encKey, randomXNonce(), plaintext, opts.associatedData);
  const convergentVersion = convergentVersionOf(ring, version);
  if (convergentVersion !== CURRENT_CONVERGENT_VERSION) {
    throw userError(
      `refusing to support decryption with old convergent encryption key: version ${convergentVersion}`,
    );
  }
  const nonce = hmac("sha2-256", key.subarray(32), plaintext).subarray(0, XNONCE_SIZE);
  return sealX(encKey, nonce, plaintext, opts.associatedData);
}

/** Splits "vault:vN:payload" with Vault's error messages; returns the version and the base64 payload. */
export function parseVersioned(value: string): { version: number; payload: string } {
  if (!value.startsWith("vault:v")) throw userError("invalid ciphertext: no prefix");
  const rest = value.slice("vault:v".length);
  const colon = rest.indexOf(":");
  if (colon === -1) throw userError("invalid ciphertext: wrong number of fields");
  const versionText = rest.slice(0, colon);
  if (!/^[+-]?\d+$/.test(versionText) || !Number.isSafeInteger(Number(versionText))) {
    throw userError("invalid ciphertext: version number could not be decoded");
  }
  return { version: Number(versionText), payload: rest.slice(colon + 1) };
}

/** keysutil DecryptWithFactory: the plaintext bytes of a `vault:vN:` ciphertext. */
export function decrypt(ring: Keyring, value: string, opts: CipherOptions): Buffer {
  refuseSoftDeleted(ring);
  if (!decryptionSupported(ring.type))
    throw userError(`message decryption not supported for key type ${ring.type}`);
  const parsed = parseVersioned(value);
  const version = parsed.version === 0 ? 1 : parsed.version;
  if (version > ring.latestVersion) throw userError("invalid ciphertext: version is too new");
  if (ring.minDecryptionVersion > 0 && version < ring.minDecryptionVersion) throw userError(ERR_TOO_OLD);
  const convergentVersion = convergentVersionOf(ring, version);
  if (convergentVersion === 1 && (opts.nonce === undefined || opts.nonce.length === 0)) {
    throw userError("invalid convergent nonce supplied");
  }
  const decoded = decodeStdBase64(parsed.payload);
  if (decoded === null) throw userError("invalid ciphertext: could not decode base64");

  if (isRsa(ring.type))
    return rsaDecrypt(ring, version, decoded, opts.paddingScheme ?? "oaep", opts.oaepHash);
  if (isRawAesCipher(ring.type)) {
    const plain = openRawAes(ring, version, decoded, opts);
    return Buffer.from(plain.buffer, plain.byteOffset, plain.length);
  }
  if (!isSymmetric(ring.type)) throw internalError(`unsupported key type ${ring.type}`);

  const encKey = getKey(ring, opts.context, version, ring.type === "aes128-gcm96" ? 16 : 32);
  if (ring.convergentEncryption && convergentVersion > 0 && convergentVersion < 1) {
    throw userError(
      `refusing to support decryption with old convergent encryption key: version ${convergentVersion}`,
    );
  }
  if (ring.type === "xchacha20-poly1305") {
    if (decoded.length < XNONCE_SIZE) throw userError("invalid ciphertext length");
    const plain = openX(
      encKey,
      decoded.subarray(0, XNONCE_SIZE),
      decoded.subarray(XNONCE_SIZE),
      opts.associatedData,
    );
    if (plain === null) throw userError("chacha20poly1305: message authentication failed");
    return plain;
  }
  let nonce: Uint8Array;
  let body: Uint8Array;
  if (ring.convergentEncryption && convergentVersion === 1) {
    nonce = opts.nonce ?? new Uint8Array(0);
    body = decoded;
  } else {
    if (decoded.length < NONCE_SIZE) throw userError("invalid ciphertext length");
    nonce = decoded.subarray(0, NONCE_SIZE);
    body = decoded.subarray(NONCE_SIZE);
  }
  const plain = open(
    ring.type,
    encKey.length === (ring.type === "aes128-gcm96" ? 16 : 32)
      ? encKey
      : encKey.subarray(0, ring.type === "aes128-gcm96" ? 16 : 32),
    nonce,
    body,
    opts.associatedData,
  );
  if (plain === null) throw userError("cipher: message authentication failed");
  return plain;
}

export { CURRENT_CONVERGENT_VERSION };

function rsaEncrypt(
  ring: Keyring,
  version: number,
  plaintext: Uint8Array,
  padding: PaddingScheme,
  oaepHash: HashAlgorithm = "sha2-256",
): Buffer {
  const entry = keyEntry(ring, version);
  const der = entry.publicKey;
  if (der === undefined) throw internalError("key version has no public key");
  try {
    return rsaEncryptRaw(der, plaintext, padding, oaepHash);
  } catch {
    throw internalError("failed to RSA encrypt the plaintext: message too long for RSA key size");
  }
}

function rsaDecrypt(
  ring: Keyring,
  version: number,
  ciphertext: Uint8Array,
  padding: PaddingScheme,
  oaepHash: HashAlgorithm = "sha2-256",
): Buffer {
  const entry = keyEntry(ring, version);
  if (entry.privateKey === undefined) {
    throw internalError("cannot decrypt ciphertext, key version does not have a private counterpart");
  }
  // PKCS #1 v1.5 goes through crypto/rsa's own unpadding: Node 20 refuses
  // RSA_PKCS1_PADDING in privateDecrypt (CVE-2023-46809).
  const plain = rsaDecryptRaw(entry.privateKey, ciphertext, padding, oaepHash);
  if (plain === null)
    throw internalError("failed to RSA decrypt the ciphertext: crypto/rsa: decryption error");
  return plain;
}
