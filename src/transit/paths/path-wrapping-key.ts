import { pemEncode } from "../../crypto/keys.ts";
import { internalError } from "../../framework/errors.ts";
import type { PathDefinition } from "../../framework/path.ts";
import type { Storage } from "../../framework/storage.ts";
import { publicKeyObject } from "../keyring/asymmetric.ts";
import { type Keyring, newKeyring } from "../keyring/keyring.ts";
import { generateKeyVersion } from "../keyring/material.ts";
import { withVersion } from "../keyring/operations.ts";
import type { TransitState } from "../state.ts";

/** Vault's name for the BYOK wrapping key: stored as the policy "import/wrapping-key". */
export const WRAPPING_KEY_NAME = "import/wrapping-key";

/**
 * The mount's RSA-4096 wrapping key (transit getWrappingKey): made once, on
 * first use, under the key lock, and stored like any key at Vault's path
 * (policy/import/wrapping-key). No key path reaches it: key names cannot
 * contain a slash.
 */
export async function getWrappingKey(t: TransitState, storage: Storage): Promise<Keyring> {
  const existing = await t.keyrings.get(storage, WRAPPING_KEY_NAME);
  if (existing !== null) return existing;
  return t.keyrings.exclusive(WRAPPING_KEY_NAME, async () => {
    const again = await t.keyrings.get(storage, WRAPPING_KEY_NAME);
    if (again !== null) return again;
    const ring = newKeyring({ name: WRAPPING_KEY_NAME, type: "rsa-4096" });
    const next = withVersion(ring, await generateKeyVersion(ring), false);
    await t.keyrings.store(storage, next);
    t.logger.info("BYOK wrapping key generated", { key: WRAPPING_KEY_NAME });
    return next;
  });
}

/** The wrapping key if it was ever made, without making it. */
export function peekWrappingKey(t: TransitState, storage: Storage): Promise<Keyring | null> {
  return t.keyrings.get(storage, WRAPPING_KEY_NAME);
}

/** wrapping_key: the PKIX "PUBLIC KEY" PEM of the wrapping key (pem.EncodeToMemory, trailing newline). */
export function pathWrappingKey(t: TransitState): PathDefinition {
  return {
    pattern: "wrapping_key$",
    operations: {
      read: async (req) => {
        const ring = await getWrappingKey(t, req.storage);
        const entry = ring.versions.get(ring.latestVersion);
        const pub = entry === undefined ? null : publicKeyObject(entry);
        if (pub === null) throw internalError("error retrieving wrapping key: returned policy was nil");
        return { data: { public_key: pemEncode("PUBLIC KEY", pub.export({ format: "der", type: "spki" })) } };
      },
    },
    helpSynopsis: "Returns the public key to use for wrapping imported keys",
    helpDescription:
      "This path is used to retrieve the RSA-4096 wrapping key for wrapping keys that are being imported into transit.",
  };
}
