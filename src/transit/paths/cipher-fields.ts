import type { FieldSchema } from "../../framework/fields.ts";

/**
 * Fields that encrypt/:name, decrypt/:name and rewrap/:name describe with the
 * same text in Vault's path_encrypt.go, path_decrypt.go and path_rewrap.go.
 * Where Vault's texts differ (context, nonce, batch_input,
 * partial_failure_response_code) each path keeps its own.
 */
export const CIPHER_NAME_FIELD = {
  name: { type: "string", description: "Name of the key" },
} as const satisfies Record<string, FieldSchema>;

/** encrypt and rewrap: the version to encrypt with. */
export const CIPHER_KEY_VERSION_FIELD = {
  key_version: {
    type: "int",
    description:
      "The version of the key to use for encryption. Must be 0 (for latest) or a value greater than or equal to the min_encryption_version configured on the key.",
  },
} as const satisfies Record<string, FieldSchema>;

/** encrypt and decrypt: RSA OAEP's hash. */
export const CIPHER_HASH_ALGORITHM_FIELD = {
  hash_algorithm: {
    type: "string",
    description:
      "The hash algorithm of RSA OAEP (sha1, sha2-224, sha2-256, sha2-384, sha2-512). Only for RSA keys; defaults to sha2-256.",
  },
} as const satisfies Record<string, FieldSchema>;

/** encrypt and decrypt: AEAD associated data. */
export const CIPHER_ASSOCIATED_DATA_FIELD = {
  associated_data: {
    type: "string",
    description:
      "When using an AEAD cipher mode, such as AES-GCM, this parameter allows passing associated data (AD/AAD) into the encryption function; this data must be passed on subsequent decryption requests but can be transited in plaintext.",
  },
} as const satisfies Record<string, FieldSchema>;
