import { ml_dsa44, ml_dsa65, ml_dsa87 } from "@noble/post-quantum/ml-dsa.js";
import { slh_dsa_sha2_128f, slh_dsa_shake_128f } from "@noble/post-quantum/slh-dsa.js";
import { describe, expect, it } from "vitest";
import { b64, TestEngine, unb64 } from "../../helpers/engine.ts";

/**
 * ml-dsa and slh-dsa through the engine (Vault Enterprise's API): create with parameter_set, read,
 * rotate, sign and verify (single, batch, signature_context), export of the public key, backup and
 * restore. Every signature is also verified with @noble/post-quantum called directly on the
 * exported public key, so the engine's framing (vault:vN: + base64 of the raw FIPS 204/205
 * signature) and FIPS context handling are checked by an implementation outside the engine.
 */

const NOBLE_ML = { "44": ml_dsa44, "65": ml_dsa65, "87": ml_dsa87 } as const;

function rawSig(sig: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(String(sig).replace(/^vault:v\d+:/, ""), "base64"));
}

describe("ml-dsa", () => {
  for (const set of ["44", "65", "87"] as const) {
    it(`ML-DSA-${set}: create, read, sign, verify; noble verifies the signature`, async () => {
      const e = new TestEngine();
      const created = await e.write("keys/m", { type: "ml-dsa", parameter_set: set });
      expect(created.status).toBe(200);
      expect(created.data["type"]).toBe("ml-dsa");
      expect(created.data["parameter_set"]).toBe(set);
      expect(created.data["supports_signing"]).toBe(true);
      expect(created.data["supports_encryption"]).toBe(false);
      const v1 = (created.data["keys"] as Record<string, Record<string, unknown>>)["1"] ?? {};
      expect(v1["name"]).toBe(`ml-dsa-${set}`);
      const pub = unb64(v1["public_key"]);
      expect(pub.length).toBe({ "44": 1312, "65": 1952, "87": 2592 }[set]);

      const msg = Buffer.from(`message for ${set}`);
      const signed = await e.write("sign/m", { input: b64(msg) });
      expect(signed.status).toBe(200);
      expect(String(signed.data["signature"])).toMatch(/^vault:v1:/);
      const sig = rawSig(signed.data["signature"]);
      expect(sig.length).toBe({ "44": 2420, "65": 3309, "87": 4627 }[set]);
      expect(NOBLE_ML[set].verify(sig, msg, pub)).toBe(true);
      const ok = await e.write("verify/m", { input: b64(msg), signature: signed.data["signature"] });
      expect(ok.data["valid"]).toBe(true);
      const bad = await e.write("verify/m", { input: b64("other"), signature: signed.data["signature"] });
      expect(bad.status).toBe(200);
      expect(bad.data["valid"]).toBe(false);
    });
  }

  it("signature_context is the FIPS 204 context; a signature under one context fails under another", async () => {
    const e = new TestEngine();
    const pub = unb64(
      (
        (await e.write("keys/m", { type: "ml-dsa", parameter_set: "65" })).data["keys"] as Record<
          string,
          Record<string, unknown>
        >
      )["1"]?.["public_key"],
    );
    const ctx = Buffer.from("app-ctx");
    const signed = await e.write("sign/m", { input: b64("m"), signature_context: b64(ctx) });
    expect(signed.status).toBe(200);
    expect(ml_dsa65.verify(rawSig(signed.data["signature"]), Buffer.from("m"), pub, { context: ctx })).toBe(
      true,
    );
    expect(ml_dsa65.verify(rawSig(signed.data["signature"]), Buffer.from("m"), pub)).toBe(false);
    const same = await e.write("verify/m", {
      input: b64("m"),
      signature: signed.data["signature"],
      signature_context: b64(ctx),
    });
    expect(same.data["valid"]).toBe(true);
    const none = await e.write("verify/m", { input: b64("m"), signature: signed.data["signature"] });
    expect(none.data["valid"]).toBe(false);
    const tooLong = await e.write("sign/m", { input: b64("m"), signature_context: b64(Buffer.alloc(256)) });
    expect(tooLong.status).toBe(400);
  });

  it("batch sign and verify, rotate, export public-key, backup and restore", async () => {
    const e = new TestEngine();
    await e.write("keys/m", {
      type: "ml-dsa",
      parameter_set: "44",
      allow_plaintext_backup: true,
      exportable: true,
    });
    const batch = await e.write("sign/m", {
      batch_input: [
        { input: b64("a"), reference: "r1" },
        { input: b64("b"), reference: "r2" },
      ],
    });
    const results = batch.data["batch_results"] as Record<string, unknown>[];
    expect(results.map((r) => r["reference"])).toEqual(["r1", "r2"]);
    const verified = await e.write("verify/m", {
      batch_input: [
        { input: b64("a"), signature: results[0]?.["signature"] },
        { input: b64("a"), signature: results[1]?.["signature"] },
      ],
    });
    expect((verified.data["batch_results"] as Record<string, unknown>[]).map((r) => r["valid"])).toEqual([
      true,
      false,
    ]);
    expect((await e.write("keys/m/rotate")).status).toBe(200);
    const v2 = await e.write("sign/m", { input: b64("c") });
    expect(String(v2.data["signature"])).toMatch(/^vault:v2:/);
    const exported = await e.read("export/public-key/m");
    const keys = exported.data["keys"] as Record<string, string>;
    expect(Object.keys(keys)).toEqual(["1", "2"]);
    expect(ml_dsa44.verify(rawSig(v2.data["signature"]), Buffer.from("c"), unb64(keys["2"]))).toBe(true);

    const backup = await e.read("backup/m");
    expect(backup.status).toBe(200);
    const doc = JSON.parse(unb64(backup.data["backup"]).toString()) as {
      policy: { type: number; ParameterSet: string };
    };
    expect(doc.policy.type).toBe(14);
    expect(doc.policy.ParameterSet).toBe("44");
    expect((await e.write("restore/m2", { backup: backup.data["backup"] })).status).toBe(204);
    const restored = await e.read("keys/m2");
    expect(restored.data["parameter_set"]).toBe("44");
    const ok = await e.write("verify/m2", { input: b64("c"), signature: v2.data["signature"] });
    expect(ok.data["valid"]).toBe(true);
    const fresh = await e.write("sign/m2", { input: b64("d") });
    expect(ml_dsa44.verify(rawSig(fresh.data["signature"]), Buffer.from("d"), unb64(keys["2"]))).toBe(true);
  });

  it("bad input: wrong or missing parameter set, derivation, encryption with a signing key", async () => {
    const e = new TestEngine();
    const wrong = await e.write("keys/x", { type: "ml-dsa", parameter_set: "66" });
    expect(wrong.status).toBe(400);
    expect(wrong.error).toBe("invalid parameter set 66 for key type ml-dsa");
    const missing = await e.write("keys/x", { type: "ml-dsa" });
    expect(missing.error).toBe("invalid parameter set  for key type ml-dsa");
    const derived = await e.write("keys/x", { type: "ml-dsa", parameter_set: "65", derived: true });
    expect(derived.status).toBe(400);
    expect(derived.error).toBe(
      "key derivation and convergent encryption not supported for keys of type ml-dsa",
    );
    await e.write("keys/m", { type: "ml-dsa", parameter_set: "65" });
    const enc = await e.write("encrypt/m", { plaintext: b64("x") });
    expect(enc.status).toBe(400);
    const tampered = await e.write("verify/m", { input: b64("x"), signature: "vault:v1:AAAA" });
    expect(tampered.data["valid"]).toBe(false);
  });
});

