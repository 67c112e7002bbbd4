import { goError } from "../../framework/errors.ts";
import { cloneKeyring, type Keyring, type KeyVersion, refuseSoftDeleted } from "./keyring.ts";
import { generateKeyVersion } from "./material.ts";

/**
 * Keyring changes as pure steps: each returns a new keyring and leaves its
 * input untouched, so a failed write never leaves a half-changed keyring in
 * the cache.
 */

/** Adds a new latest version (keysutil Rotate / RotateInMemory). */
export async function rotated(ring: Keyring): Promise<Keyring> {
  refuseSoftDeleted(ring);
  if (ring.imported && !ring.allowImportedKeyRotation) {
    throw goError(`imported key ${ring.name} does not allow rotation within Vault`);
  }
  const next = cloneKeyring(ring);
  return withVersion(next, await generateKeyVersion(next), false);
}

/** Adds `entry` as the new latest version of a keyring clone. */
export function withVersion(next: Keyring, entry: KeyVersion, imported: boolean): Keyring {
  next.latestVersion += 1;
  next.versions.set(next.latestVersion, entry);
  if (next.minDecryptionVersion === 0) next.minDecryptionVersion = 1;
  if (next.convergentEncryption && next.convergentVersion === -1 && entry.convergentVersion !== undefined) {
    next.convergentVersion = entry.convergentVersion;
  }
  next.imported = imported;
  return next;
}

/**
 * Deletes versions below minAvailableVersion for good (path_trim). Returns an
 * error message for the caller's mistakes, in Vault's words.
 */
export function trimmed(ring: Keyring, minAvailableVersion: number): Keyring | string {
  switch (true) {
    case minAvailableVersion < ring.minAvailableVersion:
      return "minimum available version cannot be decremented";
    case ring.minEncryptionVersion === 0:
      return "minimum available version cannot be set when minimum encryption version is not set";
    case ring.minDecryptionVersion === 0:
      return "minimum available version cannot be set when minimum decryption version is not set";
    case minAvailableVersion > ring.minEncryptionVersion:
      return "minimum available version cannot be greater than minmum encryption version";
    case minAvailableVersion > ring.minDecryptionVersion:
      return "minimum available version cannot be greater than minimum decryption version";
    case minAvailableVersion < 0:
      return "minimum available version cannot be negative";
    case minAvailableVersion === 0:
      return "minimum available version should be positive";
  }
  const next = cloneKeyring(ring);
  for (const v of ring.versions.keys()) if (v < minAvailableVersion) next.versions.delete(v);
  next.minAvailableVersion = minAvailableVersion;
  return next;
}
