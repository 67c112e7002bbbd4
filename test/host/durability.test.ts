/**
 * The dev host process across restarts, crashes and refusals: persistence of
 * keys and versions, kill -9 during writes, the raw database scanned for
 * secrets, the unseal key's protection, graceful shutdown, plugin restarts.
 * Real host processes, the real plugin, real lmdb, real HTTP.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { DB_FILE } from "../../src/host/storage/store.ts";
import { CANARY_PLAINTEXT } from "../helpers/canaries.ts";
import {
  enginePaths,
  killAllHosts,
  PLUGIN_READY,
  type RunningHost,
  removeDataDirs,
  runHostExpectingFailure,
  startHost,
  trackedDataDir,
} from "./helpers/process-host.ts";

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");

afterEach(() => {
  killAllHosts();
});

afterAll(removeDataDirs);

const dataDir = () => trackedDataDir("devhost-dur-");

async function api(
  host: RunningHost,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; data: Record<string, unknown>; body: Record<string, unknown> | null }> {
  const res = await fetch(`${host.url}/v1/${path}`, {
    method,
    headers: { "X-Vault-Token": host.token, "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const parsed = text === "" ? null : (JSON.parse(text) as Record<string, unknown>);
  return { status: res.status, body: parsed, data: (parsed?.["data"] ?? {}) as Record<string, unknown> };
}

function sha256File(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

function pluginPid(host: RunningHost): number {
  const pids = [...host.stderr().matchAll(/"plugin process started"[^\n]*"pid":(\d+)/g)].map((m) =>
    Number(m[1]),
  );
  const pid = pids.at(-1);
  if (pid === undefined) throw new Error(`no plugin pid in the host log:\n${host.stderr()}`);
  return pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!PLUGIN_READY)("restart persistence", () => {
  it("keys, versions and old ciphertexts survive a restart; the unseal key file is 0600", async () => {
    const dir = dataDir();
    const token = "hvs.persist-token";
    let host = await startHost({ dataDir: dir, token });
    expect(statSync(join(dir, "unseal.key")).mode & 0o777).toBe(0o600);
    await api(host, "POST", "transit/keys/p1");
    const v1 = (await api(host, "POST", "transit/encrypt/p1", { plaintext: b64("first") })).data[
      "ciphertext"
    ];
    await api(host, "POST", "transit/keys/p1/rotate");
    await api(host, "POST", "transit/keys/p1/rotate");
    const v3 = (await api(host, "POST", "transit/encrypt/p1", { plaintext: b64("third") })).data[
      "ciphertext"
    ];
    await api(host, "POST", "transit/keys/p2", { type: "ed25519" });
    const sig = (await api(host, "POST", "transit/sign/p2", { input: b64("m") })).data["signature"];
    expect(await host.stop()).toBe(0);

    host = await startHost({ dataDir: dir, token });
    const key = await api(host, "GET", "transit/keys/p1");
    expect(key.data["latest_version"]).toBe(3);
    expect(Object.keys(key.data["keys"] as object)).toEqual(["1", "2", "3"]);
    const d1 = await api(host, "POST", "transit/decrypt/p1", { ciphertext: v1 });
    expect(Buffer.from(d1.data["plaintext"] as string, "base64").toString()).toBe("first");
    const d3 = await api(host, "POST", "transit/decrypt/p1", { ciphertext: v3 });
    expect(Buffer.from(d3.data["plaintext"] as string, "base64").toString()).toBe("third");
    const ver = await api(host, "POST", "transit/verify/p2", { input: b64("m"), signature: sig });
    expect(ver.data["valid"]).toBe(true);
    expect((await api(host, "GET", "transit/keys?list=true")).data["keys"]).toEqual(["p1", "p2"]);
    expect(await host.stop()).toBe(0);
  });
});

describe.skipIf(!PLUGIN_READY)("kill -9", () => {
  it("loses no acknowledged create, rotate or ciphertext", async () => {
    const dir = dataDir();
    const token = "hvs.crash-token";
    let host = await startHost({ dataDir: dir, token });
    const created: string[] = [];
    const rotations = new Map<string, number>();
    const ciphertexts: { key: string; ct: string; plaintext: string }[] = [];
    let stop = false;
    let acknowledged = 0;
    const loop = (async () => {
      for (let i = 0; !stop; i++) {
        const name = `crash-${i}`;
        try {
          const c = await api(host, "POST", `transit/keys/${name}`);
          if (c.status >= 300) break;
          created.push(name);
          const r = await api(host, "POST", `transit/keys/${name}/rotate`);
          if (r.status >= 300) break;
          rotations.set(name, 2);
          const plaintext = `pt-${i}-${randomBytes(4).toString("hex")}`;
          const e = await api(host, "POST", `transit/encrypt/${name}`, { plaintext: b64(plaintext) });
          if (e.status !== 200) break;
          ciphertexts.push({ key: name, ct: e.data["ciphertext"] as string, plaintext });
          acknowledged += 3;
        } catch {
          break; // the host died under this request: it was not acknowledged
        }
      }
    })();
    let loopDone = false;
    void loop.finally(() => {
      loopDone = true;
    });
    // Let the loop acknowledge a good number of writes, then kill while it is writing.
    while (!loopDone && acknowledged < 60) await new Promise((r) => setTimeout(r, 20));
    expect(loopDone).toBe(false);
    await host.kill9();
    stop = true;
    await loop;
    expect(ciphertexts.length).toBeGreaterThanOrEqual(20);

    host = await startHost({ dataDir: dir, token });
    for (const name of created) {
      const k = await api(host, "GET", `transit/keys/${name}`);
      expect(k.status, name).toBe(200);
      expect(k.data["latest_version"] as number, name).toBeGreaterThanOrEqual(rotations.get(name) ?? 1);
    }
    for (const { key, ct, plaintext } of ciphertexts) {
      const d = await api(host, "POST", `transit/decrypt/${key}`, { ciphertext: ct });
      expect(d.status, key).toBe(200);
      expect(Buffer.from(d.data["plaintext"] as string, "base64").toString()).toBe(plaintext);
    }
    expect(await host.stop()).toBe(0);
  });
});

describe.skipIf(!PLUGIN_READY)("the raw database file", () => {
  it("holds no key material, plaintext or token in the clear", async (ctx) => {
    const dir = dataDir();
    const token = `hvs.${randomBytes(12).toString("hex")}`;
    const host = await startHost({ dataDir: dir, token });
    if (!(await enginePaths(host)).includes("export/")) {
      await host.stop();
      process.stderr.write("durability: the engine has no export/ path yet: raw-file scan skipped\n");
      ctx.skip();
    }
    await api(host, "POST", "transit/keys/scan", { exportable: true });
    await api(host, "POST", "transit/keys/scan/rotate");
    await api(host, "POST", "transit/encrypt/scan", { plaintext: b64(CANARY_PLAINTEXT) });
    await api(host, "POST", "transit/keys/scan-hmac", { type: "hmac", exportable: true });
    const exported = await api(host, "GET", "transit/export/encryption-key/scan");
    const hmac = await api(host, "GET", "transit/export/hmac-key/scan-hmac");
    const keys = [
      ...Object.values(exported.data["keys"] as Record<string, string>),
      ...Object.values(hmac.data["keys"] as Record<string, string>),
    ].map((k) => Buffer.from(k, "base64"));
    expect(keys.length).toBe(3);
    for (const k of keys) expect(k.length).toBeGreaterThanOrEqual(16);
    expect(await host.stop()).toBe(0);

    const file = readFileSync(join(dir, DB_FILE));
    const unseal = Buffer.from(readFileSync(join(dir, "unseal.key"), "utf8").trim(), "base64");
    const needles: Buffer[] = [Buffer.from(CANARY_PLAINTEXT), Buffer.from(token), unseal, ...keys];
    for (const secret of needles) {
      for (const form of [
        secret,
        Buffer.from(secret.toString("base64")),
        Buffer.from(secret.toString("hex")),
      ]) {
        expect(file.includes(form.subarray(0, Math.min(form.length, 24)))).toBe(false);
      }
    }
    // The key names are visible, as Vault's storage paths are.
    expect(file.includes(Buffer.from("policy/scan"))).toBe(true);
  });
});

describe("refusals", () => {
  it("a wrong unseal key refuses to start and changes nothing", async () => {
    const dir = dataDir();
    const host = await startHost({ dataDir: dir });
    await api(host, "POST", "transit/keys/kept");
    expect(await host.stop()).toBe(0);
    const before = sha256File(join(dir, DB_FILE));
    const keyBefore = readFileSync(join(dir, "unseal.key"), "utf8");
    const wrong = await runHostExpectingFailure({
      dataDir: dir,
      env: { TRANSIT_DEV_UNSEAL_KEY: randomBytes(32).toString("base64") },
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/unseal key does not open this data directory/);
    expect(sha256File(join(dir, DB_FILE))).toBe(before);
    expect(readFileSync(join(dir, "unseal.key"), "utf8")).toBe(keyBefore);
  });

  it("a missing unseal key file refuses to start and is not recreated", async () => {
    const dir = dataDir();
    const host = await startHost({ dataDir: dir });
    expect(await host.stop()).toBe(0);
    const before = sha256File(join(dir, DB_FILE));
    unlinkSync(join(dir, "unseal.key"));
    const missing = await runHostExpectingFailure({ dataDir: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/unseal key is missing/);
    expect(existsSync(join(dir, "unseal.key"))).toBe(false);
    expect(sha256File(join(dir, DB_FILE))).toBe(before);
  });

  it("a non-loopback address needs the flag and TLS", async () => {
    const dir = dataDir();
    const r = await runHostExpectingFailure({ dataDir: dir, env: { VAULT_DEV_LISTEN_ADDRESS: "0.0.0.0:0" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a loopback address/);
    const r2 = await runHostExpectingFailure({
      dataDir: dir,
      args: ["--allow-non-loopback"],
      env: { VAULT_DEV_LISTEN_ADDRESS: "0.0.0.0:0" },
    });
    expect(r2.stderr).toMatch(/requires TLS/);
    expect(existsSync(join(dir, DB_FILE))).toBe(false);
  });
});

describe.skipIf(!PLUGIN_READY)("process supervision", () => {
  it("restarts a killed plugin on the next request; SIGTERM stops both processes", async () => {
    const dir = dataDir();
    const host = await startHost({ dataDir: dir });
    await api(host, "POST", "transit/keys/sup");
    const first = pluginPid(host);
    process.kill(first, "SIGKILL");
    while (!/plugin process exited/.test(host.stderr())) await new Promise((r) => setTimeout(r, 20));
    const r = await api(host, "POST", "transit/encrypt/sup", { plaintext: b64("after restart") });
    expect(r.status).toBe(200);
    const second = pluginPid(host);
    expect(second).not.toBe(first);
    expect(host.stderr()).toMatch(/plugin process exited[^\n]*SIGKILL/);
    expect(await host.stop()).toBe(0);
    expect(alive(second)).toBe(false);
  });

  it("sys/plugins/reload/backend: a new plugin process for the plugin, the same one for a mount", async () => {
    const dir = dataDir();
    const host = await startHost({ dataDir: dir });
    await api(host, "POST", "transit/keys/rel");
    const ct = (await api(host, "POST", "transit/encrypt/rel", { plaintext: b64("kept") })).data[
      "ciphertext"
    ];
    const first = pluginPid(host);
    const r = await api(host, "POST", "sys/plugins/reload/backend", { plugin: "transit" });
    expect(r.status).toBe(200);
    const second = pluginPid(host);
    expect(second).not.toBe(first);
    await expect.poll(() => alive(first)).toBe(false);
    const d = await api(host, "POST", "transit/decrypt/rel", { ciphertext: ct });
    expect(Buffer.from(d.data["plaintext"] as string, "base64").toString()).toBe("kept");
    // Reloading a mount cleans it up and sets it up again in the running (multiplexed) process.
    expect((await api(host, "POST", "sys/plugins/reload/backend", { mounts: ["transit"] })).status).toBe(200);
    expect(pluginPid(host)).toBe(second);
    expect((await api(host, "GET", "transit/keys/rel")).data["name"]).toBe("rel");
    expect(host.stderr()).not.toMatch(/plugin failed to exit gracefully/);
    expect(await host.stop()).toBe(0);
    expect(alive(second)).toBe(false);
  });
});
