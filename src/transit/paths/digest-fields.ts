import type { FieldSchema } from "../../framework/fields.ts";

/**
 * The input and algorithm fields that hash/(:algorithm) and hmac/:name(/:algorithm) both take,
 * described as Vault's path_hash.go and path_hmac.go describe them (the same texts in both).
 */
export const DIGEST_INPUT_FIELDS = {
  input: { type: "string", description: "The base64-encoded input data" },
  algorithm: {
    type: "string",
    default: "sha2-256",
    description:
      'Algorithm to use (POST body parameter). Valid values are: sha2-224, sha2-256, sha2-384, sha2-512, sha3-224, sha3-256, sha3-384, sha3-512. Defaults to "sha2-256".',
  },
  urlalgorithm: { type: "string", description: "Algorithm to use (POST URL parameter)" },
} as const satisfies Record<string, FieldSchema>;
