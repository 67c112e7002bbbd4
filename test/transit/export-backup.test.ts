/**
 * export/, backup/ and restore/ against Vault's behaviour (transit
 * path_export.go, path_backup.go, path_restore.go; keysutil Policy.Backup,
 * LockManager.RestorePolicy), checked with independent code: node:crypto
 * decrypts and verifies with exported material, and restore reads blobs
 * written by hand in the shape Go's encoding/json gives keysutil.KeyData.
 */
import {
  constants,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  randomBytes,
  sign,
} from "node:crypto";
import { describe, expect, it } from "vitest";
import { TestEngine, unb64 } from "../helpers/engine.ts";
import {
  b64,
  bigDecimal,
  goEd25519Private,
  goPublicPem,
  goRsaPrivateKeyJson,
  goRsaPublicKeyJson,
  goStr,
  hkdfKey,
  keyFromPem,
  rsaOaepVault,
  type SymType,
  vaultOpen,
  vaultSeal,
  verifyVaultSignature,
} from "./vault-fixtures.ts";

const SYMMETRIC: SymType[] = ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"];
const ECDSA = ["ecdsa-p256", "ecdsa-p384", "ecdsa-p521"] as const;
const RSA = ["rsa-2048", "rsa-3072", "rsa-4096"] as const;
const ALL_TYPES = [...SYMMETRIC, ...ECDSA, "ed25519", ...RSA, "hmac"] as const;

async function exported(
  e: TestEngine,
  kind: string,
  name: string,
  version = "",
): Promise<Record<string, string>> {
  const r = await e.read(`export/${kind}/${name}${version === "" ? "" : `/${version}`}`);
  expect(r.error).toBeNull();
  expect(r.status).toBe(200);
  expect(r.data["name"]).toBe(name);
  return r.data["keys"] as Record<string, string>;
}

async function str(p: Promise<{ data: Record<string, unknown> }>, field: string): Promise<string> {
  return String((await p).data[field]);
}

describe("export: gating and errors as Vault", () => {
  it("refuses private material of a non-exportable key but serves public keys", async () => {
    const e = new TestEngine();
    await e.write("keys/a");
    await e.write("keys/ec", { type: "ecdsa-p256" });
    for (const kind of ["encryption-key", "hmac-key"]) {
      const r = await e.read(`export/${kind}/a`);
      expect(r.status).toBe(400);
      expect(r.error).toBe("private key material is not exportable");
    }
    expect((await e.read("export/signing-key/ec")).error).toBe("private key material is not exportable");
    const pub = await e.read("export/public-key/ec");
    expect(pub.status).toBe(200);
    expect(pub.data["type"]).toBe("ecdsa-p256");
  });

  it("answers Vault's errors for wrong export types, versions and keys", async () => {
    const e = new TestEngine();
    await e.write("keys/a", { exportable: true });
    await e.write("keys/ec", { type: "ecdsa-p256", exportable: true });
    await e.write("keys/a/rotate");
    await e.write("keys/a/rotate");
    await e.write("keys/a/config", { min_decryption_version: 2 });
    const cases: [string, string][] = [
      ["export/bogus/a", "invalid export type: bogus"],
      ["export/encryption-key/ec", "encryption not supported for the key"],
      ["export/signing-key/a", "signing not supported for the key"],
      ["export/certificate-chain/a", "certificate chain not supported for keys that do not support signing"],
      ["export/encryption-key/a/1", "version for export is below minimum decryption version"],
      ["export/encryption-key/a/0", "version for export is below minimum decryption version"],
      ["export/encryption-key/a/-3", "version for export is below minimum decryption version"],
      ["export/encryption-key/a/9", "version does not exist or cannot be found"],
      ["export/encryption-key/a/two", "invalid key version"],
      ["export/encryption-key/a/v", "invalid key version"],
    ];
    const before = e.snapshot();
    for (const [path, error] of cases) {
      const r = await e.read(path);
      expect(r.status, path).toBe(400);
      expect(r.error, path).toBe(error);
    }
    // Vault answers this one with 500 (getExportKey's fallthrough, a plain error): so does the engine.
    const pub = await e.read("export/public-key/a");
    expect(pub.status).toBe(500);
    expect(pub.error).toBe("unknown key type aes256-gcm96 for export type public-key");
    expect((await e.read("export/encryption-key/missing")).status).toBe(404);
    expect(e.snapshot()).toEqual(before);
  });

  it("exports all versions from min_decryption_version, or one named latest / N / vN", async () => {
    const e = new TestEngine();
    await e.write("keys/a", { exportable: true });
    await e.write("keys/a/rotate");
    await e.write("keys/a/rotate");
    expect(Object.keys(await exported(e, "encryption-key", "a")).sort()).toEqual(["1", "2", "3"]);
    await e.write("keys/a/config", { min_decryption_version: 2 });
    const all = await exported(e, "encryption-key", "a");
    expect(Object.keys(all).sort()).toEqual(["2", "3"]);
    expect(await exported(e, "encryption-key", "a", "latest")).toEqual({ "3": all["3"] });
    expect(await exported(e, "encryption-key", "a", "v2")).toEqual({ "2": all["2"] });
    expect(await exported(e, "encryption-key", "a", "2")).toEqual({ "2": all["2"] });
    expect(await exported(e, "encryption-key", "a", "+3")).toEqual({ "3": all["3"] });
  });
});

