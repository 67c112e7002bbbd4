/**
 * Creating a key on first use (keysutil GetPolicy with Upsert): keys/:name
 * and encrypt/:name both create the key they are asked for when it is absent.
 */
import type { Storage } from "../../framework/storage.ts";
import { type Keyring, type KeyringConfig, newKeyring } from "./keyring.ts";
import type { KeyringManager } from "./manager.ts";
import { rotated } from "./operations.ts";

/** Creates the key unless it exists (keysutil GetPolicy with Upsert), under the key's exclusive lock. */
export async function upsertKey(
  keyrings: KeyringManager,
  storage: Storage,
  config: KeyringConfig,
): Promise<{ ring: Keyring; created: boolean }> {
  return keyrings.exclusive(config.name, async () => {
    const existing = await keyrings.get(storage, config.name);
    if (existing !== null) return { ring: existing, created: false };
    const ring = await rotated(newKeyring(config));
    await keyrings.store(storage, ring);
    return { ring, created: true };
  });
}
