/**
 * The plugin client against plugin processes: a stand-in plugin speaking the
 * real protocol (fixtures/fake-plugin.ts) for the cases the real plugin
 * never shows (no multiplexing, protocol 4 only, broken handshakes), then
 * the project's plugin itself when it is in the tree.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorKind } from "../../src/framework/errors.ts";
import { InMemoryStorage, type Storage } from "../../src/framework/storage.ts";
import { defaultPluginCommand } from "../../src/host/plugin.ts";
import { PluginClient, PluginHostInstance, type PluginMount } from "../../src/pluginhost/index.ts";
import type { HostRequest, MountBackend } from "../../src/protocol/mount-backend.ts";
import { type LogLevel, nullLogger } from "../../src/util/logger.ts";
import { REPO_ROOT } from "../host/helpers/process-host.ts";

const FAKE = [
  process.execPath,
  "--import",
  "tsx",
  join(REPO_ROOT, "test/pluginhost/fixtures/fake-plugin.ts"),
];

const started: PluginHostInstance[] = [];
const pids: number[] = [];
afterEach(async () => {
  for (const i of started.splice(0)) await i.shutdown().catch(() => undefined);
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
});

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function collectingLogger() {
  const lines: { level: LogLevel; message: string; fields?: Record<string, unknown> }[] = [];
  const make = () => {
    const at =
      (level: LogLevel) =>
      (message: string, fields?: Record<string, unknown>): void => {
        lines.push(fields === undefined ? { level, message } : { level, message, fields });
      };
    return {
      trace: at("trace"),
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      named: () => make(),
    };
  };
  return { logger: make(), lines };
}

async function start(
  mode: string,
  command = FAKE,
  extra: { startTimeoutMs?: number; brokerNetwork?: "unix" | "tcp" } = {},
) {
  process.env["FAKE_PLUGIN_MODE"] = mode;
  try {
    const inst = await PluginHostInstance.start({
      command,
      logger: nullLogger,
      vaultVersion: "1.15.0+test",
      ...extra,
    });
    started.push(inst);
    if (inst.pid !== undefined) pids.push(inst.pid);
    return inst;
  } finally {
    delete process.env["FAKE_PLUGIN_MODE"];
  }
}

function req(
  mount: string,
  operation: HostRequest["operation"],
  path: string,
  data?: Record<string, unknown>,
) {
  return {
    id: "00000000-0000-4000-8000-000000000000",
    operation,
    path,
    data,
    mountPoint: mount,
    mountType: "transit",
    headers: {},
    clientToken: "hvs.root-token-in-test",
  } satisfies HostRequest;
}

function mountOpts(path: string, storage: Storage = new InMemoryStorage()) {
  return { storage, backendUUID: `uuid-${path}`, mountPoint: path, config: { plugin_name: "fake" } };
}

describe("the plugin client with a stand-in plugin", () => {
  it.each(["unix", "tcp"] as const)(
    "multiplexed: one process, a multiplex id per mount, storage per mount over the broker (%s)",
    async (network) => {
      const inst = await start("mux", FAKE, { brokerNetwork: network });
      expect(inst.multiplexed).toBe(true);
      const sa = new InMemoryStorage();
      const sb = new InMemoryStorage();
      const a = (await inst.mount(mountOpts("a/", sa))) as PluginMount;
      const b = (await inst.mount(mountOpts("b/", sb))) as PluginMount;
      expect(a.multiplexId).toMatch(/^[0-9A-Za-z]{10}$/);
      expect(a.multiplexId).not.toBe(b.multiplexId);
      expect(a.runningVersion).toBe("v9.9.9-fake");

      expect((await a.handleRequest(req("a/", "update", "kv/x", { value: "in a" }))).error).toBeNull();
      expect((await b.handleRequest(req("b/", "update", "kv/x", { value: "in b" }))).error).toBeNull();
      expect(Buffer.from(sa.entries.get("x")!).toString()).toBe("in a");
      expect(Buffer.from(sb.entries.get("x")!).toString()).toBe("in b");
      const read = await a.handleRequest(req("a/", "read", "kv/x"));
      expect(read.response?.data).toMatchObject({ value: "in a", pid: inst.pid });
      expect((await b.handleRequest(req("b/", "read", "kv/x"))).response?.data).toMatchObject({
        pid: inst.pid,
      });
      expect((await a.handleRequest(req("a/", "read", "kv/none"))).response).toBeNull();
      expect(inst.processes).toBe(1);

      const echo = (await a.handleRequest(req("a/", "update", "echo", { n: 1, s: "x" }))).response?.data as {
        request: Record<string, unknown>;
        config: Record<string, string>;
      };
      expect(echo.request).toMatchObject({
        operation: "update",
        path: "echo",
        mountPoint: "a/",
        data: { n: 1, s: "x" },
      });
      expect(echo.request["clientToken"]).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(echo)).not.toContain("root-token-in-test");
      expect(echo.config).toEqual({ plugin_name: "fake" });

      expect(await a.handleExistenceCheck(req("a/", "update", "kv/x"))).toEqual({
        checkFound: true,
        exists: true,
        error: null,
      });
      expect(await a.handleExistenceCheck(req("a/", "update", "kv/y"))).toMatchObject({ exists: false });

      await a.invalidateKey("policy/k");
      expect((await a.handleRequest(req("a/", "read", "invalidations"))).response?.data).toEqual({
        keys: ["policy/k"],
      });
      expect((await b.handleRequest(req("b/", "read", "invalidations"))).response?.data).toEqual({
        keys: [],
      });
    },
  );

  it("passes the plugin's errors through with their kinds", async () => {
    const inst = await start("mux");
    const m = await inst.mount(mountOpts("t/"));
    expect((await m.handleRequest(req("t/", "update", "fail/3"))).error).toEqual({
      kind: ErrorKind.Coded,
      message: "boom",
      code: 418,
    });
    expect((await m.handleRequest(req("t/", "update", "fail/1"))).error).toEqual({
      kind: ErrorKind.User,
      message: "boom",
    });
    expect((await m.handleRequest(req("t/", "read", "nothing/here"))).error).toEqual({
      kind: ErrorKind.UnsupportedPath,
      message: "unsupported path",
    });
  });

  it("storage failures reach the plugin as the reply's err string", async () => {
    const inst = await start("mux");
    const failing: Storage = {
      list: async () => [],
      get: async () => {
        throw new Error("disk on fire");
      },
      put: async () => {
        throw new Error("disk full");
      },
      delete: async () => undefined,
    };
    const m = await inst.mount(mountOpts("f/", failing));
    expect((await m.handleRequest(req("f/", "update", "kv/x", { value: "v" }))).error).toEqual({
      kind: ErrorKind.Internal,
      message: "disk full",
    });
    expect((await m.handleRequest(req("f/", "read", "kv/x"))).error?.message).toBe("disk on fire");
    // Vault's StorageView refuses relative paths.
    expect((await m.handleRequest(req("f/", "update", "kv/../x", { value: "v" }))).error?.message).toBe(
      "relative paths not supported",
    );
  });

  it("a failed Setup fails the mount and leaves the process serving", async () => {
    const inst = await start("mux");
    await expect(inst.mount({ ...mountOpts("s/"), config: { fail_setup: "true" } })).rejects.toThrow(
      "plugin setup failed: setup refused by the fake",
    );
    const ok = await inst.mount(mountOpts("s/"));
    expect((await ok.handleRequest(req("s/", "update", "kv/a", { value: "1" }))).error).toBeNull();
  });

  it("not multiplexed: a process per mount, stopped with its mount, all stopped with the instance", async () => {
    const inst = await start("nomux");
    expect(inst.multiplexed).toBe(false);
    const a = await inst.mount(mountOpts("a/"));
    const b = await inst.mount(mountOpts("b/"));
    const pidA = (await a.handleRequest(req("a/", "read", "echo"))).response?.data?.["pid"] as number;
    const pidB = (await b.handleRequest(req("b/", "read", "echo"))).response?.data?.["pid"] as number;
    pids.push(pidB);
    expect(pidA).toBe(inst.pid);
    expect(pidB).not.toBe(pidA);
    expect(inst.processes).toBe(2);
    await b.cleanup();
    expect(inst.processes).toBe(1);
    await expect.poll(() => alive(pidB)).toBe(false);
    expect(inst.dead).toBe(false);
    const c = await inst.mount(mountOpts("c/"));
    expect((await c.handleRequest(req("c/", "update", "kv/k", { value: "v" }))).error).toBeNull();
    await inst.shutdown();
    expect(alive(pidA)).toBe(false);
    expect(inst.processes).toBe(1);
  });

  it("falls back to protocols 3 and 4 when the plugin cannot speak 5, as Vault", async () => {
    const inst = await start("v4");
    expect(inst.multiplexed).toBe(false);
    const m = await inst.mount(mountOpts("v/"));
    expect((await m.handleRequest(req("v/", "update", "kv/k", { value: "v4" }))).error).toBeNull();
    expect((await m.handleRequest(req("v/", "read", "kv/k"))).response?.data).toMatchObject({ value: "v4" });
  });

  it("shutdown: Cleanup, GRPCController.Shutdown, the process exits by itself", async () => {
    const { logger, lines } = collectingLogger();
    process.env["FAKE_PLUGIN_MODE"] = "mux";
    const client = await PluginClient.start({ command: FAKE, logger, vaultVersion: "1.15.0" }).finally(() => {
      delete process.env["FAKE_PLUGIN_MODE"];
    });
    pids.push(client.pid!);
    await client.mount(mountOpts("x/"));
    await client.shutdown();
    expect(await client.exited).toEqual({ code: 0, signal: null });
    expect(client.mounts.size).toBe(0);
    // The plugin's hclog lines arrive in the host's log at their level.
    expect(lines).toContainEqual({ level: "info", message: "shutdown requested", fields: {} });
    expect(lines.find((l) => l.message === "fake plugin serving")?.fields).toEqual({
      protocol: 5,
      mode: "mux",
    });
    expect(lines.some((l) => l.message === "plugin failed to exit gracefully")).toBe(false);
  });

  it("a killed process ends the instance and fails its calls", async () => {
    const inst = await start("mux");
    const m = await inst.mount(mountOpts("k/"));
    process.kill(inst.pid!, "SIGKILL");
    expect(await inst.exited).toEqual({ code: null, signal: "SIGKILL" });
    expect(inst.dead).toBe(true);
    await expect(m.handleRequest(req("k/", "read", "kv/x"))).rejects.toThrow();
    await expect(inst.mount(mountOpts("k2/"))).rejects.toThrow(/gone/);
  });

  it.each([
    ["garbage", /Unrecognized remote plugin message: "hello from a plugin/],
    ["exit", /plugin exited before we could connect \(code 3\)/],
    ["badcert", /health check failed/],
  ])("refuses a plugin that fails the handshake (%s) and leaves no process", async (mode, message) => {
    const before = new Set(childPids());
    await expect(start(mode)).rejects.toThrow(message);
    await expect.poll(() => childPids().filter((p) => !before.has(p))).toEqual([]);
  });

  it("gives up on a plugin that prints no handshake line in time", async () => {
    await expect(start("silent", FAKE, { startTimeoutMs: 2500 })).rejects.toThrow(
      /timeout while waiting for plugin to start/,
    );
  });

  it("refuses a command that does not exist", async () => {
    await expect(start("mux", ["/nonexistent/plugin-binary"])).rejects.toThrow(
      /cannot start the plugin: spawn \/nonexistent\/plugin-binary ENOENT/,
    );
  });
});

/** Direct children of this test process. */
function childPids(): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(process.pid)], { encoding: "utf8" })
      .split("\n")
      .filter((s) => s !== "")
      .map(Number);
  } catch {
    return [];
  }
}

