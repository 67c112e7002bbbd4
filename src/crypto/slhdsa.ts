/**
 * SLH-DSA (FIPS 205), all twelve parameter sets (SHA2 and SHAKE, 128/192/256, s and f): key
 * generation, pure signing with an optional context string of at most 255 bytes, and verification.
 *
 * Keys: the private key is FIPS 205's encoding SK.seed || SK.prf || PK.seed || PK.root (4n bytes),
 * which both implementations import and which contains the public key (its last 2n bytes).
 * `fromSeed` derives it from SK.seed || SK.prf || PK.seed (3n bytes, FIPS 205 slh_keygen_internal),
 * which is what ACVP's keyGen vectors give.
 *
 * Signing is hedged by default (opt_rand from the CSPRNG, FIPS 205 section 9.2);
 * `deterministic: true` uses opt_rand = PK.seed, for known answers.
 *
 * Where it runs: node:crypto (OpenSSL 3.5; the plugin executable's Node 26) for key generation,
 * hedged signing and verification when pq-runtime's probe finds SLH-DSA; noble
 * (@noble/post-quantum) otherwise (Node 20), for `fromSeed` everywhere (node:crypto has no seed import
 * for SLH-DSA) and for deterministic signing everywhere. Signatures are large (7,856 to 49,856 bytes)
 * and the "s" sets are slow to sign (hundreds of milliseconds): see SECURITY.md.
 */

import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import {
  slh_dsa_sha2_128f,
  slh_dsa_sha2_128s,
  slh_dsa_sha2_192f,
  slh_dsa_sha2_192s,
  slh_dsa_sha2_256f,
  slh_dsa_sha2_256s,
  slh_dsa_shake_128f,
  slh_dsa_shake_128s,
  slh_dsa_shake_192f,
  slh_dsa_shake_192s,
  slh_dsa_shake_256f,
  slh_dsa_shake_256s,
} from "@noble/post-quantum/slh-dsa.js";
/** The parts ML-DSA and SLH-DSA share (runtime probe, raw key import, context, hedging). */
import * as pq from "./pq-runtime.ts";

/** FIPS 205 Table 2 names. */
export const SLH_DSA_PARAMETER_SETS = [
  "SLH-DSA-SHA2-128s",
  "SLH-DSA-SHA2-128f",
  "SLH-DSA-SHA2-192s",
  "SLH-DSA-SHA2-192f",
  "SLH-DSA-SHA2-256s",
  "SLH-DSA-SHA2-256f",
  "SLH-DSA-SHAKE-128s",
  "SLH-DSA-SHAKE-128f",
  "SLH-DSA-SHAKE-192s",
  "SLH-DSA-SHAKE-192f",
  "SLH-DSA-SHAKE-256s",
  "SLH-DSA-SHAKE-256f",
] as const;
export type SlhDsaParameterSet = (typeof SLH_DSA_PARAMETER_SETS)[number];

export const SLH_DSA_CONTEXT_MAX = pq.PQ_CONTEXT_MAX;

type NobleSlh = typeof slh_dsa_sha2_128f;

const NOBLE: Record<SlhDsaParameterSet, NobleSlh> = {
  "SLH-DSA-SHA2-128s": slh_dsa_sha2_128s,
  "SLH-DSA-SHA2-128f": slh_dsa_sha2_128f,
  "SLH-DSA-SHA2-192s": slh_dsa_sha2_192s,
  "SLH-DSA-SHA2-192f": slh_dsa_sha2_192f,
  "SLH-DSA-SHA2-256s": slh_dsa_sha2_256s,
  "SLH-DSA-SHA2-256f": slh_dsa_sha2_256f,
  "SLH-DSA-SHAKE-128s": slh_dsa_shake_128s,
  "SLH-DSA-SHAKE-128f": slh_dsa_shake_128f,
  "SLH-DSA-SHAKE-192s": slh_dsa_shake_192s,
  "SLH-DSA-SHAKE-192f": slh_dsa_shake_192f,
  "SLH-DSA-SHAKE-256s": slh_dsa_shake_256s,
  "SLH-DSA-SHAKE-256f": slh_dsa_shake_256f,
};

