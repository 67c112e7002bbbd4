/**
 * OpenBao's additions to transit, served as OpenBao's transit serves them
 * (openbao/openbao internal/builtin/logical/transit, sdk/helper/keysutil):
 * xchacha20-poly1305 keys, soft delete, export formats and LIST paging.
 * Checked with independent code: @noble/ciphers' XChaCha20-Poly1305 and
 * AES-KWP, node:crypto's key encoders.
 */
import {
  constants,
  createHmac,
  createPrivateKey,
  createPublicKey,
  publicEncrypt,
  randomBytes,
} from "node:crypto";
import { aeskwp } from "@noble/ciphers/aes.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { describe, expect, it } from "vitest";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";
import { hkdfKey } from "./vault-fixtures.ts";

const X = "xchacha20-poly1305";

/** "vault:vN:" + base64(24-byte nonce || ct || tag), opened with @noble/ciphers. */
function openbaoOpen(key: Buffer, ciphertext: string, aad?: Uint8Array): Buffer {
  const m = /^vault:v\d+:(.*)$/.exec(ciphertext);
  if (m === null) throw new Error(`not a transit ciphertext: ${ciphertext}`);
  const raw = Buffer.from(m[1] as string, "base64");
  return Buffer.from(xchacha20poly1305(key, raw.subarray(0, 24), aad).decrypt(raw.subarray(24)));
}

function openbaoSeal(key: Buffer, plaintext: Buffer, version = 1): string {
  const nonce = randomBytes(24);
  const sealed = xchacha20poly1305(key, nonce).encrypt(plaintext);
  return `vault:v${version}:${Buffer.concat([nonce, sealed]).toString("base64")}`;
}

async function exportedKey(e: TestEngine, name: string, version = 1): Promise<Buffer> {
  const r = await e.read(`export/encryption-key/${name}/${version}`);
  expect(r.status).toBe(200);
  return unb64((r.data["keys"] as Record<string, string>)[String(version)]);
}

