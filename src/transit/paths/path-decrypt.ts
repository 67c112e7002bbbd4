import { invalidRequest } from "../../framework/errors.ts";
import type { FieldData } from "../../framework/fields.ts";
import { genericNameRegex, type PathDefinition } from "../../framework/path.ts";
import type { LogicalRequest, LogicalResponse } from "../../framework/request.ts";
import { encodeStdBase64 } from "../../util/base64.ts";
import { decrypt } from "../keyring/symmetric.ts";
import type { TransitState } from "../state.ts";
import { batchResponse, singleItemError } from "./batch.ts";
import {
  CIPHER_ASSOCIATED_DATA_FIELD,
  CIPHER_HASH_ALGORITHM_FIELD,
  CIPHER_NAME_FIELD,
} from "./cipher-fields.ts";
import { itemOptions, predecodeItems, readCipherItems, runCipherItems } from "./cipher-items.ts";

export function pathDecrypt(t: TransitState): PathDefinition {
  return {
    pattern: `decrypt/${genericNameRegex("name")}`,
    fields: {
      ...CIPHER_NAME_FIELD,
      ciphertext: {
        type: "string",
        description: "The ciphertext to decrypt, provided as returned by encrypt.",
      },
      context: {
        type: "string",
        description: "Base64 encoded context for key derivation. Required if key derivation is enabled.",
      },
      nonce: {
        type: "string",
        description:
          "Base64 encoded nonce value used during encryption. Must be provided if convergent encryption is enabled for this key and the key was generated with Vault 0.6.1. Not required for keys created in 0.6.2+.",
      },
      padding_scheme: {
        type: "string",
        description:
          "The padding scheme to use for decrypt. Valid schemes are oaep and pkcs1v15. Defaults to oaep.",
      },
      ...CIPHER_HASH_ALGORITHM_FIELD,
      partial_failure_response_code: {
        type: "int",
        description:
          "Ordinarily, if a batch item fails to decrypt due to a bad input, but other batch items succeed, the HTTP response code is 400 (Bad Request). Providing the parameter returns the given response code integer instead of a 400 in this case. If all values fail HTTP 400 is still returned.",
      },
      ...CIPHER_ASSOCIATED_DATA_FIELD,
      batch_input: {
        type: "slice",
        description:
          "Specifies a list of items to be decrypted in a single batch. When this parameter is set, if the parameters 'ciphertext' and 'context' are also set, they will be ignored. Any batch output will preserve the order of the batch input.",
      },
    },
    operations: { update: (req, d) => decryptHandler(t, req, d) },
    helpSynopsis: "Decrypt a ciphertext value using a named key",
    helpDescription:
      "This path uses the named key from the request path to decrypt a user provided ciphertext. The plaintext is returned base64 encoded.",
  };
}

async function decryptHandler(t: TransitState, req: LogicalRequest, d: FieldData): Promise<LogicalResponse> {
  const { items, batch } = await readCipherItems(d, "decrypt");
  await predecodeItems(items, "decrypt");
  const ring = await t.keyrings.get(req.storage, d.get<"string">("name"));
  if (ring === null) throw invalidRequest("encryption key not found");

  const { results, outcome } = await runCipherItems(items, batch, (item, i, result) => {
    const opts = itemOptions(item, i, ring.type);
    if (typeof opts === "string") return opts;
    result["plaintext"] = encodeStdBase64(decrypt(ring, item.ciphertext, opts));
    return undefined;
  });

  if (!batch) {
    const only = results[0] ?? {};
    if (typeof only["error"] === "string") throw singleItemError(outcome, only["error"]);
    return batchResponse(d, { data: { plaintext: only["plaintext"] } }, outcome);
  }
  return batchResponse(d, { data: { batch_results: results } }, outcome);
}
