import { execFileSync } from "node:child_process";
import { constants, createCipheriv, createPublicKey, publicEncrypt, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { b64, TestEngine, unb64 } from "../../helpers/engine.ts";

/**
 * Vault Enterprise's CMAC types through the engine: create, cmac/:name(/:url_mac_length) single and
 * batch, verify with `cmac`, export/cmac-key, import (BYOK). Every tag is recomputed by the
 * `openssl mac CMAC` command line (an independent implementation) from the exported key.
 */

function opensslCmac(key: Buffer, data: Buffer): Buffer {
  const cipher = `AES-${key.length * 8}-CBC`;
  const out = execFileSync(
    "openssl",
    ["mac", "-cipher", cipher, "-macopt", `hexkey:${key.toString("hex")}`, "CMAC"],
    {
      input: data,
    },
  );
  return Buffer.from(out.toString().trim(), "hex");
}

function tagOf(v: unknown): Buffer {
  return Buffer.from(String(v).replace(/^vault:v\d+:/, ""), "base64");
}

describe("CMAC key types", () => {
  for (const [type, size] of [
    ["aes128-cmac", 16],
    ["aes192-cmac", 24],
    ["aes256-cmac", 32],
  ] as const) {
    it(`${type}: cmac, truncated tags and verify match openssl mac CMAC on the exported key`, async () => {
      const e = new TestEngine();
      const created = await e.write("keys/c", { type, exportable: true });
      expect(created.status).toBe(200);
      expect(created.data["supports_encryption"]).toBe(false);
      expect(created.data["supports_signing"]).toBe(false);
      const exported = await e.read("export/cmac-key/c/1");
      expect(exported.status).toBe(200);
      const key = unb64((exported.data["keys"] as Record<string, string>)["1"]);
      expect(key.length).toBe(size);
      for (const len of [1, 16, 33, 64]) {
        const data = randomBytes(len);
        const full = await e.write("cmac/c", { input: b64(data) });
        expect(full.status).toBe(200);
        expect(String(full.data["cmac"])).toMatch(/^vault:v1:/);
        const expected = opensslCmac(key, data);
        expect(tagOf(full.data["cmac"]).equals(expected)).toBe(true);
        const short = await e.write("cmac/c", { input: b64(data), mac_length: 8 });
        expect(tagOf(short.data["cmac"]).equals(expected.subarray(0, 8))).toBe(true);
        const ok = await e.write("verify/c", { input: b64(data), cmac: full.data["cmac"] });
        expect(ok.status).toBe(200);
        expect(ok.data["valid"]).toBe(true);
        const okShort = await e.write("verify/c", {
          input: b64(data),
          cmac: short.data["cmac"],
          mac_length: 8,
        });
        expect(okShort.data["valid"]).toBe(true);
        const wrong = await e.write("verify/c", {
          input: b64(Buffer.concat([data, Buffer.of(1)])),
          cmac: full.data["cmac"],
        });
        expect(wrong.data["valid"]).toBe(false);
      }
    });
  }

  it("batch input, url_mac_length overriding item lengths with Vault's warning, batch verify", async () => {
    const e = new TestEngine();
    await e.write("keys/c", { type: "aes256-cmac" });
    const batch = await e.write("cmac/c/4", {
      batch_input: [
        { input: b64("one"), mac_length: 10, reference: "a" },
        { input: b64("two"), reference: "b" },
      ],
    });
    expect(batch.status).toBe(200);
    expect(batch.warnings).toEqual(["input item 0 mac_length of 10 overridden by url_mac_length 4"]);
    const results = batch.data["batch_results"] as Record<string, unknown>[];
    expect(results.map((r) => tagOf(r["cmac"]).length)).toEqual([4, 4]);
    expect(results.map((r) => r["reference"])).toEqual(["a", "b"]);
    const verified = await e.write("verify/c/4", {
      batch_input: [
        { input: b64("one"), cmac: results[0]?.["cmac"], reference: "x" },
        { input: b64("one"), cmac: results[1]?.["cmac"], reference: "y" },
      ],
    });
    expect(
      (verified.data["batch_results"] as Record<string, unknown>[]).map((r) => [r["valid"], r["reference"]]),
    ).toEqual([
      [true, "x"],
      [false, "y"],
    ]);
  });

  it("bad input: mac_length out of range, a CMAC key used to encrypt or sign, CMAC with a non-CMAC key", async () => {
    const e = new TestEngine();
    await e.write("keys/c", { type: "aes128-cmac" });
    const big = await e.write("cmac/c/17", { input: b64("x") });
    expect(big.status).toBe(400);
    expect(big.error).toBe("the url mac-length parameter is invalid: must not be greater than 16");
    const body = await e.write("cmac/c", { input: b64("x"), mac_length: -1 });
    expect(body.status).toBe(400);
    const verifyBad = await e.write("verify/c", { input: b64("x"), cmac: "vault:v1:AAAA", mac_length: 20 });
    expect(verifyBad.error).toBe("mac_length field on item 0 was not valid: must not be greater than 16");
    const enc = await e.write("encrypt/c", { plaintext: b64("x") });
    expect(enc.status).toBe(400);
    expect(enc.error).toBe("message encryption not supported for key type aes128-cmac");
    const sign = await e.write("sign/c", { input: b64("x") });
    expect(sign.status).toBe(400);
    const derived = await e.write("keys/d", { type: "aes128-cmac", derived: true });
    expect(derived.error).toBe(
      "key derivation and convergent encryption not supported for keys of type aes128-cmac",
    );
    await e.write("keys/g", { type: "aes256-gcm96" });
    const notCmac = await e.write("cmac/g", { input: b64("x") });
    expect(notCmac.status).toBe(400);
    expect(notCmac.error).toBe("key g is not a supported CMAC key type: aes256-gcm96");
    const blank = await e.write("cmac/c", {});
    expect(blank.error).toBe("input item 0 was blank");
    const notExportable = await e.read("export/cmac-key/c");
    expect(notExportable.status).toBe(400);
    const wrongExport = await e.read("export/cmac-key/g");
    expect(wrongExport.status).toBe(400);
  });

  it("imports a wrapped CMAC key (BYOK) and computes the tag openssl computes", async () => {
    const e = new TestEngine();
    const pem = String((await e.read("wrapping_key")).data["public_key"]);
    const target = randomBytes(32);
    const ephemeral = randomBytes(32);
    const kwp = createCipheriv("id-aes256-wrap-pad", ephemeral, Buffer.from("A65959A6", "hex"));
    const wrapped = Buffer.concat([kwp.update(target), kwp.final()]);
    const encKey = publicEncrypt(
      { key: createPublicKey(pem), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      ephemeral,
    );
    const imported = await e.write("keys/i/import", {
      type: "aes256-cmac",
      ciphertext: b64(Buffer.concat([encKey, wrapped])),
    });
    expect(imported.status).toBe(204);
    const tag = await e.write("cmac/i", { input: b64("imported") });
    expect(tagOf(tag.data["cmac"]).equals(opensslCmac(target, Buffer.from("imported")))).toBe(true);
  }, 120_000);
});
