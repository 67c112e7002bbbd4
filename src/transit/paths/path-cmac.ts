import { CMAC_BLOCK, cmac, cmacKey } from "../../crypto/cmac.ts";
import { constantTimeEqual } from "../../crypto/hash.ts";
import { invalidRequest, LogicalError } from "../../framework/errors.ts";
import type { FieldData } from "../../framework/fields.ts";
import { genericNameRegex, optionalParamRegex, type PathDefinition } from "../../framework/path.ts";
import type { LogicalRequest, LogicalResponse } from "../../framework/request.ts";
import { decodeStdBase64, encodeStdBase64 } from "../../util/base64.ts";
import { keyEntry } from "../keyring/derive.ts";
import { isCmac } from "../keyring/key-types.ts";
import { type Keyring, refuseSoftDeleted, versionPrefix } from "../keyring/keyring.ts";
import { encryptionVersion, parseVersioned } from "../keyring/symmetric.ts";
import type { TransitState } from "../state.ts";
import { batchItems } from "./batch.ts";

/**
 * cmac/:name(/:url_mac_length) and the cmac half of verify/ (Vault Enterprise's CMAC, as the
 * once-open path_cmac.go defines its fields, texts and responses). The tag is AES-CMAC
 * (SP 800-38B) of the input, truncated to mac_length bytes (0 = 16): `vault:vN:` + base64(tag).
 * (That file computed Go's hf.Sum(input), which appends the CMAC of nothing to the input; the
 * CMAC of the input is what its callers meant and what this computes: docs/enterprise-types.md.)
 */
export function pathCmac(t: TransitState): PathDefinition {
  return {
    pattern: `cmac/${genericNameRegex("name")}${optionalParamRegex("url_mac_length")}`,
    fields: {
      name: { type: "string", description: "The key to use for the CMAC function" },
      input: { type: "string", description: "The base64-encoded input data" },
      mac_length: { type: "int", description: "MAC length to use (POST body parameter)." },
      url_mac_length: {
        type: "string",
        description: "MAC length to use (POST URL parameter), overrides mac_length",
      },
      key_version: {
        type: "int",
        description:
          "The version of the key to use for generating the CMAC. Must be 0 (for latest) or a value greater than or equal to the min_encryption_version configured on the key.",
      },
      batch_input: {
        type: "slice",
        description:
          "Specifies a list of items to be processed in a single batch. When this parameter is set, if the parameter 'input' is also set, it will be ignored. Any batch output will preserve the order of the batch input.",
      },
    },
    operations: { update: (req, d) => cmacWrite(t, req, d) },
    helpSynopsis: "Generate a CMAC for input data using the named key",
    helpDescription: "Generates a CMAC against the given input data and the named key.",
  };
}

interface CmacItem {
  input: string;
  macLength: number;
  cmac: string;
  reference: string;
}

function validateMacLength(length: number): string | null {
  if (length < 0) return "must not be less than 0";
  if (length > CMAC_BLOCK) return `must not be greater than ${CMAC_BLOCK}`;
  return null;
}

/** The URL's mac length (overriding every item's, with Vault's warning), or null when absent. */
function urlMacLength(raw: string): number | null {
  if (raw.trim() === "") return null;
  if (!/^[+-]?\d+$/.test(raw.trim()) || !Number.isSafeInteger(Number(raw.trim()))) {
    throw invalidRequest(`the url mac-length parameter failed parsing: invalid integer ${raw}`);
  }
  const n = Number(raw.trim());
  const why = validateMacLength(n);
  if (why !== null) throw invalidRequest(`the url mac-length parameter is invalid: ${why}`);
  return n;
}

function itemField(item: Record<string, unknown>, name: string, i: number): string {
  const v = item[name];
  if (v === undefined || v === null) return "";
  if (typeof v !== "string")
    throw invalidRequest(`failed to parse batch input: item ${i}: '${name}' expected type 'string'`);
  return v;
}

function itemInt(item: Record<string, unknown>, name: string, i: number): number {
  const v = item[name];
  if (v === undefined || v === null) return 0;
  if (typeof v !== "number" || !Number.isInteger(v))
    throw invalidRequest(`failed to parse batch input: item ${i}: '${name}' expected type 'int'`);
  return v;
}

/** The request's items with the URL override applied; warnings as Vault words them. */
function readItems(
  d: FieldData,
  url: number | null,
  withCmac: boolean,
): { items: CmacItem[]; batch: boolean; warnings: string[] } {
  const raw = batchItems(d);
  let items: CmacItem[];
  if (raw !== null) {
    items = raw.map((item, i) => ({
      input: itemField(item, "input", i),
      macLength: itemInt(item, "mac_length", i),
      cmac: withCmac ? itemField(item, "cmac", i) : "",
      reference: itemField(item, "reference", i),
    }));
  } else {
    items = [
      {
        input: d.get<"string">("input"),
        macLength: d.get<"int">("mac_length"),
        cmac: withCmac ? d.get<"string">("cmac") : "",
        reference: "",
      },
    ];
  }
  if (items.length === 0) throw invalidRequest("no inputs to process");
  const warnings: string[] = [];
  items.forEach((item, i) => {
    if (item.input.trim() === "") {
      throw invalidRequest(withCmac ? `input field on item ${i} was blank` : `input item ${i} was blank`);
    }
    if (withCmac && item.cmac.trim() === "") throw invalidRequest(`cmac field on item ${i} was blank`);
    if (url !== null) {
      if (item.macLength !== 0) {
        warnings.push(`input item ${i} mac_length of ${item.macLength} overridden by url_mac_length ${url}`);
      }
      item.macLength = url;
    } else if (withCmac) {
      const why = validateMacLength(item.macLength);
      if (why !== null) throw invalidRequest(`mac_length field on item ${i} was not valid: ${why}`);
    }
  });
  return { items, batch: raw !== null, warnings };
}

