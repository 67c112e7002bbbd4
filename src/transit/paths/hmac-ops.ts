/**
 * The HMAC operations hmac/ and verify/ share (transit path_hmac.go): a
 * version's HMAC key, the digest, batch items and results, and verify's
 * HMAC half, which verify/ (path-sign-verify.ts) hands hmac values to.
 */
import { constantTimeEqual, hmac } from "../../crypto/hash.ts";
import { invalidRequest } from "../../framework/errors.ts";
import type { FieldData } from "../../framework/fields.ts";
import type { LogicalRequest, LogicalResponse } from "../../framework/request.ts";
import { base64ErrorMessage, decodeStdBase64 } from "../../util/base64.ts";
import { type DigestName, isHashName } from "../keyring/hashes.ts";
import { type Keyring, refuseSoftDeleted } from "../keyring/keyring.ts";
import type { TransitState } from "../state.ts";
import { type BatchItem, batchItems, itemString, throwBatchDecodeErrors } from "./batch.ts";

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
export function hmacDigest(name: string): DigestName {
  if (!isHashName(name) || name === "none") throw invalidRequest(`unsupported algorithm "${name}"`);
  return name;
}

export function hmacValue(hash: DigestName, key: Uint8Array, input: Uint8Array): Buffer {
  return hmac(hash, key, input);
}

export interface HmacResult {
  hmac?: string;
  valid?: boolean;
  error?: string;
  reference?: string;
}

/** Go's omitempty for batchResponseHMACItem: hmac, valid (when true) and error only when set; reference always. */
export function hmacBatchResult(r: HmacResult): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.hmac !== undefined && r.hmac !== "") out["hmac"] = r.hmac;
  if (r.valid === true) out["valid"] = true;
  if (r.error !== undefined && r.error !== "") out["error"] = r.error;
  out["reference"] = r.reference ?? "";
  return out;
}

export function readHmacItems(d: FieldData, fields: string[]): { items: BatchItem[]; batch: boolean } | null {
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
    return { valid: constantTimeEqual(actual, expected) };
  });

  return hmacResponse(parsed !== null, items, results, (only) => ({ valid: only.valid === true }));
}

/**
 * The answer of hmac/ and verify/: batch results (always 200, each with its
 * reference), or the single item's data, its error a 400.
 */
export function hmacResponse(
  batch: boolean,
  items: BatchItem[],
  results: HmacResult[],
  single: (only: HmacResult) => Record<string, unknown>,
): LogicalResponse {
  if (batch) {
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
  return { data: single(only) };
}
