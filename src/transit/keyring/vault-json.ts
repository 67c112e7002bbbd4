import { constantTimeEqual } from "../../crypto/hash.ts";
import { encodeGoJson, type GoJsonInput } from "../../gocompat/json.ts";
import { type GoJsonValue, parseGoJson } from "../../gocompat/json-decode.ts";
import { formatRfc3339Nano, GO_ZERO_TIME } from "../../gocompat/time.ts";
import { decodeStdBase64, encodeStdBase64 } from "../../util/base64.ts";
import { privateKeyMissing, privateKeyObject, publicKeyObject } from "./asymmetric.ts";
import {
  BackupFormatError,
  BackupTypeError,
  big,
  bool,
  bytes,
  entryFromJson,
  field,
  int,
  isObj,
  type Obj,
  PQ_KEY_FIELD,
  record,
  str,
} from "./backup-entry.ts";
import {
  backupEngineFor,
  type Engine,
  KeyTypeNumberError,
  keyTypeNumber,
  resolveKeyType,
} from "./backup-numbering.ts";
import { jwkBigints } from "./key-encodings.ts";
import {
  derivationSupported,
  isEcdsa,
  isKeyType,
  isPqSigning,
  isRsa,
  type KeyType,
  keyTypeFromVaultId,
  VAULT_KEY_TYPE_ID,
} from "./key-types.ts";
import { type Keyring, type KeyVersion, newKeyring } from "./keyring.ts";
import { checkPqMaterial } from "./pq-keys.ts";

/**
 * The backup format (keysutil KeyData): the JSON of the policy and its
 * archived keys, field names as keysutil's Go struct tags, []byte as
 * base64, time.Time as RFC 3339 with nanoseconds, big.Int as JSON numbers,
 * RSA keys as Go's rsa.PrivateKey ({"N","E","D","Primes","Precomputed"}).
 * A backup is the standard base64 of that JSON.
 *
 * toVaultBackup writes what the host engine's Backup writes: Vault's
 * newest field set and numbering, or OpenBao's (see backup-numbering.ts).
 * fromVaultBackup reads what Vault since 0.9 or OpenBao wrote, and checks
 * every version's key material before anything is stored.
 */

export { BackupFormatError, BackupTypeError };

// ---------------------------------------------------------------- writing

function entryJson(type: KeyType, entry: KeyVersion): { [key: string]: GoJsonInput } {
  const out: { [key: string]: GoJsonInput } = {
    key: entry.key === undefined ? null : encodeStdBase64(entry.key),
    hmac_key: entry.hmacKey === undefined ? null : encodeStdBase64(entry.hmacKey),
    time: formatRfc3339Nano(entry.creationTime),
  };
  if (isEcdsa(type)) {
    const pub = publicKeyObject(entry);
    if (pub !== null) {
      const { x, y } = jwkBigints(pub, ["x", "y"]);
      out["ec_x"] = x;
      out["ec_y"] = y;
    }
    if (!privateKeyMissing(entry)) {
      const priv = privateKeyObject(entry);
      if (priv !== null) out["ec_d"] = jwkBigints(priv, ["d"])["d"];
    }
  } else if (isRsa(type)) {
    if (!privateKeyMissing(entry)) {
      const priv = privateKeyObject(entry);
      if (priv !== null) {
        const k = jwkBigints(priv, ["n", "e", "d", "p", "q", "dp", "dq", "qi"]);
        out["rsa_key"] = {
          N: k["n"],
          E: k["e"],
          D: k["d"],
          Primes: [k["p"], k["q"]],
          Precomputed: { Dp: k["dp"], Dq: k["dq"], Qinv: k["qi"], CRTValues: [] },
        };
      }
    }
    const pub = publicKeyObject(entry);
    if (pub !== null) {
      const k = jwkBigints(pub, ["n", "e"]);
      out["rsa_public_key"] = { N: k["n"], E: k["e"] };
    }
  }
  if (isPqSigning(type) && entry.pqKey !== undefined) out[PQ_KEY_FIELD] = encodeStdBase64(entry.pqKey);
  const formatted =
    isEcdsa(type) || type === "ed25519" || isPqSigning(type) ? entry.formattedPublicKey : undefined;
  if (formatted !== undefined && formatted !== "") out["public_key"] = formatted;
  if (entry.convergentVersion !== undefined && entry.convergentVersion !== 0) {
    out["convergent_version"] = entry.convergentVersion;
  }
  const ms = Date.parse(entry.creationTime);
  out["creation_time"] = Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
  if (entry.certificateChain !== undefined && entry.certificateChain.length > 0) {
    out["certificate_chain"] = entry.certificateChain.map((c) => encodeStdBase64(c));
  }
  return out;
}

