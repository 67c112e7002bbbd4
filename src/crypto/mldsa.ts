/**
 * ML-DSA (FIPS 204), parameter sets 44, 65 and 87: key generation from a 32-byte seed (the private
 * key this engine stores: FIPS 204 section 3.6.3 recommends keeping the seed, and it is what PKCS#8's
 * `seed` choice and JWK "AKP" carry), pure ML-DSA signing with an optional context string of at most
 * 255 bytes, and verification. HashML-DSA is not offered: Vault Enterprise's API has no pre-hash
 * option for ML-DSA keys.
 *
 * Signing is hedged by default (FIPS 204's default: fresh randomness from the CSPRNG mixed with the
 * key, so a fault or a side channel on one signature does not repeat across signatures);
 * `deterministic: true` gives FIPS 204's deterministic variant (rnd = 0), which the known-answer
 * vectors need.
 *
 * Where it runs: node:crypto (OpenSSL 3.5, Node 24+, the plugin executable's Node 26) when
 * pq-runtime's probe finds ML-DSA there, for keygen, hedged signing and verification; noble
 * (@noble/post-quantum) otherwise (Node 20) and for deterministic signing everywhere (node:crypto
 * does not expose OpenSSL's "deterministic" parameter). Both produce the same public key from a seed
 * and verify each other's signatures (test/crypto/mldsa.test.ts, through the Node 26 runtime).
 *
 * Errors: a seed of the wrong length, an unknown set or a context over 255 bytes throws (a caller
 * mistake); verification of malformed public keys or signatures returns false.
 */

import { createPublicKey, type KeyObject, randomBytes } from "node:crypto";
import { ml_dsa44, ml_dsa65, ml_dsa87 } from "@noble/post-quantum/ml-dsa.js";
/** The parts ML-DSA and SLH-DSA share (runtime probe, raw key import, context, hedging). */
import * as pq from "./pq-runtime.ts";

export const ML_DSA_PARAMETER_SETS = ["44", "65", "87"] as const;
export type MlDsaParameterSet = (typeof ML_DSA_PARAMETER_SETS)[number];

export const ML_DSA_SEED_BYTES = 32;
export const ML_DSA_CONTEXT_MAX = pq.PQ_CONTEXT_MAX;

interface SetInfo {
  readonly noble: typeof ml_dsa44;
  readonly opensslName: string;
  readonly publicKeyBytes: number;
  readonly secretKeyBytes: number;
  readonly signatureBytes: number;
}

const SETS: Record<MlDsaParameterSet, SetInfo> = {
  "44": {
    noble: ml_dsa44,
    opensslName: "ml-dsa-44",
    publicKeyBytes: 1312,
    secretKeyBytes: 2560,
    signatureBytes: 2420,
  },
  "65": {
    noble: ml_dsa65,
    opensslName: "ml-dsa-65",
    publicKeyBytes: 1952,
    secretKeyBytes: 4032,
    signatureBytes: 3309,
  },
  "87": {
    noble: ml_dsa87,
    opensslName: "ml-dsa-87",
    publicKeyBytes: 2592,
    secretKeyBytes: 4896,
    signatureBytes: 4627,
  },
};

export function isMlDsaParameterSet(value: unknown): value is MlDsaParameterSet {
  return typeof value === "string" && Object.hasOwn(SETS, value);
}

export function mlDsaSizes(set: MlDsaParameterSet): { publicKey: number; signature: number } {
  const info = setInfo(set);
  return { publicKey: info.publicKeyBytes, signature: info.signatureBytes };
}

function setInfo(set: MlDsaParameterSet): SetInfo {
  if (!isMlDsaParameterSet(set)) throw new Error(`invalid ML-DSA parameter set ${String(set)}`);
  return SETS[set];
}

/** A private key ready to sign: expanded once, then reused for every signature. */
export interface MlDsaPrivateKey {
  readonly set: MlDsaParameterSet;
  readonly publicKey: Uint8Array;
  readonly backend: pq.Backend;
  /** noble's expanded secret key (always present: the deterministic path needs it). */
  readonly expanded: Uint8Array;
  /** OpenSSL's key, when the backend is openssl. */
  readonly keyObject: KeyObject | undefined;
}

/** `deterministic`: FIPS 204's deterministic variant (rnd = 0); hedged when false or absent. */
export type MlDsaSignOptions = pq.PqSignOptions;

