/**
 * Behaviours matched to Vault CE's transit (builtin/logical/transit, newest
 * release read side by side): statuses and texts of batch items, rewrap,
 * datakey, padding and OAEP hash parsing, config/keys, random's limits and
 * the Enterprise-only refusals. Each case failed on the engine before it was
 * matched.
 */
import { constants, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTransitBackend } from "../../src/transit/backend.ts";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";

type Item = Record<string, unknown>;
const results = (data: Record<string, unknown>): Item[] => data["batch_results"] as Item[];

async function rsaPrivate(e: TestEngine, name = "r") {
  await e.write(`keys/${name}`, { type: "rsa-2048", exportable: true });
  const pem = String(
    ((await e.read(`export/encryption-key/${name}/1`)).data["keys"] as Record<string, string>)["1"],
  );
  return createPrivateKey(pem);
}

describe("rewrap with batch_input", () => {
  it("answers 200 with per-item errors whatever fails (path_rewrap.go has no batch status)", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    const good = String((await e.write("encrypt/k", { plaintext: b64("x") })).data["ciphertext"]);
    const out = await e.write("rewrap/k", {
      batch_input: [
        { ciphertext: good, reference: "ok" },
        { ciphertext: "vault:v1:AAAA", reference: "short" },
        { ciphertext: "", reference: "empty" },
        { ciphertext: good, nonce: b64("123456789012"), reference: "nonce" },
        { ciphertext: good, decrypt_padding_scheme: "oaep", reference: "padding" },
      ],
    });
    expect(out.status).toBe(200);
    const r = results(out.data);
    expect(String(r[0]?.["ciphertext"])).toMatch(/^vault:v1:/);
    expect(r[1]).toEqual({ error: "invalid ciphertext length", reference: "short" });
    expect(r[2]).toEqual({ error: "missing ciphertext to decrypt", reference: "empty" });
    expect(r[3]).toEqual({ error: "provided nonce not allowed for this key", reference: "nonce" });
    expect(r[4]).toEqual({
      error: "'[4].decrypt_padding_scheme' invalid: unsupported key type aes256-gcm96 for padding scheme",
      reference: "padding",
    });
    // Every item failing is still a 200.
    const allBad = await e.write("rewrap/k", { batch_input: [{ ciphertext: "vault:v1:AAAA" }] });
    expect(allBad.status).toBe(200);
    expect(results(allBad.data)[0]?.["error"]).toBe("invalid ciphertext length");
  });

  it("single rewrap: an item's failure is a 400 with its text, a refused nonce included", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    const good = String((await e.write("encrypt/k", { plaintext: b64("x") })).data["ciphertext"]);
    const nonce = await e.write("rewrap/k", { ciphertext: good, nonce: b64("123456789012") });
    expect([nonce.status, nonce.error]).toEqual([400, "provided nonce not allowed for this key"]);
  });

  it("batch items carry their own decrypt_padding_scheme / encrypt_padding_scheme, labelled as Vault's", async () => {
    const e = new TestEngine();
    const key = await rsaPrivate(e);
    const pub = createPublicKey(key);
    const pkcs1 = `vault:v1:${publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, Buffer.from("p1")).toString("base64")}`;
    const out = await e.write("rewrap/r", {
      // Top-level schemes are ignored for batch items, as Vault ignores them.
      decrypt_padding_scheme: "oaep",
      batch_input: [
        { ciphertext: pkcs1, decrypt_padding_scheme: "pkcs1v15", encrypt_padding_scheme: "oaep" },
        { ciphertext: pkcs1, decrypt_padding_scheme: "pss" },
        { ciphertext: pkcs1, decrypt_padding_scheme: "pkcs1v15", encrypt_padding_scheme: "x" },
      ],
    });
    expect(out.status).toBe(200);
    const r = results(out.data);
    const rewrapped = Buffer.from(String(r[0]?.["ciphertext"]).slice("vault:v1:".length), "base64");
    expect(
      privateDecrypt(
        { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
        rewrapped,
      ).toString(),
    ).toBe("p1");
    expect(r[1]?.["error"]).toBe("'[1].decrypt_padding_scheme' invalid: unknown padding scheme: pss");
    expect(r[2]?.["error"]).toBe("'[2].encrypt_padding_scheme' invalid: unknown padding scheme: x");
  });
});

