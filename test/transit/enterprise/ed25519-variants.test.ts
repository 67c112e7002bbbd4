import { createHash } from "node:crypto";
import { ed25519, ed25519ctx, ed25519ph } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { b64, TestEngine, unb64 } from "../../helpers/engine.ts";

/**
 * Ed25519ph and Ed25519ctx (RFC 8032) on ed25519 keys, selected as Vault Enterprise selects them:
 * hash_algorithm=sha2-512 for Ed25519ph (prehashed=true: the input is the SHA-512 digest), a
 * non-empty signature_context for Ed25519ctx. Every signature is verified by @noble/curves'
 * ed25519ph / ed25519ctx called directly on the key's public key.
 */

function rawSig(sig: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(String(sig).replace(/^vault:v\d+:/, ""), "base64"));
}

async function keyWithPub(e: TestEngine): Promise<Uint8Array> {
  const r = await e.write("keys/ed", { type: "ed25519" });
  return new Uint8Array(
    unb64((r.data["keys"] as Record<string, Record<string, unknown>>)["1"]?.["public_key"]),
  );
}

describe("Ed25519 variants", () => {
  it("Ed25519ph over the message and over a SHA-512 digest give signatures noble's ed25519ph accepts", async () => {
    const e = new TestEngine();
    const pub = await keyWithPub(e);
    const msg = Buffer.from("prehash me");
    const ph = await e.write("sign/ed/sha2-512", { input: b64(msg) });
    expect(ph.status).toBe(200);
    expect(ed25519ph.verify(rawSig(ph.data["signature"]), msg, pub)).toBe(true);
    expect(ed25519.verify(rawSig(ph.data["signature"]), msg, pub)).toBe(false);
    const digest = createHash("sha512").update(msg).digest();
    const pre = await e.write("sign/ed", { input: b64(digest), prehashed: true, hash_algorithm: "sha2-512" });
    expect(pre.status).toBe(200);
    expect(ed25519ph.verify(rawSig(pre.data["signature"]), msg, pub)).toBe(true);
    const v = await e.write("verify/ed/sha2-512", { input: b64(msg), signature: ph.data["signature"] });
    expect(v.data["valid"]).toBe(true);
    const asPure = await e.write("verify/ed", { input: b64(msg), signature: ph.data["signature"] });
    expect(asPure.data["valid"]).toBe(false);
    const ctx = Buffer.from("ph-ctx");
    const phCtx = await e.write("sign/ed/sha2-512", { input: b64(msg), signature_context: b64(ctx) });
    expect(ed25519ph.verify(rawSig(phCtx.data["signature"]), msg, pub, { context: ctx })).toBe(true);
    const shortDigest = await e.write("sign/ed", {
      input: b64("x"),
      prehashed: true,
      hash_algorithm: "sha2-512",
    });
    expect(shortDigest.status).toBe(400);
  });

  it("Ed25519ctx by signature_context; the context must match on verify", async () => {
    const e = new TestEngine();
    const pub = await keyWithPub(e);
    const msg = Buffer.from("with context");
    const ctx = Buffer.from("my-app");
    const signed = await e.write("sign/ed", { input: b64(msg), signature_context: b64(ctx) });
    expect(signed.status).toBe(200);
    expect(ed25519ctx.verify(rawSig(signed.data["signature"]), msg, pub, { context: ctx })).toBe(true);
    const same = await e.write("verify/ed", {
      input: b64(msg),
      signature: signed.data["signature"],
      signature_context: b64(ctx),
    });
    expect(same.data["valid"]).toBe(true);
    const other = await e.write("verify/ed", {
      input: b64(msg),
      signature: signed.data["signature"],
      signature_context: b64("other"),
    });
    expect(other.data["valid"]).toBe(false);
    const tooLong = await e.write("sign/ed", { input: b64(msg), signature_context: b64(Buffer.alloc(256)) });
    expect(tooLong.status).toBe(400);
    const badB64 = await e.write("sign/ed", { input: b64(msg), signature_context: "@@" });
    expect(badB64.status).toBe(400);
  });
});