/** FIPS 205 Table 2: n (bytes) and signature size per set. */
const SIG_BYTES: Record<SlhDsaParameterSet, number> = {
  "SLH-DSA-SHA2-128s": 7856,
  "SLH-DSA-SHA2-128f": 17088,
  "SLH-DSA-SHA2-192s": 16224,
  "SLH-DSA-SHA2-192f": 35664,
  "SLH-DSA-SHA2-256s": 29792,
  "SLH-DSA-SHA2-256f": 49856,
  "SLH-DSA-SHAKE-128s": 7856,
  "SLH-DSA-SHAKE-128f": 17088,
  "SLH-DSA-SHAKE-192s": 16224,
  "SLH-DSA-SHAKE-192f": 35664,
  "SLH-DSA-SHAKE-256s": 29792,
  "SLH-DSA-SHAKE-256f": 49856,
};

export function isSlhDsaParameterSet(value: unknown): value is SlhDsaParameterSet {
  return typeof value === "string" && Object.hasOwn(NOBLE, value);
}

function check(set: SlhDsaParameterSet): void {
  if (!isSlhDsaParameterSet(set)) throw new Error(`invalid SLH-DSA parameter set ${String(set)}`);
}

/** n: the security parameter in bytes (16, 24 or 32). */
export function slhDsaN(set: SlhDsaParameterSet): number {
  check(set);
  return Number(set.slice(-4, -1)) / 8;
}

export function slhDsaSizes(set: SlhDsaParameterSet): {
  seed: number;
  privateKey: number;
  publicKey: number;
  signature: number;
} {
  const n = slhDsaN(set);
  return { seed: 3 * n, privateKey: 4 * n, publicKey: 2 * n, signature: SIG_BYTES[set] };
}

function opensslName(set: SlhDsaParameterSet): string {
  return set.toLowerCase();
}

export interface SlhDsaPrivateKey {
  readonly set: SlhDsaParameterSet;
  /** FIPS 205 encoding, 4n bytes. */
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly backend: pq.Backend;
  readonly keyObject: KeyObject | undefined;
}

/** `deterministic`: opt_rand = PK.seed (FIPS 205 section 9.2); hedged when false or absent. */
export type SlhDsaSignOptions = pq.PqSignOptions;

export interface SlhDsaImpl {
  readonly backend: pq.Backend;
  /** A new key pair from the CSPRNG. */
  generate(set: SlhDsaParameterSet): SlhDsaPrivateKey;
  /** Imports a stored FIPS 205 private key (4n bytes). */
  fromPrivateKey(set: SlhDsaParameterSet, privateKey: Uint8Array): SlhDsaPrivateKey;
  sign(key: SlhDsaPrivateKey, message: Uint8Array, options?: SlhDsaSignOptions): Uint8Array;
  readonly verify: pq.PqVerify<SlhDsaParameterSet>;
}

function checkContext(context: Uint8Array | undefined): void {
  pq.checkPqContext("SLH-DSA", context);
}

function checkPrivate(set: SlhDsaParameterSet, privateKey: Uint8Array): void {
  if (privateKey.length !== slhDsaSizes(set).privateKey)
    throw new Error("SLH-DSA private key has the wrong length");
}

/** FIPS 205 slh_keygen_internal from SK.seed || SK.prf || PK.seed (3n bytes): always noble. */
export function slhDsaFromSeed(set: SlhDsaParameterSet, seed: Uint8Array): SlhDsaPrivateKey {
  check(set);
  if (seed.length !== slhDsaSizes(set).seed) throw new Error("SLH-DSA seed has the wrong length");
  const { secretKey } = NOBLE[set].keygen(seed);
  return slhDsaImpl().fromPrivateKey(set, secretKey);
}

