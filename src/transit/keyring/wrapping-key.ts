import type { Storage } from "../../framework/storage.ts";
import type { Logger } from "../../util/logger.ts";
import { type Keyring, newKeyring } from "./keyring.ts";
import type { KeyringManager } from "./manager.ts";
import { generateKeyVersion } from "./material.ts";
import { withVersion } from "./operations.ts";

/** Vault's name for the BYOK wrapping key: stored as the policy "import/wrapping-key". */
export const WRAPPING_KEY_NAME = "import/wrapping-key";

/**
 * The mount's RSA-4096 wrapping key (transit getWrappingKey): made once, on
 * first use, under the key lock, and stored like any key at Vault's path
 * (policy/import/wrapping-key). No key path reaches it: key names cannot
 * contain a slash.
 */
export async function getWrappingKey(
  keyrings: KeyringManager,
  storage: Storage,
  logger: Logger,
): Promise<Keyring> {
  const existing = await keyrings.get(storage, WRAPPING_KEY_NAME);
  if (existing !== null) return existing;
  return keyrings.exclusive(WRAPPING_KEY_NAME, async () => {
    const again = await keyrings.get(storage, WRAPPING_KEY_NAME);
    if (again !== null) return again;
    const ring = newKeyring({ name: WRAPPING_KEY_NAME, type: "rsa-4096" });
    const next = withVersion(ring, await generateKeyVersion(ring), false);
    await keyrings.store(storage, next);
    logger.info("BYOK wrapping key generated", { key: WRAPPING_KEY_NAME });
    return next;
  });
}

/** The wrapping key if it was ever made, without making it. */
export function peekWrappingKey(keyrings: KeyringManager, storage: Storage): Promise<Keyring | null> {
  return keyrings.get(storage, WRAPPING_KEY_NAME);
}
