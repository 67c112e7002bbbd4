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
        const config = await t.readKeysConfig(req.storage);
        const [raw, given] = d.getOk("disable_upsert");
        if (given) config.disable_upsert = raw as boolean;
        await req.storage.put(jsonEntry(CONFIG_KEYS_PATH, config));
        return { data: { ...config } };
      },
      read: async (req) => ({ data: { ...(await t.readKeysConfig(req.storage)) } }),
    },
    helpSynopsis: "Configuration common across all keys",
    helpDescription:
      "This path is used to configure common functionality across all keys. Currently, this supports limiting the ability to automatically create new keys when an unknown key is used for encryption (upsert).",
  };
}
