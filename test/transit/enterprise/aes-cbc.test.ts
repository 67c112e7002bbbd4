import { createDecipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { b64, TestEngine, unb64 } from "../../helpers/engine.ts";

/**
 * aes128-cbc / aes256-cbc (Vault Enterprise's legacy CBC types): encrypt with an optional caller
 * `iv`, decrypt, rewrap, export, backup/restore; ciphertexts are vault:vN: + base64(iv || ct) and
 * are decrypted here with OpenSSL's AES-CBC (node:crypto) from the exported key.
 */

function payload(ct: unknown): Buffer {
  return Buffer.from(String(ct).replace(/^vault:v\d+:/, ""), "base64");
}

describe("AES-CBC key types", () => {
  for (const [type, size] of [
    ["aes128-cbc", 16],
    ["aes256-cbc", 32],
  ] as const) {
    it(`${type}: random and caller IVs, OpenSSL decrypts iv || ct with the exported key`, async () => {
      const e = new TestEngine();
      expect((await e.write("keys/c", { type, exportable: true })).status).toBe(200);
      const key = unb64(
        ((await e.read("export/encryption-key/c/1")).data["keys"] as Record<string, string>)["1"],
      );
      expect(key.length).toBe(size);
      for (const len of [0, 1, 15, 16, 17, 1000]) {
        const pt = randomBytes(len);
        const enc = await e.write("encrypt/c", { plaintext: b64(pt) });
        expect(enc.status).toBe(200);
        const raw = payload(enc.data["ciphertext"]);
        expect(raw.length).toBe(16 + (Math.floor(len / 16) + 1) * 16);
        const d = createDecipheriv(`aes-${size * 8}-cbc`, key, raw.subarray(0, 16));
        expect(Buffer.concat([d.update(raw.subarray(16)), d.final()]).equals(pt)).toBe(true);
        const dec = await e.write("decrypt/c", { ciphertext: enc.data["ciphertext"] });
        expect(unb64(dec.data["plaintext"]).equals(pt)).toBe(true);
      }
      const iv = randomBytes(16);
      const a = await e.write("encrypt/c", { plaintext: b64("fixed"), iv: b64(iv) });
      const b = await e.write("encrypt/c", { plaintext: b64("fixed"), iv: b64(iv) });
      expect(a.data["ciphertext"]).toBe(b.data["ciphertext"]);
      expect(payload(a.data["ciphertext"]).subarray(0, 16).equals(iv)).toBe(true);
      const batch = await e.write("encrypt/c", { batch_input: [{ plaintext: b64("x"), iv: b64(iv) }] });
      expect(
        payload((batch.data["batch_results"] as Record<string, unknown>[])[0]?.["ciphertext"]).subarray(
          0,
          16,
        ),
      ).toEqual(iv);
    });
  }

  it("bad input: an iv of the wrong length, iv on a non-CBC key, AAD, tampered padding", async () => {
    const e = new TestEngine();
    await e.write("keys/c", { type: "aes256-cbc" });
    const short = await e.write("encrypt/c", { plaintext: b64("x"), iv: b64(randomBytes(12)) });
    expect(short.status).toBe(400);
    expect(short.error).toBe("invalid iv length: must be 16 bytes");
    const aad = await e.write("encrypt/c", { plaintext: b64("x"), associated_data: b64("a") });
    expect(aad.status).toBe(400);
    expect(aad.error).toBe("'[0].associated_data' provided for non-AEAD cipher suite aes256-cbc");
    await e.write("keys/g", { type: "aes256-gcm96" });
    const gcm = await e.write("encrypt/g", { plaintext: b64("x"), iv: b64(randomBytes(16)) });
    expect(gcm.status).toBe(400);
    expect(gcm.error).toBe("iv is only supported for AES-CBC keys, not aes256-gcm96");
    const derived = await e.write("keys/d", { type: "aes128-cbc", derived: true });
    expect(derived.status).toBe(400);
    const enc = await e.write("encrypt/c", { plaintext: b64("sixteen bytes!!!") });
    const raw = payload(enc.data["ciphertext"]);
    const truncated = await e.write("decrypt/c", {
      ciphertext: `vault:v1:${raw.subarray(0, 20).toString("base64")}`,
    });
    expect(truncated.status).toBe(400);
    expect(truncated.error).toBe("invalid ciphertext length");
    // The last padding byte 0x10 becomes 0x11: invalid PKCS#7, one generic text (no padding oracle detail).
    raw[31] = (raw[31] as number) ^ 1;
    const badPad = await e.write("decrypt/c", { ciphertext: `vault:v1:${raw.toString("base64")}` });
    expect(badPad.status).toBe(400);
    expect(badPad.error).toBe("invalid ciphertext: unable to decrypt");
  });

  it("rotate, rewrap and backup/restore (type 19)", async () => {
    const e = new TestEngine();
    await e.write("keys/c", { type: "aes256-cbc", exportable: true, allow_plaintext_backup: true });
    const v1 = await e.write("encrypt/c", { plaintext: b64("legacy") });
    await e.write("keys/c/rotate");
    const re = await e.write("rewrap/c", { ciphertext: v1.data["ciphertext"] });
    expect(String(re.data["ciphertext"])).toMatch(/^vault:v2:/);
    const backup = await e.read("backup/c");
    expect(JSON.parse(unb64(backup.data["backup"]).toString()).policy.type).toBe(19);
    expect((await e.write("restore/c2", { backup: backup.data["backup"] })).status).toBe(204);
    const dec = await e.write("decrypt/c2", { ciphertext: re.data["ciphertext"] });
    expect(unb64(dec.data["plaintext"]).toString()).toBe("legacy");
  });
});
