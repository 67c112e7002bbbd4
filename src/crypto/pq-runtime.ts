/**
 * Which primitives the running Node's OpenSSL offers, decided once per process by known-answer
 * probes, never by version numbers: a Node that silently ignores an option (Node 20 drops a `context`
 * it does not know and signs pure Ed25519) must not be mistaken for one that honours it.
 *
 * Guarantees: every flag is true only if the probe produced the exact expected bytes or behaviour on
 * this process's node:crypto; a throwing probe is a false flag, never an error. The probes run lazily
 * (first use) and cost well under a millisecond each, except SLH-DSA's, which generates one
 * SLH-DSA-SHA2-128f key pair (about a millisecond in OpenSSL).
 *
 * Where it runs: Node 20 (tests, dev host; OpenSSL 3.0) has none of these; the plugin executable's
 * Node 26 (OpenSSL 3.5) has all of them. Callers pick noble's implementation when a flag is false.
 * `TRANSIT_PQC_FORCE_NOBLE=1` turns every flag off (for tests and bench rows that compare the two
 * paths in one runtime).
 *
 * Also here: what ML-DSA and SLH-DSA share around those two paths (raw key import and export, sign
 * options, the 255-byte context check, noble's hedging, OpenSSL-or-noble signing), so that
 * mldsa.ts and slhdsa.ts keep only what differs between FIPS 204 and FIPS 205.
 */

import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  randomBytes,
} from "node:crypto";

/** Node 24+ accepts these, @types/node 20 does not know them: the casts below are confined here. */
export type RawKeyFormat = "raw-seed" | "raw-private" | "raw-public";

/** Imports raw key bytes (FIPS 204 seed, FIPS 205 private key, or a raw public key) as a KeyObject. */
export function importRawPrivate(
  format: "raw-seed" | "raw-private",
  type: string,
  key: Uint8Array,
): KeyObject {
  return createPrivateKey({ key: Buffer.from(key), format, asymmetricKeyType: type } as unknown as Parameters<
    typeof createPrivateKey
  >[0]);
}

export function importRawPublic(type: string, key: Uint8Array): KeyObject {
  return createPublicKey({
    key: Buffer.from(key),
    format: "raw-public",
    asymmetricKeyType: type,
  } as unknown as Parameters<typeof createPublicKey>[0]);
}

export function exportRaw(key: KeyObject, format: RawKeyFormat): Uint8Array {
  return new Uint8Array(
    key.export({ format } as unknown as Parameters<KeyObject["export"]>[0]) as unknown as Buffer,
  );
}

/** node:crypto sign/verify with a FIPS 204/205 or RFC 8032 context string (Node 24+). */
export function nodeSignWithContext(
  key: KeyObject,
  message: Uint8Array,
  context: Uint8Array | undefined,
): Uint8Array {
  return new Uint8Array(nodeSign(null, message, withContext(key, context)));
}

export function nodeVerifyWithContext(
  key: KeyObject,
  message: Uint8Array,
  signature: Uint8Array,
  context: Uint8Array | undefined,
): boolean {
  return nodeVerify(null, message, withContext(key, context), signature);
}

/** An empty context is no context (FIPS 204/205, RFC 8032), so the bare key serves both. */
function withContext(key: KeyObject, context: Uint8Array | undefined): KeyObject {
  const opts = context === undefined || context.length === 0 ? key : { key, context: Buffer.from(context) };
  return opts as KeyObject;
}

/** Signing options shared by ML-DSA and SLH-DSA (both pure, both with a FIPS 204/205 context). */
export interface PqSignOptions {
  readonly context?: Uint8Array | undefined;
  /** The deterministic variant (FIPS 204 rnd = 0, FIPS 205 opt_rand = PK.seed); hedged when false or absent. */
  readonly deterministic?: boolean | undefined;
}

/** Verification as both schemes offer it: malformed input is false, a bad context length throws. */
export type PqVerify<Set> = (
  set: Set,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  context?: Uint8Array,
) => boolean;

/** FIPS 204 and 205 both cap the context string at 255 bytes; a longer one is a caller mistake. */
export const PQ_CONTEXT_MAX = 255;

