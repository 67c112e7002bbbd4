import {
  type HybridEcType,
  hybridPublicKey,
  hybridScheme,
  hybridSign,
  hybridVerify,
  isHybridEcType,
} from "../../crypto/hybrid-sig.ts";
import { generateEcdsa, generateEd25519, privateKeyObject } from "../../crypto/keys.ts";
import {
  isMlDsaParameterSet,
  ML_DSA_SEED_BYTES,
  type MlDsaParameterSet,
  type MlDsaPrivateKey,
  mlDsaFromSeed,
  mlDsaGenerateSeed,
  mlDsaSign,
  mlDsaSizes,
  mlDsaVerify,
} from "../../crypto/mldsa.ts";
import {
  isSlhDsaParameterSet,
  SLH_DSA_PARAMETER_SETS,
  type SlhDsaParameterSet,
  slhDsaFromPrivateKey,
  slhDsaGenerate,
  slhDsaSign,
  slhDsaSizes,
  slhDsaVerify,
} from "../../crypto/slhdsa.ts";
import { internalError, userError } from "../../framework/errors.ts";
import { decodeStdBase64, encodeStdBase64 } from "../../util/base64.ts";
import { isKeyType, type KeyType } from "./key-types.ts";
import type { HybridConfig, Keyring, KeyVersion } from "./keyring.ts";

/**
 * The post-quantum signing key types (Vault Enterprise's ml-dsa, slh-dsa and hybrid): key
 * generation, the policy settings `parameter_set` / `hybrid_key_type_*` with Vault's error texts,
 * and signing and verification with a version. The cryptography is src/crypto (mldsa.ts,
 * slhdsa.ts, hybrid-sig.ts); layouts and choices are in docs/enterprise-types.md.
 *
 * Stored material (KeyVersion): `pqKey` is the ML-DSA seed (ml-dsa, hybrid) or the FIPS 205 private
 * key (slh-dsa); a hybrid's EC half is `key` (the raw ECDSA scalar or the Ed25519 seed);
 * `formattedPublicKey` is base64 of the raw public key (for hybrid, the composite mldsaPK || tradPK).
 */

// ---------------------------------------------------------------- settings

/** The stored form of a create request's parameter_set, or Vault's 400 text. */
export function parameterSetFor(type: KeyType, raw: string): string {
  if (type === "ml-dsa") {
    if (!isMlDsaParameterSet(raw)) throw userError(`invalid parameter set ${raw} for key type ${type}`);
    return raw;
  }
  if (type === "slh-dsa") {
    const set = slhDsaSetName(raw);
    if (set === undefined) throw userError(`invalid parameter set ${raw} for key type ${type}`);
    return set;
  }
  throw userError(`parameter_set is not valid for key type ${type}`);
}

/** FIPS 205 names, and the short forms "sha2-128s" ... accepted case-insensitively. */
function slhDsaSetName(raw: string): SlhDsaParameterSet | undefined {
  const want = raw.toUpperCase().startsWith("SLH-DSA-") ? raw.toUpperCase() : `SLH-DSA-${raw.toUpperCase()}`;
  return SLH_DSA_PARAMETER_SETS.find((s) => s.toUpperCase() === want);
}

/** Vault's getHybridKeyConfig: the PQC part (ml-dsa only) with its set, and the EC part. */
export function hybridConfigFor(pqc: string, parameterSet: string, ec: string): HybridConfig {
  const fail = (why: string): never => {
    throw userError(`invalid config for hybrid key: ${why}`);
  };
  if (pqc !== "ml-dsa") fail(`invalid PQC key type: ${pqc}`);
  if (!isMlDsaParameterSet(parameterSet)) fail(`invalid parameter set ${parameterSet} for key type ${pqc}`);
  if (!isHybridEcType(ec) || !isKeyType(ec)) fail(`invalid key type for hybrid key: ${ec}`);
  return { pqc: "ml-dsa", ec: ec as KeyType };
}

function mlDsaSetOf(ring: Keyring): MlDsaParameterSet {
  const set = ring.parameterSet ?? "";
  if (!isMlDsaParameterSet(set)) throw internalError(`invalid parameter set ${set} for key ${ring.name}`);
  return set;
}

function slhDsaSetOf(ring: Keyring): SlhDsaParameterSet {
  const set = ring.parameterSet ?? "";
  if (!isSlhDsaParameterSet(set)) throw internalError(`invalid parameter set ${set} for key ${ring.name}`);
  return set;
}

function hybridEcOf(ring: Keyring): HybridEcType {
  const ec = ring.hybridConfig?.ec;
  if (!isHybridEcType(ec)) throw internalError(`invalid hybrid configuration for key ${ring.name}`);
  return ec;
}

// ---------------------------------------------------------------- material

/** A fresh EC half for a hybrid key: the raw scalar (fixed width) or the Ed25519 seed. */
function generateHybridEc(ec: HybridEcType): Uint8Array {
  if (ec === "ed25519") return new Uint8Array(generateEd25519().privateKey.subarray(0, 32));
  const curve = ec === "ecdsa-p256" ? "p256" : ec === "ecdsa-p384" ? "p384" : "p521";
  const jwk = privateKeyObject(generateEcdsa(curve).privateKey).export({ format: "jwk" });
  return new Uint8Array(Buffer.from(String(jwk.d), "base64url"));
}

