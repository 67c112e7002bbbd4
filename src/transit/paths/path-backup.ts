import { goError, invalidRequest } from "../../framework/errors.ts";
import { genericNameRegex, type PathDefinition } from "../../framework/path.ts";
import { KeyTypeNumberError } from "../keyring/backup-numbering.ts";
import { cloneKeyring, refuseSoftDeleted } from "../keyring/keyring.ts";
import { toVaultBackup } from "../keyring/vault-json.ts";
import type { TransitState } from "../state.ts";

/**
 * backup/:name: the key in the host engine's backup format (keysutil
 * Policy.Backup; Vault's or OpenBao's key type numbering), allowed only for keys that are both exportable and
 * allow_plaintext_backup. Like Vault, it records the backup on the key
 * (backup_info) before answering.
 */
export function pathBackup(t: TransitState): PathDefinition {
  return {
    pattern: `backup/${genericNameRegex("name")}`,
    fields: { name: { type: "string", description: "Name of the key" } },
    operations: {
      read: async (req, d) => {
        const name = d.get<"string">("name");
        return t.keyrings.exclusive(name, async () => {
          const ring = await t.keyrings.get(req.storage, name);
          // Plain errors in Vault (LockManager.BackupPolicy, Policy.Backup): 500.
          if (ring === null) throw goError(`key "${name}" not found`);
          refuseSoftDeleted(ring);
          if (!ring.exportable) throw goError("exporting is disallowed on the policy");
          if (!ring.allowPlaintextBackup) throw goError("plaintext backup is disallowed on the policy");
          const next = cloneKeyring(ring);
          next.backupInfo = { time: new Date(t.now()).toISOString(), version: ring.latestVersion };
          let backup: string;
          try {
            backup = toVaultBackup(next, t.hostEngine);
          } catch (e) {
            // A type the host's keysutil has no number for: its built-in transit could not restore it.
            if (e instanceof KeyTypeNumberError) throw invalidRequest(e.message);
            throw e;
          }
          await t.keyrings.store(req.storage, next);
          t.logger.info("key backed up", { key: name, version: ring.latestVersion });
          return { data: { backup } };
        });
      },
    },
    helpSynopsis: "Backup the named key",
    helpDescription: "This path is used to backup the named key.",
  };
}