async function cmacRing(t: TransitState, req: LogicalRequest, name: string): Promise<Keyring> {
  if (name.trim() === "") throw invalidRequest("name parameter must be provided");
  const ring = await t.keyrings.get(req.storage, name);
  if (ring === null) throw invalidRequest("encryption key not found");
  refuseSoftDeleted(ring);
  if (!isCmac(ring.type))
    throw invalidRequest(`key ${ring.name} is not a supported CMAC key type: ${ring.type}`);
  return ring;
}

function cmacKeyBytes(ring: Keyring, version: number): Uint8Array {
  const key = keyEntry(ring, version).key;
  if (key === undefined) {
    throw invalidRequest(
      `failed fetching CMAC key for ${ring.name} with version ${version}: no key material`,
    );
  }
  return key;
}

/** performCmac: the tag of a base64 input, or the item's error. */
function performCmac(key: Uint8Array, macLength: number, input: string): Uint8Array {
  const raw = decodeStdBase64(input);
  if (raw === null) throw new Error("failed base 64 decoding: illegal base64 data");
  const why = validateMacLength(macLength);
  if (why !== null) throw new Error(`failed generating cmac hash function: ${why}`);
  return cmac(cmacKey(key), raw, macLength);
}

async function cmacWrite(t: TransitState, req: LogicalRequest, d: FieldData): Promise<LogicalResponse> {
  const url = urlMacLength(d.get<"string">("url_mac_length"));
  const { items, batch, warnings } = readItems(d, url, false);
  const ring = await cmacRing(t, req, d.get<"string">("name"));
  let version: number;
  try {
    version = encryptionVersion(ring, d.get<"int">("key_version"));
  } catch (e) {
    if (e instanceof LogicalError) throw invalidRequest(e.message);
    throw e;
  }
  const key = cmacKeyBytes(ring, version);
  const results = items.map((item, i) => {
    const out: Record<string, unknown> = {};
    try {
      out["cmac"] = versionPrefix(version) + encodeStdBase64(performCmac(key, item.macLength, item.input));
    } catch (e) {
      out["error"] = `failed processing item ${i}: ${(e as Error).message}`;
    }
    if (item.reference !== "") out["reference"] = item.reference;
    return out;
  });
  return respond(batch, results, warnings, "cmac");
}

function respond(
  batch: boolean,
  results: Record<string, unknown>[],
  warnings: string[],
  field: "cmac" | "valid",
): LogicalResponse {
  const resp: LogicalResponse = batch
    ? { data: { batch_results: results } }
    : (() => {
        const only = results[0] ?? {};
        if (typeof only["error"] === "string") throw invalidRequest(only["error"]);
        return { data: { [field]: only[field] ?? false } };
      })();
  if (warnings.length > 0) resp.warnings = warnings;
  return resp;
}

/** verify/:name(/:urlalgorithm) with `cmac`: the URL suffix is the mac length, as in Vault. */
export async function cmacVerify(
  t: TransitState,
  req: LogicalRequest,
  d: FieldData,
): Promise<LogicalResponse> {
  const url = urlMacLength(d.get<"string">("urlalgorithm"));
  const { items, batch, warnings } = readItems(d, url, true);
  const ring = await cmacRing(t, req, d.get<"string">("name"));
  const results = items.map((item) => {
    const out: Record<string, unknown> = {};
    try {
      out["valid"] = verifyItem(ring, item);
    } catch (e) {
      out["error"] = (e as Error).message;
    }
    out["reference"] = item.reference;
    return out;
  });
  return respond(batch, results, warnings, "valid");
}

function verifyItem(ring: Keyring, item: CmacItem): boolean {
  let parsed: { version: number; payload: string };
  try {
    parsed = parseVersioned(item.cmac);
  } catch (e) {
    throw new Error((e as Error).message.replace("ciphertext", "signature"));
  }
  const tag = decodeStdBase64(parsed.payload);
  if (tag === null) throw new Error("invalid signature: could not decode base64");
  if (parsed.version <= 0 || parsed.version > ring.latestVersion) {
    throw new Error(`invalid key version for key ${ring.name}: invalid key version`);
  }
  if (ring.minEncryptionVersion > 0 && parsed.version < ring.minEncryptionVersion) {
    throw new Error(`invalid key version for key ${ring.name}: version is too old (disallowed by policy)`);
  }
  const expected = performCmac(cmacKeyBytes(ring, parsed.version), item.macLength, item.input);
  return expected.length === tag.length && constantTimeEqual(expected, tag);
}