describe("encrypt/decrypt batch items with a bad padding_scheme or associated_data", () => {
  it("records the item's error without failing the batch", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    await rsaPrivate(e);
    const enc = await e.write("encrypt/k", {
      batch_input: [
        { plaintext: b64("a") },
        { plaintext: b64("b"), padding_scheme: "oaep" },
        { plaintext: b64("c"), padding_scheme: "nope" },
      ],
    });
    expect(enc.status).toBe(200);
    const r = results(enc.data);
    expect(String(r[0]?.["ciphertext"])).toMatch(/^vault:v1:/);
    expect(r[1]?.["error"]).toBe(
      "'[1].padding_scheme' invalid: unsupported key type aes256-gcm96 for padding scheme",
    );
    expect(r[2]?.["error"]).toBe("'[2].padding_scheme' invalid: unknown padding scheme: nope");
    // An RSA key takes no associated data: the item's error, the batch still 200.
    const rsa = await e.write("encrypt/r", {
      batch_input: [{ plaintext: b64("a") }, { plaintext: b64("b"), associated_data: b64("ad") }],
    });
    expect(rsa.status).toBe(200);
    expect(results(rsa.data)[1]?.["error"]).toBe(
      "'[1].associated_data' provided for non-AEAD cipher suite rsa-2048",
    );
    // Even when it is the only item.
    const only = await e.write("decrypt/k", {
      batch_input: [{ ciphertext: String(r[0]?.["ciphertext"]), padding_scheme: "oaep" }],
    });
    expect(only.status).toBe(200);
    expect(results(only.data)[0]?.["error"]).toMatch(
      /^'\[0\]\.padding_scheme' invalid: unsupported key type/,
    );
    // A real item failure still makes the batch a 400.
    const bad = await e.write("decrypt/k", { batch_input: [{ ciphertext: "vault:v1:AAAA" }] });
    expect(bad.status).toBe(400);
  });

  it("single requests answer the same texts with 400", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    const r = await e.write("encrypt/k", { plaintext: b64("a"), padding_scheme: "pss" });
    expect([r.status, r.error]).toEqual([400, "'[0].padding_scheme' invalid: unknown padding scheme: pss"]);
  });
});

describe("RSA OAEP hash_algorithm", () => {
  const hashes: [string, string][] = [
    ["sha1", "sha1"],
    ["sha2-224", "sha224"],
    ["sha2-256", "sha256"],
    ["sha2-384", "sha384"],
    ["sha2-512", "sha512"],
  ];
  for (const [vaultName, nodeName] of hashes) {
    it(`${vaultName}: encrypt answers what OpenSSL's OAEP-${nodeName} opens, decrypt opens OpenSSL's`, async () => {
      const e = new TestEngine();
      const key = await rsaPrivate(e);
      const enc = await e.write("encrypt/r", { plaintext: b64("hello"), hash_algorithm: vaultName });
      expect(enc.error).toBeNull();
      const ct = Buffer.from(String(enc.data["ciphertext"]).slice("vault:v1:".length), "base64");
      const opened = privateDecrypt(
        { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: nodeName },
        ct,
      );
      expect(opened.toString()).toBe("hello");
      const theirs = publicEncrypt(
        { key: createPublicKey(key), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: nodeName },
        Buffer.from("back"),
      );
      const dec = await e.write("decrypt/r", {
        ciphertext: `vault:v1:${theirs.toString("base64")}`,
        hash_algorithm: vaultName,
      });
      expect(unb64(dec.data["plaintext"]).toString()).toBe("back");
    });
  }

  it("defaults to SHA-256 (and 'none' keeps it); refuses unknown names and non-RSA keys with Vault's texts", async () => {
    const e = new TestEngine();
    const key = await rsaPrivate(e);
    await e.write("keys/k");
    for (const body of [{}, { hash_algorithm: "none" }]) {
      const enc = await e.write("encrypt/r", { plaintext: b64("d"), ...body });
      const ct = Buffer.from(String(enc.data["ciphertext"]).slice("vault:v1:".length), "base64");
      expect(
        privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, ct).toString(),
      ).toBe("d");
    }
    const unknown = await e.write("encrypt/r", { plaintext: b64("d"), hash_algorithm: "md5" });
    expect([unknown.status, unknown.error]).toEqual([
      400,
      "'[0].hash_algorithm' invalid: unknown hash algorithm",
    ]);
    const aes = await e.write("encrypt/k", { plaintext: b64("d"), hash_algorithm: "sha1" });
    expect(aes.error).toBe(
      "'[0].hash_algorithm' invalid: unsupported key type aes256-gcm96 for hash algorithm",
    );
  });
});