const REAL_PLUGIN = existsSync(join(REPO_ROOT, "src/plugin/main.ts"));

describe.skipIf(!REAL_PLUGIN)("the plugin client with the project's plugin", () => {
  it("mounts transit twice in one process and serves each from its own storage", async () => {
    const inst = await start("", defaultPluginCommand());
    expect(inst.multiplexed).toBe(true);
    const s1 = new InMemoryStorage();
    const s2 = new InMemoryStorage();
    const t1: MountBackend = await inst.mount(mountOpts("transit/", s1));
    const t2: MountBackend = await inst.mount(mountOpts("other/", s2));
    const created = await t1.handleRequest(req("transit/", "update", "keys/k1"));
    expect(created.error).toBeNull();
    expect([...s1.entries.keys()]).toContain("policy/k1");
    expect(s2.entries.size).toBe(0);
    const enc = await t1.handleRequest(req("transit/", "update", "encrypt/k1", { plaintext: "aGk=" }));
    const ct = enc.response?.data?.["ciphertext"] as string;
    expect(ct).toMatch(/^vault:v1:/);
    const dec = await t1.handleRequest(req("transit/", "update", "decrypt/k1", { ciphertext: ct }));
    expect(dec.response?.data?.["plaintext"]).toBe("aGk=");
    const missing = await t2.handleRequest(req("other/", "read", "keys/k1"));
    expect(missing.error).toBeNull();
    expect(missing.response).toBeNull();
    const bad = await t1.handleRequest(
      req("transit/", "update", "decrypt/k1", { ciphertext: "vault:v1:AAAA" }),
    );
    expect(bad.error?.kind ?? (bad.response?.data?.["error"] ? ErrorKind.User : -1)).not.toBe(-1);
  });

  it("a storage failure is a 500-class error and changes nothing; InvalidateKey makes it read storage again", async () => {
    const inst = await start("", defaultPluginCommand());
    const inner = new InMemoryStorage();
    let failPuts = false;
    const storage: Storage = {
      list: (p) => inner.list(p),
      get: (k) => inner.get(k),
      put: async (e) => {
        if (failPuts) throw new Error("storage unavailable");
        await inner.put(e);
      },
      delete: (k) => inner.delete(k),
    };
    const t = await inst.mount(mountOpts("transit/", storage));
    const version = async () =>
      (await t.handleRequest(req("transit/", "read", "keys/k"))).response?.data?.["latest_version"];
    expect((await t.handleRequest(req("transit/", "update", "keys/k"))).error).toBeNull();
    const v1 = Buffer.from((await inner.get("policy/k"))!.value);

    failPuts = true;
    const rotated = await t.handleRequest(req("transit/", "update", "keys/k/rotate"));
    expect(rotated.error).not.toBeNull();
    expect([ErrorKind.Unknown, ErrorKind.Internal, ErrorKind.Coded]).toContain(rotated.error?.kind);
    expect(rotated.error?.kind === ErrorKind.Coded ? rotated.error.code : 500).toBeGreaterThanOrEqual(500);
    expect(await version()).toBe(1);
    failPuts = false;

    expect((await t.handleRequest(req("transit/", "update", "keys/k/rotate"))).error).toBeNull();
    expect(await version()).toBe(2);
    // The host puts an older keyring back behind the plugin's back, then tells it.
    await inner.put({ key: "policy/k", value: v1 });
    await t.invalidateKey?.("policy/k");
    expect(await version()).toBe(1);
  });
});