describe("export: the material works in an independent implementation", () => {
  for (const type of SYMMETRIC) {
    it(`${type}: encryption-key decrypts the engine's ciphertexts and encrypts ones it decrypts`, async () => {
      const e = new TestEngine();
      await e.write("keys/k", { type, exportable: true });
      await e.write("keys/k/rotate");
      const keys = await exported(e, "encryption-key", "k");
      expect(Object.keys(keys).sort()).toEqual(["1", "2"]);
      for (const [v, k] of Object.entries(keys)) {
        const key = unb64(k);
        expect(key.length).toBe(type === "aes128-gcm96" ? 16 : 32);
        const pt = randomBytes(100);
        const aad = Buffer.from("aad");
        const ct = await str(
          e.write("encrypt/k", { plaintext: b64(pt), key_version: Number(v), associated_data: b64(aad) }),
          "ciphertext",
        );
        expect(ct.startsWith(`vault:v${v}:`)).toBe(true);
        expect(vaultOpen(type, key, ct, aad).equals(pt)).toBe(true);
        const mine = vaultSeal(type, key, Number(v), pt);
        expect(unb64(await str(e.write("decrypt/k", { ciphertext: mine }), "plaintext")).equals(pt)).toBe(
          true,
        );
      }
      // The HMAC key every version carries.
      const hk = await exported(e, "hmac-key", "k", "latest");
      const mac = await str(e.write("hmac/k", { input: b64("msg") }), "hmac");
      const expected = createHmac("sha256", unb64(hk["2"])).update("msg").digest("base64");
      expect(mac).toBe(`vault:v2:${expected}`);
    });
  }

  it("derived aes256-gcm96: HKDF-SHA256(exported key, context) decrypts", async () => {
    const e = new TestEngine();
    await e.write("keys/d", { derived: true, exportable: true });
    const key = unb64((await exported(e, "encryption-key", "d"))["1"]);
    const context = Buffer.from("user-42");
    const pt = Buffer.from("derived secret");
    const ct = await str(e.write("encrypt/d", { plaintext: b64(pt), context: b64(context) }), "ciphertext");
    expect(vaultOpen("aes256-gcm96", hkdfKey(key, context, 32), ct).equals(pt)).toBe(true);
  });

  it("hmac: hmac-key is the key hmac/ uses; encryption-key and signing-key are refused", async () => {
    const e = new TestEngine();
    await e.write("keys/h", { type: "hmac", key_size: 48, exportable: true });
    const key = unb64((await exported(e, "hmac-key", "h"))["1"]);
    expect(key.length).toBe(48);
    const mac = await str(e.write("hmac/h/sha2-512", { input: b64("data") }), "hmac");
    expect(mac).toBe(`vault:v1:${createHmac("sha512", key).update("data").digest("base64")}`);
    expect((await e.read("export/encryption-key/h")).error).toBe("encryption not supported for the key");
    expect((await e.read("export/signing-key/h")).error).toBe("signing not supported for the key");
  });

  it("ed25519: signing-key is Go's 64-byte private key, public-key its base64 public half", async () => {
    const e = new TestEngine();
    await e.write("keys/ed", { type: "ed25519", exportable: true });
    const priv = unb64((await exported(e, "signing-key", "ed"))["1"]);
    expect(priv.length).toBe(64);
    const pub = (await exported(e, "public-key", "ed"))["1"];
    expect(pub).toBe(priv.subarray(32).toString("base64"));
    const key = createPrivateKey({
      key: {
        kty: "OKP",
        crv: "Ed25519",
        d: priv.subarray(0, 32).toString("base64url"),
        x: priv.subarray(32).toString("base64url"),
      },
      format: "jwk",
    });
    const msg = Buffer.from("sign me");
    const sig = sign(null, msg, key).toString("base64");
    expect(
      (await e.write("verify/ed", { input: b64(msg), signature: `vault:v1:${sig}` })).data["valid"],
    ).toBe(true);
    const engineSig = await str(e.write("sign/ed", { input: b64(msg) }), "signature");
    expect(verifyVaultSignature("ed25519", createPublicKey(key), msg, engineSig)).toBe(true);
  });

  for (const type of ECDSA) {
    it(`${type}: signing-key is SEC 1 "EC PRIVATE KEY" PEM (trimmed), public-key PKIX PEM (trimmed)`, async () => {
      const e = new TestEngine();
      await e.write("keys/ec", { type, exportable: true });
      const pem = (await exported(e, "signing-key", "ec"))["1"] as string;
      expect(pem.startsWith("-----BEGIN EC PRIVATE KEY-----\n")).toBe(true);
      expect(pem.endsWith("-----END EC PRIVATE KEY-----")).toBe(true);
      const priv = createPrivateKey({ key: pem, format: "pem" });
      const pubPem = (await exported(e, "public-key", "ec"))["1"] as string;
      expect(pubPem.endsWith("-----END PUBLIC KEY-----")).toBe(true);
      expect(pubPem).toBe(goPublicPem(priv).trim());
      const msg = Buffer.from(`ecdsa ${type}`);
      const sig = sign("sha256", msg, priv).toString("base64");
      expect(
        (await e.write("verify/ec", { input: b64(msg), signature: `vault:v1:${sig}` })).data["valid"],
      ).toBe(true);
      const engineSig = await str(e.write("sign/ec", { input: b64(msg) }), "signature");
      expect(verifyVaultSignature(type, keyFromPem(pubPem), msg, engineSig)).toBe(true);
    });
  }

  for (const type of RSA) {
    it(`${type}: encryption-key and signing-key are PKCS #1 PEM, public-key PKIX PEM (newline kept)`, async () => {
      const e = new TestEngine();
      await e.write("keys/r", { type, exportable: true });
      const enc = (await exported(e, "encryption-key", "r"))["1"] as string;
      expect(enc.startsWith("-----BEGIN RSA PRIVATE KEY-----\n")).toBe(true);
      expect(enc.endsWith("-----END RSA PRIVATE KEY-----\n")).toBe(true);
      expect((await exported(e, "signing-key", "r"))["1"]).toBe(enc);
      const priv = createPrivateKey({ key: enc, format: "pem" });
      expect(priv.asymmetricKeyDetails?.modulusLength).toBe(Number(type.slice(4)));
      const pubPem = (await exported(e, "public-key", "r"))["1"] as string;
      expect(pubPem).toBe(goPublicPem(priv));
      const pt = Buffer.from("rsa plaintext");
      const ct = await str(e.write("encrypt/r", { plaintext: b64(pt) }), "ciphertext");
      const raw = Buffer.from(ct.replace("vault:v1:", ""), "base64");
      const dec = privateDecrypt(
        { key: priv, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
        raw,
      );
      expect(dec.equals(pt)).toBe(true);
      const mine = rsaOaepVault(createPublicKey(priv), pt);
      expect(unb64(await str(e.write("decrypt/r", { ciphertext: mine }), "plaintext")).equals(pt)).toBe(true);
      const engineSig = await str(e.write("sign/r", { input: b64(pt) }), "signature");
      expect(verifyVaultSignature(type, keyFromPem(pubPem), pt, engineSig)).toBe(true);
    });
  }
});

describe("backup: gating as Vault", () => {
  it("needs exportable and allow_plaintext_backup, and an existing key", async () => {
    const e = new TestEngine();
    await e.write("keys/plain");
    await e.write("keys/exp", { exportable: true });
    const before = e.snapshot();
    const cases: [string, string][] = [
      ["backup/plain", "exporting is disallowed on the policy"],
      ["backup/exp", "plaintext backup is disallowed on the policy"],
      ["backup/missing", 'key "missing" not found'],
    ];
    for (const [path, error] of cases) {
      const r = await e.read(path);
      // Plain errors from Vault's lock manager and Policy.Backup: 500 there, 500 here (hvac asserts it).
      expect(r.status, path).toBe(500);
      expect(r.error, path).toBe(error);
    }
    expect(e.snapshot()).toEqual(before);
    // allow_plaintext_backup alone is not enough either.
    await e.write("keys/pb", { allow_plaintext_backup: true });
    expect((await e.read("backup/pb")).error).toBe("exporting is disallowed on the policy");
  });

  it("records backup_info on the key before answering", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { exportable: true, allow_plaintext_backup: true });
    await e.write("keys/k/rotate");
    const r = await e.read("backup/k");
    expect(r.status).toBe(200);
    const info = (await e.read("keys/k")).data["backup_info"] as { time: string; version: number };
    expect(info.version).toBe(2);
    expect(Number.isNaN(Date.parse(info.time))).toBe(false);
  });
});

