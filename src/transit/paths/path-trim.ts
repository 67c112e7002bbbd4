import { invalidRequest } from "../../framework/errors.ts";
import { genericNameRegex, type PathDefinition } from "../../framework/path.ts";
import { errorResponse } from "../../framework/request.ts";
import { trimmed } from "../keyring/operations.ts";
import type { TransitState } from "../state.ts";
import { formatKeyring } from "./format-key.ts";

export function pathTrim(t: TransitState): PathDefinition {
  return {
    pattern: `keys/${genericNameRegex("name")}/trim`,
    fields: {
      name: { type: "string", description: "Name of the key" },
      min_available_version: {
        type: "int",
        description:
          "The minimum available version for the key ring. All versions before this version will be permanently deleted. This value can at most be equal to the lesser of 'min_decryption_version' and 'min_encryption_version'. This is not allowed to be set when either 'min_encryption_version' or 'min_decryption_version' is set to zero.",
      },
    },
    operations: {
      update: async (req, d) => {
        const name = d.get<"string">("name");
        return t.keyrings.exclusive(name, async () => {
          const ring = await t.keyrings.get(req.storage, name);
          if (ring === null) throw invalidRequest("invalid key name");
          const [raw, given] = d.getOk("min_available_version");
          if (!given) return errorResponse("missing min_available_version");
          const next = trimmed(ring, raw as number);
          if (typeof next === "string") return errorResponse(next);
          await t.keyrings.store(req.storage, next);
          return formatKeyring(next);
        });
      },
    },
    helpSynopsis: "Trim key versions of a named key",
    helpDescription:
      "This path is used to trim key versions of a named key. Trimming only happens from the lower end of version numbers.",
  };
}
