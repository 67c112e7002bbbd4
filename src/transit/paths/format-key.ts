import { pemEncode, publicKeyPem } from "../../crypto/encodings.ts";
import { ed25519FromSeed, spkiFromPkcs8 } from "../../crypto/keys.ts";
import { internalError } from "../../framework/errors.ts";
import type { LogicalResponse } from "../../framework/request.ts";
import { deriveKey } from "../keyring/derive.ts";
import {
  decryptionSupported,
  derivationSupported,
  encryptionSupported,
  isEcdsa,
  isRsa,
  isSymmetric,
  rawAesKeySize,
  signingSupported,
} from "../keyring/key-types.ts";
import { creationUnixSeconds, KDF_HKDF_SHA256, type Keyring, type KeyVersion } from "../keyring/keyring.ts";

const CURVE_NAME: Record<string, string> = {
  "ecdsa-p256": "P-256",
  "ecdsa-p384": "P-384",
  "ecdsa-p521": "P-521",
};

/** What a read of keys/:name shows (transit formatKeyPolicy). */
export function formatKeyring(ring: Keyring, context?: Uint8Array): LogicalResponse {
  const data: Record<string, unknown> = {
    name: ring.name,
    type: ring.type,
    derived: ring.derived,
    deletion_allowed: ring.deletionAllowed,
    min_available_version: ring.minAvailableVersion,
    min_decryption_version: ring.minDecryptionVersion,
    min_encryption_version: ring.minEncryptionVersion,
    latest_version: ring.latestVersion,
    exportable: ring.exportable,
    allow_plaintext_backup: ring.allowPlaintextBackup,
    supports_encryption: encryptionSupported(ring.type),
    supports_decryption: decryptionSupported(ring.type),
    supports_signing: signingSupported(ring.type),
    supports_derivation: derivationSupported(ring.type),
    auto_rotate_period: ring.autoRotatePeriod,
    imported_key: ring.imported,
    // OpenBao's field; Vault has no soft delete and its clients ignore the extra field.
    soft_deleted: ring.softDeleted === true,
  };
  if (ring.keySize !== 0) data["key_size"] = ring.keySize;
  if (ring.imported) data["imported_key_allow_rotation"] = ring.allowImportedKeyRotation;
  if (ring.backupInfo !== undefined) data["backup_info"] = { ...ring.backupInfo };
  if (ring.restoreInfo !== undefined) data["restore_info"] = { ...ring.restoreInfo };
  if (ring.derived) {
    if (ring.kdf === KDF_HKDF_SHA256) {
      data["kdf"] = "hkdf_sha256";
    } else {
      data["kdf"] = "hmac-sha256-counter";
      data["kdf_mode"] = "hmac-sha256-counter";
    }
    data["convergent_encryption"] = ring.convergentEncryption;
    if (ring.convergentEncryption) data["convergent_encryption_version"] = ring.convergentVersion;
  }
  if (ring.parameterSet !== undefined && ring.parameterSet !== "") data["parameter_set"] = ring.parameterSet;
  if (ring.type === "hybrid" && ring.hybridConfig !== undefined) {
    data["hybrid_key_type_pqc"] = ring.hybridConfig.pqc;
    data["hybrid_key_type_ec"] = ring.hybridConfig.ec;
  }
  if (isSymmetric(ring.type) || rawAesKeySize(ring.type) > 0) {
    const keys: Record<string, number> = {};
    for (const [v, entry] of ring.versions) keys[String(v)] = creationUnixSeconds(entry);
    data["keys"] = keys;
  } else if (ring.type !== "hmac") {
    const keys: Record<string, Record<string, unknown>> = {};
    for (const [v, entry] of ring.versions) keys[String(v)] = asymmetricKeyInfo(ring, v, entry, context);
    data["keys"] = keys;
  }
  return { data };
}

function asymmetricKeyInfo(
  ring: Keyring,
  version: number,
  entry: KeyVersion,
  context?: Uint8Array,
): Record<string, unknown> {
  let publicKey = entry.formattedPublicKey ?? "";
  let name: string = ring.type;
  if (isEcdsa(ring.type)) {
    name = CURVE_NAME[ring.type] ?? ring.type;
  } else if (ring.type === "ed25519") {
    if (ring.derived) {
      if (context === undefined || context.length === 0) {
        publicKey = "";
      } else {
        const derived = deriveKey(ring, context, version, 32);
        publicKey = ed25519PublicFromGoKey(derived).toString("base64");
      }
    }
  } else if (isRsa(ring.type)) {
    publicKey = rsaPublicPem(entry);
  } else if (ring.type === "ml-dsa") {
    name = `ml-dsa-${ring.parameterSet ?? ""}`;
  }
  const chain = (entry.certificateChain ?? []).map((der) => pemEncode("CERTIFICATE", der).trim()).join("\n");
  return {
    name,
    public_key: publicKey,
    certificate_chain: chain,
    creation_time: entry.creationTime,
    hybrid_public_key: ring.type === "hybrid" ? publicKey : "",
  };
}

/** Public key of an ed25519 key in Go's layout: the last 32 bytes, or derived from the 32-byte seed. */
export function ed25519PublicFromGoKey(key: Uint8Array): Buffer {
  if (key.length === 64) return Buffer.from(key.subarray(32));
  return ed25519FromSeed(key.subarray(0, 32)).publicKey;
}

/** Vault's encodeRSAPublicKey: PKIX "PUBLIC KEY" PEM. */
export function rsaPublicPem(entry: KeyVersion): string {
  if (entry.publicKey !== undefined) return publicKeyPem(entry.publicKey);
  if (entry.privateKey !== undefined) return publicKeyPem(spkiFromPkcs8(entry.privateKey));
  throw internalError("failed to encode public key: no key material");
}