// Vault's newest keysutil struct tags (sdk/helper/keysutil/policy.go, CE build).
const POLICY_FIELDS = [
  "name",
  "key_size",
  "keys",
  "derived",
  "kdf",
  "convergent_encryption",
  "exportable",
  "min_decryption_version",
  "min_encryption_version",
  "latest_version",
  "archive_version",
  "archive_min_version",
  "min_available_version",
  "deletion_allowed",
  "convergent_version",
  "type",
  "backup_info",
  "restore_info",
  "allow_plaintext_backup",
  "version_template",
  "storage_prefix",
  "auto_rotate_period",
  "Imported",
  "AllowImportedKeyRotation",
  "ParameterSet",
  "HybridConfig",
];

function entryFields(type: string): string[] {
  const base = ["key", "hmac_key", "time"];
  if (type.startsWith("ecdsa-")) base.push("ec_x", "ec_y", "ec_d");
  if (type.startsWith("rsa-")) base.push("rsa_key", "rsa_public_key");
  if (type.startsWith("ecdsa-") || type === "ed25519") base.push("public_key");
  base.push("creation_time");
  return base;
}

function decodeBlob(blob: string): { text: string; doc: Record<string, unknown> } {
  const text = Buffer.from(blob, "base64").toString("utf8");
  return { text, doc: JSON.parse(text) as Record<string, unknown> };
}

