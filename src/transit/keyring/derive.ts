import { counterModeHmacSha256, hkdfSha256 } from "../../crypto/kdf.ts";
import { internalError, userError } from "../../framework/errors.ts";
import { derivationSupported } from "./key-types.ts";
import { KDF_HKDF_SHA256, KDF_HMAC_SHA256_COUNTER, type Keyring, type KeyVersion } from "./keyring.ts";

export const MISSING_CONTEXT =
  "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";

/** The version's entry, or Vault's "no such key version". */
export function keyEntry(ring: Keyring, version: number): KeyVersion {
  const entry = ring.versions.get(version);
  if (entry === undefined) throw userError("no such key version");
  return entry;
}

/**
 * The key bytes for a version (keysutil GetKey): the stored key, or for a
 * derived keyring one derived from it with the context.
 */
export function getKey(
  ring: Keyring,
  context: Uint8Array | undefined,
  version: number,
  numBytes: number,
): Uint8Array {
  if (!ring.derived) {
    const key = keyEntry(ring, version).key;
    if (key === undefined) throw internalError("unable to access the key; no key material");
    return key;
  }
  return deriveKey(ring, context, version, numBytes);
}

/** keysutil DeriveKey with a nil salt. */
export function deriveKey(
  ring: Keyring,
  context: Uint8Array | undefined,
  version: number,
  numBytes: number,
): Uint8Array {
  if (!derivationSupported(ring.type)) throw userError(`derivation not supported for key type ${ring.type}`);
  if (ring.latestVersion === 0) throw internalError("unable to access the key; no key versions found");
  if (version <= 0 || version > ring.latestVersion) throw userError("invalid key version");
  if (context === undefined || context.length === 0) throw userError(MISSING_CONTEXT);
  const key = keyEntry(ring, version).key;
  if (key === undefined) throw internalError("unable to access the key; no key material");
  switch (ring.kdf) {
    case KDF_HMAC_SHA256_COUNTER:
      return counterModeHmacSha256(key, context, 256);
    case KDF_HKDF_SHA256:
      // Any context length: Go's hkdf takes any info, where node's hkdfSync refuses more than 1024 bytes.
      return hkdfSha256(key, context, numBytes);
    default:
      throw internalError("unsupported key derivation mode");
  }
}
