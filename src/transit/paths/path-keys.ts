import { goError, invalidRequest } from "../../framework/errors.ts";
import type { FieldData } from "../../framework/fields.ts";
import { genericNameRegex, type PathDefinition } from "../../framework/path.ts";
import {
  addWarning,
  errorResponse,
  type LogicalRequest,
  type LogicalResponse,
} from "../../framework/request.ts";
import { decodeStdBase64 } from "../../util/base64.ts";
import {
  derivationSupported,
  HMAC_MAX_KEY_SIZE,
  HMAC_MIN_KEY_SIZE,
  isKeyType,
} from "../keyring/key-types.ts";
import { POLICY_PREFIX } from "../keyring/manager.ts";
import { hybridConfigFor, parameterSetFor } from "../keyring/pq-keys.ts";
import { upsertKey } from "../keyring/upsert.ts";
import type { TransitState } from "../state.ts";
import { PQC_KEY_FIELDS } from "./enterprise.ts";
import { formatKeyring } from "./format-key.ts";
import { KEY_POLICY_FIELDS } from "./key-policy-fields.ts";

export function pathListKeys(): PathDefinition {
  return {
    pattern: "keys/?$",
    fields: {
      after: {
        type: "string",
        description: "Optional entry to list begin listing after, not required to exist.",
      },
      limit: {
        type: "int",
        description: "Optional number of entries to return; defaults to all entries.",
      },
    },
    operations: {
      list: async (req, d) => {
        const names = await req.storage.list(POLICY_PREFIX);
        return { data: { keys: pageOfKeys(names, d.get<"string">("after"), d.get<"int">("limit")) } };
      },
    },
    helpSynopsis: "Managed named encryption keys",
    helpDescription: "This path is used to list the named keys that are available.",
  };
}

/**
 * LIST keys: the key names, without the folders under policy/ (the BYOK
 * wrapping key lives at policy/import/wrapping-key), as the newest Vault
 * filters them; then OpenBao's paging (ListPage): names sorted, strictly
 * after `after`, at most `limit` of them (all when limit <= 0).
 */
export function pageOfKeys(names: readonly string[], after: string, limit: number): string[] {
  let keys = names.filter((n) => !n.endsWith("/")).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (after !== "") keys = keys.filter((n) => n > after);
  return limit > 0 ? keys.slice(0, limit) : keys;
}

export function pathKeys(t: TransitState): PathDefinition {
  return {
    pattern: `keys/${genericNameRegex("name")}$`,
    fields: {
      name: { type: "string", description: "Name of the key" },
      type: {
        type: "string",
        default: "aes256-gcm96",
        description:
          'The type of key to create. Currently, "aes128-gcm96" (symmetric), "aes256-gcm96" (symmetric), "ecdsa-p256" (asymmetric), "ecdsa-p384" (asymmetric), "ecdsa-p521" (asymmetric), "ed25519" (asymmetric), "rsa-2048" (asymmetric), "rsa-3072" (asymmetric), "rsa-4096" (asymmetric), "hmac", "aes128-cmac", "aes192-cmac", "aes256-cmac" (CMAC), "ml-dsa", "slh-dsa", "hybrid" (post-quantum, asymmetric), "aes128-cbc", "aes256-cbc" (unauthenticated, legacy) and "aes256-gcm-siv" (symmetric, nonce-misuse resistant) are supported. Defaults to "aes256-gcm96".',
      },
      derived: {
        type: "bool",
        description:
          "Enables key derivation mode. This allows for per-transaction unique keys for encryption operations.",
      },
      convergent_encryption: {
        type: "bool",
        description:
          "Whether to support convergent encryption. This is only supported when using a key with key derivation enabled and will require all requests to carry both a context and 96-bit (12-byte) nonce.",
      },
      ...KEY_POLICY_FIELDS,
      key_size: {
        type: "int",
        default: 0,
        description:
          "The key size in bytes for the algorithm.  Only applies to HMAC and must be no fewer than 32 bytes and no more than 512",
      },
      managed_key_name: {
        type: "string",
        description: "The name of the managed key to use for this transit key",
      },
      managed_key_id: {
        type: "string",
        description: "The UUID of the managed key to use for this transit key",
      },
      ...PQC_KEY_FIELDS,
    },
    operations: {
      update: (req, d) => createKey(t, req, d),
      read: (req, d) => readKey(t, req, d),
      delete: (req, d) => deleteKey(t, req, d),
    },
    helpSynopsis: "Managed named encryption keys",
    helpDescription:
      "This path is used to manage the named keys that are available. Doing a write with no value against a new named key will create it using a randomly generated key.",
  };
}