describe("backup: the blob is keysutil.KeyData as Go's encoding/json writes it", () => {
  for (const type of ALL_TYPES) {
    it(`${type}: exact field sets, Go key order, archive with version 0`, async () => {
      const e = new TestEngine();
      await e.write("keys/k", {
        type,
        exportable: true,
        allow_plaintext_backup: true,
        ...(type === "hmac" ? { key_size: 40 } : {}),
      });
      await e.write("keys/k/rotate");
      const { text, doc } = decodeBlob(await str(e.read("backup/k"), "backup"));
      expect(text.endsWith("}\n")).toBe(true); // jsonutil.EncodeJSON: json.Encoder adds a newline
      expect(Object.keys(doc)).toEqual(["policy", "archived_keys"]);
      const policy = doc["policy"] as Record<string, unknown>;
      const expectedPolicy = type === "hmac" ? POLICY_FIELDS : POLICY_FIELDS.filter((f) => f !== "key_size");
      expect(Object.keys(policy)).toEqual(expectedPolicy);
      expect(policy["HybridConfig"]).toEqual({ PQCKeyType: 0, ECKeyType: 0 });
      expect(policy["latest_version"]).toBe(2);
      expect(policy["archive_version"]).toBe(2);
      expect(policy["min_decryption_version"]).toBe(1);
      expect(policy["convergent_version"]).toBe(-1);
      expect(policy["restore_info"]).toBeNull();
      expect(Object.keys(policy["backup_info"] as object)).toEqual(["time", "version"]);
      const keys = policy["keys"] as Record<string, Record<string, unknown>>;
      expect(Object.keys(keys)).toEqual(["1", "2"]);
      for (const entry of Object.values(keys)) expect(Object.keys(entry)).toEqual(entryFields(type));
      const archive = (doc["archived_keys"] as { keys: Record<string, unknown>[] }).keys;
      expect(archive.length).toBe(3);
      expect(archive[0]).toEqual({
        key: null,
        hmac_key: null,
        time: "0001-01-01T00:00:00Z",
        creation_time: 0,
      });
      expect(archive[1]).toEqual(keys["1"]);
      expect(archive[2]).toEqual(keys["2"]);
      // time.Time as RFC 3339 with a zone; creation_time its Unix seconds.
      const v1 = keys["1"] as Record<string, unknown>;
      expect(String(v1["time"])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      expect(v1["creation_time"]).toBe(Math.floor(Date.parse(String(v1["time"])) / 1000));
      if (type === "hmac") expect(v1["key"]).toBe(v1["hmac_key"]);
    });
  }

  it("RSA keys are Go's rsa.PrivateKey with big.Int JSON numbers that match the exported key", async () => {
    const e = new TestEngine();
    await e.write("keys/r", { type: "rsa-2048", exportable: true, allow_plaintext_backup: true });
    const { text, doc } = decodeBlob(await str(e.read("backup/r"), "backup"));
    const priv = createPrivateKey((await exported(e, "encryption-key", "r"))["1"] as string);
    expect(text).toContain(`"rsa_key":${goRsaPrivateKeyJson(priv)}`);
    expect(text).toContain(`"rsa_public_key":${goRsaPublicKeyJson(priv)}`);
    const entry = (doc["policy"] as { keys: Record<string, Record<string, unknown>> }).keys["1"] ?? {};
    expect(Object.keys(entry["rsa_key"] as object)).toEqual(["N", "E", "D", "Primes", "Precomputed"]);
    expect(Object.keys((entry["rsa_key"] as Record<string, object>)["Precomputed"] ?? {})).toEqual([
      "Dp",
      "Dq",
      "Qinv",
      "CRTValues",
    ]);
  });

  it("ECDSA keys are ec_x/ec_y/ec_d numbers and a PEM public_key", async () => {
    const e = new TestEngine();
    await e.write("keys/ec", { type: "ecdsa-p521", exportable: true, allow_plaintext_backup: true });
    const { text } = decodeBlob(await str(e.read("backup/ec"), "backup"));
    const priv = createPrivateKey((await exported(e, "signing-key", "ec"))["1"] as string);
    const j = priv.export({ format: "jwk" });
    expect(text).toContain(
      `"ec_x":${bigDecimal(j.x)},"ec_y":${bigDecimal(j.y)},"ec_d":${bigDecimal(j.d)},"public_key":${goStr(goPublicPem(priv))}`,
    );
  });

  it("a trimmed key's archive starts at min_available_version", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { exportable: true, allow_plaintext_backup: true });
    for (let i = 0; i < 3; i++) await e.write("keys/k/rotate");
    await e.write("keys/k/config", { min_decryption_version: 3, min_encryption_version: 4 });
    await e.write("keys/k/trim", { min_available_version: 2 });
    const { doc } = decodeBlob(await str(e.read("backup/k"), "backup"));
    const policy = doc["policy"] as Record<string, unknown>;
    expect(Object.keys(policy["keys"] as object)).toEqual(["3", "4"]);
    expect(policy["min_available_version"]).toBe(2);
    expect(policy["archive_min_version"]).toBe(2);
    const archive = (doc["archived_keys"] as { keys: unknown[] }).keys;
    expect(archive.length).toBe(3); // versions 2, 3, 4
    // Restores with version 2 available again once min_decryption_version is lowered.
    const r = await e.write("restore/k2", { backup: await str(e.read("backup/k"), "backup") });
    expect(r.status).toBe(204);
    expect((await e.write("keys/k2/config", { min_decryption_version: 2 })).status).toBeLessThan(300);
    expect(Object.keys(await exported(e, "encryption-key", "k2")).sort()).toEqual(["2", "3", "4"]);
    expect(await exported(e, "encryption-key", "k2")).toEqual(
      await (async () => {
        await e.write("keys/k/config", { min_decryption_version: 2 });
        return exported(e, "encryption-key", "k");
      })(),
    );
  });
});

// ------------------------------------------------------------ hand-written fixtures

const T1 = "2023-11-14T09:15:30.123456789+01:00";
const T2 = "2024-02-29T23:59:59.5Z";
const T3 = "2024-07-01T12:00:00-07:00";
const UNIX = (t: string) => Math.floor(Date.parse(t) / 1000);

