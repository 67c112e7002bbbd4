import { Packr } from "msgpackr";
import { isKeyType } from "./key-types.ts";
import type { BackupRecord, Keyring, KeyVersion } from "./keyring.ts";

/**
 * The stored form of a keyring: msgpack with an explicit schema version, so
 * the record can evolve. Vault's JSON form is produced only for backups.
 */
export const KEYRING_SCHEMA_VERSION = 1;

const packr = new Packr({ useRecords: false, moreTypes: false });

interface StoredKeyring extends Omit<Keyring, "versions"> {
  schema: number;
  versions: [number, KeyVersion][];
}

export function encodeKeyring(ring: Keyring): Uint8Array {
  const stored: StoredKeyring = { ...ring, schema: KEYRING_SCHEMA_VERSION, versions: [...ring.versions] };
  return packr.pack(stored);
}

export class CorruptKeyringError extends Error {
  constructor(name: string, why: string) {
    super(`stored key "${name}" could not be decoded: ${why}`);
    this.name = "CorruptKeyringError";
  }
}

export function decodeKeyring(name: string, bytes: Uint8Array): Keyring {
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch {
    throw new CorruptKeyringError(name, "not a msgpack record");
  }
  if (raw === null || typeof raw !== "object") throw new CorruptKeyringError(name, "not a record");
  const r = raw as Partial<StoredKeyring>;
  if (r.schema !== KEYRING_SCHEMA_VERSION)
    throw new CorruptKeyringError(name, `unknown schema ${String(r.schema)}`);
  if (typeof r.type !== "string" || !isKeyType(r.type)) {
    // A type a newer version added must never be read as another (Go's zero value is aes256-gcm96).
    throw new CorruptKeyringError(
      name,
      typeof r.type === "string"
        ? `unsupported key type ${r.type}: written by a newer version of this plugin`
        : "unknown key type",
    );
  }
  if (!Array.isArray(r.versions)) throw new CorruptKeyringError(name, "no versions");
  const versions = new Map<number, KeyVersion>();
  for (const pair of r.versions) {
    if (
      !Array.isArray(pair) ||
      typeof pair[0] !== "number" ||
      pair[1] === null ||
      typeof pair[1] !== "object"
    ) {
      throw new CorruptKeyringError(name, "bad version entry");
    }
    versions.set(pair[0], normaliseEntry(pair[1] as KeyVersion));
  }
  const num = (v: unknown): number => (typeof v === "number" && Number.isSafeInteger(v) ? v : 0);
  const ring: Keyring = {
    name: typeof r.name === "string" ? r.name : name,
    type: r.type,
    keySize: num(r.keySize),
    versions,
    latestVersion: num(r.latestVersion),
    minDecryptionVersion: num(r.minDecryptionVersion),
    minEncryptionVersion: num(r.minEncryptionVersion),
    minAvailableVersion: num(r.minAvailableVersion),
    derived: r.derived === true,
    kdf: num(r.kdf),
    convergentEncryption: r.convergentEncryption === true,
    convergentVersion: typeof r.convergentVersion === "number" ? r.convergentVersion : -1,
    exportable: r.exportable === true,
    deletionAllowed: r.deletionAllowed === true,
    allowPlaintextBackup: r.allowPlaintextBackup === true,
    autoRotatePeriod: num(r.autoRotatePeriod),
    imported: r.imported === true,
    allowImportedKeyRotation: r.allowImportedKeyRotation === true,
  };
  const backupInfo = record(r.backupInfo);
  if (backupInfo !== undefined) ring.backupInfo = backupInfo;
  if (r.softDeleted === true) ring.softDeleted = true;
  const restoreInfo = record(r.restoreInfo);
  if (restoreInfo !== undefined) ring.restoreInfo = restoreInfo;
  if (typeof r.parameterSet === "string") ring.parameterSet = r.parameterSet;
  const hybrid = r.hybridConfig as { pqc?: unknown; ec?: unknown } | undefined;
  if (hybrid !== undefined && hybrid !== null) {
    if (
      typeof hybrid.pqc !== "string" ||
      !isKeyType(hybrid.pqc) ||
      typeof hybrid.ec !== "string" ||
      !isKeyType(hybrid.ec)
    )
      throw new CorruptKeyringError(
        name,
        "unsupported hybrid configuration: written by a newer version of this plugin",
      );
    ring.hybridConfig = { pqc: hybrid.pqc, ec: hybrid.ec };
  }
  if (ring.latestVersion > 0 && !versions.has(ring.latestVersion)) {
    throw new CorruptKeyringError(name, "latest version missing");
  }
  return ring;
}

function record(v: unknown): BackupRecord | undefined {
  if (v === null || typeof v !== "object") return undefined;
  const r = v as Partial<BackupRecord>;
  return typeof r.time === "string" && typeof r.version === "number"
    ? { time: r.time, version: r.version }
    : undefined;
}

/** msgpackr hands back Buffers; drop undefined fields so exactOptionalPropertyTypes holds. */
function normaliseEntry(e: KeyVersion): KeyVersion {
  const out: KeyVersion = { creationTime: typeof e.creationTime === "string" ? e.creationTime : "" };
  if (e.key instanceof Uint8Array) out.key = e.key;
  if (e.hmacKey instanceof Uint8Array) out.hmacKey = e.hmacKey;
  if (e.privateKey instanceof Uint8Array) out.privateKey = e.privateKey;
  if (e.publicKey instanceof Uint8Array) out.publicKey = e.publicKey;
  if (typeof e.formattedPublicKey === "string") out.formattedPublicKey = e.formattedPublicKey;
  if (typeof e.convergentVersion === "number") out.convergentVersion = e.convergentVersion;
  if (e.pqKey instanceof Uint8Array) out.pqKey = e.pqKey;
  if (Array.isArray(e.certificateChain))
    out.certificateChain = e.certificateChain.filter((c) => c instanceof Uint8Array);
  return out;
}