describe("slh-dsa", () => {
  it("SLH-DSA-SHA2-128f: create (FIPS 205 name), sign, verify; noble verifies", async () => {
    const e = new TestEngine();
    const created = await e.write("keys/s", { type: "slh-dsa", parameter_set: "SLH-DSA-SHA2-128f" });
    expect(created.status).toBe(200);
    expect(created.data["parameter_set"]).toBe("SLH-DSA-SHA2-128f");
    const pub = unb64((created.data["keys"] as Record<string, Record<string, unknown>>)["1"]?.["public_key"]);
    expect(pub.length).toBe(32);
    const signed = await e.write("sign/s", { input: b64("slh") });
    const sig = rawSig(signed.data["signature"]);
    expect(sig.length).toBe(17088);
    expect(slh_dsa_sha2_128f.verify(sig, Buffer.from("slh"), pub)).toBe(true);
    expect(
      (await e.write("verify/s", { input: b64("slh"), signature: signed.data["signature"] })).data["valid"],
    ).toBe(true);
    expect(
      (await e.write("verify/s", { input: b64("x"), signature: signed.data["signature"] })).data["valid"],
    ).toBe(false);
  });

  it("short names are accepted and stored as FIPS 205 names; backup and restore keep the set", async () => {
    const e = new TestEngine();
    const created = await e.write("keys/s", {
      type: "slh-dsa",
      parameter_set: "shake-128f",
      allow_plaintext_backup: true,
      exportable: true,
    });
    expect(created.data["parameter_set"]).toBe("SLH-DSA-SHAKE-128f");
    const signed = await e.write("sign/s", { input: b64("m") });
    const pub = unb64((created.data["keys"] as Record<string, Record<string, unknown>>)["1"]?.["public_key"]);
    expect(slh_dsa_shake_128f.verify(rawSig(signed.data["signature"]), Buffer.from("m"), pub)).toBe(true);
    const backup = await e.read("backup/s");
    expect(JSON.parse(unb64(backup.data["backup"]).toString()).policy.type).toBe(17);
    expect((await e.write("restore/s2", { backup: backup.data["backup"] })).status).toBe(204);
    expect(
      (await e.write("verify/s2", { input: b64("m"), signature: signed.data["signature"] })).data["valid"],
    ).toBe(true);
    const wrong = await e.write("keys/y", { type: "slh-dsa", parameter_set: "sha2-129f" });
    expect(wrong.error).toBe("invalid parameter set sha2-129f for key type slh-dsa");
  }, 120_000);
});