function policyJson(o: {
  name: string;
  type: number;
  keys: string;
  latest: number;
  minDecryption?: number;
  derived?: boolean;
  kdf?: number;
  keySize?: number;
  minAvailable?: number;
}): string {
  return (
    `{"name":${goStr(o.name)},` +
    (o.keySize ? `"key_size":${o.keySize},` : "") +
    `"keys":${o.keys},"derived":${o.derived ?? false},"kdf":${o.kdf ?? 0},"convergent_encryption":false,` +
    `"exportable":true,"min_decryption_version":${o.minDecryption ?? 1},"min_encryption_version":0,` +
    `"latest_version":${o.latest},"archive_version":${o.latest},"archive_min_version":${o.minAvailable ?? 0},` +
    `"min_available_version":${o.minAvailable ?? 0},"deletion_allowed":false,"convergent_version":-1,` +
    `"type":${o.type},"backup_info":{"time":"2024-08-01T10:00:00.000000001Z","version":${o.latest}},` +
    `"restore_info":null,"allow_plaintext_backup":true,"version_template":"","storage_prefix":"",` +
    `"auto_rotate_period":0,"Imported":false,"AllowImportedKeyRotation":false,"ParameterSet":"",` +
    `"HybridConfig":{"PQCKeyType":0,"ECKeyType":0}}`
  );
}

const EMPTY_ENTRY = `{"key":null,"hmac_key":null,"time":"0001-01-01T00:00:00Z","creation_time":0}`;

function blob(policy: string, archive: string[]): string {
  return Buffer.from(`{"policy":${policy},"archived_keys":{"keys":[${archive.join(",")}]}}\n`).toString(
    "base64",
  );
}

function symEntry(key: Buffer, hmacKey: Buffer, time: string): string {
  return `{"key":"${b64(key)}","hmac_key":"${b64(hmacKey)}","time":"${time}","creation_time":${UNIX(time)}}`;
}

