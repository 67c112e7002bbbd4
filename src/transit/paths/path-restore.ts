import { goError, invalidRequest } from "../../framework/errors.ts";
import { optionalParamRegex, type PathDefinition } from "../../framework/path.ts";
import { BackupFormatError, BackupTypeError, fromVaultBackup } from "../keyring/vault-json.ts";
import type { TransitState } from "../state.ts";

const KEY_NAME = /^\w(?:[\w.-]*\w)?$/;

/**
 * restore(/:name): a backup written by Vault, OpenBao or this engine (either
 * engine's key type numbering, told apart by the blob's content; see
 * keyring/backup-numbering.ts) becomes a key, under its own name or the
 * one given; an existing key is replaced only with force (keysutil
 * LockManager.RestorePolicy). The whole blob is checked before anything is
 * written.
 */
export function pathRestore(t: TransitState): PathDefinition {
  return {
    pattern: `restore${optionalParamRegex("name")}`,
    fields: {
      backup: {
        type: "string",
        description:
          "Backed up key data to be restored. This should be the output from the 'backup/' endpoint.",
      },
      name: { type: "string", description: "If set, this will be the name of the restored key." },
      force: {
        type: "bool",
        default: false,
        description:
          "If set and a key by the given name exists, force the restore operation and override the key.",
      },
    },
    operations: {
      update: async (req, d) => {
        const backup = d.get<"string">("backup");
        const force = d.get<"bool">("force");
        if (backup === "") throw invalidRequest("'backup' must be supplied");
        const requested = d.get<"string">("name");
        // Everything past the empty-backup check is a plain error in Vault (ErrInvalidKeyName,
        // LockManager.RestorePolicy): 500, as clients expect.
        if (requested.includes("/")) throw goError("key names cannot be paths");
        let ring: ReturnType<typeof fromVaultBackup>;
        try {
          ring = fromVaultBackup(backup, requested);
        } catch (e) {
          if (e instanceof BackupTypeError) throw invalidRequest(`invalid backup: ${e.message}`);
          if (e instanceof BackupFormatError) throw goError(`invalid backup: ${e.message}`);
          throw e;
        }
        const name = ring.name;
        if (!KEY_NAME.test(name)) throw goError("key names cannot be paths");
        await t.keyrings.exclusive(name, async () => {
          const existing = await t.keyrings.get(req.storage, name);
          if (existing !== null && !force) throw goError(`key "${name}" already exists`);
          ring.restoreInfo = { time: new Date(t.now()).toISOString(), version: ring.latestVersion };
          await t.keyrings.store(req.storage, ring);
        });
        t.logger.info("key restored", { key: name, version: ring.latestVersion, forced: force });
        return null;
      },
    },
    helpSynopsis: "Restore the named key",
    helpDescription: "This path is used to restore the named key.",
  };
}
