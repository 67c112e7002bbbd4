/**
 * Ed25519ctx and Ed25519ph (RFC 8032 section 5.1), the two variants Vault Enterprise reaches through
 * `signature_context` and the SHA-512 pre-hash option; pure Ed25519 stays in sign.ts.
 *
 * - Ed25519ctx: dom2(0, ctx) prefix, context of 1 to 255 bytes (RFC 8032: an empty context is pure
 *   Ed25519, not Ed25519ctx).
 * - Ed25519ph: dom2(1, ctx) prefix over SHA-512(message), context of 0 to 255 bytes. The `Digest`
 *   functions take the 64-byte SHA-512 digest the caller already computed (Vault's prehashed=true).
 *
 * Keys are the 32-byte RFC 8032 private key (seed) and 32-byte public key, as for pure Ed25519.
 *
 * Where it runs: Ed25519ctx on node:crypto (OpenSSL) when pq-runtime's probe reproduces RFC 8032's
 * first Ed25519ctx vector (Node 26; Node 20 ignores `context`, hence the probe), noble otherwise;
 * Ed25519ph on noble everywhere (node:crypto does not expose OpenSSL's Ed25519ph instance).
 * Verification follows RFC 8032 / FIPS 186-5 (noble with zip215: false; OpenSSL's is the same).
 */

import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { eddsa } from "@noble/curves/abstract/edwards.js";
import { ed25519, ed25519ctx, ed25519ph } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import {
  type Backend,
  nodeSignWithContext,
  nodeVerifyWithContext,
  opensslHasEd25519ctx,
} from "./pq-runtime.ts";

export const ED25519_CONTEXT_MAX = 255;
const DIGEST_BYTES = 64;

function checkCtx(context: Uint8Array): void {
  if (context.length < 1 || context.length > ED25519_CONTEXT_MAX) {
    throw new Error(`Ed25519ctx context must be 1 to ${ED25519_CONTEXT_MAX} bytes`);
  }
}

function checkPhContext(context: Uint8Array | undefined): Uint8Array {
  const ctx = context ?? new Uint8Array(0);
  if (ctx.length > ED25519_CONTEXT_MAX)
    throw new Error(`Ed25519ph context must be at most ${ED25519_CONTEXT_MAX} bytes`);
  return ctx;
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 32) throw new Error("Ed25519 keys are 32 bytes");
}

function privateKeyObject(seed: Uint8Array): KeyObject {
  const pub = ed25519.getPublicKey(seed);
  return createPrivateKey({
    key: {
      kty: "OKP",
      crv: "Ed25519",
      d: Buffer.from(seed).toString("base64url"),
      x: Buffer.from(pub).toString("base64url"),
    },
    format: "jwk",
  });
}

function publicKeyObject(pub: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(pub).toString("base64url") },
    format: "jwk",
  });
}

export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  checkKey(seed);
  return ed25519.getPublicKey(seed);
}

export interface Ed25519ctxImpl {
  readonly backend: Backend;
  sign(seed: Uint8Array, message: Uint8Array, context: Uint8Array): Uint8Array;
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, context: Uint8Array): boolean;
}

export const nobleEd25519ctx: Ed25519ctxImpl = {
  backend: "noble",
  sign(seed, message, context) {
    checkKey(seed);
    checkCtx(context);
    return ed25519ctx.sign(message, seed, { context });
  },
  verify(publicKey, message, signature, context) {
    checkCtx(context);
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      return ed25519ctx.verify(signature, message, publicKey, { context, zip215: false });
    } catch {
      return false;
    }
  },
};

export const opensslEd25519ctx: Ed25519ctxImpl = {
  backend: "openssl",
  sign(seed, message, context) {
    checkKey(seed);
    checkCtx(context);
    return nodeSignWithContext(privateKeyObject(seed), message, context);
  },
  verify(publicKey, message, signature, context) {
    checkCtx(context);
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      return nodeVerifyWithContext(publicKeyObject(publicKey), message, signature, context);
    } catch {
      return false;
    }
  },
};

export function ed25519ctxImpl(): Ed25519ctxImpl {
  return opensslHasEd25519ctx() ? opensslEd25519ctx : nobleEd25519ctx;
}

export function ed25519ctxSign(seed: Uint8Array, message: Uint8Array, context: Uint8Array): Uint8Array {
  return ed25519ctxImpl().sign(seed, message, context);
}

export function ed25519ctxVerify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  context: Uint8Array,
): boolean {
  return ed25519ctxImpl().verify(publicKey, message, signature, context);
}

/**
 * Ed25519ph over a digest the caller computed: noble's ed25519ph with the identity as its pre-hash
 * (same curve, hash, clamping and dom2 as @noble/curves' ed25519ph, which hashes the message itself).
 */
const ed25519phDigest = eddsa(ed25519.Point, sha512, {
  adjustScalarBytes: (bytes: Uint8Array) => {
    const out = Uint8Array.from(bytes);
    out[0] = (out[0] as number) & 248;
    out[31] = ((out[31] as number) & 127) | 64;
    return out;
  },
  domain: (data: Uint8Array, ctx: Uint8Array, phflag: boolean) => {
    const prefix = new TextEncoder().encode("SigEd25519 no Ed25519 collisions");
    const out = new Uint8Array(prefix.length + 2 + ctx.length + data.length);
    out.set(prefix);
    out[prefix.length] = phflag ? 1 : 0;
    out[prefix.length + 1] = ctx.length;
    out.set(ctx, prefix.length + 2);
    out.set(data, prefix.length + 2 + ctx.length);
    return out;
  },
  prehash: (digest: Uint8Array) => {
    if (digest.length !== DIGEST_BYTES) throw new Error("Ed25519ph digest must be 64 bytes (SHA-512)");
    return digest;
  },
});

export function ed25519phSign(seed: Uint8Array, message: Uint8Array, context?: Uint8Array): Uint8Array {
  checkKey(seed);
  return ed25519ph.sign(message, seed, { context: checkPhContext(context) });
}

export function ed25519phSignDigest(seed: Uint8Array, digest: Uint8Array, context?: Uint8Array): Uint8Array {
  checkKey(seed);
  if (digest.length !== DIGEST_BYTES) throw new Error("Ed25519ph digest must be 64 bytes (SHA-512)");
  return ed25519phDigest.sign(digest, seed, { context: checkPhContext(context) });
}

function phVerify(
  fn: typeof ed25519ph,
  publicKey: Uint8Array,
  input: Uint8Array,
  signature: Uint8Array,
  context: Uint8Array | undefined,
): boolean {
  const ctx = checkPhContext(context);
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return fn.verify(signature, input, publicKey, { context: ctx, zip215: false });
  } catch {
    return false;
  }
}

export function ed25519phVerify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  context?: Uint8Array,
): boolean {
  return phVerify(ed25519ph, publicKey, message, signature, context);
}

export function ed25519phVerifyDigest(
  publicKey: Uint8Array,
  digest: Uint8Array,
  signature: Uint8Array,
  context?: Uint8Array,
): boolean {
  if (digest.length !== DIGEST_BYTES) return false;
  return phVerify(ed25519phDigest, publicKey, digest, signature, context);
}