function nobleSign(
  key: SlhDsaPrivateKey,
  message: Uint8Array,
  options: SlhDsaSignOptions | undefined,
): Uint8Array {
  checkContext(options?.context);
  return NOBLE[key.set].sign(message, key.privateKey, pq.nobleSignOptions(options, slhDsaN(key.set)));
}

function wellFormed(set: SlhDsaParameterSet, publicKey: Uint8Array, signature: Uint8Array): boolean {
  const sizes = slhDsaSizes(set);
  return publicKey.length === sizes.publicKey && signature.length === sizes.signature;
}

export const nobleSlhDsa: SlhDsaImpl = {
  backend: "noble",
  generate(set) {
    return slhDsaFromSeedWith(nobleSlhDsa, set, new Uint8Array(randomBytes(slhDsaSizes(set).seed)));
  },
  fromPrivateKey(set, privateKey) {
    checkPrivate(set, privateKey);
    const n = slhDsaN(set);
    return { set, privateKey, publicKey: privateKey.slice(2 * n), backend: "noble", keyObject: undefined };
  },
  sign: nobleSign,
  verify(set, publicKey, message, signature, context) {
    checkContext(context);
    if (!wellFormed(set, publicKey, signature)) return false;
    return pq.falseOnThrow(() =>
      NOBLE[set].verify(signature, message, publicKey, { context: context ?? new Uint8Array(0) }),
    );
  },
};

function slhDsaFromSeedWith(impl: SlhDsaImpl, set: SlhDsaParameterSet, seed: Uint8Array): SlhDsaPrivateKey {
  return impl.fromPrivateKey(set, NOBLE[set].keygen(seed).secretKey);
}

export const opensslSlhDsa: SlhDsaImpl = {
  backend: "openssl",
  generate(set) {
    check(set);
    const { privateKey } = generateKeyPairSync(opensslName(set) as never);
    return opensslSlhDsa.fromPrivateKey(set, pq.exportRaw(privateKey as KeyObject, "raw-private"));
  },
  fromPrivateKey(set, privateKey) {
    checkPrivate(set, privateKey);
    const keyObject = pq.importRawPrivate("raw-private", opensslName(set), privateKey);
    const publicKey = pq.exportRaw(createPublicKey(keyObject), "raw-public");
    return { set, privateKey, publicKey, backend: "openssl", keyObject };
  },
  sign(key, message, options) {
    checkContext(options?.context);
    return pq.opensslSignOr(key, message, options, nobleSign);
  },
  verify(set, publicKey, message, signature, context) {
    checkContext(context);
    if (!wellFormed(set, publicKey, signature)) return false;
    return pq.falseOnThrow(() =>
      pq.nodeVerifyWithContext(pq.importRawPublic(opensslName(set), publicKey), message, signature, context),
    );
  },
};

export function slhDsaImpl(): SlhDsaImpl {
  return pq.opensslHasSlhDsa() ? opensslSlhDsa : nobleSlhDsa;
}

export function slhDsaGenerate(set: SlhDsaParameterSet): SlhDsaPrivateKey {
  return slhDsaImpl().generate(set);
}

export function slhDsaFromPrivateKey(set: SlhDsaParameterSet, privateKey: Uint8Array): SlhDsaPrivateKey {
  return slhDsaImpl().fromPrivateKey(set, privateKey);
}

export function slhDsaSign(
  key: SlhDsaPrivateKey,
  message: Uint8Array,
  options?: SlhDsaSignOptions,
): Uint8Array {
  return (key.backend === "openssl" ? opensslSlhDsa : nobleSlhDsa).sign(key, message, options);
}

export function slhDsaVerify(
  set: SlhDsaParameterSet,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  context?: Uint8Array,
): boolean {
  return slhDsaImpl().verify(set, publicKey, message, signature, context);
}
