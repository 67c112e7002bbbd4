/**
 * Backups between Vault and OpenBao (issue #11): their keysutil KeyType
 * enums differ after rsa-3072 (Vault: managed_key 10, hmac 11; OpenBao:
 * hmac 10, xchacha20-poly1305 11; both sdk/helper/keysutil/policy.go).
 * Blobs here are written by hand in the shape each engine's encoding/json
 * gives keysutil.KeyData (struct tags: Vault's newest Policy ends with
 * ParameterSet and HybridConfig, OpenBao's with soft_deleted; Vault's hmac
 * versions carry the key as hmac_key too, OpenBao's xchacha20 versions a
 * separate random hmac_key). The plugin writes the host engine's numbering.
 */
import { createHmac, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hostEngineFromEnv } from "../../src/plugin/env.ts";
import { createTransitBackend } from "../../src/transit/backend.ts";
import {
  type Engine,
  keyTypeNumber,
  readingsOf,
  resolveKeyType,
} from "../../src/transit/keyring/backup-numbering.ts";
import { isKeyType } from "../../src/transit/keyring/key-types.ts";
import { TestEngine } from "../helpers/engine.ts";

const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");
const T = "2024-07-01T12:00:00.5Z";

/** The policy JSON of `engine`'s keysutil, fields in struct order. */
function policy(
  engine: Engine | "old",
  o: { type: number; entry: string; keySize?: number; derived?: boolean },
) {
  const tail =
    engine === "vault"
      ? `,"ParameterSet":"","HybridConfig":{"PQCKeyType":0,"ECKeyType":0}`
      : engine === "openbao"
        ? `,"soft_deleted":false`
        : "";
  return (
    `{"name":"k",${o.keySize ? `"key_size":${o.keySize},` : ""}"keys":{"1":${o.entry}},` +
    `"derived":${o.derived ?? false},"kdf":1,"convergent_encryption":false,"exportable":true,` +
    `"min_decryption_version":1,"min_encryption_version":0,"latest_version":1,"archive_version":1,` +
    `"archive_min_version":0,"min_available_version":0,"deletion_allowed":false,"convergent_version":-1,` +
    `"type":${o.type},"backup_info":null,"restore_info":null,"allow_plaintext_backup":true,` +
    `"version_template":"","storage_prefix":"","auto_rotate_period":0,"Imported":false,` +
    `"AllowImportedKeyRotation":false${tail}}`
  );
}

const entry = (key: Buffer | null, hmacKey: Buffer | null, extra = ""): string =>
  `{"key":${key === null ? "null" : `"${b64(key)}"`},"hmac_key":${hmacKey === null ? "null" : `"${b64(hmacKey)}"`},` +
  `"time":"${T}","ec_x":null,"ec_y":null,"ec_d":null,"rsa_key":null,"rsa_public_key":null,"public_key":"",` +
  `"convergent_version":0,"creation_time":${Math.floor(Date.parse(T) / 1000)}${extra}}`;

const EMPTY = `{"key":null,"hmac_key":null,"time":"0001-01-01T00:00:00Z","creation_time":0}`;

/** A backup as Policy.Backup writes it: the policy, and the archive with version 0 empty. */
const blob = (engine: Engine | "old", o: Parameters<typeof policy>[1]): string =>
  Buffer.from(`{"policy":${policy(engine, o)},"archived_keys":{"keys":[${EMPTY},${o.entry}]}}\n`).toString(
    "base64",
  );

async function restoreHmac(e: TestEngine, backup: string, key: Buffer): Promise<void> {
  const r = await e.write("restore/h", { backup, force: true });
  expect(r.error).toBeNull();
  expect((await e.read("keys/h")).data["type"]).toBe("hmac");
  const mac = await e.write("hmac/h", { input: b64(Buffer.from("m")) });
  expect(mac.data["hmac"]).toBe(`vault:v1:${createHmac("sha256", key).update("m").digest("base64")}`);
}

