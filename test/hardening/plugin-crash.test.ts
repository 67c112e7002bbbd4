/**
 * The plugin process killed (SIGKILL) in the middle of requests: the dev host
 * answers the requests in flight with an error (never a hang, never a false
 * success), restarts the plugin on the next request, and loses nothing it
 * acknowledged: every key created, every rotation and every ciphertext that
 * got a 2xx is there afterwards, in the running host and after a restart.
 * The host runs in process; the plugin is the real one (src/plugin through
 * src/pluginhost).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type HostConfig, parseConfig } from "../../src/host/config.ts";
import { DevHost } from "../../src/host/host.ts";
import { createPluginLauncher } from "../../src/host/plugin.ts";
import { JsonLogger } from "../../src/util/logger.ts";

const TOKEN = "hvs.plugin-crash-root-token";
const CALLERS = 12;
const KILLS = 3;
const dir = mkdtempSync(join(tmpdir(), "plugin-crash-"));
let host: DevHost | null = null;

afterAll(async () => {
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<{ host: DevHost; base: string }> {
  const parsed = parseConfig(["--listen-address", "127.0.0.1:0", "--data-dir", dir], {});
  if (parsed.help) throw new Error("unreachable");
  const config: HostConfig = { ...parsed.config, rootTokenId: TOKEN, rollbackIntervalSeconds: 0 };
  const logger = new JsonLogger(() => {}, "error");
  const started = await DevHost.start({ config, launcher: createPluginLauncher(config, logger), logger });
  return { host: started.host, base: `${started.info.address}/v1` };
}

async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; data: Record<string, unknown>; errors: string[] }> {
  const res = await fetch(`${base}/${path}`, {
    method,
    headers: { "X-Vault-Token": TOKEN, "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  const parsed =
    text === "" ? {} : (JSON.parse(text) as { data?: Record<string, unknown>; errors?: string[] });
  return { status: res.status, data: parsed.data ?? {}, errors: parsed.errors ?? [] };
}

describe("the plugin process killed mid-request", () => {
  it("in-flight requests fail cleanly, the plugin restarts, nothing acknowledged is lost", async () => {
    let h = await start();
    host = h.host;
    const created: string[] = [];
    const rotated = new Map<string, number>();
    const ciphertexts: { key: string; ct: string; pt: string }[] = [];
    const failures = new Map<string, number>();
    const wrong: string[] = [];
    let stop = false;
    let requests = 0;

    const caller = async (id: number) => {
      for (let i = 0; !stop; i++) {
        const key = `c${id}-k${i}`;
        const steps: [string, string, unknown][] = [
          ["POST", `transit/keys/${key}`, {}],
          ["POST", `transit/keys/${key}/rotate`, {}],
          ["POST", `transit/encrypt/${key}`, { plaintext: Buffer.from(`${key}-pt`).toString("base64") }],
        ];
        for (const [method, path, body] of steps) {
          requests++;
          let r: Awaited<ReturnType<typeof api>>;
          try {
            r = await api(h.base, method, path, body);
          } catch (e) {
            wrong.push(`${path}: no answer (${(e as Error).message})`);
            break;
          }
          if (r.status >= 500) {
            const why = r.errors[0] ?? "";
            failures.set(why, (failures.get(why) ?? 0) + 1);
            break; // unacknowledged: the rest of this key's steps would build on it
          }
          if (r.status >= 300) {
            wrong.push(`${path}: ${r.status} ${r.errors.join(";")}`);
            break;
          }
          if (path.endsWith("/rotate")) rotated.set(key, 2);
          else if (path.startsWith("transit/keys/")) created.push(key);
          else ciphertexts.push({ key, ct: String(r.data["ciphertext"]), pt: `${key}-pt` });
        }
      }
    };

    const killer = async () => {
      for (let k = 0; k < KILLS; k++) {
        await new Promise((r) => setTimeout(r, 700));
        const pid = h.host.supervisor.pid;
        try {
          if (pid !== undefined) process.kill(pid, "SIGKILL");
        } catch (e) {
          // Between its exit and the host noticing it, the process is already gone: that kill is moot.
          if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
        }
      }
      await new Promise((r) => setTimeout(r, 1500));
      stop = true;
    };

    await Promise.all([killer(), ...Array.from({ length: CALLERS }, (_, i) => caller(i))]);
    expect(wrong).toEqual([]);
    const failed = [...failures.values()].reduce((a, b) => a + b, 0);

    const check = async (base: string) => {
      for (const key of created) {
        const r = await api(base, "GET", `transit/keys/${key}`);
        expect(r.status, key).toBe(200);
        expect(Number(r.data["latest_version"]), key).toBeGreaterThanOrEqual(rotated.get(key) ?? 1);
      }
      for (const { key, ct, pt } of ciphertexts) {
        const r = await api(base, "POST", `transit/decrypt/${key}`, { ciphertext: ct });
        expect(r.status, `${key} ${ct}`).toBe(200);
        expect(Buffer.from(String(r.data["plaintext"]), "base64").toString()).toBe(pt);
      }
    };
    // The running host, with a restarted plugin.
    await check(h.base);
    await h.host.stop();
    host = null;
    // And after a restart of the host.
    h = await start();
    host = h.host;
    await check(h.base);
    console.log(
      `PLUGIN-CRASH-RESULT kills=${KILLS} requests=${requests} acknowledged_keys=${created.length} acknowledged_rotations=${rotated.size} acknowledged_ciphertexts=${ciphertexts.length} failed_in_flight=${failed} errors="${[...failures.keys()].join("|")}"`,
    );
  }, 180_000);
});
