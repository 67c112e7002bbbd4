import { invalidRequest } from "../../framework/errors.ts";
import type { FieldData } from "../../framework/fields.ts";

/**
 * Vault Enterprise features this engine does not implement, refused with
 * Vault CE's own texts (transit backend.go ErrCmacEntOnly / ErrPQCEntOnly,
 * path_keys.go's key-type switch) so clients see what Vault CE answers.
 */
export const ERR_CMAC_ENT_ONLY = "CMAC operations are only available in enterprise versions of Vault";
export const ERR_PQC_ENT_ONLY = "PQC key types are only available in enterprise versions of Vault";

export const CMAC_KEY_TYPES: ReadonlySet<string> = new Set(["aes128-cmac", "aes256-cmac"]);
const ML_DSA_PARAMETER_SETS = new Set(["44", "65", "87"]);
const HYBRID_EC_TYPES = new Set(["ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519"]);

/** The fields path_keys.go has for PQC keys (Enterprise: CE parses them, then refuses). */
export const PQC_KEY_FIELDS = {
  parameter_set: {
    type: "string",
    description: 'The parameter set to use. Applies only to "ml-dsa" and "hybrid" key types.',
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

/**
 * pathPolicyWrite for the Enterprise key types, in Vault CE's order: the
 * type's own parameters, key_size, then the refusal. Returns without
 * throwing for every other type.
 */
export function refuseEnterpriseKeyType(keyType: string, keySize: number, d: FieldData): void {
  const isCmac = CMAC_KEY_TYPES.has(keyType);
  if (!isCmac && keyType !== "ml-dsa" && keyType !== "hybrid") return;
  const parameterSet = d.get<"string">("parameter_set");
  if (keyType === "ml-dsa" && !ML_DSA_PARAMETER_SETS.has(parameterSet)) {
    throw invalidRequest(`invalid parameter set ${parameterSet} for key type ${keyType}`);
  }
  if (keyType === "hybrid") {
    const problem = hybridConfigError(
      d.get<"string">("hybrid_key_type_pqc"),
      parameterSet,
      d.get<"string">("hybrid_key_type_ec"),
    );
    if (problem !== null) throw invalidRequest(`invalid config for hybrid key: ${problem}`);
  }
  if (keySize !== 0) throw invalidRequest(`key_size is not valid for algorithm ${keyType}`);
  throw invalidRequest(isCmac ? ERR_CMAC_ENT_ONLY : ERR_PQC_ENT_ONLY);
}

/** getHybridKeyConfig's errors. */
function hybridConfigError(pqc: string, parameterSet: string, ec: string): string | null {
  if (pqc !== "ml-dsa") return `invalid PQC key type: ${pqc}`;
  if (!ML_DSA_PARAMETER_SETS.has(parameterSet))
    return `invalid parameter set ${parameterSet} for key type ${pqc}`;
  if (!HYBRID_EC_TYPES.has(ec)) return `invalid key type for hybrid key: ${ec}`;
  return null;
}
