import { genericNameRegex, type PathDefinition } from "../../framework/path.ts";
import { addWarning, type LogicalRequest, type LogicalResponse } from "../../framework/request.ts";
import { cloneKeyring } from "../keyring/keyring.ts";
import type { TransitState } from "../state.ts";
import { formatKeyring } from "./format-key.ts";

const HELP_SYNOPSIS = "Managed named encryption keys";
const HELP_DESCRIPTION =
  "Keys can be soft deleted, preserving the current configuration, by calling DELETE /transit/keys/:name/soft-delete; this can be undone by calling UPDATE /transit/keys/:name/soft-delete-restore. While the key is in the soft deleted state, it cannot be used for any operations and update or rotate will not work.";

/**
 * OpenBao's keys/:name/soft-delete (DELETE) and keys/:name/soft-delete-restore
 * (UPDATE), transit path_keys.go: set or clear the flag, store the key, answer
 * with the key's read; a missing key answers nothing (204), a flag already in
 * that state a warning. While set, keysutil refuses every use of the key
 * (refuseSoftDeleted), rotation and backup included; reads, config and
 * trim still work.
 */
export function pathSoftDelete(t: TransitState): PathDefinition {
  return {
    pattern: `keys/${genericNameRegex("name")}/soft-delete$`,
    fields: { name: { type: "string", description: "Name of the key" } },
    operations: {
      delete: (req, d) =>
        setSoftDeleted(t, req, d.get<"string">("name"), true, "key was already marked as soft deleted"),
    },
    helpSynopsis: HELP_SYNOPSIS,
    helpDescription: HELP_DESCRIPTION,
  };
}

export function pathSoftDeleteRestore(t: TransitState): PathDefinition {
  return {
    pattern: `keys/${genericNameRegex("name")}/soft-delete-restore$`,
    fields: { name: { type: "string", description: "Name of the key" } },
    operations: {
      update: (req, d) => setSoftDeleted(t, req, d.get<"string">("name"), false, "key was already restored"),
    },
    helpSynopsis: HELP_SYNOPSIS,
    helpDescription: HELP_DESCRIPTION,
  };
}

async function setSoftDeleted(
  t: TransitState,
  req: LogicalRequest,
  name: string,
  deleted: boolean,
  unchangedWarning: string,
): Promise<LogicalResponse | null> {
  return t.keyrings.exclusive(name, async () => {
    const ring = await t.keyrings.get(req.storage, name);
    if (ring === null) return null;
    const unchanged = (ring.softDeleted === true) === deleted;
    const next = cloneKeyring(ring);
    if (deleted) next.softDeleted = true;
    else delete next.softDeleted;
    await t.keyrings.store(req.storage, next);
    const resp = formatKeyring(next);
    if (unchanged) addWarning(resp, unchangedWarning);
    return resp;
  });
}
