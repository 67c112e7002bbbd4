import { userError } from "../../framework/errors.ts";
import type { KeyType } from "./key-types.ts";

/**
 * One version of a named key (Vault's keysutil.KeyEntry). Buffers are owned
 * by the keyring: a published keyring is never mutated, writers work on a
 * clone (see cloneKeyring).
 */
export interface KeyVersion {
  /** Symmetric or HMAC-type key; for ed25519 Go's 64-byte private key (seed || public). */
  key?: Uint8Array;
  /** The version's HMAC key: Vault keeps one for every type (for the hmac type it equals `key`). */
  hmacKey?: Uint8Array;
  /** Creation time, RFC 3339 in UTC. */
  creationTime: string;
  /** ECDSA or RSA private key, PKCS#8 DER. */
  privateKey?: Uint8Array;
  /** SPKI DER public key for asymmetric types (the only key material of an imported public key). */
  publicKey?: Uint8Array;
  /** Vault's formatted public key: PEM for ECDSA, base64 for ed25519 (RSA is formatted when read). */
  formattedPublicKey?: string;
  /** The convergent scheme this version was made with (0: use the keyring's). */
  convergentVersion?: number;
  /** DER certificates, leaf first (set-certificate). */
  certificateChain?: Uint8Array[];
  /**
   * Post-quantum private key: the 32-byte FIPS 204 seed for ml-dsa and hybrid (whose EC half is in
   * `key` as the raw scalar or Ed25519 seed), the FIPS 205 private key (4n bytes) for slh-dsa.
   */
  pqKey?: Uint8Array;
}

/** Vault's HybridKeyConfig, by key type name. */
export interface HybridConfig {
  pqc: KeyType;
  ec: KeyType;
}

/** Key derivation functions (keysutil Kdf_*). */
export const KDF_HMAC_SHA256_COUNTER = 0;
export const KDF_HKDF_SHA256 = 1;

export interface BackupRecord {
  time: string;
  version: number;
}

/**
 * A named key: the policy of Vault's keysutil.Policy. `versions` holds every
 * version from minAvailableVersion to latestVersion (Vault splits old ones
 * into an archive entry; here they stay in one record).
 */
export interface Keyring {
  name: string;
  type: KeyType;
  /** HMAC key size in bytes (hmac type only; 0 otherwise). */
  keySize: number;
  versions: Map<number, KeyVersion>;
  latestVersion: number;
  minDecryptionVersion: number;
  minEncryptionVersion: number;
  minAvailableVersion: number;
  derived: boolean;
  kdf: number;
  convergentEncryption: boolean;
  /** The keyring's convergent scheme; -1 until the first version, then that version's. */
  convergentVersion: number;
  exportable: boolean;
  deletionAllowed: boolean;
  allowPlaintextBackup: boolean;
  /** Seconds; 0 disables automatic rotation. */
  autoRotatePeriod: number;
  imported: boolean;
  allowImportedKeyRotation: boolean;
  backupInfo?: BackupRecord;
  restoreInfo?: BackupRecord;
  /** ML-DSA ("44", "65", "87"), SLH-DSA (FIPS 205 name) and hybrid (the ML-DSA set) keys. */
  parameterSet?: string;
  /** hybrid keys only. */
  hybridConfig?: HybridConfig;
  /** OpenBao's soft delete: kept with its configuration, refused for every use until restored. */
  softDeleted?: boolean;
}

/** keysutil ErrSoftDeleted (OpenBao). */
export const ERR_SOFT_DELETED = "refusing to use soft-deleted key";

/** What OpenBao's keysutil does first in every operation that uses key material (a UserError: 400). */
export function refuseSoftDeleted(ring: Keyring): void {
  if (ring.softDeleted === true) throw userError(ERR_SOFT_DELETED);
}

/** The convergent scheme new keys use (keysutil currentConvergentVersion). */
export const CURRENT_CONVERGENT_VERSION = 3;

export interface KeyringConfig {
  name: string;
  type: KeyType;
  keySize?: number;
  derived?: boolean;
  convergentEncryption?: boolean;
  exportable?: boolean;
  allowPlaintextBackup?: boolean;
  autoRotatePeriod?: number;
  parameterSet?: string;
  hybridConfig?: HybridConfig;
}

/** A keyring with no versions yet; rotate it once before use (keysutil.NewPolicy). */
export function newKeyring(config: KeyringConfig): Keyring {
  return {
    name: config.name,
    type: config.type,
    keySize: config.keySize ?? 0,
    versions: new Map(),
    latestVersion: 0,
    minDecryptionVersion: 0,
    minEncryptionVersion: 0,
    minAvailableVersion: 0,
    derived: config.derived ?? false,
    kdf: config.derived ? KDF_HKDF_SHA256 : KDF_HMAC_SHA256_COUNTER,
    convergentEncryption: config.convergentEncryption ?? false,
    convergentVersion: config.convergentEncryption ? CURRENT_CONVERGENT_VERSION : -1,
    exportable: config.exportable ?? false,
    deletionAllowed: false,
    allowPlaintextBackup: config.allowPlaintextBackup ?? false,
    autoRotatePeriod: config.autoRotatePeriod ?? 0,
    imported: false,
    allowImportedKeyRotation: false,
    ...(config.parameterSet !== undefined ? { parameterSet: config.parameterSet } : {}),
    ...(config.hybridConfig !== undefined ? { hybridConfig: { ...config.hybridConfig } } : {}),
  };
}

/** A copy a writer can change; version entries are shared (they are never mutated in place). */
export function cloneKeyring(ring: Keyring): Keyring {
  return { ...ring, versions: new Map(ring.versions) };
}

/** The convergent scheme of a version (keysutil convergentVersion). */
export function convergentVersionOf(ring: Keyring, version: number): number {
  if (!ring.convergentEncryption) return 0;
  let v = ring.convergentVersion === 0 ? 1 : ring.convergentVersion;
  const entry = ring.versions.get(version);
  if (entry?.convergentVersion) v = entry.convergentVersion;
  return v;
}

/** Vault's "vault:v<version>:" prefix. */
export function versionPrefix(version: number): string {
  return `vault:v${version}:`;
}

/** Unix seconds of a version's creation, as Vault's read shows for symmetric keys. */
export function creationUnixSeconds(entry: KeyVersion): number {
  return Math.floor(Date.parse(entry.creationTime) / 1000);
}

export function nowRfc3339(): string {
  return new Date().toISOString();
}
