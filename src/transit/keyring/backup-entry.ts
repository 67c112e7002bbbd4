import {
  ecKeyFromNumbers,
  KeyRebuildError,
  type RebuiltKey,
  rsaKeyFromNumbers,
  rsaModulusBits,
  rsaPublicKeyFromNumbers,
} from "../../crypto/key-rebuild.ts";
import { ed25519FromSeed } from "../../crypto/keys.ts";
import { type GoJsonValue, JsonNumber } from "../../gocompat/json-decode.ts";
import { isGoZeroTime, parseRfc3339 } from "../../gocompat/time.ts";
import { decodeStdBase64 } from "../../util/base64.ts";
import { pemEncode } from "./key-encodings.ts";
import {
  type EcdsaKeyType,
  HMAC_MAX_KEY_SIZE,
  HMAC_MIN_KEY_SIZE,
  isEcdsa,
  isHmacKeySize,
  isPqSigning,
  isRsa,
  isSymmetric,
  type KeyType,
  rawAesKeySize,
  rsaBits,
  symmetricKeySize,
} from "./key-types.ts";
import type { BackupRecord, KeyVersion } from "./keyring.ts";

/**
 * Reading one keysutil.KeyEntry of a backup (and the policy's typed
 * fields) as Go's encoding/json fills the struct: []byte from base64,
 * big.Int from JSON numbers, time.Time from RFC 3339. Every version's key
 * material is checked against the key type before anything is stored.
 * Errors name fields, never key material.
 */

export class BackupFormatError extends Error {}

/**
 * The KeyEntry field holding a post-quantum private key (docs/enterprise-types.md): the ML-DSA seed
 * or the SLH-DSA private key. Vault Enterprise's own field is not visible in open sources.
 */
export const PQ_KEY_FIELD = "MLDSASeed";

/**
 * A blob whose key type number fits no reading, or fits two (Vault's and
 * OpenBao's numbering): this engine's own refusal, a 400, where a malformed
 * blob is Vault's plain error (500).
 */
export class BackupTypeError extends BackupFormatError {}

export type Obj = { [key: string]: GoJsonValue };

export function isObj(v: GoJsonValue | undefined): v is Obj {
  return (
    v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v) && !(v instanceof JsonNumber)
  );
}

export function field(o: Obj, name: string): GoJsonValue | undefined {
  return Object.hasOwn(o, name) ? o[name] : undefined;
}

export function int(o: Obj, name: string, dflt = 0): number {
  const v = field(o, name);
  if (v === undefined || v === null) return dflt;
  if (!(v instanceof JsonNumber)) throw new BackupFormatError(`field "${name}" is not a number`);
  const n = v.toBigInt();
  if (n === null || n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new BackupFormatError(`field "${name}" is not an integer`);
  }
  return Number(n);
}

export function bool(o: Obj, name: string): boolean {
  const v = field(o, name);
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new BackupFormatError(`field "${name}" is not a boolean`);
  return v;
}

export function str(o: Obj, name: string): string {
  const v = field(o, name);
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new BackupFormatError(`field "${name}" is not a string`);
  return v;
}

export function bytes(o: Obj, name: string): Buffer | undefined {
  const s = field(o, name);
  if (s === undefined || s === null) return undefined;
  if (typeof s !== "string") throw new BackupFormatError(`field "${name}" is not base64`);
  const b = decodeStdBase64(s);
  if (b === null) throw new BackupFormatError(`field "${name}" is not base64`);
  return b.length === 0 ? undefined : b;
}

export function big(v: GoJsonValue | undefined, name: string): bigint | undefined {
  if (v === undefined || v === null) return undefined;
  if (!(v instanceof JsonNumber)) throw new BackupFormatError(`field "${name}" is not a number`);
  const n = v.toBigInt();
  if (n === null || n < 0n) throw new BackupFormatError(`field "${name}" is not a non-negative integer`);
  return n;
}

export function record(v: GoJsonValue | undefined, name: string): BackupRecord | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new BackupFormatError(`field "${name}" is not an object`);
  const time = parseRfc3339(str(v, "time"));
  if (time === null) throw new BackupFormatError(`field "${name}.time" is not an RFC 3339 time`);
  return { time, version: int(v, "version") };
}

const CURVE_OF = { "ecdsa-p256": "p256", "ecdsa-p384": "p384", "ecdsa-p521": "p521" } as const;

function rsaFromJson(priv: GoJsonValue | undefined, pub: GoJsonValue | undefined): RebuiltKey | null {
  if (isObj(priv)) {
    const n = big(field(priv, "N"), "N");
    const e = big(field(priv, "E"), "E");
    const d = big(field(priv, "D"), "D");
    const primes = field(priv, "Primes");
    if (n === undefined || e === undefined || d === undefined || !Array.isArray(primes)) {
      throw new BackupFormatError("RSA private key is incomplete");
    }
    if (primes.length !== 2) throw new BackupFormatError("multi-prime RSA keys are not supported");
    const p = big(primes[0], "Primes[0]");
    const q = big(primes[1], "Primes[1]");
    if (p === undefined || q === undefined)
      throw new BackupFormatError("RSA primes do not match the modulus");
    const pre = isObj(field(priv, "Precomputed")) ? (field(priv, "Precomputed") as Obj) : {};
    const [dp, dq, qinv] = [
      big(field(pre, "Dp"), "Dp"),
      big(field(pre, "Dq"), "Dq"),
      big(field(pre, "Qinv"), "Qinv"),
    ];
    return rsaKeyFromNumbers({ n, e, d, p, q, dp, dq, qinv });
  }
  if (isObj(pub)) {
    const n = big(field(pub, "N"), "N");
    const e = big(field(pub, "E"), "E");
    if (n === undefined || e === undefined) throw new BackupFormatError("RSA public key is incomplete");
    return { publicKey: rsaPublicKeyFromNumbers(n, e) };
  }
  return null;
}