describe("restore: blobs written the way Vault's Go code writes them", () => {
  it("aes256-gcm96 with three versions, v1 only in the archive: decrypts node:crypto ciphertexts", async () => {
    const keys = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const hmacs = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const times = [T1, T2, T3];
    const entries = keys.map((k, i) => symEntry(k, hmacs[i] as Buffer, times[i] as string));
    const policy = policyJson({
      name: "vault-aes",
      type: 0,
      keys: `{"2":${entries[1]},"3":${entries[2]}}`,
      latest: 3,
      minDecryption: 2,
    });
    const e = new TestEngine();
    const r = await e.write("restore", { backup: blob(policy, [EMPTY_ENTRY, ...entries]) });
    expect(r.error).toBeNull();
    expect(r.status).toBe(204);
    const read = await e.read("keys/vault-aes");
    expect(read.data["latest_version"]).toBe(3);
    expect(read.data["min_decryption_version"]).toBe(2);
    expect(read.data["exportable"]).toBe(true);
    // Creation times keep the instant (converted to UTC) down to the second Vault shows.
    expect((read.data["keys"] as Record<string, number>)["1"]).toBe(UNIX(T1));
    expect((read.data["restore_info"] as { version: number }).version).toBe(3);
    for (const v of [2, 3]) {
      const pt = Buffer.from(`made by node for v${v}`);
      const ct = vaultSeal("aes256-gcm96", keys[v - 1] as Buffer, v, pt, Buffer.from("ad"));
      const dec = await e.write("decrypt/vault-aes", { ciphertext: ct, associated_data: b64("ad") });
      expect(unb64(dec.data["plaintext"]).equals(pt)).toBe(true);
    }
    const old = vaultSeal("aes256-gcm96", keys[0] as Buffer, 1, Buffer.from("v1"));
    expect((await e.write("decrypt/vault-aes", { ciphertext: old })).error).toBe(
      "ciphertext or signature version is disallowed by policy (too old)",
    );
    await e.write("keys/vault-aes/config", { min_decryption_version: 1 });
    expect(
      unb64((await e.write("decrypt/vault-aes", { ciphertext: old })).data["plaintext"]).toString(),
    ).toBe("v1");
    // HMACs use the backup's per-version HMAC key.
    const mac = await str(e.write("hmac/vault-aes", { input: b64("m") }), "hmac");
    expect(mac).toBe(
      `vault:v3:${createHmac("sha256", hmacs[2] as Buffer)
        .update("m")
        .digest("base64")}`,
    );
  });

  it("derived aes128-gcm96 with the legacy counter KDF (kdf 0) and HKDF (kdf 1)", async () => {
    const { counterKdfKey } = await import("./vault-fixtures.ts");
    const e = new TestEngine();
    const key = randomBytes(16);
    for (const kdf of [0, 1]) {
      const name = `derived-${kdf}`;
      const entry = symEntry(key, randomBytes(32), T2);
      const policy = policyJson({ name, type: 8, keys: `{"1":${entry}}`, latest: 1, derived: true, kdf });
      expect((await e.write("restore", { backup: blob(policy, [EMPTY_ENTRY, entry]) })).status).toBe(204);
      const ctx = Buffer.from("tenant-7");
      const dk = kdf === 0 ? counterKdfKey(key, ctx).subarray(0, 16) : hkdfKey(key, ctx, 16);
      const ct = vaultSeal("aes128-gcm96", dk, 1, Buffer.from("derived"));
      const dec = await e.write(`decrypt/${name}`, { ciphertext: ct, context: b64(ctx) });
      expect(dec.error).toBeNull();
      expect(unb64(dec.data["plaintext"]).toString()).toBe("derived");
    }
  });

  it("rsa-2048 with big.Int fields: decrypts node's OAEP ciphertexts, signs for node", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const hmacKey = randomBytes(32);
    const entry =
      `{"key":null,"hmac_key":"${b64(hmacKey)}","time":"${T1}","rsa_key":${goRsaPrivateKeyJson(privateKey)},` +
      `"rsa_public_key":${goRsaPublicKeyJson(privateKey)},"creation_time":${UNIX(T1)}}`;
    const policy = policyJson({ name: "vault-rsa", type: 3, keys: `{"1":${entry}}`, latest: 1 });
    const e = new TestEngine();
    expect((await e.write("restore", { backup: blob(policy, [EMPTY_ENTRY, entry]) })).status).toBe(204);
    const pt = Buffer.from("OAEP from node");
    const ct = rsaOaepVault(createPublicKey(privateKey), pt);
    expect(unb64((await e.write("decrypt/vault-rsa", { ciphertext: ct })).data["plaintext"]).equals(pt)).toBe(
      true,
    );
    const sig = await str(e.write("sign/vault-rsa", { input: b64(pt) }), "signature");
    expect(verifyVaultSignature("rsa-2048", createPublicKey(privateKey), pt, sig)).toBe(true);
    expect((await exported(e, "public-key", "vault-rsa"))["1"]).toBe(goPublicPem(privateKey));
  });

  it("rsa key with only Primes (no Precomputed) and an older entry without rsa_public_key", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const full = goRsaPrivateKeyJson(privateKey);
    const noPre = full.replace(/,"Precomputed":\{.*\}\}$/, "}");
    const entry = `{"key":null,"hmac_key":null,"time":"${T3}","ec_x":null,"ec_y":null,"ec_d":null,"rsa_key":${noPre},"rsa_public_key":null,"public_key":"","convergent_version":0,"creation_time":${UNIX(T3)}}`;
    const policy = policyJson({ name: "old-rsa", type: 3, keys: `{"1":${entry}}`, latest: 1 });
    const e = new TestEngine();
    const r = await e.write("restore", { backup: blob(policy, [EMPTY_ENTRY, entry]) });
    expect(r.error).toBeNull();
    const pt = Buffer.from("old format");
    expect(
      unb64(
        (await e.write("decrypt/old-rsa", { ciphertext: rsaOaepVault(createPublicKey(privateKey), pt) }))
          .data["plaintext"],
      ).equals(pt),
    ).toBe(true);
  });

  it("ecdsa-p256 and p384 with ec_x/ec_y/ec_d: signatures verify with node, node's verify here", async () => {
    for (const [type, id, curve] of [
      ["ecdsa-p256", 1, "P-256"],
      ["ecdsa-p384", 6, "P-384"],
    ] as const) {
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: curve });
      const j = privateKey.export({ format: "jwk" });
      const entry =
        `{"key":null,"hmac_key":"${b64(randomBytes(32))}","time":"${T2}","ec_x":${bigDecimal(j.x)},` +
        `"ec_y":${bigDecimal(j.y)},"ec_d":${bigDecimal(j.d)},"public_key":${goStr(goPublicPem(privateKey))},` +
        `"creation_time":${UNIX(T2)}}`;
      const name = `vault-${type}`;
      const policy = policyJson({ name, type: id, keys: `{"1":${entry}}`, latest: 1 });
      const e = new TestEngine();
      expect((await e.write("restore", { backup: blob(policy, [EMPTY_ENTRY, entry]) })).status).toBe(204);
      const msg = Buffer.from("ecdsa fixture");
      const sig = await str(e.write(`sign/${name}`, { input: b64(msg) }), "signature");
      expect(verifyVaultSignature(type, createPublicKey(privateKey), msg, sig)).toBe(true);
      const nodeSig = `vault:v1:${sign("sha256", msg, privateKey).toString("base64")}`;
      expect((await e.write(`verify/${name}`, { input: b64(msg), signature: nodeSig })).data["valid"]).toBe(
        true,
      );
    }
  });

  it("ed25519 and hmac entries", async () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const goKey = goEd25519Private(privateKey);
    const ed =
      `{"key":"${b64(goKey)}","hmac_key":"${b64(randomBytes(32))}","time":"${T1}",` +
      `"public_key":"${b64(goKey.subarray(32))}","creation_time":${UNIX(T1)}}`;
    const hk = randomBytes(64);
    const hm = `{"key":"${b64(hk)}","hmac_key":"${b64(hk)}","time":"${T1}","creation_time":${UNIX(T1)}}`;
    const e = new TestEngine();
    const edPolicy = policyJson({ name: "vault-ed", type: 2, keys: `{"1":${ed}}`, latest: 1 });
    const hmPolicy = policyJson({
      name: "vault-hmac",
      type: 11,
      keys: `{"1":${hm}}`,
      latest: 1,
      keySize: 64,
    });
    expect((await e.write("restore", { backup: blob(edPolicy, [EMPTY_ENTRY, ed]) })).status).toBe(204);
    expect((await e.write("restore", { backup: blob(hmPolicy, [EMPTY_ENTRY, hm]) })).status).toBe(204);
    const msg = Buffer.from("ed fixture");
    const sig = await str(e.write("sign/vault-ed", { input: b64(msg) }), "signature");
    expect(verifyVaultSignature("ed25519", createPublicKey(privateKey), msg, sig)).toBe(true);
    const mac = await str(e.write("hmac/vault-hmac", { input: b64(msg) }), "hmac");
    expect(mac).toBe(`vault:v1:${createHmac("sha256", hk).update(msg).digest("base64")}`);
    expect((await e.read("keys/vault-hmac")).data["type"]).toBe("hmac");
  });

  it("restore under a new name; refusal without force; force replaces", async () => {
    const key = randomBytes(32);
    const entry = symEntry(key, randomBytes(32), T2);
    const b = blob(policyJson({ name: "orig", type: 0, keys: `{"1":${entry}}`, latest: 1 }), [
      EMPTY_ENTRY,
      entry,
    ]);
    const e = new TestEngine();
    expect((await e.write("restore/renamed", { backup: b })).status).toBe(204);
    expect((await e.read("keys/orig")).status).toBe(404);
    expect((await e.read("keys/renamed")).data["name"]).toBe("renamed");
    const ct = vaultSeal("aes256-gcm96", key, 1, Buffer.from("x"));
    expect(unb64((await e.write("decrypt/renamed", { ciphertext: ct })).data["plaintext"]).toString()).toBe(
      "x",
    );

    await e.write("keys/taken");
    const before = e.snapshot();
    const refused = await e.write("restore/taken", { backup: b });
    // Vault: 500 with this text (plain error from RestorePolicy); hvac's suite asserts the 500.
    expect(refused.status).toBe(500);
    expect(refused.error).toBe('key "taken" already exists');
    expect(e.snapshot()).toEqual(before);
    expect((await e.write("decrypt/taken", { ciphertext: ct })).status).toBe(400);
    const forced = await e.write("restore/taken", { backup: b, force: true });
    expect(forced.status).toBe(204);
    expect(unb64((await e.write("decrypt/taken", { ciphertext: ct })).data["plaintext"]).toString()).toBe(
      "x",
    );
    // The backup's own name when none is given.
    expect((await e.write("restore", { backup: b })).status).toBe(204);
    expect((await e.read("keys/orig")).status).toBe(200);
  });

  it("garbage and inconsistent blobs: 500 as Vault's plain errors (400 for a missing backup), nothing stored", async () => {
    const e = new TestEngine();
    await e.write("keys/existing");
    const good = symEntry(randomBytes(32), randomBytes(32), T1);
    const short = symEntry(randomBytes(31), randomBytes(32), T1);
    const cases: [Record<string, unknown>, string | RegExp][] = [
      [{}, "'backup' must be supplied"],
      [{ backup: "" }, "'backup' must be supplied"],
      [{ backup: "!!!not base64" }, /^invalid backup/],
      [{ backup: b64("not json") }, /^invalid backup/],
      [{ backup: b64("{}") }, /^invalid backup/],
      [{ backup: b64('{"policy":null}') }, /^invalid backup/],
      [
        { backup: b64(`{"policy":${policyJson({ name: "g", type: 99, keys: "{}", latest: 1 })}}`) },
        /^invalid backup/,
      ],
      [{ backup: blob(policyJson({ name: "g", type: 0, keys: "{}", latest: 1 }), []) }, /^invalid backup/],
      [
        { backup: blob(policyJson({ name: "g", type: 0, keys: `{"1":${short}}`, latest: 1 }), []) },
        /^invalid backup/,
      ],
      [
        { backup: blob(policyJson({ name: "g", type: 3, keys: `{"1":${good}}`, latest: 1 }), []) },
        /^invalid backup/,
      ],
      [
        { backup: blob(policyJson({ name: "a/b", type: 0, keys: `{"1":${good}}`, latest: 1 }), []) },
        "key names cannot be paths",
      ],
      [
        {
          backup: b64(
            `{"policy":${policyJson({ name: "g", type: 0, keys: `{"1":${good}}`, latest: 1 })}`.slice(0, -2),
          ),
        },
        /^invalid backup/,
      ],
      [
        {
          backup: b64(
            `{"policy":${policyJson({ name: "g", type: 0, keys: `{"1":${good}}`, latest: 1 })}} trailing`,
          ),
        },
        /^invalid backup/,
      ],
    ];
    const before = e.snapshot();
    for (const [data, error] of cases) {
      const r = await e.write("restore", data);
      const status = error === "'backup' must be supplied" ? 400 : 500;
      expect(r.status, JSON.stringify(data).slice(0, 80)).toBe(status);
      if (typeof error === "string") expect(r.error).toBe(error);
      else expect(r.error).toMatch(error);
    }
    // The name comes from the URL (a body "name" is overwritten by the empty capture, as in Vault's framework).
    const named = await e.write("restore/x/y", {
      backup: blob(policyJson({ name: "g", type: 0, keys: `{"1":${good}}`, latest: 1 }), []),
    });
    expect(named.status).toBe(500);
    expect(named.error).toBe("key names cannot be paths");
    expect(e.snapshot()).toEqual(before);
    // A tampered RSA key (primes do not multiply to N) is refused too.
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const bad = goRsaPrivateKeyJson(privateKey).replace(
      /"Primes":\[(\d+)/,
      (_m, p: string) => `"Primes":[${BigInt(p) + 2n}`,
    );
    const entry = `{"key":null,"hmac_key":null,"time":"${T1}","rsa_key":${bad},"creation_time":0}`;
    const r = await e.write("restore", {
      backup: blob(policyJson({ name: "g", type: 3, keys: `{"1":${entry}}`, latest: 1 }), []),
    });
    expect(r.status).toBe(500);
    expect(e.snapshot()).toEqual(before);
  });
});