async function createKey(t: TransitState, req: LogicalRequest, d: FieldData): Promise<LogicalResponse> {
  const name = d.get<"string">("name");
  const derived = d.get<"bool">("derived");
  const convergent = d.get<"bool">("convergent_encryption");
  const keyType = d.get<"string">("type");
  const keySize = d.get<"int">("key_size");
  const autoRotatePeriod = d.get<"duration_second">("auto_rotate_period");

  if (autoRotatePeriod !== 0 && autoRotatePeriod < 3600) {
    return errorResponse("auto rotate period must be 0 to disable or at least an hour");
  }
  if (!derived && convergent) return errorResponse("convergent encryption requires derivation to be enabled");
  if (keyType === "managed_key") {
    // Vault CE: the key_size check, then GetManagedKeyUUID's plain error (500).
    if (keySize !== 0) throw invalidRequest("key_size is not valid for algorithm managed_key");
    throw goError("managed keys are supported within enterprise edition only");
  }
  if (!isKeyType(keyType)) throw invalidRequest(`unknown key type ${keyType}`);
  // Vault's switch: ml-dsa checks its set, hybrid its config (the set is the ML-DSA one).
  const parameterSet = d.get<"string">("parameter_set");
  const pq: { parameterSet?: string; hybridConfig?: ReturnType<typeof hybridConfigFor> } = {};
  if (keyType === "ml-dsa" || keyType === "slh-dsa") pq.parameterSet = parameterSetFor(keyType, parameterSet);
  if (keyType === "hybrid") {
    pq.hybridConfig = hybridConfigFor(
      d.get<"string">("hybrid_key_type_pqc"),
      parameterSet,
      d.get<"string">("hybrid_key_type_ec"),
    );
    pq.parameterSet = parameterSet;
  }
  if (keySize !== 0) {
    if (keyType !== "hmac") throw invalidRequest(`key_size is not valid for algorithm ${keyType}`);
    if (keySize < HMAC_MIN_KEY_SIZE || keySize > HMAC_MAX_KEY_SIZE)
      throw invalidRequest(`invalid key_size ${keySize}`);
  }
  if (derived && !derivationSupported(keyType)) {
    throw invalidRequest(
      `key derivation and convergent encryption not supported for keys of type ${keyType}`,
    );
  }
  if (convergent && keyType === "ed25519") {
    throw invalidRequest(`convergent encryption not supported for keys of type ${keyType}`);
  }

  const { ring, created } = await upsertKey(t.keyrings, req.storage, {
    name,
    type: keyType,
    keySize: keyType === "hmac" ? keySize || 32 : 0,
    derived,
    convergentEncryption: convergent,
    exportable: d.get<"bool">("exportable"),
    allowPlaintextBackup: d.get<"bool">("allow_plaintext_backup"),
    autoRotatePeriod,
    ...pq,
  });
  const resp = formatKeyring(ring);
  if (!created) addWarning(resp, `key ${name} already existed`);
  return resp;
}

async function readKey(t: TransitState, req: LogicalRequest, d: FieldData): Promise<LogicalResponse | null> {
  const ring = await t.keyrings.get(req.storage, d.get<"string">("name"));
  if (ring === null) return null;
  const contextRaw = d.get<"string">("context");
  let context: Uint8Array | undefined;
  if (contextRaw !== "") {
    const decoded = decodeStdBase64(contextRaw);
    if (decoded === null) throw invalidRequest("failed to base64-decode context");
    context = decoded;
  }
  return formatKeyring(ring, context);
}

async function deleteKey(
  t: TransitState,
  req: LogicalRequest,
  d: FieldData,
): Promise<LogicalResponse | null> {
  const name = d.get<"string">("name");
  await t.keyrings.exclusive(name, async () => {
    const ring = await t.keyrings.get(req.storage, name);
    if (ring === null) throw invalidRequest(`error deleting policy ${name}: could not delete key; not found`);
    if (!ring.deletionAllowed) {
      throw invalidRequest(`error deleting policy ${name}: deletion is not allowed for this key`);
    }
    await t.keyrings.remove(req.storage, name);
  });
  return null;
}
