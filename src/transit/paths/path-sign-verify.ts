import { PSS_SALT_AUTO, PSS_SALT_EQUALS_HASH } from "../../crypto/sign.ts";
import { internalError, invalidRequest, LogicalError } from "../../framework/errors.ts";
import { type FieldData, type FieldSchemas, weakString } from "../../framework/fields.ts";
import { genericNameRegex, optionalParamRegex, type PathDefinition } from "../../framework/path.ts";
import type { LogicalRequest, LogicalResponse } from "../../framework/request.ts";
import { base64ErrorMessage, decodeStdBase64, encodeStdBase64 } from "../../util/base64.ts";
import {
  type Marshaling,
  type SignOptions,
  signWithKeyring,
  verifyWithKeyring,
} from "../keyring/asymmetric.ts";
import { ed25519Mode } from "../keyring/ed25519-modes.ts";
import { type HashName, hashInput, isHashName } from "../keyring/hashes.ts";
import { hashSignatureInput, isPqSigning, signingSupported } from "../keyring/key-types.ts";
import type { Keyring } from "../keyring/keyring.ts";
import type { TransitState } from "../state.ts";
import { type BatchItem, batchItems, goType, itemString, throwBatchDecodeErrors } from "./batch.ts";
import { hmacVerify } from "./hmac-ops.ts";
import { cmacVerify } from "./path-cmac.ts";

/**
 * sign/:name(/:hash_algorithm) and verify/:name(/:hash_algorithm), as
 * transit's path_sign_verify.go (with the CE rules of
 * path_sign_verify_ce.go: pure Ed25519 only). Batch responses answer 200
 * with per-item errors, as Vault's do.
 */
const DEFAULT_HASH = "sha2-256";

const HASH_DESCRIPTION =
  'Hash algorithm to use (POST body parameter). Valid values are: sha1, sha2-224, sha2-256, sha2-384, sha2-512, sha3-224, sha3-256, sha3-384, sha3-512, none. Defaults to "sha2-256". Not valid for all key types, including ed25519. Using none requires setting prehashed=true and signature_algorithm=pkcs1v15, yielding a PKCSv1_5_NoOID instead of the usual PKCSv1_5_DERnull signature.';

function commonFields(): FieldSchemas {
  return {
    name: { type: "string", description: "The key to use" },
    input: { type: "string", description: "The base64-encoded input data" },
    context: {
      type: "string",
      description:
        "Base64 encoded context for key derivation. Required if key derivation is enabled; currently only available with ed25519 keys.",
    },
    signature_context: {
      type: "string",
      description:
        "Base64 encoded context for Ed25519ph and Ed25519ctx signatures. Currently only available with Ed25519 keys. (Enterprise Only)",
    },
    hash_algorithm: { type: "string", default: DEFAULT_HASH, description: HASH_DESCRIPTION },
    algorithm: {
      type: "string",
      default: DEFAULT_HASH,
      description: 'Deprecated: use "hash_algorithm" instead.',
    },
    urlalgorithm: { type: "string", description: "Hash algorithm to use (POST URL parameter)" },
    prehashed: {
      type: "bool",
      description:
        "Set to 'true' when the input is already hashed. If the key type is 'rsa-2048', 'rsa-3072' or 'rsa-4096', then the algorithm used to hash the input should be indicated by the 'algorithm' parameter.",
    },
    signature_algorithm: {
      type: "string",
      description:
        "The signature algorithm to use for signing. Currently only applies to RSA key types. Options are 'pss' or 'pkcs1v15'. Defaults to 'pss'",
    },
    marshaling_algorithm: {
      type: "string",
      default: "asn1",
      description:
        "The method by which to marshal the signature. The default is 'asn1' which is used by openssl and X.509. It can also be set to 'jws' which is used for JWT signatures; setting it to this will also cause the encoding of the signature to be url-safe base64 instead of using standard base64 encoding.",
    },
    salt_length: {
      type: "string",
      default: "auto",
      description:
        "The salt length used to sign. Currently only applies to the RSA PSS signature scheme. Options are 'auto' (the default used by Golang, causing the salt to be as large as possible when signing), 'hash' (causes the salt length to equal the length of the hash used in the signature), or an integer between the minimum and the maximum permissible salt lengths for the given RSA key size. Defaults to 'auto'.",
    },
    batch_input: {
      type: "slice",
      description:
        "Specifies a list of items for processing. When this parameter is set, any supplied 'input' or 'context' parameters will be ignored. Responses are returned in the 'batch_results' array component of the 'data' element of the response. Any batch output will preserve the order of the batch input",
    },
  };
}