const EMPTY_ENTRY: { [key: string]: GoJsonInput } = {
  key: null,
  hmac_key: null,
  time: GO_ZERO_TIME,
  creation_time: 0,
};

function recordJson(r: Keyring["backupInfo"]): GoJsonInput {
  return r === undefined ? null : { time: formatRfc3339Nano(r.time), version: r.version };
}

/** The fields after Imported/AllowImportedKeyRotation that only one engine's Policy has. */
const ENGINE_TAIL: Record<Engine, { [key: string]: GoJsonInput }> = {
  vault: { ParameterSet: "", HybridConfig: { PQCKeyType: 0, ECKeyType: 0 } },
  openbao: { soft_deleted: false },
};

/**
 * The backup blob of a keyring, as `engine`'s keysutil Policy.Backup
 * writes it: the policy with the versions kept in it (min_decryption_version
 * up), and the archive holding every version from min_available_version
 * (index 0 is version min_available_version; version 0 is an empty entry).
 */
export function toVaultBackup(ring: Keyring, host: Engine = "vault"): string {
  const engine = backupEngineFor(ring.type, host);
  const keys: { [key: string]: GoJsonInput } = {};
  const versions = [...ring.versions.keys()].sort((a, b) => a - b);
  for (const v of [...versions].map(String).sort()) {
    if (Number(v) >= ring.minDecryptionVersion)
      keys[v] = entryJson(ring.type, ring.versions.get(Number(v)) as KeyVersion);
  }
  const archive: GoJsonInput[] = [];
  for (let v = ring.minAvailableVersion; v <= ring.latestVersion; v++) {
    const entry = ring.versions.get(v);
    archive.push(entry === undefined ? EMPTY_ENTRY : entryJson(ring.type, entry));
  }
  const policy: { [key: string]: GoJsonInput } = {
    name: ring.name,
    key_size: ring.keySize === 0 ? undefined : ring.keySize,
    keys,
    derived: ring.derived,
    kdf: ring.kdf,
    convergent_encryption: ring.convergentEncryption,
    exportable: ring.exportable,
    min_decryption_version: ring.minDecryptionVersion,
    min_encryption_version: ring.minEncryptionVersion,
    latest_version: ring.latestVersion,
    archive_version: ring.latestVersion,
    archive_min_version: ring.minAvailableVersion,
    min_available_version: ring.minAvailableVersion,
    deletion_allowed: ring.deletionAllowed,
    convergent_version: ring.convergentVersion,
    type: keyTypeNumber(ring.type, engine),
    backup_info: recordJson(ring.backupInfo),
    restore_info: recordJson(ring.restoreInfo),
    allow_plaintext_backup: ring.allowPlaintextBackup,
    version_template: "",
    storage_prefix: "",
    auto_rotate_period: BigInt(ring.autoRotatePeriod) * 1_000_000_000n,
    Imported: ring.imported,
    AllowImportedKeyRotation: ring.allowImportedKeyRotation,
    ...ENGINE_TAIL[engine],
  };
  if (engine === "vault") {
    policy["ParameterSet"] = ring.parameterSet ?? "";
    policy["HybridConfig"] = {
      PQCKeyType: ring.hybridConfig === undefined ? 0 : (VAULT_KEY_TYPE_ID[ring.hybridConfig.pqc] ?? 0),
      ECKeyType: ring.hybridConfig === undefined ? 0 : (VAULT_KEY_TYPE_ID[ring.hybridConfig.ec] ?? 0),
    };
  }
  const json = encodeGoJson({ policy, archived_keys: { keys: archive } });
  return Buffer.from(json, "utf8").toString("base64");
}

