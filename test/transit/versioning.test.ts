import { describe, expect, it } from "vitest";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";

async function engineWithVersions(n: number): Promise<{ e: TestEngine; cts: string[] }> {
  const e = new TestEngine();
  await e.write("keys/k");
  const cts: string[] = [];
  for (let v = 1; v <= n; v++) {
    if (v > 1) await e.write("keys/k/rotate");
    cts.push(String((await e.write("encrypt/k", { plaintext: b64(`v${v}`) })).data["ciphertext"]));
  }
  return { e, cts };
}

describe("rotation and rewrap", () => {
  it("after rotations every older ciphertext still decrypts and new ones use the latest version", async () => {
    const { e, cts } = await engineWithVersions(4);
    expect(cts.map((c) => c.slice(0, 9))).toEqual(["vault:v1:", "vault:v2:", "vault:v3:", "vault:v4:"]);
    for (const [i, ct] of cts.entries()) {
      expect(unb64((await e.write("decrypt/k", { ciphertext: ct })).data["plaintext"]).toString()).toBe(
        `v${i + 1}`,
      );
    }
    const key = await e.read("keys/k");
    expect(key.data["latest_version"]).toBe(4);
    expect(Object.keys(key.data["keys"] as object)).toEqual(["1", "2", "3", "4"]);
  });

  it("rotation is in storage before it is acknowledged", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    await e.write("keys/k/rotate");
    const fresh = new TestEngine();
    for (const [k, v] of e.storage.entries) fresh.storage.entries.set(k, v);
    expect((await fresh.read("keys/k")).data["latest_version"]).toBe(2);
  });

  it("rewrap moves a ciphertext to the latest version without changing the plaintext", async () => {
    const { e, cts } = await engineWithVersions(3);
    const out = await e.write("rewrap/k", { ciphertext: cts[0] });
    expect(out.data["key_version"]).toBe(3);
    expect(String(out.data["ciphertext"]).startsWith("vault:v3:")).toBe(true);
    expect(
      unb64(
        (await e.write("decrypt/k", { ciphertext: out.data["ciphertext"] })).data["plaintext"],
      ).toString(),
    ).toBe("v1");
    const pinned = await e.write("rewrap/k", { ciphertext: cts[0], key_version: 2 });
    expect(String(pinned.data["ciphertext"]).startsWith("vault:v2:")).toBe(true);
  });

  it("encrypt honours key_version and min_encryption_version", async () => {
    const { e } = await engineWithVersions(3);
    expect(
      String((await e.write("encrypt/k", { plaintext: b64("x"), key_version: 2 })).data["ciphertext"]),
    ).toMatch(/^vault:v2:/);
    expect((await e.write("encrypt/k", { plaintext: b64("x"), key_version: 4 })).error).toBe(
      "requested version for encryption is higher than the latest key version",
    );
    expect((await e.write("encrypt/k", { plaintext: b64("x"), key_version: -1 })).error).toBe(
      "requested version for encryption is negative",
    );
    await e.write("keys/k/config", { min_encryption_version: 3 });
    const old = await e.write("encrypt/k", { plaintext: b64("x"), key_version: 2 });
    expect(old.status).toBe(400);
    expect(old.error).toBe(
      "requested version for encryption is less than the minimum encryption key version",
    );
  });
});

describe("min_decryption_version", () => {
  it("refuses older versions with 400 and accepts them again when lowered", async () => {
    const { e, cts } = await engineWithVersions(3);
    const cfg = await e.write("keys/k/config", { min_decryption_version: 2 });
    expect(cfg.data["min_decryption_version"]).toBe(2);
    const refused = await e.write("decrypt/k", { ciphertext: cts[0] });
    expect(refused.status).toBe(400);
    expect(refused.error).toBe("ciphertext or signature version is disallowed by policy (too old)");
    expect((await e.write("decrypt/k", { ciphertext: cts[1] })).status).toBe(200);
    await e.write("keys/k/config", { min_decryption_version: 1 });
    expect((await e.write("decrypt/k", { ciphertext: cts[0] })).status).toBe(200);
  });

  it("cannot exceed the latest version; 0 is forced to 1 with a warning", async () => {
    const { e } = await engineWithVersions(2);
    const over = await e.write("keys/k/config", { min_decryption_version: 3 });
    expect(over.status).toBe(400);
    expect(over.error).toBe("cannot set min decryption version of 3, latest key version is 2");
    const zero = await e.write("keys/k/config", { min_decryption_version: 0 });
    expect(zero.status).toBe(200);
    expect(zero.warnings[0]).toMatch(/forcing minimum to 1/);
  });

  it("a ciphertext from the future is refused", async () => {
    const { e, cts } = await engineWithVersions(1);
    const future = String(cts[0]).replace("vault:v1:", "vault:v9:");
    expect((await e.write("decrypt/k", { ciphertext: future })).error).toBe(
      "invalid ciphertext: version is too new",
    );
  });
});

