import { invalidRequest } from "../../framework/errors.ts";
import type { FieldData } from "../../framework/fields.ts";
import { genericNameRegex, optionalParamRegex, type PathDefinition } from "../../framework/path.ts";
import type { LogicalRequest, LogicalResponse } from "../../framework/request.ts";
import { base64ErrorMessage, decodeStdBase64, encodeStdBase64 } from "../../util/base64.ts";
import type { TransitState } from "../state.ts";
import type { BatchItem } from "./batch.ts";
import { DIGEST_INPUT_FIELDS } from "./digest-fields.ts";
import {
  type HmacResult,
  hmacDigest,
  hmacKeyOf,
  hmacResponse,
  hmacValue,
  readHmacItems,
} from "./hmac-ops.ts";

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
      ...DIGEST_INPUT_FIELDS,
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

  return hmacResponse(parsed !== null, items, results, (only) => ({ hmac: only.hmac }));
}
