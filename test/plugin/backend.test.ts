/**
 * The plugin process end to end, through the real handshake and mTLS: a
 * test host (helpers/host.ts) plays Vault's part, serves Storage and
 * SystemView through the broker and drives Vault's pb.Backend calls.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthCheckResponse_ServingStatus } from "../../src/gen/grpc/health/v1/health.ts";
import type {
  HandleExistenceCheckReply,
  HandleRequestReply,
  InitializeReply,
  SetupReply,
  SpecialPathsReply,
  TypeReply,
} from "../../src/gen/sdk/plugin/pb/backend.ts";
import { PLUGIN_VERSION } from "../../src/plugin/version.ts";
import { CANARY_PLAINTEXT } from "../helpers/canaries.ts";
import {
  type Clients,
  clientCreds,
  connect,
  fillRequest,
  HostBroker,
  MapStorage,
  Mount,
  responseData,
  type Started,
  startPlugin,
  unary,
} from "./helpers/host.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("plugin process: Vault's Backend over go-plugin (protocol 5, multiplexed)", () => {
  let p: Started;
  let clients: Clients;
  let broker: HostBroker;
  let mount: Mount;

  beforeAll(async () => {
    p = await startPlugin({ versions: "4,5" });
    clients = connect(p.handshake, clientCreds(p.handshake, p.hostCert));
    broker = new HostBroker(clients, p.handshake, p.hostCert);
    mount = new Mount(clients, new MapStorage(), "mount-a");
  });

  afterAll(async () => {
    broker?.close();
    clients?.close();
    if (p !== undefined && p.child.exitCode === null) p.child.kill("SIGKILL");
  });

  it("prints go-plugin's handshake line and its certificate is go-plugin's", async () => {
    const h = p.handshake;
    expect(h.core).toBe(1);
    expect(h.app).toBe(5);
    expect(h.network).toBe("tcp");
    expect(h.protocol).toBe("grpc");
    const port = Number(h.address.split(":")[1]);
    expect(h.address.startsWith("127.0.0.1:")).toBe(true);
    expect(port).toBeGreaterThanOrEqual(10000);
    expect(port).toBeLessThanOrEqual(25000);
    const { X509Certificate } = await import("node:crypto");
    const cert = new X509Certificate(h.certDer);
    expect(cert.subject).toContain("CN=localhost");
    expect(cert.subject).toContain("O=HashiCorp");
    expect(cert.ca).toBe(true);
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("secp521r1");
  });

  it("answers health for 'plugin', multiplexing support and its version", async () => {
    const health = await unary<{ status: number }>(clients.health, "check", { service: "plugin" });
    expect(health.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const mux = await unary<{ supported: boolean }>(clients.multiplexing, "multiplexingSupport", {});
    expect(mux.supported).toBe(true);
    const v = await unary<{ pluginVersion: string }>(clients.version, "version", {});
    expect(v.pluginVersion).toBe(PLUGIN_VERSION);
  });

  it("Setup dials the brokered Storage (announced after the call starts), then Initialize, Type, SpecialPaths", async () => {
    const { id, announce } = await broker.serve(mount.storage, { announce: false });
    const setup = mount.call<SetupReply>("setup", { brokerId: id, Config: {}, backendUUID: "uuid-a" });
    setTimeout(announce, 200);
    expect((await setup).err).toBe("");
    expect((await mount.call<InitializeReply>("initialize", {})).err).toBeUndefined();
    expect((await mount.call<TypeReply>("type", {})).type).toBe(1);
    const sp = await mount.call<SpecialPathsReply>("specialPaths", {});
    expect(sp.paths?.sealWrapStorage).toEqual(["archive/", "policy/"]);
  });

  it("creates a key, encrypts, decrypts, rotates, rewraps and reads it; keys live in the host's storage", async () => {
    // keys/ has no existence check (as in Vault); encrypt/ has one (upsert).
    const noCheck = await mount.call<HandleExistenceCheckReply>("handleExistenceCheck", {
      storageId: 0,
      request: fillRequest({ operation: "create", path: "keys/k1", data: "{}" }),
    });
    expect(noCheck).toMatchObject({ checkFound: false, exists: false });
    const ex = await mount.call<HandleExistenceCheckReply>("handleExistenceCheck", {
      storageId: 0,
      request: fillRequest({ operation: "create", path: "encrypt/k1", data: "{}" }),
    });
    expect(ex).toMatchObject({ checkFound: true, exists: false });
    expect(ex.err).toBeUndefined();

    const created = await mount.request("update", "keys/k1", {});
    expect(created.err).toBeUndefined();
    expect([...mount.storage.entries.keys()]).toContain("policy/k1");

    const enc = await mount.request("update", "encrypt/k1", { plaintext: b64(CANARY_PLAINTEXT) });
    expect(enc.err).toBeUndefined();
    const ct = responseData(enc)["ciphertext"] as string;
    expect(ct).toMatch(/^vault:v1:/);

    const dec = await mount.request("update", "decrypt/k1", { ciphertext: ct });
    expect(Buffer.from(responseData(dec)["plaintext"] as string, "base64").toString()).toBe(CANARY_PLAINTEXT);

    expect((await mount.request("update", "keys/k1/rotate")).err).toBeUndefined();
    const rw = await mount.request("update", "rewrap/k1", { ciphertext: ct });
    expect(responseData(rw)["ciphertext"]).toMatch(/^vault:v2:/);

    const read = await mount.request("read", "keys/k1");
    const data = responseData(read);
    expect(data["latest_version"]).toBe(2);
    expect(data["name"]).toBe("k1");

    const ex2 = await mount.call<HandleExistenceCheckReply>("handleExistenceCheck", {
      storageId: 0,
      request: fillRequest({ operation: "update", path: "encrypt/k1", data: "{}" }),
    });
    expect(ex2).toMatchObject({ checkFound: true, exists: true });
  });

  it("numbers arrive as JSON numbers or strings (json.Number), as from Vault", async () => {
    const enc = await mount.request("update", "encrypt/k1", { plaintext: b64("x"), key_version: "1" });
    expect(responseData(enc)["ciphertext"]).toMatch(/^vault:v1:/);
    const enc2 = await mount.request("update", "encrypt/k1", { plaintext: b64("x"), key_version: 2 });
    expect(responseData(enc2)["ciphertext"]).toMatch(/^vault:v2:/);
  });

  it("maps errors as Vault's built-in transit: 400 error responses, unsupported path, raw batch responses", async () => {
    const missing = await mount.request("update", "decrypt/nope", { ciphertext: "vault:v1:AAAA" });
    // Vault answers 400 with the response's error text (logical.ErrorResponse + ErrInvalidRequest).
    expect(missing.err === undefined || missing.err.errType === 7).toBe(true);
    expect(String(responseData(missing)["error"])).not.toBe("");

    const bad = await mount.request("update", "no/such/path");
    expect(bad.err?.errType).toBe(6);
    expect(bad.err?.errMsg).toBe("unsupported path");

    const batch = await mount.request("update", "decrypt/k1", {
      batch_input: [{ ciphertext: "vault:v1:not-base64!" }],
    });
    const raw = responseData(batch);
    expect(raw["http_status_code"]).toBe(400);
    expect(raw["http_content_type"]).toBe("application/json");
    const body = JSON.parse(raw["http_raw_body"] as string) as Record<string, unknown>;
    expect(body["request_id"]).toBe("req-1");
    expect(Array.isArray((body["data"] as Record<string, unknown>)["batch_results"])).toBe(true);
  });

  it("refuses calls without a multiplex id, or for a mount that was never set up", async () => {
    const args = { storageId: 0, request: fillRequest({ operation: "read", path: "keys/k1" }) };
    await expect(unary<HandleRequestReply>(clients.backend, "handleRequest", args)).rejects.toThrow(
      /no multiplexing ID found/,
    );
    const other = new Mount(clients, new MapStorage(), "never-set-up");
    await expect(other.request("read", "keys/k1")).rejects.toThrow(/no backend instance found/);
  });

  it("keeps mounts apart: each multiplex id has its own backend and storage (this one brokered over a unix socket)", async () => {
    const b = new Mount(clients, new MapStorage(), "mount-b");
    // This one is brokered over a unix socket, as go-plugin hosts on Linux do.
    const dir = mkdtempSync(join(tmpdir(), "plugin-broker-"));
    const { id } = await broker.serve(b.storage, { unixSocket: join(dir, "plugin1") });
    expect((await b.call<SetupReply>("setup", { brokerId: id, Config: {}, backendUUID: "uuid-b" })).err).toBe(
      "",
    );
    await b.call("initialize", {});
    const read = await b.request("read", "keys/k1");
    expect(read.response).toBeUndefined();
    expect(read.err).toBeUndefined();
    expect(b.storage.entries.size).toBe(0);
    await b.call("cleanup", {});
    await expect(b.request("read", "keys/k1")).rejects.toThrow(/no backend instance found/);
    // mount-a is untouched
    expect(responseData(await mount.request("read", "keys/k1"))["latest_version"]).toBe(2);
  });

  it("the rollback operation runs the periodic function", async () => {
    const r = await mount.request("rollback", "");
    expect(r.err).toBeUndefined();
  });

  it("Cleanup then Shutdown: the process exits 0", async () => {
    await mount.call("cleanup", {});
    await unary(clients.controller, "shutdown", {});
    const exit = await p.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(p.stderr()).not.toContain(CANARY_PLAINTEXT);
    expect(p.stderr()).not.toContain(b64(CANARY_PLAINTEXT));
  });
});