describe("trim", () => {
  it("deletes versions below min_available_version for good", async () => {
    const { e, cts } = await engineWithVersions(4);
    await e.write("keys/k/config", { min_decryption_version: 3, min_encryption_version: 4 });
    const out = await e.write("keys/k/trim", { min_available_version: 3 });
    expect(out.status).toBe(200);
    expect(out.data["min_available_version"]).toBe(3);
    expect(Object.keys(out.data["keys"] as object)).toEqual(["3", "4"]);
    // Lowering min_decryption_version cannot bring trimmed versions back.
    const lower = await e.write("keys/k/config", { min_decryption_version: 1 });
    expect(lower.status).toBe(400);
    expect(lower.error).toBe("min decryption version should not be less then min available version");
    expect((await e.write("decrypt/k", { ciphertext: cts[0] })).status).toBe(400);
    expect((await e.write("decrypt/k", { ciphertext: cts[2] })).status).toBe(200);
    const stored = e.storage.entries.get("policy/k");
    expect(stored).toBeDefined();
  });

  it("refuses to trim above min_decryption_version or min_encryption_version", async () => {
    const { e } = await engineWithVersions(4);
    const unset = await e.write("keys/k/trim", { min_available_version: 2 });
    expect(unset.error).toBe(
      "minimum available version cannot be set when minimum encryption version is not set",
    );
    await e.write("keys/k/config", { min_decryption_version: 2, min_encryption_version: 3 });
    const before = e.snapshot();
    expect((await e.write("keys/k/trim", { min_available_version: 3 })).error).toBe(
      "minimum available version cannot be greater than minimum decryption version",
    );
    await e
      .write("keys/k/config", { min_decryption_version: 4, min_encryption_version: 3 })
      .then((r) => expect(r.status).toBe(400));
    expect((await e.write("keys/k/trim", { min_available_version: 0 })).error).toBe(
      "minimum available version should be positive",
    );
    expect((await e.write("keys/k/trim", {})).error).toBe("missing min_available_version");
    expect(e.snapshot()).toEqual(before);
  });
});

describe("deletion", () => {
  it("is refused unless deletion_allowed, then removes the key", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    const refused = await e.request("delete", "keys/k");
    expect(refused.status).toBe(400);
    expect(refused.error).toBe("error deleting policy k: deletion is not allowed for this key");
    expect((await e.read("keys/k")).status).toBe(200);
    await e.write("keys/k/config", { deletion_allowed: true });
    expect((await e.request("delete", "keys/k")).status).toBe(204);
    expect((await e.read("keys/k")).status).toBe(404);
    expect(e.storage.entries.has("policy/k")).toBe(false);
    expect((await e.write("encrypt/k", { plaintext: b64("x") })).error).toBe("encryption key not found");
  });
});