describe("backup then restore: derivation, convergence, public-only keys", () => {
  it("convergent derived keys give the same ciphertexts after restore", async () => {
    const e = new TestEngine();
    for (const type of ["aes256-gcm96", "chacha20-poly1305"]) {
      await e.write(`keys/c-${type}`, {
        type,
        derived: true,
        convergent_encryption: true,
        exportable: true,
        allow_plaintext_backup: true,
      });
      const body = { plaintext: b64("same"), context: b64("ctx") };
      const before = await str(e.write(`encrypt/c-${type}`, body), "ciphertext");
      const backup = await str(e.read(`backup/c-${type}`), "backup");
      const policy = decodeBlob(backup).doc["policy"] as Record<string, unknown>;
      expect(policy["convergent_encryption"]).toBe(true);
      expect(policy["kdf"]).toBe(1);
      expect(policy["convergent_version"]).toBe(3);
      expect((await e.write(`restore/r-${type}`, { backup })).status).toBe(204);
      expect(await str(e.write(`encrypt/r-${type}`, body), "ciphertext")).toBe(before);
      const dec = await e.write(`decrypt/r-${type}`, { ciphertext: before, context: b64("ctx") });
      expect(unb64(dec.data["plaintext"]).toString()).toBe("same");
    }
  });

  it("derived ed25519 signs the same after restore", async () => {
    const e = new TestEngine();
    await e.write("keys/ed", {
      type: "ed25519",
      derived: true,
      exportable: true,
      allow_plaintext_backup: true,
    });
    const body = { input: b64("m"), context: b64("ctx") };
    const sig = await str(e.write("sign/ed", body), "signature");
    expect((await e.write("restore/ed2", { backup: await str(e.read("backup/ed"), "backup") })).status).toBe(
      204,
    );
    expect(await str(e.write("sign/ed2", body), "signature")).toBe(sig);
  });

  it("a public-key-only RSA import backs up without a private key and restores", async () => {
    const e = new TestEngine();
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = publicKey.export({ format: "pem", type: "spki" }).toString();
    await e.write("keys/pub/import", {
      type: "rsa-2048",
      public_key: pem,
      exportable: true,
      allow_plaintext_backup: true,
    });
    const backup = await str(e.read("backup/pub"), "backup");
    const { doc } = decodeBlob(backup);
    const entry = (doc["policy"] as { keys: Record<string, Record<string, unknown>> }).keys["1"] ?? {};
    expect(Object.keys(entry)).toEqual(["key", "hmac_key", "time", "rsa_public_key", "creation_time"]);
    expect((doc["policy"] as Record<string, unknown>)["Imported"]).toBe(true);
    expect((await e.write("restore/pub2", { backup })).status).toBe(204);
    expect((await e.read("keys/pub2")).data["imported_key"]).toBe(true);
    const ct = await str(e.write("encrypt/pub2", { plaintext: b64("to the holder") }), "ciphertext");
    const raw = Buffer.from(ct.replace("vault:v1:", ""), "base64");
    const pt = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      raw,
    );
    expect(pt.toString()).toBe("to the holder");
    expect((await e.read("export/public-key/pub2")).data["keys"]).toEqual({ "1": pem });
    expect((await e.read("export/encryption-key/pub2")).data["keys"]).toEqual({ "1": "" });
  });
});

