/**
 * End to end for the key types beyond Vault CE (issue #13): the dev host, the real plugin executable
 * (dist/vault-plugin-secrets-transit-ts: Node 26 with OpenSSL 3.5, so ML-DSA, SLH-DSA and GCM-SIV run
 * on OpenSSL there) and node-vault over HTTP. Every signature and tag the plugin returns is checked
 * here, in this Node 20 process, by an independent implementation (noble, OpenSSL 3.0 via
 * node:crypto): the two implementation paths cross-verify. Skipped when the executable is not built
 * (`npm run build:plugin`).
 */
import { createDecipheriv, createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { gcmsiv } from "@noble/ciphers/aes.js";
import { ed25519ctx, ed25519ph } from "@noble/curves/ed25519.js";
import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import { slh_dsa_sha2_128f } from "@noble/post-quantum/slh-dsa.js";
import NodeVault from "node-vault";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cmac } from "../../src/crypto/cmac.ts";
import {
  killAllHosts,
  PLUGIN_READY,
  REPO_ROOT,
  type RunningHost,
  startHost,
  tempDataDir,
} from "./helpers/process-host.ts";

const EXECUTABLE = join(REPO_ROOT, "dist/vault-plugin-secrets-transit-ts");
const READY = PLUGIN_READY && existsSync(EXECUTABLE);

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString("base64");
const unb64 = (s: unknown) => Buffer.from(String(s), "base64");
const body = (v: unknown) => Buffer.from(String(v).replace(/^vault:v\d+:/, ""), "base64");

let host: RunningHost;
let data: ReturnType<typeof tempDataDir>;

beforeAll(async () => {
  if (!READY) return;
  data = tempDataDir("enterprise-e2e-");
  host = await startHost({ dataDir: data.dir, env: { TRANSIT_DEV_PLUGIN_COMMAND: EXECUTABLE } });
}, 120_000);

afterAll(async () => {
  await host?.stop();
  killAllHosts();
  data?.cleanup();
});

function vault() {
  return NodeVault({ endpoint: host.url, token: host.token, apiVersion: "v1" });
}

interface VaultError extends Error {
  response?: { statusCode: number; body: { errors?: string[] } };
}

async function failure(p: Promise<unknown>): Promise<{ status: number; errors: string[] }> {
  try {
    await p;
  } catch (e) {
    const r = (e as VaultError).response;
    if (r === undefined) throw e;
    return { status: r.statusCode, errors: r.body.errors ?? [] };
  }
  throw new Error("expected the request to fail");
}

const keyData = async (name: string) =>
  (await vault().read(`transit/keys/${name}`)).data as Record<string, unknown>;
const version1 = (d: Record<string, unknown>) =>
  (d["keys"] as Record<string, Record<string, unknown>>)["1"] ?? {};

