import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { ml_dsa44, ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import { describe, expect, it } from "vitest";
import { COMPOSITE_PREFIX } from "../../../src/crypto/hybrid-sig.ts";
import { b64, TestEngine, unb64 } from "../../helpers/engine.ts";

/**
 * hybrid keys (ML-DSA + ECDSA/Ed25519) through the engine: create with hybrid_key_type_pqc /
 * hybrid_key_type_ec / parameter_set, read (hybrid_public_key), sign, verify, the both-must-verify
 * rule, backup and restore (HybridConfig). The composite signature is taken apart here and each half
 * verified by an implementation outside the engine (noble ML-DSA, node:crypto ECDSA) over the
 * draft-ietf-lamps-pq-composite-sigs message M'.
 */

function rawSig(sig: unknown): Buffer {
  return Buffer.from(String(sig).replace(/^vault:v\d+:/, ""), "base64");
}

function mPrime(label: string, message: Buffer, hash: "sha256" | "sha512"): Buffer {
  const ph = createHash(hash).update(message).digest();
  return Buffer.concat([COMPOSITE_PREFIX, Buffer.from(label), Buffer.of(0), ph]);
}

describe("hybrid", () => {
  it("ML-DSA-44 + ECDSA-P256: each half verifies independently; read shows the config and hybrid_public_key", async () => {
    const e = new TestEngine();
    const created = await e.write("keys/h", {
      type: "hybrid",
      hybrid_key_type_pqc: "ml-dsa",
      hybrid_key_type_ec: "ecdsa-p256",
      parameter_set: "44",
    });
    expect(created.status).toBe(200);
    expect(created.data["hybrid_key_type_pqc"]).toBe("ml-dsa");
    expect(created.data["hybrid_key_type_ec"]).toBe("ecdsa-p256");
    expect(created.data["parameter_set"]).toBe("44");
    const v1 = (created.data["keys"] as Record<string, Record<string, unknown>>)["1"] ?? {};
    const pub = unb64(v1["hybrid_public_key"]);
    expect(pub.length).toBe(1312 + 65);
    const msg = Buffer.from("hybrid message");
    const signed = await e.write("sign/h", { input: b64(msg) });
    expect(signed.status).toBe(200);
    const sig = rawSig(signed.data["signature"]);
    const m = mPrime("COMPSIG-MLDSA44-ECDSA-P256-SHA256", msg, "sha256");
    const label = Buffer.from("COMPSIG-MLDSA44-ECDSA-P256-SHA256");
    expect(ml_dsa44.verify(sig.subarray(0, 2420), m, pub.subarray(0, 1312), { context: label })).toBe(true);
    const point = pub.subarray(1312);
    const ecKey = createPublicKey({
      key: {
        kty: "EC",
        crv: "P-256",
        x: point.subarray(1, 33).toString("base64url"),
        y: point.subarray(33).toString("base64url"),
      },
      format: "jwk",
    });
    expect(nodeVerify("sha256", m, ecKey, sig.subarray(2420))).toBe(true);
    expect(
      (await e.write("verify/h", { input: b64(msg), signature: signed.data["signature"] })).data["valid"],
    ).toBe(true);
  });

  it("a signature with one valid half and one altered half does not verify (either half)", async () => {
    const e = new TestEngine();
    await e.write("keys/h", {
      type: "hybrid",
      hybrid_key_type_pqc: "ml-dsa",
      hybrid_key_type_ec: "ed25519",
      parameter_set: "65",
    });
    const msg = b64("both halves");
    const sig = rawSig((await e.write("sign/h", { input: msg })).data["signature"]);
    const other = rawSig((await e.write("sign/h", { input: b64("another message") })).data["signature"]);
    // ML-DSA half from a signature of another message, Ed25519 half valid; and the reverse.
    const mixed1 = Buffer.concat([other.subarray(0, 3309), sig.subarray(3309)]);
    const mixed2 = Buffer.concat([sig.subarray(0, 3309), other.subarray(3309)]);
    const flipped = Buffer.from(sig);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
    for (const bad of [mixed1, mixed2, flipped, sig.subarray(0, 3309)]) {
      const r = await e.write("verify/h", { input: msg, signature: `vault:v1:${bad.toString("base64")}` });
      expect(r.status).toBe(200);
      expect(r.data["valid"]).toBe(false);
    }
    expect(
      (await e.write("verify/h", { input: msg, signature: `vault:v1:${sig.toString("base64")}` })).data[
        "valid"
      ],
    ).toBe(true);
    expect(ml_dsa65.lengths.signature).toBe(3309);
  });

  it("bad hybrid configs answer Vault's 400 texts", async () => {
    const e = new TestEngine();
    const cases: [Record<string, unknown>, string][] = [
      [
        { hybrid_key_type_pqc: "slh-dsa", hybrid_key_type_ec: "ecdsa-p256", parameter_set: "44" },
        "invalid config for hybrid key: invalid PQC key type: slh-dsa",
      ],
      [
        { hybrid_key_type_pqc: "ml-dsa", hybrid_key_type_ec: "ecdsa-p256", parameter_set: "50" },
        "invalid config for hybrid key: invalid parameter set 50 for key type ml-dsa",
      ],
      [
        { hybrid_key_type_pqc: "ml-dsa", hybrid_key_type_ec: "rsa-2048", parameter_set: "44" },
        "invalid config for hybrid key: invalid key type for hybrid key: rsa-2048",
      ],
      [
        {
          hybrid_key_type_pqc: "ml-dsa",
          hybrid_key_type_ec: "ecdsa-p256",
          parameter_set: "44",
          derived: true,
        },
        "key derivation and convergent encryption not supported for keys of type hybrid",
      ],
    ];
    for (const [data, error] of cases) {
      const r = await e.write("keys/x", { type: "hybrid", ...data });
      expect(r.status).toBe(400);
      expect(r.error).toBe(error);
    }
    expect(e.storage.entries.size).toBe(0);
  });

  it("backup carries type 15 and HybridConfig as keysutil numbers; restore keeps signing", async () => {
    const e = new TestEngine();
    await e.write("keys/h", {
      type: "hybrid",
      hybrid_key_type_pqc: "ml-dsa",
      hybrid_key_type_ec: "ecdsa-p384",
      parameter_set: "65",
      exportable: true,
      allow_plaintext_backup: true,
    });
    const signed = await e.write("sign/h", { input: b64("kept") });
    const backup = await e.read("backup/h");
    const doc = JSON.parse(unb64(backup.data["backup"]).toString());
    expect(doc.policy.type).toBe(15);
    expect(doc.policy.HybridConfig).toEqual({ PQCKeyType: 14, ECKeyType: 6 });
    expect((await e.write("restore/h2", { backup: backup.data["backup"] })).status).toBe(204);
    const read = await e.read("keys/h2");
    expect(read.data["hybrid_key_type_ec"]).toBe("ecdsa-p384");
    expect(
      (await e.write("verify/h2", { input: b64("kept"), signature: signed.data["signature"] })).data["valid"],
    ).toBe(true);
  });
});