export function checkPqContext(scheme: string, context: Uint8Array | undefined): void {
  if (context !== undefined && context.length > PQ_CONTEXT_MAX) {
    throw new Error(`${scheme} context must be at most ${PQ_CONTEXT_MAX} bytes`);
  }
}

/** noble's sign options: hedged with `entropyBytes` from the CSPRNG unless deterministic. */
export function nobleSignOptions(
  options: PqSignOptions | undefined,
  entropyBytes: number,
): { context: Uint8Array; extraEntropy: Uint8Array | false } {
  return {
    context: options?.context ?? new Uint8Array(0),
    extraEntropy: options?.deterministic === true ? false : new Uint8Array(randomBytes(entropyBytes)),
  };
}

/**
 * OpenSSL signs hedged only: deterministic signing (and a key without an OpenSSL KeyObject) goes to
 * noble's `fallback`.
 */
export function opensslSignOr<K extends { readonly keyObject: KeyObject | undefined }>(
  key: K,
  message: Uint8Array,
  options: PqSignOptions | undefined,
  fallback: (key: K, message: Uint8Array, options: PqSignOptions | undefined) => Uint8Array,
): Uint8Array {
  if (options?.deterministic === true || key.keyObject === undefined) return fallback(key, message, options);
  return nodeSignWithContext(key.keyObject, message, options?.context);
}

/** A verifier that throws on malformed input answers false instead. */
export function falseOnThrow(verify: () => boolean): boolean {
  try {
    return verify();
  } catch {
    return false;
  }
}

const forced = process.env.TRANSIT_PQC_FORCE_NOBLE === "1";

/** A memoised capability flag: false if the probe throws or TRANSIT_PQC_FORCE_NOBLE=1. */
export function probe(fn: () => boolean): () => boolean {
  let result: boolean | undefined;
  return () => {
    if (result === undefined) {
      try {
        result = !forced && fn();
      } catch {
        result = false;
      }
    }
    return result;
  };
}

export const hex = (s: string) => Buffer.from(s, "hex");

/** Signs with context [1] and checks that it verifies under [1] and not under [2]. */
function contextChangesSignature(key: KeyObject): boolean {
  const pub = createPublicKey(key);
  const msg = new Uint8Array([1]);
  const sig = nodeSignWithContext(key, msg, new Uint8Array([1]));
  return (
    nodeVerifyWithContext(pub, msg, sig, new Uint8Array([1])) &&
    !nodeVerifyWithContext(pub, msg, sig, new Uint8Array([2]))
  );
}

/** ML-DSA with seed import and a context string that changes the signature. */
export const opensslHasMlDsa = probe(() => {
  const key = importRawPrivate("raw-seed", "ml-dsa-44", new Uint8Array(32));
  return contextChangesSignature(key);
});

/** SLH-DSA (all twelve sets come together in OpenSSL 3.5) with raw private-key import and contexts. */
export const opensslHasSlhDsa = probe(() => {
  const { privateKey } = generateKeyPairSync("slh-dsa-sha2-128f" as never);
  const raw = exportRaw(privateKey as KeyObject, "raw-private");
  const key = importRawPrivate("raw-private", "slh-dsa-sha2-128f", raw);
  return contextChangesSignature(key);
});

/** Ed25519ctx through `context`: RFC 8032 section 7.2, first test vector, byte for byte. */
export const opensslHasEd25519ctx = probe(() => {
  const key = createPrivateKey({
    key: {
      kty: "OKP",
      crv: "Ed25519",
      d: hex("0305334e381af78f141cb666f6199f57bc3495335a256a95bd2a55bf546663f6").toString("base64url"),
      x: hex("dfc9425e4f968f7f0c29f0259cf5f9aed6851c2bb4ad8bfb860cfee0ab248292").toString("base64url"),
    },
    format: "jwk",
  });
  const sig = nodeSignWithContext(key, hex("f726936d19c800494e3fdaff20b276a8"), hex("666f6f"));
  return (
    Buffer.from(sig).toString("hex") ===
    "55a4cc2f70a54e04288c5f4cd1e45a7bb520b36292911876cada7323198dd87a8b36950b95130022907a7fb7c4e9b2d5f6cca685a587b4b21f4b888e4e7edb0d"
  );
});

export type Backend = "openssl" | "noble";
