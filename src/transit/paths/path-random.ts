import { randomBytes } from "../../crypto/hash.ts";
import { invalidRequest } from "../../framework/errors.ts";
import { genericNameRegex, optionalParamRegex, type PathDefinition } from "../../framework/path.ts";
import type { LogicalResponse } from "../../framework/request.ts";

/** Vault's random.APIMaxBytes and SealMaxBytes (helper/random/random_api.go). */
export const RANDOM_MAX_BYTES = 10 * 1024 * 1024;
export const RANDOM_SEAL_MAX_BYTES = 128 * 1024;

const SOURCES = ["", "platform", "seal", "all"];

/**
 * random(/:source)(/:bytes): bytes from the CSPRNG (Vault's
 * helper/random HandleRandomAPI). "seal" and "all" name Vault's entropy
 * augmentation, which a plugin cannot reach: they are served from the
 * platform source, and "seal" says so in a warning, as Vault does when no
 * augmentation is configured. `drbg` (auto, hmacdrbg) lifts the seal and
 * all sources' 128 KiB cap as in Vault; Vault then draws the bytes from an
 * HMAC-DRBG seeded from the source, here they come from the CSPRNG itself,
 * which no caller can tell apart.
 */
export function pathRandom(): PathDefinition {
  return {
    pattern: `random(?:/${genericNameRegex("source")})?${optionalParamRegex("urlbytes")}`,
    fields: {
      urlbytes: { type: "string", description: "The number of bytes to generate (POST URL parameter)" },
      bytes: {
        type: "int",
        default: 32,
        description: "The number of bytes to generate (POST body parameter). Defaults to 32 (256 bits).",
      },
      format: {
        type: "string",
        default: "base64",
        description: 'Encoding format to use. Can be "hex" or "base64". Defaults to "base64".',
      },
      drbg: {
        type: "string",
        description:
          'Use a deterministic random bit generator seeded from the source ("auto" or "hmacdrbg"); allows more than 128 KiB from the seal and all sources.',
      },
      source: {
        type: "string",
        default: "platform",
        description: 'Which system to source random data from, ether "platform", "seal", or "all".',
      },
    },
    operations: {
      update: async (_req, d): Promise<LogicalResponse> => {
        const urlBytes = String(d.raw["urlbytes"] ?? "");
        const maybeSource = String(d.raw["source"] ?? "");
        let source = "platform";
        let bytes: number;
        if (maybeSource === "") {
          bytes = d.get<"int">("bytes");
        } else if (urlBytes === "" && SOURCES.includes(maybeSource)) {
          source = maybeSource;
          bytes = d.get<"int">("bytes");
        } else if (urlBytes === "") {
          bytes = atoi(maybeSource);
        } else {
          source = maybeSource;
          bytes = atoi(urlBytes);
        }
        const [drbgRaw, drbgGiven] = d.getOk("drbg");
        const drbg = drbgGiven ? (drbgRaw as string) : "";
        if (drbg !== "" && drbg !== "auto" && drbg !== "hmacdrbg") {
          throw invalidRequest("invalid setting for drbg, must absent, auto, or hmacdrbg");
        }
        const format = d.get<"string">("format");
        if (bytes < 1) throw invalidRequest('"bytes" cannot be less than 1');
        if (bytes > RANDOM_MAX_BYTES) throw invalidRequest(`"bytes" must be less than ${RANDOM_MAX_BYTES}`);
        if ((source === "seal" || source === "all") && bytes > RANDOM_SEAL_MAX_BYTES && drbg === "") {
          throw invalidRequest(
            `bytes cannot be more than ${RANDOM_SEAL_MAX_BYTES} if sourced from seal.  Use drbg mode instead`,
          );
        }
        if (!SOURCES.includes(source)) {
          throw invalidRequest(
            `unsupported entropy source "${source}"; must be "platform" or "seal", or "all"`,
          );
        }
        if (format !== "hex" && format !== "base64") {
          throw invalidRequest(`unsupported encoding format "${format}"; must be "hex" or "base64"`);
        }
        const resp: LogicalResponse = { data: { random_bytes: randomBytes(bytes).toString(format) } };
        if (source === "seal")
          resp.warnings = ["no seal/entropy augmentation available, using platform entropy source"];
        return resp;
      },
    },
    helpSynopsis: "Generate random bytes",
    helpDescription: "This function can be used to generate high-entropy random bytes.",
  };
}

/** strconv.Atoi with Go's error text. */
function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw invalidRequest(
      `error parsing url-set byte count: strconv.Atoi: parsing "${s.length > 32 ? `${s.slice(0, 32)}...` : s}": invalid syntax`,
    );
  }
  return Number(s);
}