describe("backup then restore, every type", () => {
  for (const type of ALL_TYPES) {
    it(`${type}: restored under a new name, old ciphertexts/signatures/MACs still work`, async () => {
      const e = new TestEngine();
      await e.write("keys/src", { type, exportable: true, allow_plaintext_backup: true });
      await e.write("keys/src/rotate");
      const msg = Buffer.from(`round trip ${type}`);
      let produced = "";
      if ((SYMMETRIC as string[]).includes(type) || type.startsWith("rsa-")) {
        produced = await str(e.write("encrypt/src", { plaintext: b64(msg) }), "ciphertext");
      } else if (type === "hmac") {
        produced = await str(e.write("hmac/src", { input: b64(msg) }), "hmac");
      } else {
        produced = await str(e.write("sign/src", { input: b64(msg) }), "signature");
      }
      const backup = await str(e.read("backup/src"), "backup");
      const r = await e.write("restore/dst", { backup });
      expect(r.error).toBeNull();
      if ((SYMMETRIC as string[]).includes(type) || type.startsWith("rsa-")) {
        expect(
          unb64((await e.write("decrypt/dst", { ciphertext: produced })).data["plaintext"]).equals(msg),
        ).toBe(true);
      } else if (type === "hmac") {
        expect((await e.write("verify/dst", { input: b64(msg), hmac: produced })).data["valid"]).toBe(true);
      } else {
        expect((await e.write("verify/dst", { input: b64(msg), signature: produced })).data["valid"]).toBe(
          true,
        );
      }
      const kinds = ["hmac-key"];
      if ((SYMMETRIC as string[]).includes(type) || type.startsWith("rsa-")) kinds.push("encryption-key");
      if (type !== "hmac" && !(SYMMETRIC as string[]).includes(type)) kinds.push("signing-key", "public-key");
      for (const kind of kinds) {
        expect(await exported(e, kind, "dst")).toEqual(await exported(e, kind, "src"));
      }
      const src = (await e.read("keys/src")).data;
      const dst = (await e.read("keys/dst")).data;
      expect(dst["keys"]).toEqual(src["keys"]);
      expect(dst["latest_version"]).toBe(2);
      expect(dst["type"]).toBe(type);
      // A backup of the restored key restores again (our blob reads back as the same shape).
      const again = await str(e.read("backup/dst"), "backup");
      expect(Object.keys(decodeBlob(again).doc["policy"] as object)).toEqual(
        Object.keys(decodeBlob(backup).doc["policy"] as object),
      );
    });
  }
});