// ---------------------------------------------------------------- reading

/** Fields only Vault's keysutil writes (policy, then key entry), and only OpenBao's. */
const VAULT_POLICY_FIELDS = ["ParameterSet", "HybridConfig", "managed_key_name", "public_key_imported"];
const VAULT_ENTRY_FIELDS = ["managed_key_id", "public_key_imported"];
const OPENBAO_POLICY_FIELDS = ["soft_deleted"];

/** The engine whose field set the blob carries, or null when it shows none (or both). */
function writerOf(p: Obj, entries: Obj[]): Engine | null {
  const vault =
    VAULT_POLICY_FIELDS.some((f) => Object.hasOwn(p, f)) ||
    entries.some((e) => VAULT_ENTRY_FIELDS.some((f) => Object.hasOwn(e, f)));
  const openbao = OPENBAO_POLICY_FIELDS.some((f) => Object.hasOwn(p, f));
  return vault === openbao ? null : vault ? "vault" : "openbao";
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a !== undefined && b !== undefined && a.length === b.length && constantTimeEqual(a, b);
}

/** Whether the policy's settings and every entry fit `type`: null, or why not. */
function fitsType(type: KeyType, p: Obj, entries: [number, Obj][]): string | null {
  const derived = bool(p, "derived");
  if (derived && !derivationSupported(type)) return "derivation is set";
  // keysutil sets key_size only for hmac keys.
  if (type !== "hmac" && int(p, "key_size") !== 0) return "key_size is set";
  for (const [v, o] of entries) {
    // OpenBao draws a version's HMAC key apart from its key; Vault's hmac versions carry the key twice.
    if ((type as string) === "xchacha20-poly1305" && sameBytes(bytes(o, "key"), bytes(o, "hmac_key"))) {
      return `version ${v}: hmac_key equals key`;
    }
    try {
      entryFromJson(type, derived, o, v);
    } catch (e) {
      if (e instanceof BackupFormatError) return e.message;
      throw e;
    }
  }
  return null;
}

/**
 * Reads a backup blob into a keyring named `name` (or the backup's own
 * name when empty). Throws BackupFormatError with a reason that names
 * fields, never key material.
 */
export function fromVaultBackup(blob: string, name: string): Keyring {
  const raw = decodeStdBase64(blob.trim());
  if (raw === null) throw new BackupFormatError("backup is not base64");
  let doc: GoJsonValue;
  try {
    doc = parseGoJson(raw.toString("utf8"));
  } catch (e) {
    throw new BackupFormatError((e as Error).message);
  }
  if (!isObj(doc) || !isObj(field(doc, "policy"))) throw new BackupFormatError("backup has no policy");
  const p = field(doc, "policy") as Obj;
  const template = str(p, "version_template");
  if (template !== "" && template !== "vault:v{{version}}:") {
    throw new BackupFormatError("custom version templates are not supported");
  }
  const latest = int(p, "latest_version");
  const minAvailable = int(p, "min_available_version");
  checkVersions(p, latest, minAvailable);
  const entries = versionEntries(doc, p, latest, minAvailable);
  let type: KeyType;
  try {
    type = resolveKeyType(
      int(p, "type"),
      (t) => fitsType(t, p, entries),
      writerOf(
        p,
        entries.map(([, o]) => o),
      ),
    );
  } catch (e) {
    if (e instanceof KeyTypeNumberError) throw new BackupTypeError(e.message);
    throw e;
  }
  const ring = newKeyring({ name: name !== "" ? name : str(p, "name"), type });
  ring.keySize = int(p, "key_size");
  ring.derived = bool(p, "derived");
  ring.kdf = int(p, "kdf");
  if (ring.kdf !== 0 && ring.kdf !== 1) throw new BackupFormatError(`unsupported kdf ${ring.kdf}`);
  ring.convergentEncryption = bool(p, "convergent_encryption");
  ring.convergentVersion = int(p, "convergent_version", -1);
  ring.exportable = bool(p, "exportable");
  ring.minDecryptionVersion = Math.max(1, int(p, "min_decryption_version"));
  ring.minEncryptionVersion = int(p, "min_encryption_version");
  ring.latestVersion = latest;
  ring.minAvailableVersion = minAvailable;
  ring.deletionAllowed = bool(p, "deletion_allowed");
  ring.allowPlaintextBackup = bool(p, "allow_plaintext_backup");
  const period = big(field(p, "auto_rotate_period"), "auto_rotate_period") ?? 0n;
  ring.autoRotatePeriod = Number(period / 1_000_000_000n);
  ring.imported = bool(p, "Imported");
  ring.allowImportedKeyRotation = bool(p, "AllowImportedKeyRotation");
  const backupInfo = record(field(p, "backup_info"), "backup_info");
  if (backupInfo !== undefined) ring.backupInfo = backupInfo;
  const restoreInfo = record(field(p, "restore_info"), "restore_info");
  if (restoreInfo !== undefined) ring.restoreInfo = restoreInfo;
  if (isPqSigning(type)) readPqSettings(ring, p);
  for (const [v, o] of entries) {
    const entry = entryFromJson(type, ring.derived, o, v);
    const why = isPqSigning(type) ? checkPqMaterial(ring, entry) : null;
    if (why !== null) throw new BackupFormatError(`version ${v}: ${why}`);
    ring.versions.set(v, entry);
  }
  if (ring.type === "hmac" && ring.keySize === 0)
    ring.keySize = ring.versions.get(ring.latestVersion)?.key?.length ?? 0;
  return ring;
}

