/**
 * What client libraries assert against Vault's transit, over HTTP through the
 * dev host and the real plugin process: the lifecycle on a fresh mount, and
 * the statuses Vault answers for callers' mistakes that are plain Go errors
 * there (500 with the text), which clients such as hvac map to
 * InternalServerError. Written here from Vault's behaviour, not taken from
 * any client's test suite.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  killAllHosts,
  PLUGIN_READY,
  type RunningHost,
  startHost,
  tempDataDir,
} from "./helpers/process-host.ts";

const MOUNT = "transit-client-statuses";
const b64 = (s: string) => Buffer.from(s).toString("base64");

let host: RunningHost;
let data: ReturnType<typeof tempDataDir>;

beforeAll(async () => {
  if (!PLUGIN_READY) return;
  data = tempDataDir("devhost-statuses-");
  host = await startHost({ dataDir: data.dir });
  const mounted = await api("POST", `sys/mounts/${MOUNT}`, { type: "transit" });
  expect(mounted.status).toBe(204);
}, 90_000);

afterAll(async () => {
  await host?.stop();
  killAllHosts();
  data?.cleanup();
});

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const headers: Record<string, string> = { "X-Vault-Token": host.token };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${host.url}/v1/${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? null : (JSON.parse(text) as Record<string, unknown>) };
}

const t = (path: string) => `${MOUNT}/${path}`;
const errors = (r: { body: Record<string, unknown> | null }) => (r.body?.["errors"] as string[]) ?? [];
const dataOf = (r: { body: Record<string, unknown> | null }) => r.body?.["data"] as Record<string, unknown>;

describe.runIf(PLUGIN_READY)("statuses clients assert, through the dev host", () => {
  it("backup of a key without allow_plaintext_backup: 500 with Vault's text", async () => {
    expect((await api("POST", t("keys/nobackup"))).status).toBe(200);
    await api("POST", t("keys/nobackup/config"), { exportable: true, allow_plaintext_backup: false });
    const r = await api("GET", t("backup/nobackup"));
    expect(r.status).toBe(500);
    expect(errors(r).join()).toContain("plaintext backup is disallowed on the policy");
  });

  it("restore over an existing key without force: 500 'already exists'; with force or a new name: 204", async () => {
    await api("POST", t("keys/orig"));
    await api("POST", t("keys/orig/config"), { exportable: true, allow_plaintext_backup: true });
    const backup = String(dataOf(await api("GET", t("backup/orig")))["backup"]);
    const refused = await api("POST", t("restore"), { backup });
    expect(refused.status).toBe(500);
    expect(errors(refused).join()).toContain('key "orig" already exists');
    expect((await api("POST", t("restore"), { backup, force: true })).status).toBe(204);
    expect((await api("POST", t("restore/renamed"), { backup })).status).toBe(204);
    expect((await api("GET", t("keys/renamed"))).status).toBe(200);
  });

  it("rewrap with batch_input answers 200 even when every item fails", async () => {
    await api("POST", t("keys/rw"));
    const r = await api("POST", t("rewrap/rw"), { batch_input: [{ ciphertext: "vault:v1:AAAA" }] });
    expect(r.status).toBe(200);
    expect((dataOf(r)["batch_results"] as Record<string, unknown>[])[0]?.["error"]).toBe(
      "invalid ciphertext length",
    );
  });

  it("the lifecycle a client walks: create, rotate, encrypt, rewrap, decrypt, datakey, trim, delete", async () => {
    expect((await api("POST", t("keys/life"), { type: "aes256-gcm96" })).status).toBe(200);
    const ct1 = String(dataOf(await api("POST", t("encrypt/life"), { plaintext: b64("hi") }))["ciphertext"]);
    expect((await api("POST", t("keys/life/rotate"))).status).toBe(200);
    const rewrapped = String(dataOf(await api("POST", t("rewrap/life"), { ciphertext: ct1 }))["ciphertext"]);
    expect(rewrapped.startsWith("vault:v2:")).toBe(true);
    const plain = dataOf(await api("POST", t("decrypt/life"), { ciphertext: rewrapped }))["plaintext"];
    expect(plain).toBe(b64("hi"));
    const dk = dataOf(await api("POST", t("datakey/plaintext/life"), { bits: 128 }));
    expect(Buffer.from(String(dk["plaintext"]), "base64").length).toBe(16);
    await api("POST", t("keys/life/config"), {
      min_decryption_version: 2,
      min_encryption_version: 2,
      deletion_allowed: true,
    });
    const trim = await api("POST", t("keys/life/trim"), { min_available_version: 2 });
    expect([trim.status, errors(trim)]).toEqual([200, []]);
    expect((await api("DELETE", t("keys/life"))).status).toBe(204);
    expect((await api("GET", t("keys/life"))).status).toBe(404);
  });
});
