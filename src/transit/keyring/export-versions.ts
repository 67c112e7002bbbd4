import { invalidRequest } from "../../framework/errors.ts";
import type { Keyring } from "./keyring.ts";

/**
 * The versions an export covers: every version Vault keeps in the policy
 * (from min_decryption_version), or the one named ("latest", "3", "v3").
 */
export function exportVersions(ring: Keyring, version: string): number[] {
  if (version === "") {
    return [...ring.versions.keys()].filter((v) => v >= ring.minDecryptionVersion).sort((a, b) => a - b);
  }
  let value: number;
  if (version === "latest") {
    value = ring.latestVersion;
  } else {
    const text = version.startsWith("v") ? version.slice(1) : version;
    if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(Number(text)))
      throw invalidRequest("invalid key version");
    value = Number(text);
  }
  if (value < ring.minDecryptionVersion) {
    throw invalidRequest("version for export is below minimum decryption version");
  }
  if (!ring.versions.has(value)) throw invalidRequest("version does not exist or cannot be found");
  return [value];
}