/** ParameterSet and HybridConfig (Go field names, HybridConfig's types as keysutil numbers). */
function readPqSettings(ring: Keyring, p: Obj): void {
  ring.parameterSet = str(p, "ParameterSet");
  if (ring.type !== "hybrid") return;
  const hc = field(p, "HybridConfig");
  if (!isObj(hc)) throw new BackupFormatError("hybrid key without HybridConfig");
  const pqc = keyTypeFromVaultId(int(hc, "PQCKeyType"));
  const ec = keyTypeFromVaultId(int(hc, "ECKeyType"));
  if (pqc === undefined || ec === undefined || !isKeyType(pqc) || !isKeyType(ec))
    throw new BackupFormatError("unsupported HybridConfig key types");
  ring.hybridConfig = { pqc, ec };
}

/** The version numbers' sanity checks (and keysutil handleArchiving's, which fail Vault's restore too). */
function checkVersions(p: Obj, latest: number, minAvailable: number): void {
  if (latest < 1) throw new BackupFormatError("backup has no key versions");
  const minDecryption = int(p, "min_decryption_version");
  const minEncryption = int(p, "min_encryption_version");
  for (const [n, v] of [
    ["min_decryption_version", minDecryption],
    ["min_encryption_version", minEncryption],
    ["min_available_version", minAvailable],
  ] as const) {
    if (v < 0 || v > latest) throw new BackupFormatError(`${n} is out of range`);
  }
  const effective = Math.max(1, minDecryption);
  if (minEncryption > 0 && minEncryption < effective) {
    throw new BackupFormatError(
      `minimum decryption version of ${effective} is greater than minimum encryption version ${minEncryption}`,
    );
  }
}

/** Every version's entry: from the policy, else (Vault keeps only min_decryption_version up there) the archive. */
function versionEntries(doc: Obj, p: Obj, latest: number, minAvailable: number): [number, Obj][] {
  const keys = isObj(field(p, "keys")) ? (field(p, "keys") as Obj) : {};
  const archivedKeys = isObj(field(doc, "archived_keys")) ? (field(doc, "archived_keys") as Obj) : {};
  const archive = Array.isArray(field(archivedKeys, "keys"))
    ? (field(archivedKeys, "keys") as GoJsonValue[])
    : [];
  const out: [number, Obj][] = [];
  for (let v = Math.max(1, minAvailable); v <= latest; v++) {
    const fromPolicy = field(keys, String(v));
    const fromArchive = archive[v - minAvailable];
    const source = isObj(fromPolicy) ? fromPolicy : isObj(fromArchive) ? fromArchive : null;
    if (source === null) throw new BackupFormatError(`version ${v} is missing`);
    out.push([v, source]);
  }
  return out;
}
