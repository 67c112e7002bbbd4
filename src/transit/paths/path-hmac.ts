import { createHmac, timingSafeEqual } from "node:crypto";
import { invalidRequest } from "../../framework/errors.ts";
import type { FieldData } from "../../framework/fields.ts";
import { genericNameRegex, optionalParamRegex, type PathDefinition } from "../../framework/path.ts";
import type { LogicalRequest, LogicalResponse } from "../../framework/request.ts";
import { base64ErrorMessage, decodeStdBase64, encodeStdBase64 } from "../../util/base64.ts";
import { type DigestName, isHashName, NODE_HASH } from "../keyring/hashes.ts";
import { type Keyring, refuseSoftDeleted } from "../keyring/keyring.ts";
import type { TransitState } from "../state.ts";
import { type BatchItem, batchItems, itemString, throwBatchDecodeErrors } from "./batch.ts";

/**
 * hmac/:name(/:algorithm) and the hmac half of verify/ (transit's
 * path_hmac.go). Every key version carries an HMAC key; the hmac key type's
 * key is its own HMAC key. Batch results always answer 200, as Vault's do.
 */
export function pathHmac(t: TransitState): PathDefinition {
  return {
    pattern: `hmac/${genericNameRegex("name")}${optionalParamRegex("urlalgorithm")}`,
    fields: {
      name: { type: "string", description: "The key to use for the HMAC function" },
      input: { type: "string", description: "The base64-encoded input data" },
      algorithm: {
        type: "string",
        default: "sha2-256",
        description:
          'Algorithm to use (POST body parameter). Valid values are: sha2-224, sha2-256, sha2-384, sha2-512, sha3-224, sha3-256, sha3-384, sha3-512. Defaults to "sha2-256".',
      },
      urlalgorithm: { type: "string", description: "Algorithm to use (POST URL parameter)" },
      key_version: {
        type: "int",
        description:
          "The version of the key to use for generating the HMAC. Must be 0 (for latest) or a value greater than or equal to the min_encryption_version configured on the key.",
      },
      batch_input: {
        type: "slice",
        description:
          "Specifies a list of items to be processed in a single batch. When this parameter is set, if the parameter 'input' is also set, it will be ignored. Any batch output will preserve the order of the batch input.",
      },
    },
    operations: { update: (req, d) => hmacWrite(t, req, d) },
    helpSynopsis: "Generate an HMAC for input data using the named key",
    helpDescription: "Generates an HMAC sum of the given algorithm and key against the given input data.",
  };
}

/** keysutil Policy.HMACKey, with its messages. */
export function hmacKeyOf(ring: Keyring, version: number): Uint8Array {
  refuseSoftDeleted(ring);
  if (version < 0) throw invalidRequest("key version does not exist (cannot be negative)");
  if (version > ring.latestVersion) {
    throw invalidRequest(`key version does not exist; latest key version is ${ring.latestVersion}`);
  }
  const entry = ring.versions.get(version);
  if (entry === undefined) throw invalidRequest("no such key version");
  const key = ring.type === "hmac" ? entry.key : entry.hmacKey;
  if (key === undefined) throw invalidRequest("no HMAC key exists for that key version");
  return key;
}

/** The digest an HMAC uses; "none" is in Vault's table but has no HMAC (Vault panics on it). */
function hmacDigest(name: string): DigestName {
  if (!isHashName(name) || name === "none") throw invalidRequest(`unsupported algorithm "${name}"`);
  return name;
}

function hmacValue(hash: DigestName, key: Uint8Array, input: Uint8Array): Buffer {
  return createHmac(NODE_HASH[hash], key).update(input).digest();
}

interface HmacResult {
  hmac?: string;
  valid?: boolean;
  error?: string;
  reference?: string;
}

/** Go's omitempty for batchResponseHMACItem: hmac, valid (when true) and error only when set; reference always. */
function hmacBatchResult(r: HmacResult): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.hmac !== undefined && r.hmac !== "") out["hmac"] = r.hmac;
  if (r.valid === true) out["valid"] = true;
  if (r.error !== undefined && r.error !== "") out["error"] = r.error;
  out["reference"] = r.reference ?? "";
  return out;
}

function readHmacItems(d: FieldData, fields: string[]): { items: BatchItem[]; batch: boolean } | null {
  const raw = batchItems(d);
  if (raw === null) return null;
  const errors: string[] = [];
  const items = raw.map((item, i) => {
    const out: BatchItem = {};
    for (const f of [...fields, "reference"]) {
      if (Object.hasOwn(item, f)) out[f] = itemString(item, i, f, errors);
    }
    return out;
  });
  throwBatchDecodeErrors(errors);
  return { items, batch: true };
}

