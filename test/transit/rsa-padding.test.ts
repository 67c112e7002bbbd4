/**
 * RSA encrypt/decrypt padding_scheme as Vault (keysutil EncryptWithFactory /
 * DecryptWithFactory): oaep (SHA-256) by default, pkcs1v15 on request, on
 * encrypt, decrypt, rewrap and batch items; refused for non-RSA keys.
 * PKCS #1 v1.5 ciphertexts come from node:crypto.
 */
import { constants, createPrivateKey, createPublicKey, publicEncrypt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";
import { rsaOaepVault, rsaPkcs1Vault } from "./vault-fixtures.ts";

async function rsaKey(e: TestEngine, type = "rsa-2048") {
  await e.write("keys/r", { type, exportable: true });
  const pem = String(
    ((await e.read("export/encryption-key/r/1")).data["keys"] as Record<string, string>)["1"],
  );
  return createPublicKey(createPrivateKey(pem));
}

describe("RSA padding schemes", () => {
  for (const type of ["rsa-2048", "rsa-3072"]) {
    it(`${type}: decrypts node's PKCS #1 v1.5 ciphertexts with padding_scheme pkcs1v15`, async () => {
      const e = new TestEngine();
      const pub = await rsaKey(e, type);
      for (const pt of [Buffer.alloc(0), Buffer.from("p"), Buffer.alloc(Number(type.slice(4)) / 8 - 11, 7)]) {
        const ct = rsaPkcs1Vault(pub, pt);
        const dec = await e.write("decrypt/r", { ciphertext: ct, padding_scheme: "pkcs1v15" });
        expect(dec.error).toBeNull();
        expect(unb64(dec.data["plaintext"]).equals(pt)).toBe(true);
      }
    });
  }

  it("engine pkcs1v15 round trip; the wrong scheme fails; OAEP stays the default", async () => {
    const e = new TestEngine();
    const pub = await rsaKey(e);
    const pt = Buffer.from("padding");
    const ct = String(
      (await e.write("encrypt/r", { plaintext: b64(pt), padding_scheme: "pkcs1v15" })).data["ciphertext"],
    );
    expect(
      unb64(
        (await e.write("decrypt/r", { ciphertext: ct, padding_scheme: "pkcs1v15" })).data["plaintext"],
      ).equals(pt),
    ).toBe(true);
    const wrong = await e.write("decrypt/r", { ciphertext: ct });
    expect(wrong.status).toBe(500); // Vault: errutil.InternalError
    expect(wrong.error).toBe("failed to RSA decrypt the ciphertext: crypto/rsa: decryption error");
    const oaep = rsaOaepVault(pub, pt);
    expect(
      unb64(
        (await e.write("decrypt/r", { ciphertext: oaep, padding_scheme: "oaep" })).data["plaintext"],
      ).equals(pt),
    ).toBe(true);
    expect((await e.write("decrypt/r", { ciphertext: oaep, padding_scheme: "pkcs1v15" })).status).toBe(500);
    // Tampered PKCS #1 v1.5 ciphertext: same error, no detail.
    const raw = publicEncrypt({ key: pub, padding: constants.RSA_NO_PADDING }, Buffer.alloc(256, 1));
    const bad = await e.write("decrypt/r", {
      ciphertext: `vault:v1:${raw.toString("base64")}`,
      padding_scheme: "pkcs1v15",
    });
    expect(bad.error).toBe("failed to RSA decrypt the ciphertext: crypto/rsa: decryption error");
  });

  it("batch items and rewrap carry their own schemes", async () => {
    const e = new TestEngine();
    const pub = await rsaKey(e);
    const a = rsaPkcs1Vault(pub, Buffer.from("a"));
    const b = rsaOaepVault(pub, Buffer.from("b"));
    const batch = await e.write("decrypt/r", {
      batch_input: [
        { ciphertext: a, padding_scheme: "pkcs1v15" },
        { ciphertext: b, padding_scheme: "oaep" },
        { ciphertext: b },
      ],
    });
    const items = batch.data["batch_results"] as { plaintext?: string; error?: string }[];
    expect(items.map((i) => unb64(i.plaintext).toString())).toEqual(["a", "b", "b"]);
    const rewrapped = await e.write("rewrap/r", {
      ciphertext: a,
      decrypt_padding_scheme: "pkcs1v15",
      encrypt_padding_scheme: "pkcs1v15",
    });
    expect(rewrapped.error).toBeNull();
    const again = await e.write("decrypt/r", {
      ciphertext: rewrapped.data["ciphertext"],
      padding_scheme: "pkcs1v15",
    });
    expect(unb64(again.data["plaintext"]).toString()).toBe("a");
  });

  it("padding_scheme is refused for non-RSA keys and unknown schemes", async () => {
    const e = new TestEngine();
    await e.write("keys/aes");
    await rsaKey(e);
    const ct = String((await e.write("encrypt/aes", { plaintext: b64("x") })).data["ciphertext"]);
    const r1 = await e.write("decrypt/aes", { ciphertext: ct, padding_scheme: "oaep" });
    expect(r1.status).toBe(400);
    expect(r1.error).toBe(
      "'[0].padding_scheme' invalid: unsupported key type aes256-gcm96 for padding scheme",
    );
    const r2 = await e.write("decrypt/r", { ciphertext: ct, padding_scheme: "pss" });
    expect(r2.status).toBe(400);
    expect(r2.error).toBe("'[0].padding_scheme' invalid: unknown padding scheme: pss");
    // keysutil.ParsePaddingScheme runs before the key type check: an unknown scheme on an AES key.
    const r3 = await e.write("encrypt/aes", { plaintext: b64("x"), padding_scheme: "pss" });
    expect([r3.status, r3.error]).toEqual([400, "'[0].padding_scheme' invalid: unknown padding scheme: pss"]);
  });
});