export function pathSign(t: TransitState): PathDefinition {
  return signVerifyPath(
    "sign",
    {
      key_version: {
        type: "int",
        description:
          "The version of the key to use for signing. Must be 0 (for latest) or a value greater than or equal to the min_encryption_version configured on the key.",
      },
    },
    (req, d) => signHandler(t, req, d),
    "Generate a signature for input data using the named key",
    "Generates a signature of the input data using the named key and the given hash algorithm.",
  );
}

export function pathVerify(t: TransitState): PathDefinition {
  return signVerifyPath(
    "verify",
    {
      signature: { type: "string", description: "The signature, including vault header/key version" },
      hmac: { type: "string", description: "The HMAC, including vault header/key version" },
      cmac: { type: "string", description: "The CMAC, including vault header/key version (Enterprise only)" },
      mac_length: { type: "int", description: "MAC length to use (POST body parameter)." },
    },
    (req, d) => verifyHandler(t, req, d),
    "Verify a signature or HMAC for input data created using the named key",
    "Verifies a signature or HMAC of the input data using the named key and the given hash algorithm.",
  );
}

/** sign/:name(/:urlalgorithm) and verify/:name(/:urlalgorithm): the common fields, then each path's own. */
function signVerifyPath(
  op: "sign" | "verify",
  ownFields: FieldSchemas,
  update: (req: LogicalRequest, d: FieldData) => Promise<LogicalResponse>,
  helpSynopsis: string,
  helpDescription: string,
): PathDefinition {
  return {
    pattern: `${op}/${genericNameRegex("name")}${optionalParamRegex("urlalgorithm")}`,
    fields: { ...commonFields(), ...ownFields },
    operations: { update },
    helpSynopsis,
    helpDescription,
  };
}

interface ApiArgs extends SignOptions {
  prehashed: boolean;
}

/** getCommonSignVerifyApiArgs: hash, marshaling, prehashed, signature algorithm and salt length. */
function apiArgs(d: FieldData): ApiArgs {
  // As in Vault, hash_algorithm's default means "algorithm" is only read when hash_algorithm is "".
  let hashName = d.get<"string">("urlalgorithm");
  if (hashName === "") hashName = d.get<"string">("hash_algorithm");
  if (hashName === "") hashName = d.get<"string">("algorithm");
  if (hashName === "") hashName = DEFAULT_HASH;
  if (!isHashName(hashName)) throw invalidRequest(`invalid hash algorithm "${hashName}"`);
  const marshaling = d.get<"string">("marshaling_algorithm");
  if (marshaling !== "asn1" && marshaling !== "jws")
    throw invalidRequest(`invalid marshaling type "${marshaling}"`);
  return {
    hash: hashName,
    marshaling: marshaling as Marshaling,
    prehashed: d.get<"bool">("prehashed"),
    signatureAlgorithm: d.get<"string">("signature_algorithm"),
    saltLength: saltLength(d),
  };
}

/** getSaltLength: "auto", "hash" or an integer no smaller than Go's PSSSaltLengthEqualsHash. */
function saltLength(d: FieldData): number {
  const raw = d.get<"string">("salt_length");
  const lower = raw.toLowerCase();
  if (lower === "auto") return PSS_SALT_AUTO;
  if (lower === "hash") return PSS_SALT_EQUALS_HASH;
  if (!/^[+-]?\d+$/.test(lower) || !Number.isSafeInteger(Number(lower))) {
    throw invalidRequest(`salt length neither 'auto', 'hash', nor an int: ${raw}`);
  }
  const n = Number(lower);
  if (n < PSS_SALT_EQUALS_HASH) throw invalidRequest(`salt length is invalid: ${n}`);
  return n;
}

/** validateCommonSignVerifyApiArgs with the CE checks. */
function validateArgs(ring: Keyring, args: ApiArgs): void {
  if (!signingSupported(ring.type)) throw invalidRequest(`key type ${ring.type} does not support signing`);
  if (args.hash === "none" && (!args.prehashed || args.signatureAlgorithm !== "pkcs1v15")) {
    throw invalidRequest("hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15");
  }
}

/** The bytes a key signs: the digest for ECDSA and RSA (unless prehashed), the message for ed25519. */
function signedBytes(ring: Keyring, args: ApiArgs, input: Uint8Array): Uint8Array {
  return hashSignatureInput(ring.type) && !args.prehashed ? hashInput(args.hash as HashName, input) : input;
}