describe("restore reads either engine's numbering", () => {
  it("Vault's hmac (11, key twice) and OpenBao's hmac (10) restore as hmac with their key", async () => {
    const e = new TestEngine();
    const k = randomBytes(48);
    await restoreHmac(e, blob("vault", { type: 11, keySize: 48, entry: entry(k, k) }), k);
    await restoreHmac(e, blob("openbao", { type: 10, keySize: 48, entry: entry(k, k) }), k);
    // Older Vault wrote no engine-only field and a separate random hmac_key.
    await restoreHmac(e, blob("old", { type: 11, keySize: 48, entry: entry(k, randomBytes(32)) }), k);
  });

  it("10 in a Vault blob is managed_key: refused with a 400 naming it", async () => {
    const e = new TestEngine();
    const managed = entry(null, randomBytes(32), `,"managed_key_id":"0d4c6f2e"`);
    const r = await e.write("restore", { backup: blob("vault", { type: 10, entry: managed }) });
    expect(r.status).toBe(400);
    expect(r.error).toContain("unsupported key type 10 (managed_key in Vault's numbering)");
    expect((await e.read("keys/k")).status).toBe(404);
  });

  it("11 in an OpenBao blob is xchacha20-poly1305, never Vault's hmac", async () => {
    const e = new TestEngine();
    const r = await e.write("restore", {
      backup: blob("openbao", { type: 11, entry: entry(randomBytes(32), randomBytes(32)) }),
    });
    if (isKeyType("xchacha20-poly1305")) {
      expect(r.error).toBeNull();
      expect((await e.read("keys/k")).data["type"]).toBe("xchacha20-poly1305");
    } else {
      expect(r.status).toBe(400);
      expect(r.error).toContain("unsupported key type 11 (xchacha20-poly1305 in OpenBao's numbering)");
    }
  });

  it.runIf(isKeyType("xchacha20-poly1305"))(
    "11 with a 32-byte key, a separate hmac_key and no engine-only field: ambiguous, a 400",
    async () => {
      const e = new TestEngine();
      const r = await e.write("restore", {
        backup: blob("old", { type: 11, entry: entry(randomBytes(32), randomBytes(32)) }),
      });
      expect(r.status).toBe(400);
      expect(r.error).toContain("ambiguous backup: key type 11");
      expect((await e.read("keys/k")).status).toBe(404);
    },
  );
});