async function hmacWrite(t: TransitState, req: LogicalRequest, d: FieldData): Promise<LogicalResponse> {
  const name = d.get<"string">("name");
  let version = d.get<"int">("key_version");
  let algorithm = d.get<"string">("urlalgorithm");
  if (algorithm === "") algorithm = d.get<"string">("algorithm");

  const ring = await t.keyrings.get(req.storage, name);
  if (ring === null) throw invalidRequest("encryption key not found");
  if (version === 0) {
    version = ring.latestVersion;
  } else if (
    version !== ring.latestVersion &&
    ring.minEncryptionVersion > 0 &&
    version < ring.minEncryptionVersion
  ) {
    throw invalidRequest("cannot generate HMAC: version is too old (disallowed by policy)");
  }
  const key = hmacKeyOf(ring, version);
  const hash = hmacDigest(algorithm);

  const parsed = readHmacItems(d, ["input"]);
  let items: BatchItem[];
  if (parsed === null) {
    const [input, given] = d.getOk("input");
    if (!given) throw invalidRequest("missing input for HMAC");
    items = [{ input: input as string }];
  } else {
    items = parsed.items;
  }

  const results: HmacResult[] = items.map((item) => {
    const rawInput = item["input"];
    if (typeof rawInput !== "string") return { error: "missing input for HMAC" };
    const input = decodeStdBase64(rawInput);
    if (input === null) return { error: `unable to decode input as base64: ${base64ErrorMessage(rawInput)}` };
    return { hmac: `vault:v${version}:${encodeStdBase64(hmacValue(hash, key, input))}` };
  });

  if (parsed !== null) {
    return {
      data: {
        batch_results: results.map((r, i) =>
          hmacBatchResult({ ...r, reference: String(items[i]?.["reference"] ?? "") }),
        ),
      },
    };
  }
  const only = results[0] ?? {};
  if (only.error !== undefined) throw invalidRequest(only.error);
  return { data: { hmac: only.hmac } };
}

/** verify/ with hmac values (transit's pathHMACVerify). */
export async function hmacVerify(
  t: TransitState,
  req: LogicalRequest,
  d: FieldData,
): Promise<LogicalResponse> {
  const name = d.get<"string">("name");
  let algorithm = d.get<"string">("urlalgorithm");
  if (algorithm === "") {
    // "algorithm" is deprecated: read it only when hash_algorithm was not given.
    const [hashAlgorithm, hasHash] = d.getOk("hash_algorithm");
    const [legacy, hasLegacy] = d.getOk("algorithm");
    if (hasHash) algorithm = hashAlgorithm as string;
    else if (hasLegacy) algorithm = legacy as string;
    else algorithm = d.get<"string">("hash_algorithm");
  }

  const ring = await t.keyrings.get(req.storage, name);
  if (ring === null) throw invalidRequest("encryption key not found");
  const hash = hmacDigest(algorithm);

  const parsed = readHmacItems(d, ["input", "hmac"]);
  const items: BatchItem[] = parsed?.items ?? [
    { input: d.get<"string">("input"), hmac: d.get<"string">("hmac") },
  ];

  const results: HmacResult[] = items.map((item) => {
    const rawInput = item["input"];
    if (typeof rawInput !== "string") return { error: "missing input" };
    const input = decodeStdBase64(rawInput);
    if (input === null) return { error: `unable to decode input as base64: ${base64ErrorMessage(rawInput)}` };
    const given = item["hmac"];
    if (typeof given !== "string") return { error: "missing hmac" };
    if (!given.startsWith("vault:v")) return { error: "invalid HMAC to verify: no prefix" };
    const rest = given.slice("vault:v".length);
    const colon = rest.indexOf(":");
    if (colon === -1) return { error: "invalid HMAC: wrong number of fields" };
    const versionText = rest.slice(0, colon);
    if (!/^[+-]?\d+$/.test(versionText) || !Number.isSafeInteger(Number(versionText))) {
      return { error: "invalid HMAC: version number could not be decoded" };
    }
    const version = Number(versionText);
    const payload = rest.slice(colon + 1);
    const expected = decodeStdBase64(payload);
    if (expected === null) {
      return { error: `unable to decode verification HMAC as base64: ${base64ErrorMessage(payload)}` };
    }
    if (version > ring.latestVersion) return { error: "invalid HMAC: version is too new" };
    if (ring.minDecryptionVersion > 0 && version < ring.minDecryptionVersion) {
      return { error: "cannot verify HMAC: version is too old (disallowed by policy)" };
    }
    let key: Uint8Array;
    try {
      key = hmacKeyOf(ring, version);
    } catch (e) {
      return { error: (e as Error).message };
    }
    const actual = hmacValue(hash, key, input);
    return { valid: actual.length === expected.length && timingSafeEqual(actual, expected) };
  });

  if (parsed !== null) {
    return {
      data: {
        batch_results: results.map((r, i) =>
          hmacBatchResult({ ...r, reference: String(items[i]?.["reference"] ?? "") }),
        ),
      },
    };
  }
  const only = results[0] ?? {};
  if (only.error !== undefined) throw invalidRequest(only.error);
  return { data: { valid: only.valid === true } };
}