/** The options of one item: signature_context (base64) reaches the post-quantum types' context. */
function itemArgs(ring: Keyring, args: ApiArgs, signatureContext: string): ApiArgs {
  const ctx = signatureContext === "" ? undefined : decodeStdBase64(signatureContext);
  if (ctx === null) throw invalidRequest("failed to base64-decode signature_context");
  // Vault Enterprise's Ed25519 variants: sha2-512 selects Ed25519ph, a context Ed25519ctx.
  if (ring.type === "ed25519") return { ...args, ed25519Mode: ed25519Mode(args.hash, args.prehashed, ctx) };
  if (!isPqSigning(ring.type) || ctx === undefined) return args;
  return { ...args, signatureContext: ctx };
}

function decodeContext(raw: string): Uint8Array | undefined | null {
  if (raw === "") return undefined;
  return decodeStdBase64(raw);
}

type ItemOutcome = Record<string, unknown> & {
  error?: string;
  /** The error's status when the request is not a batch. */
  kind?: LogicalError;
};

function failure(e: unknown): ItemOutcome {
  if (e instanceof LogicalError) return { error: e.message, kind: e };
  return { error: "internal error", kind: internalError("internal error") };
}

async function signHandler(t: TransitState, req: LogicalRequest, d: FieldData): Promise<LogicalResponse> {
  const args = apiArgs(d);
  const keyVersion = d.get<"int">("key_version");
  const ring = await t.keyrings.get(req.storage, d.get<"string">("name"));
  if (ring === null) throw invalidRequest("signing key not found");
  validateArgs(ring, args);

  let items: BatchItem[];
  const raw = batchItems(d);
  const batch = raw !== null;
  if (raw !== null) {
    const errors: string[] = [];
    items = raw.map((item, i) => {
      const out: BatchItem = {};
      for (const f of ["input", "context", "signature_context", "reference"]) {
        if (Object.hasOwn(item, f)) out[f] = itemString(item, i, f, errors);
      }
      return out;
    });
    throwBatchDecodeErrors(errors);
  } else {
    items = [{ input: d.get<"string">("input"), context: d.get<"string">("context") }];
    const [sigContext, given] = d.getOk("signature_context");
    if (given) (items[0] as BatchItem)["signature_context"] = sigContext;
  }

  const results = items.map((item): Record<string, unknown> & ItemOutcome => {
    const rawInput = item["input"];
    if (typeof rawInput !== "string")
      return { error: "missing input", kind: invalidRequest("missing input") };
    const input = decodeStdBase64(rawInput);
    if (input === null) {
      const msg = `unable to decode input: ${base64ErrorMessage(rawInput)}`;
      return { error: msg, kind: invalidRequest(msg) };
    }
    const context = decodeContext(String(item["context"] ?? ""));
    if (context === null) {
      return {
        error: "failed to base64-decode context",
        kind: invalidRequest("failed to base64-decode context"),
      };
    }
    try {
      const opts = itemArgs(ring, args, String(item["signature_context"] ?? ""));
      const sig = signWithKeyring(ring, keyVersion, context, signedBytes(ring, args, input), opts);
      const out: Record<string, unknown> = { signature: sig.signature, key_version: sig.version };
      if (sig.publicKey !== undefined) out["publickey"] = encodeStdBase64(sig.publicKey);
      return out;
    } catch (e) {
      return failure(e);
    }
  });

  if (batch) {
    return {
      data: {
        batch_results: results.map((r, i) => {
          // batchResponseSignItem: signature, publickey and error omitted when empty.
          const out: Record<string, unknown> = {};
          if (r["signature"] !== undefined) out["signature"] = r["signature"];
          out["key_version"] = r["key_version"] ?? 0;
          if (r["publickey"] !== undefined) out["publickey"] = r["publickey"];
          if (r.error !== undefined) out["error"] = r.error;
          out["reference"] = String(items[i]?.["reference"] ?? "");
          return out;
        }),
      },
    };
  }
  const only = results[0] ?? {};
  if (only.kind !== undefined) throw only.kind;
  const data: Record<string, unknown> = { signature: only["signature"], key_version: only["key_version"] };
  if (only["publickey"] !== undefined) data["public_key"] = only["publickey"];
  return { data };
}

/** parseutil.ParseString as Vault applies it to verify items: strings, numbers and bools; null is "". */
function parseItemString(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "object")
    throw new Error(`could not parse value from input: expected string, got ${goType(v)}`);
  return weakString(v);
}

