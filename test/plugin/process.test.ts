/**
 * The plugin process's life: refusals at start, mTLS refusals, protocol 4,
 * and every way it stops (Shutdown with a call in flight, SIGTERM, stdin
 * closing, its parent dying) without leaving a process behind.
 */
import { spawn } from "node:child_process";
import { type AddressInfo, createServer } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { HealthClient } from "../../src/gen/grpc/health/v1/health.ts";
import type { HandleRequestReply, SetupReply } from "../../src/gen/sdk/plugin/pb/backend.ts";
import { generateServerCert } from "../../src/plugin/tls.ts";
import {
  alive,
  CLIENT_OPTIONS,
  COOKIE,
  clientCreds,
  connect,
  HostBroker,
  MapStorage,
  Mount,
  PLUGIN_ENTRY,
  REPO,
  responseData,
  type Started,
  startMounted,
  startPlugin,
  unary,
  waitGone,
} from "./helpers/host.ts";

const started: Started[] = [];
afterEach(() => {
  for (const p of started.splice(0)) if (p.child.exitCode === null && p.child.pid) p.child.kill("SIGKILL");
});

function run(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", PLUGIN_ENTRY], {
      cwd: REPO,
      env: { PATH: process.env["PATH"], ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("start-up refusals", () => {
  it("without Vault's magic cookie: one human line on stderr, nothing on stdout, exit 1", async () => {
    const r = await run({});
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/plugin for HashiCorp Vault.*not meant to be executed directly/);
  });

  it("with a wrong cookie value: exit 1", async () => {
    expect((await run({ VAULT_BACKEND_PLUGIN: "nope" })).code).toBe(1);
  });

  it("without PLUGIN_CLIENT_CERT (no auto-mTLS): refuses to serve, exit 1, no handshake", async () => {
    const r = await run({
      ...COOKIE,
      PLUGIN_PROTOCOL_VERSIONS: "4,5",
      VAULT_PLUGIN_AUTOMTLS_ENABLED: "false",
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/mutual TLS/);
  });

  it("with a PLUGIN_CLIENT_CERT that is not a certificate: exit 1", async () => {
    const r = await run({ ...COOKIE, PLUGIN_PROTOCOL_VERSIONS: "5", PLUGIN_CLIENT_CERT: "garbage" });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
  });
});

describe("mTLS", () => {
  async function healthWith(p: Started, creds: grpc.ChannelCredentials): Promise<unknown> {
    const c = new HealthClient(p.handshake.address, creds, CLIENT_OPTIONS);
    try {
      return await unary(c, "check", { service: "plugin" }, new grpc.Metadata(), 5000);
    } finally {
      c.close();
    }
  }

  it("refuses a connection without a client certificate, and one with another certificate", async () => {
    const p = await startPlugin();
    started.push(p);
    const serverRoot = Buffer.from(p.handshake.certPem);
    await expect(healthWith(p, grpc.credentials.createSsl(serverRoot))).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    const other = await generateServerCert();
    await expect(
      healthWith(
        p,
        grpc.credentials.createSsl(serverRoot, Buffer.from(other.keyPem), Buffer.from(other.certPem)),
      ),
    ).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    // plain text is refused too
    await expect(healthWith(p, grpc.credentials.createInsecure())).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    // the host's own certificate works
    await expect(healthWith(p, clientCreds(p.handshake, p.hostCert))).resolves.toMatchObject({ status: 1 });
  });
});

describe("listener", () => {
  it("takes the first free port in PLUGIN_MIN_PORT..PLUGIN_MAX_PORT on 127.0.0.1; none free: exit 1", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
    const port = (busy.address() as AddressInfo).port;
    try {
      const p = await startPlugin({
        env: { PLUGIN_MIN_PORT: String(port), PLUGIN_MAX_PORT: String(port + 1) },
      });
      started.push(p);
      expect(p.handshake.address).toBe(`127.0.0.1:${port + 1}`);
      const host = await generateServerCert();
      const r = await run({
        ...COOKIE,
        PLUGIN_PROTOCOL_VERSIONS: "5",
        PLUGIN_CLIENT_CERT: host.certPem,
        PLUGIN_MIN_PORT: String(port),
        PLUGIN_MAX_PORT: String(port),
      });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("couldn't bind plugin TCP listener");
    } finally {
      busy.close();
    }
  });
});

describe("protocol 4 (not multiplexed)", () => {
  it("negotiates 4 from '3,4', serves one backend without multiplex ids, no multiplexing service", async () => {
    const { p, clients, broker, mount } = await startMounted({ versions: "3,4" });
    started.push(p);
    expect(p.handshake.app).toBe(4);
    await expect(unary(clients.multiplexing, "multiplexingSupport", {})).rejects.toMatchObject({
      code: grpc.status.UNIMPLEMENTED,
    });
    expect((await mount.request("update", "keys/k", {})).err).toBeUndefined();
    expect(responseData(await mount.request("read", "keys/k"))["latest_version"]).toBe(1);
    await unary(clients.controller, "shutdown", {});
    expect(await p.exited).toEqual({ code: 0, signal: null });
    broker.close();
    clients.close();
  });

  it("a host offering only versions we lack gets our lowest version (go-plugin's rule)", async () => {
    const p = await startPlugin({ versions: "1,2" });
    started.push(p);
    expect(p.handshake.app).toBe(3);
  });
});

describe("stopping", () => {
  it("Shutdown is graceful: a call in flight answers, new calls are refused, exit 0", async () => {
    const { p, clients, broker, mount } = await startMounted();
    started.push(p);
    expect((await mount.request("update", "keys/a", {})).err).toBeUndefined();
    mount.storage.listDelayMs = 800;
    const inFlight = mount.request("list", "keys/");
    await new Promise((r) => setTimeout(r, 200));
    await unary(clients.controller, "shutdown", {});
    const reply: HandleRequestReply = await inFlight;
    expect(responseData(reply)["keys"]).toEqual(["a"]);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    broker.close();
    clients.close();
  });

  it("SIGTERM: exit 0", async () => {
    const { p, clients, broker } = await startMounted();
    started.push(p);
    p.child.kill("SIGTERM");
    expect(await p.exited).toEqual({ code: 0, signal: null });
    broker.close();
    clients.close();
  });

  it("SIGINT is ignored, as go-plugin's plugins do (the host stops it after cleaning up)", async () => {
    const p = await startPlugin();
    started.push(p);
    p.child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 500));
    expect(p.child.exitCode).toBeNull();
    const clients = connect(p.handshake, clientCreds(p.handshake, p.hostCert));
    await expect(unary(clients.health, "check", { service: "plugin" })).resolves.toMatchObject({ status: 1 });
    await unary(clients.controller, "shutdown", {});
    expect(await p.exited).toEqual({ code: 0, signal: null });
    clients.close();
  });

  it("stdin closing (the host's pipe): exit 0", async () => {
    const p = await startPlugin();
    started.push(p);
    p.child.stdin!.end();
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });

  for (const stdin of ["pipe", "ignore"] as const) {
    it(`its parent dying (kill -9, plugin stdin ${stdin === "pipe" ? "a pipe from it" : "/dev/null"}): no orphan`, async () => {
      const host = await generateServerCert();
      // An intermediate parent that starts the plugin and reports its pid, then is killed.
      const script = `
        const { spawn } = require("node:child_process");
        const c = spawn(process.execPath, ["--import", "tsx", ${JSON.stringify(PLUGIN_ENTRY)}], {
          cwd: ${JSON.stringify(REPO)}, stdio: [${JSON.stringify(stdin)}, "pipe", "inherit"] });
        c.stdout.once("data", () => process.stdout.write("PID " + c.pid + "\\n"));
        setInterval(() => {}, 1000);`;
      const parent = spawn(process.execPath, ["-e", script], {
        cwd: REPO,
        env: {
          PATH: process.env["PATH"],
          ...COOKIE,
          PLUGIN_PROTOCOL_VERSIONS: "5",
          PLUGIN_CLIENT_CERT: host.certPem,
        },
        stdio: ["ignore", "pipe", "inherit"],
      });
      const pid = await new Promise<number>((resolve, reject) => {
        let out = "";
        parent.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /PID (\d+)\n/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        parent.on("exit", () => reject(new Error("intermediate parent exited early")));
      });
      expect(alive(pid)).toBe(true);
      parent.kill("SIGKILL");
      const gone = await waitGone(pid);
      if (!gone) process.kill(pid, "SIGKILL");
      expect(gone).toBe(true);
    });
  }
});

describe("Setup failures", () => {
  it("a broker id never announced fails Setup after go-plugin's 5 s wait; the process keeps serving", async () => {
    const p = await startPlugin();
    started.push(p);
    const clients = connect(p.handshake, clientCreds(p.handshake, p.hostCert));
    const broker = new HostBroker(clients, p.handshake, p.hostCert);
    const mount = new Mount(clients, new MapStorage(), "x");
    await expect(
      mount.call<SetupReply>("setup", { brokerId: 99, Config: {}, backendUUID: "u" }),
    ).rejects.toThrow(/timeout while waiting for connection information for id: 99/);
    await expect(unary(clients.health, "check", { service: "plugin" })).resolves.toMatchObject({ status: 1 });
    broker.close();
    clients.close();
  });
});