/** One implementation of the primitive; `mlDsa` below is the one this process uses. */
export interface MlDsaImpl {
  readonly backend: pq.Backend;
  fromSeed(set: MlDsaParameterSet, seed: Uint8Array): MlDsaPrivateKey;
  sign(key: MlDsaPrivateKey, message: Uint8Array, options?: MlDsaSignOptions): Uint8Array;
  readonly verify: pq.PqVerify<MlDsaParameterSet>;
}

function checkContext(context: Uint8Array | undefined): void {
  pq.checkPqContext("ML-DSA", context);
}

function checkSeed(seed: Uint8Array): void {
  if (seed.length !== ML_DSA_SEED_BYTES) throw new Error(`ML-DSA seed must be ${ML_DSA_SEED_BYTES} bytes`);
}

function nobleSign(
  key: MlDsaPrivateKey,
  message: Uint8Array,
  options: MlDsaSignOptions | undefined,
): Uint8Array {
  checkContext(options?.context);
  return setInfo(key.set).noble.sign(message, key.expanded, pq.nobleSignOptions(options, 32));
}

function wellFormed(info: SetInfo, publicKey: Uint8Array, signature: Uint8Array): boolean {
  return publicKey.length === info.publicKeyBytes && signature.length === info.signatureBytes;
}

export const nobleMlDsa: MlDsaImpl = {
  backend: "noble",
  fromSeed(set, seed) {
    checkSeed(seed);
    const { publicKey, secretKey } = setInfo(set).noble.keygen(seed);
    return { set, publicKey, backend: "noble", expanded: secretKey, keyObject: undefined };
  },
  sign: nobleSign,
  verify(set, publicKey, message, signature, context) {
    checkContext(context);
    const info = setInfo(set);
    if (!wellFormed(info, publicKey, signature)) return false;
    return pq.falseOnThrow(() =>
      info.noble.verify(signature, message, publicKey, { context: context ?? new Uint8Array(0) }),
    );
  },
};

export const opensslMlDsa: MlDsaImpl = {
  backend: "openssl",
  fromSeed(set, seed) {
    checkSeed(seed);
    const info = setInfo(set);
    const keyObject = pq.importRawPrivate("raw-seed", info.opensslName, seed);
    const publicKey = pq.exportRaw(createPublicKey(keyObject), "raw-public");
    // noble's expansion only when deterministic signing asks for it would save ~0.1 ms per key;
    // keys are prepared once per keyring load, so keep both ready.
    const { secretKey } = info.noble.keygen(seed);
    return { set, publicKey, backend: "openssl", expanded: secretKey, keyObject };
  },
  sign(key, message, options) {
    checkContext(options?.context);
    return pq.opensslSignOr(key, message, options, nobleSign);
  },
  verify(set, publicKey, message, signature, context) {
    checkContext(context);
    const info = setInfo(set);
    if (!wellFormed(info, publicKey, signature)) return false;
    return pq.falseOnThrow(() =>
      pq.nodeVerifyWithContext(pq.importRawPublic(info.opensslName, publicKey), message, signature, context),
    );
  },
};

/** The implementation this process uses: OpenSSL's where the running Node has it, noble's otherwise. */
export function mlDsaImpl(): MlDsaImpl {
  return pq.opensslHasMlDsa() ? opensslMlDsa : nobleMlDsa;
}

/** A fresh 32-byte seed from the CSPRNG. */
export function mlDsaGenerateSeed(): Uint8Array {
  return new Uint8Array(randomBytes(ML_DSA_SEED_BYTES));
}

export function mlDsaFromSeed(set: MlDsaParameterSet, seed: Uint8Array): MlDsaPrivateKey {
  return mlDsaImpl().fromSeed(set, seed);
}

export function mlDsaSign(key: MlDsaPrivateKey, message: Uint8Array, options?: MlDsaSignOptions): Uint8Array {
  return (key.backend === "openssl" ? opensslMlDsa : nobleMlDsa).sign(key, message, options);
}

export function mlDsaVerify(
  set: MlDsaParameterSet,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  context?: Uint8Array,
): boolean {
  return mlDsaImpl().verify(set, publicKey, message, signature, context);
}

/** ACVP's sigGen vectors give the expanded secret key, not the seed: noble signs with it directly. */
export function mlDsaSignExpanded(
  set: MlDsaParameterSet,
  expanded: Uint8Array,
  message: Uint8Array,
  options?: MlDsaSignOptions,
): Uint8Array {
  const info = setInfo(set);
  if (expanded.length !== info.secretKeyBytes) throw new Error("ML-DSA expanded key has the wrong length");
  const key: MlDsaPrivateKey = {
    set,
    publicKey: new Uint8Array(0),
    backend: "noble",
    expanded,
    keyObject: undefined,
  };
  return nobleSign(key, message, options);
}