describe("datakey", () => {
  it("validates context, nonce and bits before the path's mode and the key", async () => {
    const e = new TestEngine();
    const bits = await e.write("datakey/plaintext/missing", { bits: 100 });
    expect([bits.status, bits.error]).toEqual([400, "invalid bit length"]);
    expect((await e.write("datakey/other/missing", { bits: 100 })).error).toBe("invalid bit length");
    expect((await e.write("datakey/other/missing", { context: "%%" })).error).toBe(
      "failed to base64-decode context",
    );
    expect((await e.write("datakey/wrapped/missing", { nonce: "%%" })).error).toBe(
      "failed to base64-decode nonce",
    );
    expect((await e.write("datakey/other/missing")).error).toBe(
      "Invalid path, must be 'plaintext' or 'wrapped'",
    );
    expect((await e.write("datakey/wrapped/missing")).error).toBe("encryption key not found");
  });

  it("padding texts as Vault's; a nonce the key does not take is Vault's plain error (500)", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    const unknown = await e.write("datakey/wrapped/k", { padding_scheme: "pss" });
    expect([unknown.status, unknown.error]).toEqual([
      400,
      "padding_scheme argument invalid: unknown padding scheme: pss",
    ]);
    const aes = await e.write("datakey/wrapped/k", { padding_scheme: "oaep" });
    expect(aes.error).toBe(
      "padding_scheme argument invalid: unsupported key type aes256-gcm96 for padding scheme",
    );
    const nonce = await e.write("datakey/wrapped/k", { nonce: b64("123456789012") });
    expect([nonce.status, nonce.error]).toEqual([500, "provided nonce not allowed for this key"]);
  });
});

describe("config/keys", () => {
  it("a write without disable_upsert resets it to false", async () => {
    const e = new TestEngine();
    expect((await e.write("config/keys", { disable_upsert: true })).data).toEqual({ disable_upsert: true });
    expect((await e.write("config/keys", {})).data).toEqual({ disable_upsert: false });
    expect((await e.read("config/keys")).data).toEqual({ disable_upsert: false });
    expect((await e.post("encrypt/new", { plaintext: b64("x") })).status).toBe(200);
  });
});

describe("random", () => {
  it("platform gives up to 10 MiB; seal and all keep 128 KiB unless drbg is set; Vault's texts", async () => {
    const e = new TestEngine();
    const big = await e.write("random", { bytes: 200 * 1024, format: "hex" });
    expect(String(big.data["random_bytes"]).length).toBe(400 * 1024);
    expect((await e.write("random", { bytes: 10 * 1024 * 1024 + 1 })).error).toBe(
      '"bytes" must be less than 10485760',
    );
    for (const source of ["seal", "all"]) {
      const capped = await e.write(`random/${source}`, { bytes: 128 * 1024 + 1 });
      expect([capped.status, capped.error]).toEqual([
        400,
        "bytes cannot be more than 131072 if sourced from seal.  Use drbg mode instead",
      ]);
      const drbg = await e.write(`random/${source}`, {
        bytes: 128 * 1024 + 1,
        drbg: "hmacdrbg",
        format: "hex",
      });
      expect(drbg.error).toBeNull();
      expect(String(drbg.data["random_bytes"]).length).toBe(2 * (128 * 1024 + 1));
    }
    expect((await e.write("random", { drbg: "ctr" })).error).toBe(
      "invalid setting for drbg, must absent, auto, or hmacdrbg",
    );
    expect((await e.write("random", { bytes: 0 })).error).toBe('"bytes" cannot be less than 1');
  });
});