describe("xchacha20-poly1305 keys", () => {
  it("encrypts with a random 192-bit nonce in OpenBao's layout, both ways with an independent AEAD", async () => {
    const e = new TestEngine();
    const created = await e.write("keys/x", { type: X, exportable: true });
    expect(created.status).toBe(200);
    expect(created.data["type"]).toBe(X);
    expect(created.data["supports_encryption"]).toBe(true);
    expect(created.data["supports_derivation"]).toBe(true);
    expect(Object.keys(created.data["keys"] as object)).toEqual(["1"]);
    const key = await exportedKey(e, "x");
    expect(key.length).toBe(32);

    const pt = randomBytes(100);
    const enc = await e.write("encrypt/x", { plaintext: b64(pt) });
    const ct = String(enc.data["ciphertext"]);
    expect(unb64(ct.slice("vault:v1:".length)).length).toBe(24 + pt.length + 16);
    expect(openbaoOpen(key, ct).equals(pt)).toBe(true);
    const other = await e.write("encrypt/x", { plaintext: b64(pt) });
    expect(other.data["ciphertext"]).not.toBe(ct);

    const theirs = openbaoSeal(key, Buffer.from("from elsewhere"));
    const dec = await e.write("decrypt/x", { ciphertext: theirs });
    expect(unb64(dec.data["plaintext"]).toString()).toBe("from elsewhere");

    const tampered = `${theirs.slice(0, -4)}AAA=`;
    const bad = await e.write("decrypt/x", { ciphertext: tampered });
    expect(bad.status).toBe(400);
    expect(bad.error).toBe("chacha20poly1305: message authentication failed");
  });

  it("takes associated data and refuses a caller nonce", async () => {
    const e = new TestEngine();
    await e.write("keys/x", { type: X, exportable: true });
    const key = await exportedKey(e, "x");
    const aad = Buffer.from("bound");
    const enc = await e.write("encrypt/x", { plaintext: b64("hi"), associated_data: b64(aad) });
    expect(openbaoOpen(key, String(enc.data["ciphertext"]), aad).toString()).toBe("hi");
    const wrongAad = await e.write("decrypt/x", {
      ciphertext: enc.data["ciphertext"],
      associated_data: b64("other"),
    });
    expect(wrongAad.status).toBe(400);
    const nonce = await e.write("encrypt/x", { plaintext: b64("hi"), nonce: b64(randomBytes(24)) });
    expect(nonce.status).toBe(400);
    expect(nonce.error).toBe("provided nonce not allowed for this key");
  });

  it("derives per-context keys with HKDF-SHA256 as keysutil does", async () => {
    const e = new TestEngine();
    await e.write("keys/d", { type: X, derived: true, exportable: true });
    const key = await exportedKey(e, "d");
    const ctx = Buffer.from("tenant-7");
    const enc = await e.write("encrypt/d", { plaintext: b64("per tenant"), context: b64(ctx) });
    expect(openbaoOpen(hkdfKey(key, ctx, 32), String(enc.data["ciphertext"])).toString()).toBe("per tenant");
    const missing = await e.write("encrypt/d", { plaintext: b64("x") });
    expect(missing.status).toBe(400);
  });

  it("convergent: the nonce is HMAC-SHA256(derived HMAC key, plaintext)[:24], as OpenBao's scheme 3", async () => {
    const e = new TestEngine();
    const created = await e.write("keys/c", {
      type: X,
      derived: true,
      convergent_encryption: true,
      exportable: true,
    });
    expect(created.data["convergent_encryption_version"]).toBe(3);
    const key = await exportedKey(e, "c");
    const ctx = Buffer.from("ctx");
    const pt = Buffer.from("same in, same out");
    const a = String(
      (await e.write("encrypt/c", { plaintext: b64(pt), context: b64(ctx) })).data["ciphertext"],
    );
    const b = String(
      (await e.write("encrypt/c", { plaintext: b64(pt), context: b64(ctx) })).data["ciphertext"],
    );
    expect(a).toBe(b);
    const derived = hkdfKey(key, ctx, 64);
    const nonce = createHmac("sha256", derived.subarray(32)).update(pt).digest().subarray(0, 24);
    const sealed = xchacha20poly1305(derived.subarray(0, 32), nonce).encrypt(pt);
    expect(a).toBe(`vault:v1:${Buffer.concat([nonce, sealed]).toString("base64")}`);
    const noDerive = await e.write("keys/n", { type: X, convergent_encryption: true });
    expect(noDerive.status).toBe(400);
    expect(noDerive.error).toBe("convergent encryption requires derivation to be enabled");
  });

  it("exports its key and HMAC key raw, and refuses der/pem with OpenBao's text (500)", async () => {
    const e = new TestEngine();
    await e.write("keys/x", { type: X, exportable: true });
    const raw = await e.read("export/encryption-key/x/1", { format: "raw" });
    expect(unb64((raw.data["keys"] as Record<string, string>)["1"]).length).toBe(32);
    const hmac = await e.read("export/hmac-key/x/1");
    expect(unb64((hmac.data["keys"] as Record<string, string>)["1"]).length).toBe(32);
    const der = await e.read("export/encryption-key/x/1", { format: "der" });
    expect(der.status).toBe(500);
    expect(der.error).toBe("unknown format for HMAC key; supported values are `` or `raw`");
  });

  it("imports a key wrapped for BYOK and decrypts what OpenBao's layout seals with it", async () => {
    const e = new TestEngine();
    const wrapping = String((await e.read("wrapping_key")).data["public_key"]);
    const target = randomBytes(32);
    const ephemeral = randomBytes(32);
    const wrappedEphemeral = publicEncrypt(
      { key: createPublicKey(wrapping), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      ephemeral,
    );
    const ciphertext = b64(Buffer.concat([wrappedEphemeral, aeskwp(ephemeral).encrypt(target)]));
    const imported = await e.write("keys/imp/import", { type: X, ciphertext });
    expect(imported.status).toBe(204);
    const dec = await e.write("decrypt/imp", { ciphertext: openbaoSeal(target, Buffer.from("byok")) });
    expect(unb64(dec.data["plaintext"]).toString()).toBe("byok");
    const short = await e.write("keys/imp2/import", {
      type: X,
      ciphertext: b64(Buffer.concat([wrappedEphemeral, aeskwp(ephemeral).encrypt(randomBytes(16))])),
    });
    expect(short.error).toContain("invalid key size 16 bytes for key type xchacha20-poly1305");
  }, 120_000);

  it("backs up in OpenBao's shape (type 11, no key_size) and restores to a working key", async () => {
    const e = new TestEngine();
    await e.write("keys/x", { type: X, exportable: true, allow_plaintext_backup: true });
    await e.write("keys/x/rotate");
    const ct1 = String((await e.write("encrypt/x", { plaintext: b64("v2 data") })).data["ciphertext"]);
    const backup = String((await e.read("backup/x")).data["backup"]);
    const policy = JSON.parse(unb64(backup).toString()).policy as Record<string, unknown>;
    expect(policy["type"]).toBe(11);
    expect(policy["key_size"]).toBeUndefined();
    const keys = policy["keys"] as Record<string, { key: string; hmac_key: string }>;
    expect(unb64(keys["2"]?.key).length).toBe(32);

    const other = new TestEngine();
    const restored = await other.write("restore/y", { backup });
    expect(restored.status).toBe(204);
    const read = await other.read("keys/y");
    expect(read.data["type"]).toBe(X);
    expect(read.data["latest_version"]).toBe(2);
    const dec = await other.write("decrypt/y", { ciphertext: ct1 });
    expect(unb64(dec.data["plaintext"]).toString()).toBe("v2 data");
  });
});

describe("soft delete (OpenBao)", () => {
  it("marks, refuses every use with OpenBao's statuses and texts, and restores", async () => {
    const e = new TestEngine();
    expect((await e.request("delete", "keys/none/soft-delete")).status).toBe(204);
    await e.write("keys/k", { exportable: true, allow_plaintext_backup: true });
    await e.write("keys/s", { type: "ecdsa-p256", exportable: true });
    await e.write("keys/dst", { type: "rsa-2048" });
    const ct = String((await e.write("encrypt/k", { plaintext: b64("kept") })).data["ciphertext"]);
    const sig = String((await e.write("sign/s", { input: b64("m") })).data["signature"]);
    const mac = String((await e.write("hmac/k", { input: b64("m") })).data["hmac"]);
    expect((await e.read("keys/k")).data["soft_deleted"]).toBe(false);

    const del = await e.request("delete", "keys/k/soft-delete");
    expect(del.status).toBe(200);
    expect(del.data["soft_deleted"]).toBe(true);
    expect(del.warnings).toEqual([]);
    const again = await e.request("delete", "keys/k/soft-delete");
    expect(again.warnings).toEqual(["key was already marked as soft deleted"]);
    await e.request("delete", "keys/s/soft-delete");

    const refused = "refusing to use soft-deleted key";
    const user: [string, Record<string, unknown>][] = [
      ["encrypt/k", { plaintext: b64("x") }],
      ["decrypt/k", { ciphertext: ct }],
      ["rewrap/k", { ciphertext: ct }],
      ["datakey/plaintext/k", {}],
      ["hmac/k", { input: b64("m") }],
      ["verify/k", { input: b64("m"), hmac: mac }],
      ["sign/s", { input: b64("m") }],
      ["verify/s", { input: b64("m"), signature: sig }],
      ["keys/k/rotate", {}],
    ];
    for (const [path, data] of user) {
      const r = await e.write(path, data);
      expect([path, r.status, r.error]).toEqual([path, 400, refused]);
    }
    const batch = await e.write("encrypt/k", { batch_input: [{ plaintext: b64("a") }] });
    expect((batch.data["batch_results"] as { error: string }[])[0]?.error).toBe(refused);
    const exported = await e.read("export/encryption-key/k");
    expect([exported.status, exported.error]).toEqual([500, refused]);
    const byok = await e.read("byok-export/dst/k");
    expect([byok.status, byok.error]).toEqual([500, `for source key: ${refused}`]);
    const byokDst = await e.read("byok-export/k/s");
    expect([byokDst.status, byokDst.error]).toEqual([500, `for destination key: ${refused}`]);

    // keysutil Policy.Backup refuses it too (a UserError: 400).
    const backup = await e.read("backup/k");
    expect([backup.status, backup.error]).toEqual([400, refused]);
    // Still readable and configurable, as in OpenBao.
    expect((await e.read("keys/k")).data["soft_deleted"]).toBe(true);
    expect((await e.write("keys/k/config", { deletion_allowed: true })).status).toBe(200);

    const restored = await e.write("keys/k/soft-delete-restore");
    expect(restored.data["soft_deleted"]).toBe(false);
    expect((await e.write("keys/k/soft-delete-restore")).warnings).toEqual(["key was already restored"]);
    const dec = await e.write("decrypt/k", { ciphertext: ct });
    expect(unb64(dec.data["plaintext"]).toString()).toBe("kept");
    expect((await e.write("keys/k/rotate")).status).toBe(200);
  });

  it("survives a restart of the engine (the flag is stored)", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    await e.request("delete", "keys/k/soft-delete");
    const fresh = new TestEngine();
    for (const [k, v] of e.storage.entries) fresh.storage.entries.set(k, v);
    expect((await fresh.write("encrypt/k", { plaintext: b64("x") })).error).toBe(
      "refusing to use soft-deleted key",
    );
  });
});

