/**
 * Fields Vault's path_keys.go has for the post-quantum key types (parameter_set and the hybrid
 * parts). The Enterprise key types themselves are served (keyring/pq-keys.ts, path-cmac.ts;
 * docs/enterprise-types.md), so Vault CE's refusals (ErrCmacEntOnly / ErrPQCEntOnly) are not
 * answered here; only managed keys remain refused, in path-keys.ts.
 */
export const PQC_KEY_FIELDS = {
  parameter_set: {
    type: "string",
    description:
      'The parameter set to use. Applies to "ml-dsa", "slh-dsa" and "hybrid" key types. For ML-DSA (and hybrid), valid values are 44, 65, or 87; for SLH-DSA, a FIPS 205 name such as SLH-DSA-SHA2-128f or its short form sha2-128f.',
  },
  hybrid_key_type_pqc: {
    type: "string",
    description: 'The key type of the PQC key to use when generating a hybrid signature ("ml-dsa").',
  },
  hybrid_key_type_ec: {
    type: "string",
    description:
      'The key type of the elliptic curve key to use when generating a hybrid signature ("ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519").',
  },
} as const;