describe("Enterprise-only inputs refused with Vault CE's texts", () => {
  // The Enterprise types are served (test/transit/enterprise/); their bad configurations keep Vault's texts.
  it("CMAC and PQC key types: bad configurations answer Vault Enterprise's 400 texts; verify with cmac on a non-CMAC key", async () => {
    const e = new TestEngine();
    const cases: [string, Record<string, unknown>, string][] = [
      ["keys/c", { type: "aes128-cmac", key_size: 32 }, "key_size is not valid for algorithm aes128-cmac"],
      ["keys/p", { type: "ml-dsa" }, "invalid parameter set  for key type ml-dsa"],
      [
        "keys/p",
        { type: "hybrid", parameter_set: "44", hybrid_key_type_pqc: "ml-dsa", hybrid_key_type_ec: "x25519" },
        "invalid config for hybrid key: invalid key type for hybrid key: x25519",
      ],
      ["keys/p", { type: "hybrid" }, "invalid config for hybrid key: invalid PQC key type: "],
    ];
    const before = e.snapshot();
    for (const [path, body, error] of cases) {
      const r = await e.write(path, body);
      expect([path, r.status, r.error]).toEqual([path, 400, error]);
    }
    expect(e.snapshot()).toEqual(before);
    await e.write("keys/k");
    const verify = await e.write("verify/k", { input: b64("x"), cmac: "vault:v1:AAAA" });
    expect([verify.status, verify.error]).toEqual([
      400,
      "key k is not a supported CMAC key type: aes256-gcm96",
    ]);
  });
});

describe("cache-config", () => {
  it("read answers Vault's plain error (500) when the host disables caching; writes still work", async () => {
    const e = new TestEngine(createTransitBackend({ cachingDisabled: async () => true }));
    const read = await e.read("cache-config");
    expect([read.status, read.error]).toEqual([500, "caching is disabled for this transit mount"]);
    expect((await e.write("cache-config", { size: 20 })).data).toEqual({ size: 20 });
    const enabled = new TestEngine(createTransitBackend({ cachingDisabled: async () => false }));
    expect((await enabled.read("cache-config")).data).toEqual({ size: 0 });
  });

  it("an invalidation of Vault's cache-config/ key drops the cached keys", async () => {
    const a = new TestEngine();
    const b = new TestEngine();
    (b as { storage: TestEngine["storage"] }).storage = a.storage;
    await a.write("keys/k");
    expect((await a.read("keys/k")).data["latest_version"]).toBe(1);
    await b.write("keys/k/rotate");
    expect((await a.read("keys/k")).data["latest_version"]).toBe(1);
    a.backend.invalidateKey("cache-config/");
    expect((await a.read("keys/k")).data["latest_version"]).toBe(2);
  });
});

describe("managed_key on Vault CE", () => {
  it("key_size first, then GetManagedKeyUUID's plain error: 500 with Vault CE's text", async () => {
    const e = new TestEngine();
    const sized = await e.write("keys/mk", { type: "managed_key", key_size: 32 });
    expect([sized.status, sized.error]).toEqual([400, "key_size is not valid for algorithm managed_key"]);
    const r = await e.write("keys/mk", { type: "managed_key" });
    expect([r.status, r.error]).toEqual([500, "managed keys are supported within enterprise edition only"]);
    expect((await e.read("keys/mk")).status).toBe(404);
  });
});
