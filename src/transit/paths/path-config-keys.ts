import type { PathDefinition } from "../../framework/path.ts";
import { CONFIG_KEYS_PATH, jsonEntry, type TransitState } from "../state.ts";

export function pathConfigKeys(t: TransitState): PathDefinition {
  return {
    pattern: "config/keys",
    fields: {
      disable_upsert: {
        type: "bool",
        description: "Whether to allow automatic upserting (creation) of keys on the encrypt endpoint.",
      },
    },
    operations: {
      update: async (req, d) => {
        // As Vault's pathConfigKeysWrite: the field's value (false when absent) replaces the
        // stored one, and storage is written only when that changes it.
        const config = await t.readKeysConfig(req.storage);
        const disableUpsert = d.get<"bool">("disable_upsert");
        if (config.disable_upsert !== disableUpsert) {
          config.disable_upsert = disableUpsert;
          await req.storage.put(jsonEntry(CONFIG_KEYS_PATH, config));
        }
        return { data: { ...config } };
      },
      read: async (req) => ({ data: { ...(await t.readKeysConfig(req.storage)) } }),
    },
    helpSynopsis: "Configuration common across all keys",
    helpDescription:
      "This path is used to configure common functionality across all keys. Currently, this supports limiting the ability to automatically create new keys when an unknown key is used for encryption (upsert).",
  };
}
