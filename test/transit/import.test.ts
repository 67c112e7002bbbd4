/**
 * BYOK (transit path_wrapping_key.go, path_import.go; keysutil
 * ImportPublicOrPrivate / ImportPrivateKeyForVersion): keys wrapped here by
 * an independent implementation (node:crypto RSA-OAEP and a KWP written in
 * this file from RFC 5649, checked against the RFC's vectors), imported for
 * every importable type, then used by the engine and checked by node:crypto.
 */
import {
  constants,
  createCipheriv,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
} from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { TestEngine, unb64 } from "../helpers/engine.ts";
import {
  b64,
  counterKdfKey,
  rsaOaepVault,
  type SymType,
  vaultOpen,
  vaultSeal,
  verifyVaultSignature,
} from "./vault-fixtures.ts";

// ------------------------------------------------------------ independent KWP (RFC 5649)

function aesBlock(kek: Buffer, block: Buffer): Buffer {
  const c = createCipheriv(`aes-${kek.length * 8}-ecb`, kek, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

function kwpWrap(kek: Buffer, key: Buffer): Buffer {
  const mli = key.length;
  const padded = Buffer.concat([key, Buffer.alloc((8 - (mli % 8)) % 8)]);
  const aiv = Buffer.alloc(8);
  aiv.writeUInt32BE(0xa65959a6, 0);
  aiv.writeUInt32BE(mli, 4);
  if (padded.length === 8) return aesBlock(kek, Buffer.concat([aiv, padded]));
  const n = padded.length / 8;
  let a = aiv;
  const r: Buffer[] = Array.from({ length: n }, (_, i) => padded.subarray(i * 8, i * 8 + 8));
  for (let j = 0; j <= 5; j++) {
    for (let i = 0; i < n; i++) {
      const b = aesBlock(kek, Buffer.concat([a, r[i] as Buffer]));
      const t = BigInt(n * j + i + 1);
      a = Buffer.from((b.readBigUInt64BE(0) ^ t).toString(16).padStart(16, "0"), "hex");
      r[i] = b.subarray(8);
    }
  }
  return Buffer.concat([a, ...r]);
}

/** Vault's documented BYOK envelope, built with node:crypto and the KWP above. */
function wrapForImport(
  wrappingPem: string,
  target: Buffer,
  hash = "sha256",
  ephemeral = randomBytes(32),
): string {
  const encKey = publicEncrypt(
    { key: createPublicKey(wrappingPem), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
    ephemeral,
  );
  return b64(Buffer.concat([encKey, kwpWrap(ephemeral, target)]));
}

describe("the test's KWP", () => {
  it("matches RFC 5649 section 6 vectors", () => {
    const kek = Buffer.from("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8", "hex");
    expect(kwpWrap(kek, Buffer.from("c37b7e6492584340bed12207808941155068f738", "hex")).toString("hex")).toBe(
      "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
    );
    expect(kwpWrap(kek, Buffer.from("466f7250617369", "hex")).toString("hex")).toBe(
      "afbeb0f07dfbf5419200f2ccb50bb24f",
    );
  });
});

// ------------------------------------------------------------ shared wrapping key

const WRAPPING_ENTRY = "policy/import/wrapping-key";
let wrappingEntry: Uint8Array;
let wrappingPem = "";

/** A fresh engine that already has the wrapping key (RSA-4096 generation done once). */
async function engine(): Promise<TestEngine> {
  const e = new TestEngine();
  e.storage.entries.set(WRAPPING_ENTRY, wrappingEntry);
  return e;
}

beforeAll(async () => {
  const e = new TestEngine();
  const r = await e.read("wrapping_key");
  wrappingPem = String(r.data["public_key"]);
  wrappingEntry = e.storage.entries.get(WRAPPING_ENTRY) as Uint8Array;
}, 120_000);

function pkcs8(key: KeyObject): Buffer {
  return key.export({ format: "der", type: "pkcs8" });
}

async function str(p: Promise<{ data: Record<string, unknown> }>, field: string): Promise<string> {
  return String((await p).data[field]);
}

describe("wrapping_key", () => {
  it("is an RSA-4096 PKIX PEM, made once, stable across reads, at Vault's storage path", async () => {
    const e = new TestEngine();
    const [a, b] = await Promise.all([e.read("wrapping_key"), e.read("wrapping_key")]);
    expect(a.status).toBe(200);
    const pem = String(a.data["public_key"]);
    expect(b.data["public_key"]).toBe(pem);
    expect(pem.startsWith("-----BEGIN PUBLIC KEY-----\n")).toBe(true);
    expect(pem.endsWith("-----END PUBLIC KEY-----\n")).toBe(true);
    const key = createPublicKey(pem);
    expect(key.asymmetricKeyType).toBe("rsa");
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(4096);
    expect([...e.storage.entries.keys()]).toEqual([WRAPPING_ENTRY]);
    expect((await e.read("wrapping_key")).data["public_key"]).toBe(pem);
    // A new engine instance on the same storage serves the same key.
    const again = new TestEngine();
    again.storage.entries.set(WRAPPING_ENTRY, e.storage.entries.get(WRAPPING_ENTRY) as Uint8Array);
    expect((await again.read("wrapping_key")).data["public_key"]).toBe(pem);
    // No key path reaches it.
    expect((await e.read("export/public-key/import")).status).toBe(404);
    expect((await e.read("keys/import")).status).toBe(404);
  });
});

describe("import of every importable type, wrapped by node:crypto", () => {
  for (const type of ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"] as SymType[]) {
    it(`${type}: decrypts node's ciphertexts and encrypts ones node decrypts`, async () => {
      const e = await engine();
      const key = randomBytes(type === "aes128-gcm96" ? 16 : 32);
      const r = await e.write("keys/k/import", { type, ciphertext: wrapForImport(wrappingPem, key) });
      expect(r.error).toBeNull();
      expect(r.status).toBe(204);
      const read = (await e.read("keys/k")).data;
      expect(read["type"]).toBe(type);
      expect(read["imported_key"]).toBe(true);
      expect(read["imported_key_allow_rotation"]).toBe(false);
      expect(read["latest_version"]).toBe(1);
      const pt = randomBytes(77);
      const aad = Buffer.from("ad");
      const mine = vaultSeal(type, key, 1, pt, aad);
      const dec = await e.write("decrypt/k", { ciphertext: mine, associated_data: b64(aad) });
      expect(unb64(dec.data["plaintext"]).equals(pt)).toBe(true);
      const ct = await str(e.write("encrypt/k", { plaintext: b64(pt) }), "ciphertext");
      expect(vaultOpen(type, key, ct).equals(pt)).toBe(true);
    });
  }

  for (const hash of ["SHA1", "SHA224", "SHA256", "SHA384", "SHA512", "sha512"]) {
    it(`hash_function ${hash}`, async () => {
      const e = await engine();
      const key = randomBytes(32);
      const node = `sha${hash.slice(3) === "1" ? "1" : hash.slice(3)}`;
      const r = await e.write("keys/k/import", {
        ciphertext: wrapForImport(wrappingPem, key, node),
        hash_function: hash,
      });
      expect(r.error).toBeNull();
      const ct = vaultSeal("aes256-gcm96", key, 1, Buffer.from("h"));
      expect(unb64((await e.write("decrypt/k", { ciphertext: ct })).data["plaintext"]).toString()).toBe("h");
    });
  }

  it("hmac: hmac/ is HMAC with the imported key; key_size follows the key", async () => {
    const e = await engine();
    const key = randomBytes(48);
    expect(
      (await e.write("keys/h/import", { type: "hmac", ciphertext: wrapForImport(wrappingPem, key) })).error,
    ).toBeNull();
    const mac = await str(e.write("hmac/h/sha2-384", { input: b64("data") }), "hmac");
    expect(mac).toBe(`vault:v1:${createHmac("sha384", key).update("data").digest("base64")}`);
    expect((await e.read("keys/h")).data["key_size"]).toBe(48);
  });

  it("derived aes256-gcm96: Vault's import keeps KDF 0 (counter mode)", async () => {
    const e = await engine();
    const key = randomBytes(32);
    const r = await e.write("keys/d/import", { derived: true, ciphertext: wrapForImport(wrappingPem, key) });
    expect(r.error).toBeNull();
    const ctx = Buffer.from("tenant");
    const ct = vaultSeal("aes256-gcm96", counterKdfKey(key, ctx), 1, Buffer.from("derived"));
    const dec = await e.write("decrypt/d", { ciphertext: ct, context: b64(ctx) });
    expect(dec.error).toBeNull();
    expect(unb64(dec.data["plaintext"]).toString()).toBe("derived");
    expect((await e.read("keys/d")).data["kdf"]).toBe("hmac-sha256-counter");
  });

  it("exportable and allow_plaintext_backup are honoured; export gives back the imported key", async () => {
    const e = await engine();
    const key = randomBytes(32);
    await e.write("keys/x/import", {
      exportable: true,
      allow_plaintext_backup: true,
      ciphertext: wrapForImport(wrappingPem, key),
    });
    const keys = (await e.read("export/encryption-key/x")).data["keys"] as Record<string, string>;
    expect(keys["1"]).toBe(b64(key));
    const backup = await str(e.read("backup/x"), "backup");
    const policy = JSON.parse(Buffer.from(backup, "base64").toString())["policy"];
    expect(policy["Imported"]).toBe(true);
    expect(policy["kdf"]).toBe(0);
    expect(policy["convergent_version"]).toBe(0);
    // Non-exportable import: no export.
    await e.write("keys/y/import", { ciphertext: wrapForImport(wrappingPem, key) });
    expect((await e.read("export/encryption-key/y")).error).toBe("private key material is not exportable");
  });

  it("ed25519 (PKCS #8): signatures verify with node, read shows the public key", async () => {
    const e = await engine();
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const r = await e.write("keys/ed/import", {
      type: "ed25519",
      ciphertext: wrapForImport(wrappingPem, pkcs8(privateKey)),
    });
    expect(r.error).toBeNull();
    const msg = Buffer.from("ed import");
    const sig = await str(e.write("sign/ed", { input: b64(msg) }), "signature");
    expect(verifyVaultSignature("ed25519", publicKey, msg, sig)).toBe(true);
    const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32).toString("base64");
    const keys = (await e.read("keys/ed")).data["keys"] as Record<string, { public_key: string }>;
    expect(keys["1"]?.public_key).toBe(raw);
  });

  for (const [type, curve] of [
    ["ecdsa-p256", "P-256"],
    ["ecdsa-p384", "P-384"],
    ["ecdsa-p521", "P-521"],
  ] as const) {
    it(`${type} (PKCS #8): signatures verify with node and node's verify here`, async () => {
      const e = await engine();
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
      const r = await e.write("keys/ec/import", {
        type,
        ciphertext: wrapForImport(wrappingPem, pkcs8(privateKey)),
      });
      expect(r.error).toBeNull();
      const msg = Buffer.from(`import ${type}`);
      const sig = await str(e.write("sign/ec", { input: b64(msg) }), "signature");
      expect(verifyVaultSignature(type, publicKey, msg, sig)).toBe(true);
      const nodeSig = `vault:v1:${sign("sha256", msg, privateKey).toString("base64")}`;
      expect((await e.write("verify/ec", { input: b64(msg), signature: nodeSig })).data["valid"]).toBe(true);
    });
  }

  for (const bits of [2048, 3072, 4096]) {
    it(`rsa-${bits} (PKCS #8): decrypts node's OAEP ciphertexts, encrypts for node, signs`, async () => {
      const e = await engine();
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
      const type = `rsa-${bits}`;
      const r = await e.write("keys/r/import", {
        type,
        ciphertext: wrapForImport(wrappingPem, pkcs8(privateKey)),
      });
      expect(r.error).toBeNull();
      const pt = Buffer.from("rsa import");
      const dec = await e.write("decrypt/r", { ciphertext: rsaOaepVault(publicKey, pt) });
      expect(unb64(dec.data["plaintext"]).equals(pt)).toBe(true);
      const ct = await str(e.write("encrypt/r", { plaintext: b64(pt) }), "ciphertext");
      const raw = Buffer.from(ct.replace("vault:v1:", ""), "base64");
      expect(
        privateDecrypt(
          { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
          raw,
        ).equals(pt),
      ).toBe(true);
      const sig = await str(e.write("sign/r", { input: b64(pt) }), "signature");
      expect(verifyVaultSignature(type, publicKey, pt, sig)).toBe(true);
    });
  }
});

describe("import errors: Vault's texts, nothing stored", () => {
  it("bad envelopes, hashes, types and sizes", async () => {
    const e = await engine();
    await e.write("keys/existing");
    const aes = randomBytes(32);
    const ec = pkcs8(generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey);
    const rsa3072 = pkcs8(generateKeyPairSync("rsa", { modulusLength: 3072 }).privateKey);
    const good = wrapForImport(wrappingPem, aes);
    const tampered = Buffer.from(good, "base64");
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    const eph16 = randomBytes(16);
    const short = publicEncrypt(
      { key: createPublicKey(wrappingPem), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      eph16,
    );
    const cases: [string, Record<string, unknown>, string][] = [
      [
        "keys/n/import",
        { ciphertext: wrapForImport(wrappingPem, aes, "sha1") },
        "crypto/rsa: decryption error",
      ],
      ["keys/n/import", { ciphertext: good, hash_function: "SHA384" }, "crypto/rsa: decryption error"],
      ["keys/n/import", { ciphertext: good, hash_function: "MD5" }, "unknown hash function: MD5"],
      ["keys/n/import", { ciphertext: "not base64!" }, "illegal base64 data at input byte 3"],
      ["keys/n/import", { ciphertext: b64(randomBytes(512)) }, "provided ciphertext is too short"],
      ["keys/n/import", { ciphertext: b64(tampered) }, "kwp: unwrap failed integrity check"],
      [
        "keys/n/import",
        { ciphertext: b64(Buffer.concat([short, kwpWrap(Buffer.concat([eph16, eph16]), aes)])) },
        "expected ephemeral AES key to be 256-bit",
      ],
      [
        "keys/n/import",
        { ciphertext: b64(Buffer.concat([Buffer.from(good, "base64").subarray(0, 512), randomBytes(20)])) },
        "kwp: wrapped key size too small",
      ],
      [
        "keys/n/import",
        { ciphertext: wrapForImport(wrappingPem, randomBytes(16)) },
        "error importing key: invalid key size 16 bytes for key type aes256-gcm96",
      ],
      [
        "keys/n/import",
        { type: "hmac", ciphertext: wrapForImport(wrappingPem, randomBytes(24)) },
        "error importing key: invalid key size 24 bytes for key type hmac",
      ],
      [
        "keys/n/import",
        { type: "rsa-2048", ciphertext: wrapForImport(wrappingPem, ec) },
        "error importing key: invalid key type: expected rsa-2048, got *ecdsa.PrivateKey",
      ],
      [
        "keys/n/import",
        { type: "ecdsa-p256", ciphertext: wrapForImport(wrappingPem, ec) },
        "error importing key: invalid curve: expected P-256, got P-384",
      ],
      [
        "keys/n/import",
        { type: "rsa-2048", ciphertext: wrapForImport(wrappingPem, rsa3072) },
        "error importing key: invalid key size: expected 256 bytes, got 384 bytes",
      ],
      [
        "keys/n/import",
        { type: "ed25519", ciphertext: wrapForImport(wrappingPem, randomBytes(40)) },
        "error importing key: error parsing asymmetric key: x509: failed to parse private key",
      ],
      ["keys/n/import", { type: "foo", ciphertext: good }, "unknown key type: foo"],
      [
        "keys/n/import",
        { ciphertext: good, convergent_encryption: false },
        "import cannot be used on keys with convergent encryption enabled",
      ],
      [
        "keys/n/import",
        { ciphertext: good, auto_rotate_period: "24h" },
        "allow_rotation must be set to true if auto-rotation is enabled",
      ],
      [
        "keys/existing/import",
        { ciphertext: good },
        "the import path cannot be used with an existing key; use import-version to rotate an existing imported key",
      ],
      [
        "keys/n/import",
        { type: "aes256-gcm96", public_key: "x" },
        "provided type does not support public_key import",
      ],
      [
        "keys/n/import",
        { type: "rsa-2048", public_key: "junk" },
        "error importing key: error parsing public key: not in PEM format",
      ],
      [
        "keys/n/import",
        { type: "ecdsa-p256" },
        "error importing key: error parsing public key: not in PEM format",
      ],
      [
        "keys/n/import_version",
        { ciphertext: good },
        "no key found with name n; to import a new key, use the import/ endpoint",
      ],
      [
        "keys/existing/import_version",
        { ciphertext: good },
        "the import_version endpoint can only be used with an imported key",
      ],
    ];
    const before = e.snapshot();
    for (const [path, data, error] of cases) {
      const r = await e.write(path, data);
      // Vault answers only an unknown hash function or key type with 400; every other failure is
      // a plain Go error there (500), and the same status here.
      const status = /^unknown (hash function|key type)/.test(error) ? 400 : 500;
      expect(r.status, `${path} ${error}`).toBe(status);
      expect(r.error, `${path} ${JSON.stringify(data).slice(0, 60)}`).toBe(error);
    }
    expect(e.snapshot()).toEqual(before);
  });

  it("an import before wrapping_key was ever read fails without making the wrapping key", async () => {
    const e = new TestEngine();
    const before = e.snapshot();
    const r = await e.write("keys/k/import", { ciphertext: wrapForImport(wrappingPem, randomBytes(32)) });
    expect(r.status).toBe(500);
    expect(r.error).toBe("crypto/rsa: decryption error");
    expect(e.snapshot()).toEqual(before);
  });
});

describe("rotation of imported keys and import_version", () => {
  it("rotate is refused unless allow_rotation; rotating ends the key's imported status", async () => {
    const e = await engine();
    await e.write("keys/fixed/import", { ciphertext: wrapForImport(wrappingPem, randomBytes(32)) });
    const before = e.snapshot();
    const r = await e.write("keys/fixed/rotate");
    expect(r.status).toBe(500); // a plain error from keysutil Rotate, as in Vault
    expect(r.error).toBe("imported key fixed does not allow rotation within Vault");
    expect(e.snapshot()).toEqual(before);

    await e.write("keys/free/import", {
      allow_rotation: true,
      auto_rotate_period: "48h",
      ciphertext: wrapForImport(wrappingPem, randomBytes(32)),
    });
    const read = (await e.read("keys/free")).data;
    expect(read["imported_key_allow_rotation"]).toBe(true);
    expect(read["auto_rotate_period"]).toBe(48 * 3600);
    expect((await e.write("keys/free/rotate")).status).toBe(200);
    const after = (await e.read("keys/free")).data;
    expect(after["latest_version"]).toBe(2);
    expect(after["imported_key"]).toBe(false);
    expect(
      (await e.write("keys/free/import_version", { ciphertext: wrapForImport(wrappingPem, randomBytes(32)) }))
        .error,
    ).toBe("the import_version endpoint can only be used with an imported key");
  });

  it("import_version adds versions to an imported key whatever allow_rotation says", async () => {
    const e = await engine();
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    await e.write("keys/k/import", { ciphertext: wrapForImport(wrappingPem, k1) });
    const r = await e.write("keys/k/import_version", { ciphertext: wrapForImport(wrappingPem, k2) });
    expect(r.error).toBeNull();
    expect(r.status).toBe(204);
    expect((await e.read("keys/k")).data["latest_version"]).toBe(2);
    expect((await e.read("keys/k")).data["imported_key"]).toBe(true);
    const ct = await str(e.write("encrypt/k", { plaintext: b64("v2") }), "ciphertext");
    expect(ct.startsWith("vault:v2:")).toBe(true);
    expect(vaultOpen("aes256-gcm96", k2, ct).toString()).toBe("v2");
    const old = vaultSeal("aes256-gcm96", k1, 1, Buffer.from("v1"));
    expect(unb64((await e.write("decrypt/k", { ciphertext: old })).data["plaintext"]).toString()).toBe("v1");
    // A symmetric version cannot be "updated".
    const upd = await e.write("keys/k/import_version", {
      version: 1,
      ciphertext: wrapForImport(wrappingPem, k2),
    });
    expect(upd.status).toBe(500);
    expect(upd.error).toBe("provided type does not support importing key versions");
    const none = await e.write("keys/k/import_version", {
      version: 7,
      ciphertext: wrapForImport(wrappingPem, k2),
    });
    expect(none.error).toBe("no such key version");
  });
});

describe("public key import", () => {
  it("rsa-2048: encrypt and verify with only the public key, then the private key completes the version", async () => {
    const e = await engine();
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = publicKey.export({ format: "pem", type: "spki" }).toString();
    const r = await e.write("keys/r/import", { type: "rsa-2048", public_key: pem });
    expect(r.error).toBeNull();
    const pt = Buffer.from("to the private key holder");
    const ct = await str(e.write("encrypt/r", { plaintext: b64(pt) }), "ciphertext");
    const raw = Buffer.from(ct.replace("vault:v1:", ""), "base64");
    expect(
      privateDecrypt(
        { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
        raw,
      ).equals(pt),
    ).toBe(true);
    const nodeSig = sign("sha256", pt, { key: privateKey, padding: constants.RSA_PKCS1_PADDING }).toString(
      "base64",
    );
    const v = await e.write("verify/r", {
      input: b64(pt),
      signature: `vault:v1:${nodeSig}`,
      signature_algorithm: "pkcs1v15",
    });
    expect(v.data["valid"]).toBe(true);
    expect((await e.write("decrypt/r", { ciphertext: ct })).status).toBeGreaterThanOrEqual(400);
    expect((await e.write("sign/r", { input: b64(pt) })).status).toBeGreaterThanOrEqual(400);
    expect((await e.read("export/public-key/r")).data["keys"]).toEqual({ "1": pem });

    // Public key again onto the same version: refused; a mismatched private key: refused.
    const same = await e.write("keys/r/import_version", { version: 1, public_key: pem });
    expect(same.error).toBe("cannot add a public key to a key version that already has a public key set");
    const other = pkcs8(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey);
    const mismatch = await e.write("keys/r/import_version", {
      version: 1,
      ciphertext: wrapForImport(wrappingPem, other),
    });
    expect(mismatch.error).toBe("cannot import key, key pair does not match");

    // The matching private key for version 1.
    const done = await e.write("keys/r/import_version", {
      version: 1,
      ciphertext: wrapForImport(wrappingPem, pkcs8(privateKey)),
    });
    expect(done.error).toBeNull();
    expect((await e.read("keys/r")).data["latest_version"]).toBe(1);
    expect(unb64((await e.write("decrypt/r", { ciphertext: ct })).data["plaintext"]).equals(pt)).toBe(true);
    const again = await e.write("keys/r/import_version", {
      version: 1,
      ciphertext: wrapForImport(wrappingPem, pkcs8(privateKey)),
    });
    expect(again.error).toBe("private key imported, key version cannot be updated");
  });

  it("ecdsa-p256: public then private without a version fills the latest version", async () => {
    const e = await engine();
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    await e.write("keys/ec/import", {
      type: "ecdsa-p256",
      public_key: publicKey.export({ format: "pem", type: "spki" }).toString(),
    });
    const msg = Buffer.from("ec public");
    const nodeSig = `vault:v1:${sign("sha256", msg, privateKey).toString("base64")}`;
    expect((await e.write("verify/ec", { input: b64(msg), signature: nodeSig })).data["valid"]).toBe(true);
    expect((await e.write("sign/ec", { input: b64(msg) })).status).toBeGreaterThanOrEqual(400);
    const r = await e.write("keys/ec/import_version", {
      ciphertext: wrapForImport(wrappingPem, pkcs8(privateKey)),
    });
    expect(r.error).toBeNull();
    expect((await e.read("keys/ec")).data["latest_version"]).toBe(1);
    const sig = await str(e.write("sign/ec", { input: b64(msg) }), "signature");
    expect(verifyVaultSignature("ecdsa-p256", publicKey, msg, sig)).toBe(true);
    // A different private key without a version becomes version 2.
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
    await e.write("keys/ec/import_version", {
      ciphertext: wrapForImport(wrappingPem, pkcs8(other.privateKey)),
    });
    expect((await e.read("keys/ec")).data["latest_version"]).toBe(2);
  });

  it("ed25519: public key import verifies; derived ed25519 refuses a public key", async () => {
    const e = await engine();
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const pem = publicKey.export({ format: "pem", type: "spki" }).toString();
    expect((await e.write("keys/ed/import", { type: "ed25519", public_key: pem })).error).toBeNull();
    const msg = Buffer.from("ed public");
    const nodeSig = `vault:v1:${sign(null, msg, privateKey).toString("base64")}`;
    expect((await e.write("verify/ed", { input: b64(msg), signature: nodeSig })).data["valid"]).toBe(true);
    const before = e.snapshot();
    const d = await e.write("keys/ded/import", { type: "ed25519", derived: true, public_key: pem });
    expect(d.error).toBe(
      "error importing key: unable to import only public key for derived Ed25519 key: imported key should not be an Ed25519 key pair but is instead an HKDF key",
    );
    expect(e.snapshot()).toEqual(before);
  });
});