describe("any type number, any engine shape, any key length: a 204 or a 400, never a 500", () => {
  it("restore of mutated blobs: restored, refused as a bad type (400) or as a malformed blob (500)", async () => {
    const e = new TestEngine();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -1, max: 40 }),
        fc.constantFrom<Engine | "old">("vault", "openbao", "old"),
        fc.integer({ min: 0, max: 80 }),
        fc.boolean(),
        fc.boolean(),
        async (type, engine, len, sameHmac, derived) => {
          const k = randomBytes(len);
          const hmacKey = sameHmac ? k : randomBytes(32);
          const backup = blob(engine, { type, derived, entry: entry(k, hmacKey) });
          const r = await e.write("restore/fz", { backup, force: true });
          // 204, our 400 for a type number no reading fits, or Vault's plain error (500) for a
          // malformed blob with its "invalid backup" text: never a generic internal error.
          expect([204, 400, 500], r.error ?? "").toContain(r.status);
          if (r.status === 500) expect(r.error).toMatch(/^invalid backup: /);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("resolveKeyType: readings by content", () => {
  // A table with two readings of 11 among types this build has, so the rules run whatever types exist.
  const TABLE = { hmac: { vault: 11, openbao: 10 }, "aes256-gcm96": { openbao: 11 } };
  const fitsBoth = () => null;

  it("one reading: taken; none: refused naming the engines' types", () => {
    expect(resolveKeyType(10, fitsBoth, null, TABLE)).toBe("hmac");
    expect(() => resolveKeyType(99, fitsBoth, null, TABLE)).toThrow("unsupported key type 99");
  });

  it("two readings: the one the material fits, else the writer's, else ambiguous", () => {
    const onlyHmac = (t: string) => (t === "hmac" ? null : "key_size is set");
    expect(resolveKeyType(11, onlyHmac, null, TABLE)).toBe("hmac");
    expect(resolveKeyType(11, fitsBoth, "openbao", TABLE)).toBe("aes256-gcm96");
    expect(resolveKeyType(11, fitsBoth, "vault", TABLE)).toBe("hmac");
    expect(() => resolveKeyType(11, fitsBoth, null, TABLE)).toThrow(
      "ambiguous backup: key type 11 is hmac in Vault's numbering and aes256-gcm96 in OpenBao's numbering",
    );
    expect(() => resolveKeyType(11, () => "no", null, TABLE)).toThrow("key type 11 fits no reading");
  });

  it("the real table: both engines agree up to rsa-3072, differ for hmac", () => {
    expect(readingsOf(3)).toEqual([{ type: "rsa-2048", engine: null }]);
    expect(keyTypeNumber("hmac", "vault")).toBe(11);
    expect(keyTypeNumber("hmac", "openbao")).toBe(10);
    expect(keyTypeNumber("rsa-3072", "openbao")).toBe(9);
    expect(() => keyTypeNumber("hmac", "openbao", { hmac: { vault: 11 } })).toThrow(
      "key type hmac has no number in OpenBao's keysutil",
    );
    expect(keyTypeNumber("hmac", "openbao", { hmac: { own: 1000 } })).toBe(1000);
  });
});

describe("backup writes the host engine's numbering", () => {
  async function backupOf(hostEngine: Engine): Promise<Record<string, unknown>> {
    const e = new TestEngine(createTransitBackend({ hostEngine }));
    await e.write("keys/h", { type: "hmac", key_size: 32, exportable: true, allow_plaintext_backup: true });
    const r = await e.read("backup/h");
    return JSON.parse(Buffer.from(String(r.data["backup"]), "base64").toString("utf8")).policy;
  }

  it("Vault: hmac is 11 and the policy ends with Vault's fields; OpenBao: 10 and soft_deleted", async () => {
    const vault = await backupOf("vault");
    expect(vault["type"]).toBe(11);
    expect(Object.keys(vault).slice(-2)).toEqual(["ParameterSet", "HybridConfig"]);
    const bao = await backupOf("openbao");
    expect(bao["type"]).toBe(10);
    expect(Object.keys(bao).slice(-1)).toEqual(["soft_deleted"]);
    expect(bao).not.toHaveProperty("ParameterSet");
  });

  it("a blob written for OpenBao restores here whichever host this engine has", async () => {
    const src = new TestEngine(createTransitBackend({ hostEngine: "openbao" }));
    await src.write("keys/h", { type: "hmac", exportable: true, allow_plaintext_backup: true });
    const mac = (await src.write("hmac/h", { input: b64(Buffer.from("m")) })).data["hmac"];
    const backup = (await src.read("backup/h")).data["backup"];
    for (const hostEngine of ["vault", "openbao"] as const) {
      const dst = new TestEngine(createTransitBackend({ hostEngine }));
      expect((await dst.write("restore", { backup })).error).toBeNull();
      expect((await dst.write("hmac/h", { input: b64(Buffer.from("m")) })).data["hmac"]).toBe(mac);
    }
  });

  it("the host engine from the plugin's environment: BAO_* means OpenBao, else Vault unless configured", () => {
    expect(hostEngineFromEnv({ VAULT_VERSION: "1.19.0", VAULT_PLUGIN_AUTOMTLS_ENABLED: "true" })).toBe(
      "vault",
    );
    expect(hostEngineFromEnv({ BAO_VERSION: "2.3.1", VAULT_VERSION: "2.3.1" })).toBe("openbao");
    expect(hostEngineFromEnv({ BAO_PLUGIN_AUTOMTLS_ENABLED: "true" })).toBe("openbao");
    expect(hostEngineFromEnv({})).toBe("vault");
    expect(hostEngineFromEnv({ TRANSIT_HOST_ENGINE: "openbao", VAULT_VERSION: "1.19.0" })).toBe("openbao");
  });
});