async function verifyHandler(t: TransitState, req: LogicalRequest, d: FieldData): Promise<LogicalResponse> {
  let items: BatchItem[];
  const raw = batchItems(d);
  const batch = raw !== null;
  if (raw !== null) {
    items = raw;
  } else {
    const item: BatchItem = { input: d.get<"string">("input") };
    for (const f of ["signature", "hmac", "cmac"]) {
      const [v, given] = d.getOk(f);
      if (given) item[f] = v;
    }
    item["context"] = d.get<"string">("context");
    const [sigContext, given] = d.getOk("signature_context");
    if (given) item["signature_context"] = sigContext;
    items = [item];
  }

  let sigFound = false;
  let hmacFound = false;
  let cmacFound = false;
  let missing = false;
  for (const item of items) {
    if (Object.hasOwn(item, "signature")) sigFound = true;
    else if (Object.hasOwn(item, "hmac")) hmacFound = true;
    else if (Object.hasOwn(item, "cmac")) cmacFound = true;
    else missing = true;
  }
  const optionsSet = Number(sigFound) + Number(hmacFound) + Number(cmacFound);
  if (!batch && optionsSet > 1) throw invalidRequest("provide one of 'signature', 'hmac' or 'cmac'");
  if (!batch && optionsSet === 0) {
    throw invalidRequest("missing one of 'signature', 'hmac' or 'cmac' arguments to verify");
  }
  if (optionsSet > 1) {
    throw invalidRequest("elements of batch_input must all provide either 'signature', 'hmac' or 'cmac'");
  }
  if (missing && sigFound) throw invalidRequest("some elements of batch_input are missing 'signature'");
  if (missing && hmacFound) throw invalidRequest("some elements of batch_input are missing 'hmac'");
  if (missing && cmacFound) throw invalidRequest("some elements of batch_input are missing 'cmac'");
  if (optionsSet === 0) throw invalidRequest("no batch_input elements have 'signature', 'hmac' or 'cmac'");
  if (hmacFound) return hmacVerify(t, req, d);
  if (cmacFound) return cmacVerify(t, req, d);

  const args = apiArgs(d);
  const ring = await t.keyrings.get(req.storage, d.get<"string">("name"));
  if (ring === null) throw invalidRequest("signature verification key not found");
  validateArgs(ring, args);

  const results = items.map((item): { valid?: boolean } & ItemOutcome => {
    let input: Uint8Array;
    let sig: string;
    let context: Uint8Array | undefined;
    try {
      const rawInput = parseItemString(item["input"]);
      const decoded = decodeStdBase64(rawInput);
      if (decoded === null) throw new Error(`failed to parse input: ${base64ErrorMessage(rawInput)}`);
      input = decoded;
      if (!Object.hasOwn(item, "signature")) throw new Error("missing signature");
      try {
        sig = parseItemString(item["signature"]);
      } catch (e) {
        throw new Error(`failed to parse signature as a string: ${(e as Error).message}`);
      }
      const rawContext = parseItemString(item["context"]);
      const ctx = decodeContext(rawContext);
      if (ctx === null) throw new Error(`failed to parse context: ${base64ErrorMessage(rawContext)}`);
      context = ctx;
      const sigContext = item["signature_context"];
      if (sigContext !== undefined && typeof sigContext !== "string") {
        throw new Error(`failed to parse batch item: expected string for key="signature_context"`);
      }
    } catch (e) {
      const msg = `failed to parse item: ${(e as Error).message}`;
      return { error: msg, kind: invalidRequest(msg) };
    }
    try {
      const opts = itemArgs(ring, args, String(item["signature_context"] ?? ""));
      return { valid: verifyWithKeyring(ring, context, signedBytes(ring, args, input), sig, opts) };
    } catch (e) {
      return failure(e);
    }
  });

  if (batch) {
    return {
      data: {
        batch_results: results.map((r, i) => {
          const out: Record<string, unknown> = { valid: r.valid === true };
          if (r.error !== undefined) out["error"] = r.error;
          let reference = "";
          try {
            reference = parseItemString(items[i]?.["reference"]);
          } catch {
            // Vault leaves an unparsable reference empty.
          }
          out["reference"] = reference;
          return out;
        }),
      },
    };
  }
  const only = results[0] ?? {};
  if (only.kind !== undefined) throw only.kind;
  return { data: { valid: only.valid === true } };
}
