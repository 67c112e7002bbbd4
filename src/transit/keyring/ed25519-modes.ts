import {
  ed25519ctxSign,
  ed25519ctxVerify,
  ed25519phSign,
  ed25519phSignDigest,
  ed25519phVerify,
  ed25519phVerifyDigest,
} from "../../crypto/ed25519-variants.ts";
import { userError } from "../../framework/errors.ts";

/**
 * Ed25519ph and Ed25519ctx (RFC 8032) as Vault Enterprise selects them on an ed25519 key:
 * hash_algorithm=sha2-512 selects Ed25519ph (prehashed=true: the input is already the SHA-512
 * digest), a non-empty signature_context otherwise selects Ed25519ctx; neither is pure Ed25519.
 * signature_context is the RFC 8032 context for both (at most 255 bytes; Ed25519ctx needs one).
 */
export type Ed25519Mode =
  | { kind: "pure" }
  | { kind: "ph"; prehashed: boolean; context: Uint8Array }
  | { kind: "ctx"; context: Uint8Array };

const MAX_CONTEXT = 255;

/** The mode of a request, or Vault's 400 for a combination it has no variant for. */
export function ed25519Mode(hash: string, prehashed: boolean, context: Uint8Array | undefined): Ed25519Mode {
  const ctx = context ?? new Uint8Array(0);
  if (ctx.length > MAX_CONTEXT) throw userError(`signature_context must be at most ${MAX_CONTEXT} bytes`);
  if (hash === "sha2-512") return { kind: "ph", prehashed, context: ctx };
  if (prehashed) throw userError("Ed25519ph requires hash_algorithm=sha2-512 when prehashed is true");
  if (ctx.length > 0) return { kind: "ctx", context: ctx };
  return { kind: "pure" };
}

export function ed25519ModeSign(mode: Ed25519Mode, seed: Uint8Array, input: Uint8Array): Uint8Array {
  switch (mode.kind) {
    case "ph":
      if (mode.prehashed) {
        if (input.length !== 64)
          throw userError("Ed25519ph prehashed input must be a 64-byte SHA-512 digest");
        return ed25519phSignDigest(seed, input, mode.context);
      }
      return ed25519phSign(seed, input, mode.context);
    case "ctx":
      return ed25519ctxSign(seed, input, mode.context);
    case "pure":
      throw userError("pure Ed25519 is signed by the ed25519 path");
  }
}

export function ed25519ModeVerify(
  mode: Ed25519Mode,
  publicKey: Uint8Array,
  input: Uint8Array,
  signature: Uint8Array,
): boolean {
  switch (mode.kind) {
    case "ph":
      return mode.prehashed
        ? ed25519phVerifyDigest(publicKey, input, signature, mode.context)
        : ed25519phVerify(publicKey, input, signature, mode.context);
    case "ctx":
      return ed25519ctxVerify(publicKey, input, signature, mode.context);
    case "pure":
      throw userError("pure Ed25519 is verified by the ed25519 path");
  }
}
