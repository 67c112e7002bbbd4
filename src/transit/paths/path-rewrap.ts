import { ErrorKind, invalidRequest, LogicalError } from "../../framework/errors.ts";
import type { FieldData } from "../../framework/fields.ts";
import { genericNameRegex, type PathDefinition } from "../../framework/path.ts";
import type { LogicalRequest, LogicalResponse } from "../../framework/request.ts";
import { mapInSlices } from "../../util/time-slice.ts";
import type { Keyring } from "../keyring/keyring.ts";
import { decrypt, encrypt, encryptionVersion } from "../keyring/symmetric.ts";
import type { TransitState } from "../state.ts";
import { CIPHER_KEY_VERSION_FIELD, CIPHER_NAME_FIELD } from "./cipher-fields.ts";
import {
  type CipherItem,
  ERR_NONCE_NOT_ALLOWED,
  itemOptions,
  nonceAllowed,
  predecodeItems,
  readCipherItems,
} from "./cipher-items.ts";

export function pathRewrap(t: TransitState): PathDefinition {
  return {
    pattern: `rewrap/${genericNameRegex("name")}`,
    fields: {
      ...CIPHER_NAME_FIELD,
      ciphertext: { type: "string", description: "Ciphertext value to rewrap" },
      context: {
        type: "string",
        description: "Base64 encoded context for key derivation. Required for derived keys.",
      },
      nonce: { type: "string", description: "Nonce for when convergent encryption is used" },
      decrypt_padding_scheme: {
        type: "string",
        description:
          "The padding scheme to use for decrypt. Valid schemes are oaep and pkcs1v15. Defaults to oaep.",
      },
      encrypt_padding_scheme: {
        type: "string",
        description:
          "The padding scheme to use for rewrap's encrypt step. Valid schemes are oaep and pkcs1v15. Defaults to oaep.",
      },
      ...CIPHER_KEY_VERSION_FIELD,
      batch_input: {
        type: "slice",
        description:
          "Specifies a list of items to be re-encrypted in a single batch. When this parameter is set, if the parameters 'ciphertext', 'context' and 'nonce' are also set, they will be ignored. Any batch output will preserve the order of the batch input.",
      },
    },
    operations: { update: (req, d) => rewrapHandler(t, req, d) },
    helpSynopsis: "Rewrap ciphertext",
    helpDescription:
      "After key rotation, this function can be used to rewrap the given ciphertext or a batch of given ciphertext blocks with the latest version of the named key. If the given ciphertext is already using the latest version of the key, this function is a no-op.",
  };
}

/**
 * As Vault's pathRewrapWrite: each item's own padding schemes, no associated
 * data, the nonce check before decrypting; an item's failure is recorded on
 * the item and a batch answers 200 whatever failed, except errors that are
 * not the caller's (Vault returns them, failing the request with 500).
 */
async function rewrapHandler(t: TransitState, req: LogicalRequest, d: FieldData): Promise<LogicalResponse> {
  const { items, batch } = await readCipherItems(d, "rewrap");
  await predecodeItems(items, "rewrap");
  const ring = await t.keyrings.get(req.storage, d.get<"string">("name"));
  if (ring === null) throw invalidRequest("encryption key not found");

  const results = await mapInSlices(items, (item, i) => {
    const result: Record<string, unknown> = {};
    const error = item.error ?? rewrapItem(ring, item, i, result);
    if (error !== undefined) result["error"] = error;
    if (batch) result["reference"] = item.reference;
    return result;
  });

  if (!batch) {
    const only = results[0] ?? {};
    if (typeof only["error"] === "string") throw invalidRequest(only["error"]);
    return { data: { ciphertext: only["ciphertext"], key_version: only["key_version"] } };
  }
  return { data: { batch_results: results } };
}

/** One item: fills `result` and returns undefined, or returns the item's error. */
function rewrapItem(ring: Keyring, item: CipherItem, i: number, result: Record<string, unknown>) {
  const decryptOpts = itemOptions(
    item,
    i,
    ring.type,
    { field: "decrypt_padding_scheme", value: item.decryptPaddingScheme },
    false,
  );
  if (typeof decryptOpts === "string") return decryptOpts;
  if (item.nonce !== "" && !nonceAllowed(ring)) return ERR_NONCE_NOT_ALLOWED;
  try {
    const plaintext = decrypt(ring, item.ciphertext, decryptOpts);
    const encryptOpts = itemOptions(
      item,
      i,
      ring.type,
      { field: "encrypt_padding_scheme", value: item.encryptPaddingScheme },
      false,
    );
    if (typeof encryptOpts === "string") return encryptOpts;
    result["ciphertext"] = encrypt(ring, item.keyVersion, plaintext, encryptOpts);
    result["key_version"] = encryptionVersion(ring, item.keyVersion);
    return undefined;
  } catch (e) {
    if (e instanceof LogicalError && isCallersError(e)) return e.message;
    throw e;
  }
}

/** errutil.UserError and Vault's other 400s; everything else fails the whole request. */
function isCallersError(e: LogicalError): boolean {
  return e.kind !== ErrorKind.Internal && e.kind !== ErrorKind.Unknown && e.kind !== ErrorKind.Unrecoverable;
}
