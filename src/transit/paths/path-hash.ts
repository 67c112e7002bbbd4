import { HASH_ALGORITHMS as ALL_DIGESTS } from "../../crypto/hash.ts";
import { invalidRequest } from "../../framework/errors.ts";
import { optionalParamRegex, type PathDefinition } from "../../framework/path.ts";
import { base64ErrorMessage, decodeStdBase64 } from "../../util/base64.ts";
import { type DigestName, digest } from "../keyring/hashes.ts";
import { DIGEST_INPUT_FIELDS } from "./digest-fields.ts";

/** The algorithms hash/ accepts (transit's path_hash.go: SHA-2 and SHA-3, no SHA-1). */
const HASH_ALGORITHMS: readonly DigestName[] = ALL_DIGESTS.filter((a) => a !== "sha1");

/** hash(/:algorithm): a digest of the input, hex or base64. Needs no key. */
export function pathHash(): PathDefinition {
  return {
    pattern: `hash${optionalParamRegex("urlalgorithm")}`,
    fields: {
      ...DIGEST_INPUT_FIELDS,
      format: {
        type: "string",
        default: "hex",
        description: 'Encoding format to use. Can be "hex" or "base64". Defaults to "hex".',
      },
    },
    operations: {
      update: async (_req, d) => {
        const [raw, given] = d.getOk("input");
        if (!given) throw invalidRequest("input missing");
        const inputB64 = raw as string;
        const format = d.get<"string">("format");
        let algorithm = d.get<"string">("urlalgorithm");
        if (algorithm === "") algorithm = d.get<"string">("algorithm");
        const input = decodeStdBase64(inputB64);
        if (input === null) {
          throw invalidRequest(`unable to decode input as base64: ${base64ErrorMessage(inputB64)}`);
        }
        if (format !== "hex" && format !== "base64") {
          throw invalidRequest(`unsupported encoding format ${format}; must be "hex" or "base64"`);
        }
        if (!(HASH_ALGORITHMS as readonly string[]).includes(algorithm)) {
          throw invalidRequest(`unsupported algorithm ${algorithm}`);
        }
        const sum = digest(algorithm as DigestName, input);
        return { data: { sum: sum.toString(format) } };
      },
    },
    helpSynopsis: "Generate a hash sum for input data",
    helpDescription: "Generates a hash sum of the given algorithm against the given input data.",
  };
}
