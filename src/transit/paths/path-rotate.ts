import { invalidRequest } from "../../framework/errors.ts";
import { genericNameRegex, type PathDefinition } from "../../framework/path.ts";
import { rotated } from "../keyring/operations.ts";
import type { TransitState } from "../state.ts";
import { formatKeyring } from "./format-key.ts";

export function pathRotate(t: TransitState): PathDefinition {
  return {
    pattern: `keys/${genericNameRegex("name")}/rotate`,
    fields: {
      name: { type: "string", description: "Name of the key" },
      managed_key_name: {
        type: "string",
        description: "The name of the managed key to use for the new version of this transit key",
      },
      managed_key_id: {
        type: "string",
        description: "The UUID of the managed key to use for the new version of this transit key",
      },
    },
    operations: {
      update: async (req, d) => {
        const name = d.get<"string">("name");
        return t.keyrings.exclusive(name, async () => {
          const ring = await t.keyrings.get(req.storage, name);
          if (ring === null) throw invalidRequest("key not found");
          const next = await rotated(ring);
          await t.keyrings.store(req.storage, next);
          return formatKeyring(next);
        });
      },
    },
    helpSynopsis: "Rotate named encryption key",
    helpDescription:
      "This path is used to rotate the named key. After rotation, new encryption requests using this name will use the new key, but decryption will still be supported for older versions.",
  };
}
