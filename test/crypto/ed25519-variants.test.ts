// Ed25519ctx and Ed25519ph (src/crypto/ed25519-variants.ts): RFC 8032 section 7.2/7.3 vectors on
// noble here and (Ed25519ctx) on OpenSSL 3.5 through the Node 26 runtime; cross-verification.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  ed25519ctxImpl,
  ed25519PublicKey,
  ed25519phSign,
  ed25519phSignDigest,
  ed25519phVerify,
  ed25519phVerifyDigest,
  nobleEd25519ctx,
} from "../../src/crypto/ed25519-variants.ts";
import { NO_RUNTIME_REASON, opensslRuntime, type Result, runOnOpenssl } from "./helpers/openssl-runtime.ts";
import { hex, loadVectors, toHex } from "./helpers/vectors.ts";

interface Vector {
  variant: "Ed25519ctx" | "Ed25519ph";
  secretKey: string;
  publicKey: string;
  message: string;
  context: string;
  signature: string;
}
const { vectors } = loadVectors<{ vectors: Vector[] }>("rfc8032/ed25519ctx-ph.json");
const ctxVectors = vectors.filter((v) => v.variant === "Ed25519ctx");
const phVectors = vectors.filter((v) => v.variant === "Ed25519ph");

describe("Ed25519ctx and Ed25519ph, noble path", () => {
  it("this Node's Ed25519ctx implementation is noble on Node 20", () => {
    if (process.versions.openssl.startsWith("3.0")) expect(ed25519ctxImpl().backend).toBe("noble");
  });

  it("RFC 8032 section 7.2: Ed25519ctx signatures and verification", () => {
    expect(ctxVectors.length).toBe(4);
    for (const v of ctxVectors) {
      expect(toHex(ed25519PublicKey(hex(v.secretKey)))).toBe(v.publicKey);
      expect(toHex(nobleEd25519ctx.sign(hex(v.secretKey), hex(v.message), hex(v.context)))).toBe(v.signature);
      expect(nobleEd25519ctx.verify(hex(v.publicKey), hex(v.message), hex(v.signature), hex(v.context))).toBe(
        true,
      );
      expect(nobleEd25519ctx.verify(hex(v.publicKey), hex(v.message), hex(v.signature), hex("626171"))).toBe(
        false,
      );
    }
  });

  it("RFC 8032 section 7.3: Ed25519ph over the message and over its SHA-512 digest", () => {
    expect(phVectors.length).toBe(1);
    for (const v of phVectors) {
      const digest = new Uint8Array(createHash("sha512").update(hex(v.message)).digest());
      expect(toHex(ed25519phSign(hex(v.secretKey), hex(v.message)))).toBe(v.signature);
      expect(toHex(ed25519phSignDigest(hex(v.secretKey), digest))).toBe(v.signature);
      expect(ed25519phVerify(hex(v.publicKey), hex(v.message), hex(v.signature))).toBe(true);
      expect(ed25519phVerifyDigest(hex(v.publicKey), digest, hex(v.signature))).toBe(true);
      expect(ed25519phVerify(hex(v.publicKey), hex(v.message), hex(v.signature), hex("01"))).toBe(false);
      expect(ed25519phVerifyDigest(hex(v.publicKey), digest.subarray(0, 32), hex(v.signature))).toBe(false);
    }
  });

  it("the variants are domain-separated: a ctx signature is not a ph signature, nor pure", () => {
    const seed = new Uint8Array(32).fill(4);
    const pub = ed25519PublicKey(seed);
    const msg = new TextEncoder().encode("m");
    const ctxSig = nobleEd25519ctx.sign(seed, msg, hex("01"));
    expect(ed25519phVerify(pub, msg, ctxSig, hex("01"))).toBe(false);
    expect(toHex(ctxSig)).not.toBe(toHex(ed25519phSign(seed, msg, hex("01"))));
  });

  it("context rules: Ed25519ctx needs 1 to 255 bytes, Ed25519ph at most 255", () => {
    const seed = new Uint8Array(32);
    expect(() => nobleEd25519ctx.sign(seed, new Uint8Array(1), new Uint8Array(0))).toThrow(/1 to 255/);
    expect(() => nobleEd25519ctx.sign(seed, new Uint8Array(1), new Uint8Array(256))).toThrow(/1 to 255/);
    expect(() => ed25519phSign(seed, new Uint8Array(1), new Uint8Array(256))).toThrow(/at most 255/);
    expect(() => ed25519phSignDigest(seed, new Uint8Array(32))).toThrow(/64 bytes/);
  });
});

const runtime = opensslRuntime();
describe.skipIf(runtime === undefined)(
  `Ed25519ctx, OpenSSL path (Node 26 runtime)${runtime ? "" : `: ${NO_RUNTIME_REASON}`}`,
  () => {
    it("RFC 8032 Ed25519ctx vectors on OpenSSL; noble and OpenSSL verify each other", () => {
      const seed = new Uint8Array(32).fill(6);
      const msg = new TextEncoder().encode("cross");
      const ctx = hex("766175");
      const nobleSig = nobleEd25519ctx.sign(seed, msg, ctx);
      const { results } = runOnOpenssl([
        { fn: "chain.backends", args: [] },
        ...ctxVectors.map((v) => ({
          fn: "ed.opensslEd25519ctx.sign",
          args: [hex(v.secretKey), hex(v.message), hex(v.context)],
        })),
        ...ctxVectors.map((v) => ({
          fn: "ed.opensslEd25519ctx.verify",
          args: [hex(v.publicKey), hex(v.message), hex(v.signature), hex(v.context)],
        })),
        { fn: "ed.opensslEd25519ctx.sign", args: [seed, msg, ctx] },
        { fn: "ed.opensslEd25519ctx.verify", args: [ed25519PublicKey(seed), msg, nobleSig, ctx] },
      ]);
      const val = (i: number) => (results[i] as { ok: unknown }).ok;
      expect((val(0) as { ed25519ctx: string }).ed25519ctx).toBe("openssl");
      ctxVectors.forEach((v, i) => {
        expect(toHex(val(1 + i) as Uint8Array)).toBe(v.signature);
        expect(val(1 + ctxVectors.length + i)).toBe(true);
      });
      const n = 1 + 2 * ctxVectors.length;
      expect(toHex(val(n) as Uint8Array)).toBe(toHex(nobleSig)); // Ed25519 is deterministic
      expect(val(n + 1)).toBe(true);
      expect((results as Result[]).every((r) => "ok" in r)).toBe(true);
    });
  },
);