/** The key material of a new version of a ml-dsa, slh-dsa or hybrid keyring. */
export function generatePqVersion(ring: Keyring): Partial<KeyVersion> {
  switch (ring.type) {
    case "ml-dsa": {
      const seed = mlDsaGenerateSeed();
      const key = mlDsaFromSeed(mlDsaSetOf(ring), seed);
      return { pqKey: seed, formattedPublicKey: encodeStdBase64(key.publicKey) };
    }
    case "slh-dsa": {
      const key = slhDsaGenerate(slhDsaSetOf(ring));
      return { pqKey: key.privateKey, formattedPublicKey: encodeStdBase64(key.publicKey) };
    }
    case "hybrid": {
      const set = mlDsaSetOf(ring);
      const ec = hybridEcOf(ring);
      const seed = mlDsaGenerateSeed();
      const ecKey = generateHybridEc(ec);
      const pub = hybridPublicKey(hybridScheme(set, ec), mlDsaFromSeed(set, seed), ecKey);
      return { pqKey: seed, key: ecKey, formattedPublicKey: encodeStdBase64(pub) };
    }
    default:
      throw internalError(`unsupported key type ${ring.type}`);
  }
}

/**
 * Checks a version's stored material against the keyring's settings (backup restore): null, or why
 * it does not fit. Fills `formattedPublicKey` from the private key when it is absent.
 */
export function checkPqMaterial(ring: Keyring, entry: KeyVersion): string | null {
  try {
    const pub = publicKeyFromPrivate(ring, entry);
    const formatted = encodeStdBase64(pub);
    if (entry.formattedPublicKey !== undefined && entry.formattedPublicKey !== formatted) {
      return "public key does not match the private key";
    }
    entry.formattedPublicKey = formatted;
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

function publicKeyFromPrivate(ring: Keyring, entry: KeyVersion): Uint8Array {
  const pq = entry.pqKey;
  if (pq === undefined) throw new Error("no post-quantum private key");
  if (ring.type === "slh-dsa") {
    const set = slhDsaSetOf(ring);
    if (pq.length !== slhDsaSizes(set).privateKey)
      throw new Error("SLH-DSA private key has the wrong length");
    return slhDsaFromPrivateKey(set, pq).publicKey;
  }
  if (pq.length !== ML_DSA_SEED_BYTES) throw new Error(`ML-DSA seed must be ${ML_DSA_SEED_BYTES} bytes`);
  const mldsa = mlDsaFromSeed(mlDsaSetOf(ring), pq);
  if (ring.type === "ml-dsa") return mldsa.publicKey;
  if (entry.key === undefined) throw new Error("no EC private key for the hybrid key");
  return hybridPublicKey(hybridScheme(mldsa.set, hybridEcOf(ring)), mldsa, entry.key);
}

// ---------------------------------------------------------------- signing

/** Expanded ML-DSA keys per stored seed: expansion costs more than a signature. */
const expandedMlDsa = new WeakMap<Uint8Array, MlDsaPrivateKey>();

function mlDsaKey(set: MlDsaParameterSet, seed: Uint8Array): MlDsaPrivateKey {
  let key = expandedMlDsa.get(seed);
  if (key === undefined || key.set !== set) {
    key = mlDsaFromSeed(set, seed);
    expandedMlDsa.set(seed, key);
  }
  return key;
}

const CONTEXT_MAX = 255;

function checkContext(context: Uint8Array | undefined): void {
  if (context !== undefined && context.length > CONTEXT_MAX) {
    throw userError(`signature_context must be at most ${CONTEXT_MAX} bytes`);
  }
}

/** Hedged FIPS 204/205 (or composite) signature of the message itself, with an optional context. */
export function pqSign(
  ring: Keyring,
  entry: KeyVersion,
  message: Uint8Array,
  context?: Uint8Array,
): Uint8Array {
  checkContext(context);
  const pq = entry.pqKey;
  if (pq === undefined) throw userError("requested version for signing does not contain a private part");
  switch (ring.type) {
    case "ml-dsa":
      return mlDsaSign(mlDsaKey(mlDsaSetOf(ring), pq), message, { context });
    case "slh-dsa":
      return slhDsaSign(slhDsaFromPrivateKey(slhDsaSetOf(ring), pq), message, { context });
    case "hybrid": {
      if (entry.key === undefined) throw internalError("key version has no EC private key");
      const set = mlDsaSetOf(ring);
      return hybridSign(hybridScheme(set, hybridEcOf(ring)), mlDsaKey(set, pq), entry.key, message, context);
    }
    default:
      throw internalError(`unsupported key type ${ring.type}`);
  }
}

/** The raw public key of a version (the composite one for hybrid). */
export function pqPublicKey(ring: Keyring, entry: KeyVersion): Uint8Array {
  const raw = entry.formattedPublicKey === undefined ? null : decodeStdBase64(entry.formattedPublicKey);
  if (raw !== null && raw.length > 0) return raw;
  return publicKeyFromPrivate(ring, entry);
}

export function pqVerify(
  ring: Keyring,
  entry: KeyVersion,
  message: Uint8Array,
  signature: Uint8Array,
  context?: Uint8Array,
): boolean {
  checkContext(context);
  const pub = pqPublicKey(ring, entry);
  switch (ring.type) {
    case "ml-dsa": {
      const set = mlDsaSetOf(ring);
      if (signature.length !== mlDsaSizes(set).signature) return false;
      return mlDsaVerify(set, pub, message, signature, context);
    }
    case "slh-dsa":
      return slhDsaVerify(slhDsaSetOf(ring), pub, message, signature, context);
    case "hybrid":
      return hybridVerify(hybridScheme(mlDsaSetOf(ring), hybridEcOf(ring)), pub, message, signature, context);
    default:
      throw internalError(`unsupported key type ${ring.type}`);
  }
}
