import { invalidRequest } from "../../framework/errors.ts";
import type { FieldData } from "../../framework/fields.ts";
import { genericNameRegex, type PathDefinition } from "../../framework/path.ts";
import {
  addWarning,
  errorResponse,
  type LogicalRequest,
  type LogicalResponse,
} from "../../framework/request.ts";
import type { KeyType } from "../keyring/key-types.ts";
import type { Keyring } from "../keyring/keyring.ts";
import { encrypt, encryptionVersion } from "../keyring/symmetric.ts";
import { upsertKey } from "../keyring/upsert.ts";
import type { TransitState } from "../state.ts";
import { batchResponse, singleItemError } from "./batch.ts";
import {
  CIPHER_ASSOCIATED_DATA_FIELD,
  CIPHER_HASH_ALGORITHM_FIELD,
  CIPHER_KEY_VERSION_FIELD,
  CIPHER_NAME_FIELD,
} from "./cipher-fields.ts";
import {
  ERR_NONCE_NOT_ALLOWED,
  itemOptions,
  nonceAllowed,
  predecodeItems,
  readCipherItems,
  runCipherItems,
} from "./cipher-items.ts";

const UPSERT_TYPES: Record<string, KeyType | "unsupported"> = {
  "aes128-gcm96": "aes128-gcm96",
  "aes256-gcm96": "aes256-gcm96",
  "chacha20-poly1305": "chacha20-poly1305",
  "xchacha20-poly1305": "xchacha20-poly1305",
  "rsa-2048": "rsa-2048",
  "rsa-3072": "rsa-3072",
  "rsa-4096": "rsa-4096",
  "ecdsa-p256": "unsupported",
  "ecdsa-p384": "unsupported",
  "ecdsa-p521": "unsupported",
};

export function pathEncrypt(t: TransitState): PathDefinition {
  return {
    pattern: `encrypt/${genericNameRegex("name")}`,
    fields: {
      ...CIPHER_NAME_FIELD,
      plaintext: { type: "string", description: "Base64 encoded plaintext value to be encrypted" },
      context: {
        type: "string",
        description: "Base64 encoded context for key derivation. Required if key derivation is enabled",
      },
      nonce: {
        type: "string",
        description:
          "Base64 encoded nonce value. Must be provided if convergent encryption is enabled for this key and the key was generated with Vault 0.6.1. Not required for keys created in 0.6.2+.",
      },
      type: {
        type: "string",
        default: "aes256-gcm96",
        description:
          'This parameter is required when encryption key is expected to be created. When performing an upsert operation, the type of key to create. Defaults to "aes256-gcm96".',
      },
      convergent_encryption: {
        type: "bool",
        description:
          "This parameter will only be used when a key is expected to be created. Whether to support convergent encryption.",
      },
      ...CIPHER_KEY_VERSION_FIELD,
      padding_scheme: {
        type: "string",
        description:
          "The padding scheme to use for encrypt. Valid schemes are oaep and pkcs1v15. Defaults to oaep.",
      },
      ...CIPHER_HASH_ALGORITHM_FIELD,
      partial_failure_response_code: {
        type: "int",
        description:
          "Ordinarily, if a batch item fails to encrypt due to a bad input, but other batch items succeed, the HTTP response code is 400 (Bad Request). Providing the parameter returns the given response code integer instead of a 400 in this case. If all values fail HTTP 400 is still returned.",
      },
      ...CIPHER_ASSOCIATED_DATA_FIELD,
      iv: {
        type: "string",
        description:
          "Base64 encoded 16-byte initialization vector for AES-CBC keys (aes128-cbc, aes256-cbc); drawn at random when absent. Not valid for other key types.",
      },
      batch_input: {
        type: "slice",
        description:
          "Specifies a list of items to be encrypted in a single batch. When this parameter is set, if the parameters 'plaintext' and 'context' are also set, they will be ignored. Any batch output will preserve the order of the batch input.",
      },
    },
    operations: {
      create: (req, d) => encryptHandler(t, req, d),
      update: (req, d) => encryptHandler(t, req, d),
    },
    existenceCheck: async (req, d) => (await t.keyrings.get(req.storage, d.get<"string">("name"))) !== null,
    helpSynopsis: "Encrypt a plaintext value or a batch of plaintext blocks using a named key",
    helpDescription:
      "This path uses the named key from the request path to encrypt a user provided plaintext or a batch of plaintext blocks. The plaintext must be base64 encoded.",
  };
}

async function encryptHandler(t: TransitState, req: LogicalRequest, d: FieldData): Promise<LogicalResponse> {
  const name = d.get<"string">("name");
  const { items, batch } = await readCipherItems(d, "encrypt");
  await predecodeItems(items, "encrypt");
  const contextSet = items[0]?.context !== "";

  let ring: Keyring | null;
  let upserted = false;
  if (req.operation === "create") {
    const convergent = d.get<"bool">("convergent_encryption");
    if (convergent && !contextSet) {
      return errorResponse("convergent encryption requires derivation to be enabled, so context is required");
    }
    const keyType = d.get<"string">("type");
    const mapped = UPSERT_TYPES[keyType];
    if (mapped === "unsupported")
      throw invalidRequest(`key type ${keyType} not supported for this operation`);
    if (mapped === undefined) throw invalidRequest(`unknown key type ${keyType}`);
    const config = await t.readKeysConfig(req.storage);
    if (config.disable_upsert) {
      ring = await t.keyrings.get(req.storage, name);
    } else {
      if (contextSet && mapped.startsWith("rsa-")) {
        throw invalidRequest(
          `key derivation and convergent encryption not supported for keys of type ${mapped}`,
        );
      }
      const result = await upsertKey(t.keyrings, req.storage, {
        name,
        type: mapped,
        derived: contextSet,
        convergentEncryption: convergent,
      });
      ring = result.ring;
      upserted = result.created;
    }
  } else {
    ring = await t.keyrings.get(req.storage, name);
  }
  if (ring === null) throw invalidRequest("encryption key not found");

  const { results, outcome } = await runCipherItems(items, batch, (item, i, result) => {
    if (item.nonce !== "" && !nonceAllowed(ring)) throw invalidRequest(ERR_NONCE_NOT_ALLOWED);
    const opts = itemOptions(item, i, ring.type);
    if (typeof opts === "string") return opts;
    const plaintext = item.decodedPlaintext ?? Buffer.alloc(0);
    result["ciphertext"] = encrypt(ring, item.keyVersion, plaintext, opts);
    result["key_version"] = encryptionVersion(ring, item.keyVersion);
    return undefined;
  });

  let resp: LogicalResponse;
  if (batch) {
    resp = { data: { batch_results: results } };
  } else {
    const only = results[0] ?? {};
    if (typeof only["error"] === "string") throw singleItemError(outcome, only["error"]);
    resp = { data: { ciphertext: only["ciphertext"], key_version: only["key_version"] } };
  }
  if (req.operation === "create" && !upserted) {
    addWarning(
      resp,
      "Attempted creation of the key during the encrypt operation, but it was created beforehand",
    );
  }
  return batchResponse(d, resp, outcome);
}