describe.skipIf(!READY)("Vault Enterprise key types through the plugin executable and node-vault", () => {
  it("aes256-gcm-siv: encrypt, decrypt, rewrap, datakey, convergent; noble opens the exported key's ciphertexts", async () => {
    const v = vault();
    await v.write("transit/keys/siv", { type: "aes256-gcm-siv", exportable: true });
    const key = unb64(
      ((await v.read("transit/export/encryption-key/siv/1")).data.keys as Record<string, string>)["1"],
    );
    const pt = randomBytes(1000);
    const enc = await v.write("transit/encrypt/siv", { plaintext: b64(pt), associated_data: b64("aad") });
    const raw = body(enc.data.ciphertext);
    expect(
      Buffer.from(gcmsiv(key, raw.subarray(0, 12), Buffer.from("aad")).decrypt(raw.subarray(12))).equals(pt),
    ).toBe(true);
    const dec = await v.write("transit/decrypt/siv", {
      ciphertext: enc.data.ciphertext,
      associated_data: b64("aad"),
    });
    expect(unb64(dec.data.plaintext).equals(pt)).toBe(true);
    await v.write("transit/keys/siv/rotate", {});
    // rewrap takes no associated_data (as in Vault): rewrap a ciphertext made without one.
    const noAad = await v.write("transit/encrypt/siv", { plaintext: b64("rewrap me") });
    expect(noAad.data.ciphertext).toMatch(/^vault:v2:/);
    const old = body(noAad.data.ciphertext);
    const v1 = await v.write("transit/encrypt/siv", { plaintext: b64("v1"), key_version: 1 });
    const re = await v.write("transit/rewrap/siv", { ciphertext: v1.data.ciphertext });
    expect(re.data.ciphertext).toMatch(/^vault:v2:/);
    expect(
      unb64(
        (await v.write("transit/decrypt/siv", { ciphertext: re.data.ciphertext })).data.plaintext,
      ).toString(),
    ).toBe("v1");
    expect(old.length).toBe(12 + 9 + 16);
    const dk = await v.write("transit/datakey/plaintext/siv", {});
    expect((await v.write("transit/decrypt/siv", { ciphertext: dk.data.ciphertext })).data.plaintext).toBe(
      dk.data.plaintext,
    );
    await v.write("transit/keys/sivc", {
      type: "aes256-gcm-siv",
      derived: true,
      convergent_encryption: true,
    });
    const a = await v.write("transit/encrypt/sivc", { plaintext: b64("same"), context: b64("c") });
    const b = await v.write("transit/encrypt/sivc", { plaintext: b64("same"), context: b64("c") });
    expect(a.data.ciphertext).toBe(b.data.ciphertext);
  });

  it("ml-dsa 65: create, read, sign (OpenSSL in the plugin), noble verifies; batch verify; bad set is a 400", async () => {
    const v = vault();
    await v.write("transit/keys/mldsa", { type: "ml-dsa", parameter_set: "65" });
    const read = await keyData("mldsa");
    expect(read["parameter_set"]).toBe("65");
    expect(version1(read)["name"]).toBe("ml-dsa-65");
    const pub = unb64(version1(read)["public_key"]);
    const msg = Buffer.from("post-quantum");
    const signed = await v.write("transit/sign/mldsa", { input: b64(msg) });
    expect(ml_dsa65.verify(body(signed.data.signature), msg, pub)).toBe(true);
    const verified = await v.write("transit/verify/mldsa", {
      batch_input: [
        { input: b64(msg), signature: signed.data.signature },
        { input: b64("other"), signature: signed.data.signature },
      ],
    });
    expect((verified.data.batch_results as { valid: boolean }[]).map((r) => r.valid)).toEqual([true, false]);
    const bad = await failure(v.write("transit/keys/bad", { type: "ml-dsa", parameter_set: "42" }));
    expect(bad).toEqual({ status: 400, errors: ["invalid parameter set 42 for key type ml-dsa"] });
  });

  it("slh-dsa SHA2-128f: sign in the plugin, noble verifies", async () => {
    const v = vault();
    await v.write("transit/keys/slh", { type: "slh-dsa", parameter_set: "SLH-DSA-SHA2-128f" });
    const pub = unb64(version1(await keyData("slh"))["public_key"]);
    const signed = await v.write("transit/sign/slh", { input: b64("stateless") });
    expect(body(signed.data.signature).length).toBe(17088);
    expect(slh_dsa_sha2_128f.verify(body(signed.data.signature), Buffer.from("stateless"), pub)).toBe(true);
  });

  it("hybrid ML-DSA-65 + Ed25519: sign, verify, one altered half refused", async () => {
    const v = vault();
    await v.write("transit/keys/hyb", {
      type: "hybrid",
      hybrid_key_type_pqc: "ml-dsa",
      hybrid_key_type_ec: "ed25519",
      parameter_set: "65",
    });
    const read = await keyData("hyb");
    expect(read["hybrid_key_type_ec"]).toBe("ed25519");
    expect(unb64(version1(read)["hybrid_public_key"]).length).toBe(1952 + 32);
    const signed = await v.write("transit/sign/hyb", { input: b64("hybrid") });
    expect(
      (await v.write("transit/verify/hyb", { input: b64("hybrid"), signature: signed.data.signature })).data
        .valid,
    ).toBe(true);
    const sig = body(signed.data.signature);
    sig[sig.length - 1] = (sig[sig.length - 1] as number) ^ 1;
    const tampered = await v.write("transit/verify/hyb", {
      input: b64("hybrid"),
      signature: `vault:v1:${b64(sig)}`,
    });
    expect(tampered.data.valid).toBe(false);
    const unknown = await failure(
      v.write("transit/keys/hyb2", {
        type: "hybrid",
        hybrid_key_type_pqc: "ml-kem",
        hybrid_key_type_ec: "ed25519",
        parameter_set: "65",
      }),
    );
    expect(unknown).toEqual({
      status: 400,
      errors: ["invalid config for hybrid key: invalid PQC key type: ml-kem"],
    });
  });

  it("CMAC: cmac path, verify with cmac, export/cmac-key; a CMAC key cannot encrypt", async () => {
    const v = vault();
    await v.write("transit/keys/mac", { type: "aes256-cmac", exportable: true });
    const key = unb64(
      ((await v.read("transit/export/cmac-key/mac/1")).data.keys as Record<string, string>)["1"],
    );
    const tag = await v.write("transit/cmac/mac", { input: b64("authenticate me") });
    expect(body(tag.data.cmac).equals(Buffer.from(cmac(key, Buffer.from("authenticate me"))))).toBe(true);
    expect(
      (await v.write("transit/verify/mac", { input: b64("authenticate me"), cmac: tag.data.cmac })).data
        .valid,
    ).toBe(true);
    const enc = await failure(v.write("transit/encrypt/mac", { plaintext: b64("x") }));
    expect(enc).toEqual({
      status: 400,
      errors: ["message encryption not supported for key type aes256-cmac"],
    });
  });

  it("Ed25519ph and Ed25519ctx; AES-CBC with a caller iv and a wrong-length iv", async () => {
    const v = vault();
    await v.write("transit/keys/ed", { type: "ed25519" });
    const pub = unb64(version1(await keyData("ed"))["public_key"]);
    const ph = await v.write("transit/sign/ed/sha2-512", { input: b64("ph") });
    expect(ed25519ph.verify(body(ph.data.signature), Buffer.from("ph"), pub)).toBe(true);
    const ctx = await v.write("transit/sign/ed", { input: b64("ctx"), signature_context: b64("app") });
    expect(
      ed25519ctx.verify(body(ctx.data.signature), Buffer.from("ctx"), pub, { context: Buffer.from("app") }),
    ).toBe(true);
    const digest = createHash("sha512").update("ph").digest();
    const pre = await v.write("transit/sign/ed", {
      input: b64(digest),
      prehashed: true,
      hash_algorithm: "sha2-512",
    });
    expect(ed25519ph.verify(body(pre.data.signature), Buffer.from("ph"), pub)).toBe(true);

    await v.write("transit/keys/cbc", { type: "aes128-cbc", exportable: true });
    const key = unb64(
      ((await v.read("transit/export/encryption-key/cbc/1")).data.keys as Record<string, string>)["1"],
    );
    const iv = randomBytes(16);
    const enc = await v.write("transit/encrypt/cbc", { plaintext: b64("legacy system"), iv: b64(iv) });
    const raw = body(enc.data.ciphertext);
    expect(raw.subarray(0, 16).equals(iv)).toBe(true);
    const d = createDecipheriv("aes-128-cbc", key, iv);
    expect(Buffer.concat([d.update(raw.subarray(16)), d.final()]).toString()).toBe("legacy system");
    const bad = await failure(
      v.write("transit/encrypt/cbc", { plaintext: b64("x"), iv: b64(randomBytes(8)) }),
    );
    expect(bad).toEqual({ status: 400, errors: ["invalid iv length: must be 16 bytes"] });
  });

  it("backup and restore of an ml-dsa key through the API keep verifying", async () => {
    const v = vault();
    await v.write("transit/keys/bk", {
      type: "ml-dsa",
      parameter_set: "44",
      exportable: true,
      allow_plaintext_backup: true,
    });
    const signed = await v.write("transit/sign/bk", { input: b64("kept") });
    const backup = await v.read("transit/backup/bk");
    await v.write("transit/restore/bk2", { backup: backup.data.backup });
    expect(
      (await v.write("transit/verify/bk2", { input: b64("kept"), signature: signed.data.signature })).data
        .valid,
    ).toBe(true);
  });
});