describe("keys", () => {
  it("lists names, creates idempotently with a warning, and reads Vault's fields", async () => {
    const e = new TestEngine();
    expect((await e.request("list", "keys")).status).toBe(404);
    await e.write("keys/b", { type: "chacha20-poly1305" });
    await e.write("keys/a", { type: "aes128-gcm96", exportable: true, allow_plaintext_backup: true });
    const again = await e.write("keys/a");
    expect(again.warnings).toEqual(["key a already existed"]);
    expect((await e.request("list", "keys")).data["keys"]).toEqual(["a", "b"]);
    const a = (await e.read("keys/a")).data;
    expect(a).toMatchObject({
      name: "a",
      type: "aes128-gcm96",
      derived: false,
      exportable: true,
      allow_plaintext_backup: true,
      deletion_allowed: false,
      latest_version: 1,
      min_decryption_version: 1,
      min_encryption_version: 0,
      min_available_version: 0,
      supports_encryption: true,
      supports_decryption: true,
      supports_derivation: true,
      supports_signing: false,
      auto_rotate_period: 0,
      imported_key: false,
    });
    expect(typeof (a["keys"] as Record<string, unknown>)["1"]).toBe("number");
  });

  it("derived keys show their kdf and convergent settings", async () => {
    const e = new TestEngine();
    const d = (await e.write("keys/d", { derived: true })).data;
    expect(d).toMatchObject({ derived: true, kdf: "hkdf_sha256", convergent_encryption: false });
  });

  it("auto_rotate_period is 0 or at least an hour", async () => {
    const e = new TestEngine();
    expect((await e.write("keys/r", { auto_rotate_period: "30m" })).error).toBe(
      "auto rotate period must be 0 to disable or at least an hour",
    );
    expect((await e.write("keys/r", { auto_rotate_period: "2h" })).data["auto_rotate_period"]).toBe(7200);
    expect((await e.write("keys/r/config", { auto_rotate_period: 0 })).data["auto_rotate_period"]).toBe(0);
  });

  it("exportable and allow_plaintext_backup cannot be turned off once on", async () => {
    const e = new TestEngine();
    await e.write("keys/k", { exportable: true });
    const cfg = await e.write("keys/k/config", { exportable: false });
    expect(cfg.data["exportable"]).toBe(true);
  });
});

describe("upsert and config/keys", () => {
  it("encrypt creates a missing key unless upsert is disabled", async () => {
    const e = new TestEngine();
    const created = await e.post("encrypt/auto", { plaintext: b64("x"), type: "chacha20-poly1305" });
    expect(created.status).toBe(200);
    expect((await e.read("keys/auto")).data["type"]).toBe("chacha20-poly1305");
    expect((await e.write("config/keys", { disable_upsert: true })).data).toEqual({ disable_upsert: true });
    expect((await e.read("config/keys")).data).toEqual({ disable_upsert: true });
    const refused = await e.post("encrypt/other", { plaintext: b64("x") });
    expect(refused.status).toBe(400);
    expect(refused.error).toBe("encryption key not found");
    expect(e.storage.entries.has("policy/other")).toBe(false);
  });

  it("upsert with a context creates a derived key; ECDSA types are refused", async () => {
    const e = new TestEngine();
    await e.post("encrypt/der", { plaintext: b64("x"), context: b64("c") });
    expect((await e.read("keys/der")).data["derived"]).toBe(true);
    const bad = await e.post("encrypt/ec", { plaintext: b64("x"), type: "ecdsa-p256" });
    expect(bad.error).toBe("key type ecdsa-p256 not supported for this operation");
    expect((await e.post("encrypt/ec", { plaintext: b64("x"), type: "nope" })).error).toBe(
      "unknown key type nope",
    );
  });
});

describe("datakey", () => {
  it("returns a wrapped key that decrypts to the plaintext key, in 128/256/512 bits", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    for (const bits of [128, 256, 512]) {
      const out = await e.write("datakey/plaintext/k", { bits });
      const plain = unb64(out.data["plaintext"]);
      expect(plain.length).toBe(bits / 8);
      const back = await e.write("decrypt/k", { ciphertext: out.data["ciphertext"] });
      expect(unb64(back.data["plaintext"])).toEqual(plain);
    }
    const wrapped = await e.write("datakey/wrapped/k");
    expect(wrapped.data["plaintext"]).toBeUndefined();
    expect(wrapped.data["key_version"]).toBe(1);
    expect((await e.write("datakey/plaintext/k", { bits: 64 })).error).toBe("invalid bit length");
    expect((await e.write("datakey/other/k")).error).toBe("Invalid path, must be 'plaintext' or 'wrapped'");
  });
});

describe("cache-config", () => {
  it("stores the size and refuses sizes below 10", async () => {
    const e = new TestEngine();
    expect((await e.read("cache-config")).data).toEqual({ size: 0 });
    expect((await e.write("cache-config", { size: 5 })).error).toBe(
      "size must be 0 or a value greater or equal to 10",
    );
    expect((await e.write("cache-config", { size: 20 })).data).toEqual({ size: 20 });
    expect((await e.read("cache-config")).data).toEqual({ size: 20 });
  });
});
