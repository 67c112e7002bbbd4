import { describe, expect, it } from "vitest";
import { backupEngineFor } from "../../../src/transit/keyring/backup-numbering.ts";
import { fromVaultBackup, toVaultBackup } from "../../../src/transit/keyring/vault-json.ts";
import { b64, TestEngine, unb64 } from "../../helpers/engine.ts";

/**
 * Storage and backup format of the new types: type numbers per engine, a backup whose public key
 * does not match its private key, and a hybrid blob naming a part this version does not know.
 */

// biome-ignore lint/suspicious/noExplicitAny: a backup's JSON, edited in place by the tests
async function backupDoc(e: TestEngine, name: string): Promise<Record<string, any>> {
  const r = await e.read(`backup/${name}`);
  expect(r.status).toBe(200);
  return JSON.parse(unb64(r.data["backup"]).toString());
}

const reencode = (doc: unknown) => b64(JSON.stringify(doc));

describe("new key types in the backup format", () => {
  it("OpenBao's numbering has no ml-dsa: under OpenBao it is written as Vault writes it; gcm-siv keeps its own number", async () => {
    const e = new TestEngine();
    await e.write("keys/m", { type: "ml-dsa", parameter_set: "44" });
    await e.write("keys/s", { type: "aes256-gcm-siv" });
    const ringOf = async (name: string) => {
      const doc = await (async () => {
        await e.write(`keys/${name}/config`, { exportable: true, allow_plaintext_backup: true });
        return backupDoc(e, name);
      })();
      return fromVaultBackup(reencode(doc), name);
    };
    const mldsa = await ringOf("m");
    expect(backupEngineFor("ml-dsa", "openbao")).toBe("vault");
    expect(JSON.parse(Buffer.from(toVaultBackup(mldsa, "vault"), "base64").toString()).policy.type).toBe(14);
    const siv = await ringOf("s");
    const openbao = JSON.parse(Buffer.from(toVaultBackup(siv, "openbao"), "base64").toString());
    expect(openbao.policy.type).toBe(1000);
  });

  // A malformed blob is Vault's plain error (500), as for the other types.
  it("a restore whose ML-DSA public key does not match the seed is refused with nothing stored", async () => {
    const e = new TestEngine();
    await e.write("keys/m", {
      type: "ml-dsa",
      parameter_set: "44",
      exportable: true,
      allow_plaintext_backup: true,
    });
    await e.write("keys/other", { type: "ml-dsa", parameter_set: "44" });
    const doc = await backupDoc(e, "m");
    const otherPub = ((await e.read("keys/other")).data["keys"] as Record<string, Record<string, unknown>>)[
      "1"
    ]?.["public_key"];
    doc["policy"]["keys"]["1"]["public_key"] = otherPub;
    doc["archived_keys"]["keys"][1]["public_key"] = otherPub;
    const r = await e.write("restore/bad", { backup: reencode(doc) });
    expect(r.status).toBe(500);
    expect((await e.read("keys/bad")).status).toBe(404);
  });

  it("a hybrid blob whose HybridConfig names a type number this version does not know is refused", async () => {
    const e = new TestEngine();
    await e.write("keys/h", {
      type: "hybrid",
      hybrid_key_type_pqc: "ml-dsa",
      hybrid_key_type_ec: "ecdsa-p256",
      parameter_set: "44",
      exportable: true,
      allow_plaintext_backup: true,
    });
    const doc = await backupDoc(e, "h");
    doc["policy"]["HybridConfig"]["ECKeyType"] = 99;
    const r = await e.write("restore/h2", { backup: reencode(doc) });
    expect(r.status).toBe(500);
    expect((await e.read("keys/h2")).status).toBe(404);
  });
});