describe("export formats (OpenBao)", () => {
  const pemBody = (s: string): Buffer =>
    Buffer.from(s.replace(/-----[A-Z ]+-----/g, "").replace(/\s/g, ""), "base64");

  it("der and pem are PKCS #8 / PKIX, as node:crypto encodes them", async () => {
    const e = new TestEngine();
    for (const type of ["ecdsa-p256", "ed25519", "rsa-2048"]) {
      await e.write(`keys/${type}`, { type, exportable: true });
      const def = await e.read(`export/signing-key/${type}/1`);
      const defKey = (def.data["keys"] as Record<string, string>)["1"] as string;
      const priv =
        type === "ed25519"
          ? createPrivateKey({
              key: Buffer.concat([
                Buffer.from("302e020100300506032b657004220420", "hex"),
                unb64(defKey).subarray(0, 32),
              ]),
              format: "der",
              type: "pkcs8",
            })
          : createPrivateKey(defKey);
      const pkcs8 = priv.export({ format: "der", type: "pkcs8" });
      const spki = createPublicKey(priv).export({ format: "der", type: "spki" });
      const get = async (kind: string, format: string): Promise<string> => {
        const r = await e.read(`export/${kind}/${type}/1`, { format });
        expect([type, kind, format, r.status]).toEqual([type, kind, format, 200]);
        return (r.data["keys"] as Record<string, string>)["1"] as string;
      };
      expect(unb64(await get("signing-key", "der")).equals(pkcs8)).toBe(true);
      const pem = await get("signing-key", "pem");
      expect(pem.startsWith("-----BEGIN PRIVATE KEY-----\n")).toBe(true);
      expect(pem.endsWith("\n")).toBe(type === "rsa-2048");
      expect(pemBody(pem).equals(pkcs8)).toBe(true);
      expect(unb64(await get("public-key", "der")).equals(spki)).toBe(true);
      const pub = await get("public-key", "pem");
      expect(pub.startsWith("-----BEGIN PUBLIC KEY-----\n")).toBe(true);
      expect(pemBody(pub).equals(spki)).toBe(true);
    }
    const edRaw = await e.read("export/public-key/ed25519/1", { format: "raw" });
    const edDer = await e.read("export/public-key/ed25519/1", { format: "der" });
    const rawKey = unb64((edRaw.data["keys"] as Record<string, string>)["1"]);
    expect(rawKey.length).toBe(32);
    expect(
      unb64((edDer.data["keys"] as Record<string, string>)["1"])
        .subarray(-32)
        .equals(rawKey),
    ).toBe(true);
  });

  it("refuses a format the type has no use for, and an unknown format, with OpenBao's texts", async () => {
    const e = new TestEngine();
    await e.write("keys/ec", { type: "ecdsa-p256", exportable: true });
    await e.write("keys/rsa", { type: "rsa-2048", exportable: true });
    await e.write("keys/h", { type: "hmac", exportable: true });
    const cases: [string, string, number, string][] = [
      [
        "export/signing-key/ec",
        "raw",
        500,
        "unknown key format for ec key; supported values are ``, `der`, or `pem`",
      ],
      [
        "export/public-key/ec",
        "raw",
        500,
        "unknown key format for ec key; supported values are ``, `der`, or `pem`",
      ],
      [
        "export/encryption-key/rsa",
        "raw",
        500,
        "unknown key format for rsa key; supported values are ``, `der`, or `pem`",
      ],
      [
        "export/public-key/rsa",
        "raw",
        500,
        "unknown key format for rsa key; supported values are ``, `der`, or `pem`",
      ],
      ["export/hmac-key/h", "pem", 500, "unknown format for HMAC key; supported values are `` or `raw`"],
      ["export/hmac-key/h", "jwk", 400, "invalid format: jwk"],
      ["export/public-key/missing", "jwk", 400, "invalid format: jwk"],
    ];
    for (const [path, format, status, error] of cases) {
      const r = await e.read(path, { format });
      expect([path, format, r.status, r.error]).toEqual([path, format, status, error]);
    }
    const hmacRaw = await e.read("export/hmac-key/h/1", { format: "raw" });
    expect(hmacRaw.status).toBe(200);
  });
});

describe("LIST keys", () => {
  it("hides the import/ folder as the newest Vault does, and pages with after and limit as OpenBao", async () => {
    const e = new TestEngine();
    for (const name of ["charlie", "alpha", "bravo", "delta"]) await e.write(`keys/${name}`);
    e.storage.entries.set("policy/import/wrapping-key", new Uint8Array([1]));
    const all = await e.request("list", "keys");
    expect(all.data["keys"]).toEqual(["alpha", "bravo", "charlie", "delta"]);
    expect((await e.request("list", "keys", { limit: 2 })).data["keys"]).toEqual(["alpha", "bravo"]);
    expect((await e.request("list", "keys", { after: "alpha", limit: 2 })).data["keys"]).toEqual([
      "bravo",
      "charlie",
    ]);
    expect((await e.request("list", "keys", { after: "bz" })).data["keys"]).toEqual(["charlie", "delta"]);
    expect((await e.request("list", "keys", { after: "b", limit: -1 })).data["keys"]).toEqual([
      "bravo",
      "charlie",
      "delta",
    ]);
    const none = await e.request("list", "keys", { after: "zulu" });
    expect((none.data["keys"] as unknown[] | undefined) ?? []).toEqual([]);
  });
});
