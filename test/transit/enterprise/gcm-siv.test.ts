import { createHmac, randomBytes } from "node:crypto";
import { gcmsiv } from "@noble/ciphers/aes.js";
import { describe, expect, it } from "vitest";
import { hkdfSha256 } from "../../../src/crypto/kdf.ts";
import { b64, TestEngine, unb64 } from "../../helpers/engine.ts";

/**
 * aes256-gcm-siv through the engine: encrypt, decrypt, rewrap, datakey, derived and convergent keys,
 * export and backup/restore. Ciphertexts are opened with @noble/ciphers' gcmsiv (an independent
 * implementation of RFC 8452) using the exported key, so the format vault:vN:base64(nonce||ct||tag)
 * is checked byte for byte, not only by our own decrypt.
 */

function payload(ct: unknown): Buffer {
  const m = /^vault:v(\d+):(.*)$/.exec(String(ct));
  if (m === null) throw new Error(`not a vault ciphertext: ${String(ct)}`);
  return Buffer.from(m[2] as string, "base64");
}

describe("aes256-gcm-siv", () => {
  it("round trips every size with and without AAD; ciphertexts open with noble's RFC 8452 gcmsiv", async () => {
    const e = new TestEngine();
    expect((await e.write("keys/s", { type: "aes256-gcm-siv", exportable: true })).status).toBe(200);
    const read = await e.read("keys/s");
    expect(read.data["type"]).toBe("aes256-gcm-siv");
    expect(read.data["supports_encryption"]).toBe(true);
    expect(read.data["supports_derivation"]).toBe(true);
    expect(read.data["supports_signing"]).toBe(false);
    expect(typeof (read.data["keys"] as Record<string, unknown>)["1"]).toBe("number");
    const exported = await e.read("export/encryption-key/s/1");
    expect(exported.status).toBe(200);
    const key = unb64((exported.data["keys"] as Record<string, string>)["1"]);
    expect(key.length).toBe(32);
    for (const size of [0, 1, 16, 17, 4096, 65537]) {
      const pt = randomBytes(size);
      const aad = size % 2 === 0 ? b64(`aad-${size}`) : undefined;
      const extra = aad === undefined ? {} : { associated_data: aad };
      const enc = await e.write("encrypt/s", { plaintext: b64(pt), ...extra });
      expect(enc.status).toBe(200);
      const raw = payload(enc.data["ciphertext"]);
      expect(raw.length).toBe(12 + size + 16);
      const opened = gcmsiv(key, raw.subarray(0, 12), aad === undefined ? undefined : unb64(aad)).decrypt(
        raw.subarray(12),
      );
      expect(Buffer.from(opened).equals(pt)).toBe(true);
      const dec = await e.write("decrypt/s", { ciphertext: enc.data["ciphertext"], ...extra });
      expect(dec.status).toBe(200);
      expect(unb64(dec.data["plaintext"]).equals(pt)).toBe(true);
    }
  });

  it("a tampered ciphertext, a wrong AAD and a short ciphertext are 400s", async () => {
    const e = new TestEngine();
    await e.write("keys/s", { type: "aes256-gcm-siv" });
    const enc = await e.write("encrypt/s", { plaintext: b64("secret"), associated_data: b64("a") });
    const raw = payload(enc.data["ciphertext"]);
    raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 1;
    const tampered = await e.write("decrypt/s", {
      ciphertext: `vault:v1:${raw.toString("base64")}`,
      associated_data: b64("a"),
    });
    expect(tampered.status).toBe(400);
    expect(tampered.error).toBe("cipher: message authentication failed");
    const wrongAad = await e.write("decrypt/s", {
      ciphertext: enc.data["ciphertext"],
      associated_data: b64("b"),
    });
    expect(wrongAad.status).toBe(400);
    const short = await e.write("decrypt/s", { ciphertext: `vault:v1:${b64("short")}` });
    expect(short.status).toBe(400);
    expect(short.error).toBe("invalid ciphertext length");
  });

  it("rotate, rewrap and datakey", async () => {
    const e = new TestEngine();
    await e.write("keys/s", { type: "aes256-gcm-siv" });
    const v1 = await e.write("encrypt/s", { plaintext: b64("old") });
    expect((await e.write("keys/s/rotate")).status).toBe(200);
    const rewrapped = await e.write("rewrap/s", { ciphertext: v1.data["ciphertext"] });
    expect(rewrapped.status).toBe(200);
    expect(String(rewrapped.data["ciphertext"])).toMatch(/^vault:v2:/);
    expect(
      unb64(
        (await e.write("decrypt/s", { ciphertext: rewrapped.data["ciphertext"] })).data["plaintext"],
      ).toString(),
    ).toBe("old");
    const dk = await e.write("datakey/plaintext/s", { bits: 256 });
    expect(dk.status).toBe(200);
    const back = await e.write("decrypt/s", { ciphertext: dk.data["ciphertext"] });
    expect(back.data["plaintext"]).toBe(dk.data["plaintext"]);
  });

  it("derived keys need a context and give per-context keys (HKDF-SHA256 of the version key)", async () => {
    const e = new TestEngine();
    await e.write("keys/d", { type: "aes256-gcm-siv", derived: true, exportable: true });
    const missing = await e.write("encrypt/d", { plaintext: b64("x") });
    expect(missing.status).toBe(400);
    const enc = await e.write("encrypt/d", { plaintext: b64("per-context"), context: b64("ctx-a") });
    expect(enc.status).toBe(200);
    const key = unb64(
      ((await e.read("export/encryption-key/d/1")).data["keys"] as Record<string, string>)["1"],
    );
    const derived = hkdfSha256(key, Buffer.from("ctx-a"), 32);
    const raw = payload(enc.data["ciphertext"]);
    expect(Buffer.from(gcmsiv(derived, raw.subarray(0, 12)).decrypt(raw.subarray(12))).toString()).toBe(
      "per-context",
    );
    const other = await e.write("decrypt/d", { ciphertext: enc.data["ciphertext"], context: b64("ctx-b") });
    expect(other.status).toBe(400);
  });

  it("convergent mode: equal inputs give equal ciphertexts; nonce = HMAC-SHA256(derived key[32:64], pt)[:12]", async () => {
    const e = new TestEngine();
    await e.write("keys/c", {
      type: "aes256-gcm-siv",
      derived: true,
      convergent_encryption: true,
      exportable: true,
    });
    const read = await e.read("keys/c");
    expect(read.data["convergent_encryption_version"]).toBe(3);
    const a = await e.write("encrypt/c", { plaintext: b64("same"), context: b64("ctx") });
    const b = await e.write("encrypt/c", { plaintext: b64("same"), context: b64("ctx") });
    const c = await e.write("encrypt/c", { plaintext: b64("other"), context: b64("ctx") });
    expect(a.data["ciphertext"]).toBe(b.data["ciphertext"]);
    expect(a.data["ciphertext"]).not.toBe(c.data["ciphertext"]);
    const key = unb64(
      ((await e.read("export/encryption-key/c/1")).data["keys"] as Record<string, string>)["1"],
    );
    const derived = hkdfSha256(key, Buffer.from("ctx"), 64);
    const nonce = createHmac("sha256", derived.subarray(32)).update("same").digest().subarray(0, 12);
    const raw = payload(a.data["ciphertext"]);
    expect(raw.subarray(0, 12).equals(nonce)).toBe(true);
    expect(Buffer.from(gcmsiv(derived.subarray(0, 32), nonce).decrypt(raw.subarray(12))).toString()).toBe(
      "same",
    );
    const withNonce = await e.write("encrypt/c", {
      plaintext: b64("same"),
      context: b64("ctx"),
      nonce: b64("123456789012"),
    });
    expect(withNonce.status).toBe(400);
  });

  it("backup and restore keep the key; the backup carries this engine's own type number", async () => {
    const e = new TestEngine();
    await e.write("keys/b", { type: "aes256-gcm-siv", exportable: true, allow_plaintext_backup: true });
    const enc = await e.write("encrypt/b", { plaintext: b64("kept") });
    const backup = await e.read("backup/b");
    expect(backup.status).toBe(200);
    const doc = JSON.parse(unb64(backup.data["backup"]).toString()) as { policy: { type: number } };
    expect(doc.policy.type).toBe(1000);
    expect((await e.write("restore/b2", { backup: backup.data["backup"] })).status).toBe(204);
    expect((await e.read("keys/b2")).data["type"]).toBe("aes256-gcm-siv");
    const dec = await e.write("decrypt/b2", { ciphertext: enc.data["ciphertext"] });
    expect(unb64(dec.data["plaintext"]).toString()).toBe("kept");
  });

  it("a stored keyring of a type this version does not know is refused, never read as another type", async () => {
    const { decodeKeyring, encodeKeyring } = await import("../../../src/transit/keyring/codec.ts");
    const { newKeyring } = await import("../../../src/transit/keyring/keyring.ts");
    const ring = newKeyring({ name: "n", type: "aes256-gcm96" });
    const bytes = encodeKeyring({ ...ring, type: "aes512-future" as never });
    expect(() => decodeKeyring("n", bytes)).toThrow(
      'stored key "n" could not be decoded: unsupported key type aes512-future: written by a newer version of this plugin',
    );
  });
});