function ecFromJson(type: EcdsaKeyType, o: Obj): RebuiltKey | null {
  const x = big(field(o, "ec_x"), "ec_x");
  const y = big(field(o, "ec_y"), "ec_y");
  if (x === undefined || y === undefined) return null;
  return ecKeyFromNumbers(CURVE_OF[type], x, y, big(field(o, "ec_d"), "ec_d"));
}

/** The ed25519 material: Go's 64-byte seed || public key (checked unless derived), or the public key alone. */
function ed25519FromJson(
  entry: KeyVersion,
  key: Buffer | undefined,
  formatted: string,
  derived: boolean,
): string | null {
  if (key === undefined) {
    const raw = decodeStdBase64(formatted);
    if (raw === null || raw.length !== 32) return "no ed25519 key material";
    entry.formattedPublicKey = formatted;
    return null;
  }
  if (key.length !== 64) return "ed25519 key must be 64 bytes (seed and public key)";
  entry.key = key;
  // A derived key's 64 bytes are an HKDF key, not a key pair (keysutil generateEd25519Key).
  const pub = ed25519FromSeed(key.subarray(0, 32)).publicKey;
  if (!derived && !pub.equals(key.subarray(32))) return "ed25519 public half does not match the seed";
  entry.formattedPublicKey = formatted !== "" ? formatted : pub.toString("base64");
  return null;
}

/** One KeyEntry of a backup, checked against the key type; BackupFormatError("version N: why") otherwise. */
export function entryFromJson(type: KeyType, derived: boolean, o: Obj, version: number): KeyVersion {
  const time = parseRfc3339(str(o, "time"));
  const legacy = int(o, "creation_time");
  const entry: KeyVersion = {
    creationTime: time !== null && !isGoZeroTime(time) ? time : new Date(legacy * 1000).toISOString(),
  };
  const key = bytes(o, "key");
  const hmacKey = bytes(o, "hmac_key");
  if (hmacKey !== undefined) entry.hmacKey = hmacKey;
  const convergent = int(o, "convergent_version");
  if (convergent !== 0) entry.convergentVersion = convergent;
  const chain = field(o, "certificate_chain");
  if (Array.isArray(chain) && chain.length > 0) {
    entry.certificateChain = chain.map((c, i) => {
      const der = typeof c === "string" ? decodeStdBase64(c) : null;
      if (der === null) throw new BackupFormatError(`certificate ${i} of version ${version} is not base64`);
      return der;
    });
  }
  const why = material(type, derived, o, entry, key);
  if (why !== null) throw new BackupFormatError(`version ${version}: ${why}`);
  return entry;
}

/** Fills the entry's key material for `type`; null, or why the blob's material does not fit. */
function material(
  type: KeyType,
  derived: boolean,
  o: Obj,
  entry: KeyVersion,
  key: Buffer | undefined,
): string | null {
  // xchacha20-poly1305 by name: OpenBao's type, whose line may come from another change.
  if (isSymmetric(type)) {
    const want = symmetricKeySize(type);
    if (key === undefined || key.length !== want) return `key must be ${want} bytes`;
    entry.key = key;
    return null;
  }
  if (rawAesKeySize(type) > 0) {
    const want = rawAesKeySize(type);
    if (key === undefined || key.length !== want) return `key must be ${want} bytes`;
    entry.key = key;
    return null;
  }
  if (isPqSigning(type)) {
    // Checked against the policy's ParameterSet/HybridConfig once those are read (vault-json.ts).
    const pq = bytes(o, PQ_KEY_FIELD);
    if (pq === undefined) return `no ${PQ_KEY_FIELD}`;
    entry.pqKey = pq;
    if (key !== undefined) entry.key = key;
    const formatted = str(o, "public_key");
    if (formatted !== "") entry.formattedPublicKey = formatted;
    return null;
  }
  if (type === "hmac") {
    if (key === undefined || !isHmacKeySize(key.length)) {
      return `key must be ${HMAC_MIN_KEY_SIZE} to ${HMAC_MAX_KEY_SIZE} bytes`;
    }
    entry.key = key;
    entry.hmacKey = key;
    return null;
  }
  if (type === "ed25519") return ed25519FromJson(entry, key, str(o, "public_key"), derived);
  let rebuilt: RebuiltKey | null;
  try {
    rebuilt = isEcdsa(type)
      ? ecFromJson(type, o)
      : isRsa(type)
        ? rsaFromJson(field(o, "rsa_key"), field(o, "rsa_public_key"))
        : null;
  } catch (e) {
    if (e instanceof KeyRebuildError || e instanceof BackupFormatError) return e.message;
    throw e;
  }
  if (rebuilt === null)
    return isEcdsa(type) ? "no EC public key" : isRsa(type) ? "no RSA key" : `no material for ${type}`;
  if (rebuilt.privateKey !== undefined) entry.privateKey = rebuilt.privateKey;
  entry.publicKey = rebuilt.publicKey;
  if (isEcdsa(type)) entry.formattedPublicKey = pemEncode("PUBLIC KEY", rebuilt.publicKey);
  if (isRsa(type) && rsaModulusBits(rebuilt.publicKey) !== rsaBits(type))
    return `RSA key is not ${rsaBits(type)} bits`;
  return null;
}
