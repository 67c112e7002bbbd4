import type { FieldSchema } from "../../framework/fields.ts";

/** The key settings that keys/:name and keys/:name/import both take, described as Vault describes them. */
export const KEY_POLICY_FIELDS = {
  exportable: {
    type: "bool",
    description:
      "Enables keys to be exportable. This allows for all the valid keys in the key ring to be exported.",
  },
  allow_plaintext_backup: {
    type: "bool",
    description:
      "Enables taking a backup of the named key in plaintext format. Once set, this cannot be disabled.",
  },
  context: {
    type: "string",
    description:
      "Base64 encoded context for key derivation. When reading a key with key derivation enabled, if the key type supports public keys, this will return the public key for the given context.",
  },
  auto_rotate_period: {
    type: "duration_second",
    default: 0,
    description:
      "Amount of time the key should live before being automatically rotated. A value of 0 (default) disables automatic rotation for the key.",
  },
} as const satisfies Record<string, FieldSchema>;
