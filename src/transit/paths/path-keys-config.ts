import { invalidRequest } from "../../framework/errors.ts";
import type { FieldData } from "../../framework/fields.ts";
import { genericNameRegex, type PathDefinition } from "../../framework/path.ts";
import {
  addWarning,
  errorResponse,
  type LogicalRequest,
  type LogicalResponse,
} from "../../framework/request.ts";
import { cloneKeyring } from "../keyring/keyring.ts";
import type { TransitState } from "../state.ts";
import { formatKeyring } from "./format-key.ts";

export function pathKeysConfig(t: TransitState): PathDefinition {
  return {
    pattern: `keys/${genericNameRegex("name")}/config`,
    fields: {
      name: { type: "string", description: "Name of the key" },
      min_decryption_version: {
        type: "int",
        description:
          "If set, the minimum version of the key allowed to be decrypted. For signing keys, the minimum version allowed to be used for verification.",
      },
      min_encryption_version: {
        type: "int",
        description:
          "If set, the minimum version of the key allowed to be used for encryption; or for signing keys, to be used for signing. If set to zero, only the latest version of the key is allowed.",
      },
      deletion_allowed: { type: "bool", description: "Whether to allow deletion of the key" },
      exportable: {
        type: "bool",
        description: "Enables export of the key. Once set, this cannot be disabled.",
      },
      allow_plaintext_backup: {
        type: "bool",
        description:
          "Enables taking a backup of the named key in plaintext format. Once set, this cannot be disabled.",
      },
      auto_rotate_period: {
        type: "duration_second",
        description:
          "Amount of time the key should live before being automatically rotated. A value of 0 disables automatic rotation for the key.",
      },
    },
    operations: { update: (req, d) => configureKey(t, req, d) },
    helpSynopsis: "Configure a named encryption key",
    helpDescription:
      "This path is used to configure the named key. Currently, this supports adjusting the minimum version of the key allowed to be used for decryption via the min_decryption_version parameter.",
  };
}

async function configureKey(t: TransitState, req: LogicalRequest, d: FieldData): Promise<LogicalResponse> {
  const name = d.get<"string">("name");
  return t.keyrings.exclusive(name, async () => {
    const current = await t.keyrings.get(req.storage, name);
    if (current === null) throw invalidRequest(`no existing key named ${name} could be found`);
    const p = cloneKeyring(current);
    let warning = "";
    let persistNeeded = false;

    const [minDecRaw, minDecGiven] = d.getOk("min_decryption_version");
    if (minDecGiven) {
      let minDec = minDecRaw as number;
      if (minDec < 0) return errorResponse("min decryption version cannot be negative");
      if (minDec === 0) {
        minDec = 1;
        warning = "since Vault 0.3, transit key numbering starts at 1; forcing minimum to 1";
      }
      if (minDec !== p.minDecryptionVersion) {
        if (minDec > p.latestVersion) {
          return errorResponse(
            `cannot set min decryption version of ${minDec}, latest key version is ${p.latestVersion}`,
          );
        }
        p.minDecryptionVersion = minDec;
        persistNeeded = true;
      }
    }

    const [minEncRaw, minEncGiven] = d.getOk("min_encryption_version");
    if (minEncGiven) {
      const minEnc = minEncRaw as number;
      if (minEnc < 0) return errorResponse("min encryption version cannot be negative");
      if (minEnc !== p.minEncryptionVersion) {
        if (minEnc > p.latestVersion) {
          return errorResponse(
            `cannot set min encryption version of ${minEnc}, latest key version is ${p.latestVersion}`,
          );
        }
        p.minEncryptionVersion = minEnc;
        persistNeeded = true;
      }
    }

    if (p.minEncryptionVersion > 0 && p.minEncryptionVersion < p.minDecryptionVersion) {
      return errorResponse(
        `cannot set min encryption/decryption values; min encryption version of ${p.minEncryptionVersion} must be greater than or equal to min decryption version of ${p.minDecryptionVersion}`,
      );
    }

    const [deletionRaw, deletionGiven] = d.getOk("deletion_allowed");
    if (deletionGiven && deletionRaw !== p.deletionAllowed) {
      p.deletionAllowed = deletionRaw as boolean;
      persistNeeded = true;
    }
    if (p.minDecryptionVersion === 0) {
      p.minDecryptionVersion = 1;
      persistNeeded = true;
    }
    const [exportableRaw, exportableGiven] = d.getOk("exportable");
    if (exportableGiven && exportableRaw === true && !p.exportable) {
      p.exportable = true;
      persistNeeded = true;
    }
    const [backupRaw, backupGiven] = d.getOk("allow_plaintext_backup");
    if (backupGiven && backupRaw === true && !p.allowPlaintextBackup) {
      p.allowPlaintextBackup = true;
      persistNeeded = true;
    }
    const [periodRaw, periodGiven] = d.getOk("auto_rotate_period");
    if (periodGiven) {
      const period = periodRaw as number;
      if (period !== 0 && period < 3600)
        return errorResponse("auto rotate period must be 0 to disable or at least an hour");
      if (period !== p.autoRotatePeriod) {
        p.autoRotatePeriod = period;
        persistNeeded = true;
      }
    }

    if (!persistNeeded) {
      const resp = formatKeyring(current);
      if (warning !== "") addWarning(resp, warning);
      return resp;
    }
    if (p.minAvailableVersion > p.minEncryptionVersion) {
      return errorResponse("min encryption version should not be less than min available version");
    }
    if (p.minAvailableVersion > p.minDecryptionVersion) {
      return errorResponse("min decryption version should not be less then min available version");
    }
    await t.keyrings.store(req.storage, p);
    const resp = formatKeyring(p);
    if (warning !== "") addWarning(resp, warning);
    return resp;
  });
}
