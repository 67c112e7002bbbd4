/**
 * A small go-plugin host for the plugin-process tests: starts the real plugin
 * (node --import tsx src/plugin/main.ts) with Vault's environment and a
 * client certificate made here, parses the handshake line, connects the
 * generated clients over mTLS, and serves Storage and SystemView (a Map) on a
 * brokered listener announced through the broker stream, as Vault does.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { listSegments } from "../../../src/framework/storage.ts";
import { HealthClient } from "../../../src/gen/grpc/health/v1/health.ts";
import { type ConnInfo, GRPCBrokerClient } from "../../../src/gen/plugin/grpc_broker.ts";
import { GRPCControllerClient } from "../../../src/gen/plugin/grpc_controller.ts";
import { PluginMultiplexingClient } from "../../../src/gen/sdk/helper/pluginutil/multiplexing.ts";
import { PluginVersionClient } from "../../../src/gen/sdk/logical/version.ts";
import {
  BackendClient,
  type HandleRequestReply,
  type Request,
  type StorageServer,
  StorageService,
  type SystemViewServer,
  SystemViewService,
} from "../../../src/gen/sdk/plugin/pb/backend.ts";
import { generateServerCert, type ServerCert } from "../../../src/plugin/tls.ts";
import { toPem } from "../../../src/util/auto-mtls-cert.ts";

export const REPO = resolve(import.meta.dirname, "../../..");
export const PLUGIN_ENTRY = resolve(REPO, "src/plugin/main.ts");
export const COOKIE = { VAULT_BACKEND_PLUGIN: "6669da05-b1c8-4f49-97d9-c8e5bed98e20" };

export interface Handshake {
  core: number;
  app: number;
  network: string;
  address: string;
  protocol: string;
  certDer: Buffer;
  certPem: string;
}

export function parseHandshake(line: string): Handshake {
  const parts = line.trim().split("|");
  if (parts.length !== 6) throw new Error(`bad handshake line: ${line}`);
  const [core, app, network, address, protocol, cert] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const certDer = Buffer.from(cert, "base64");
  return {
    core: Number(core),
    app: Number(app),
    network,
    address,
    protocol,
    certDer,
    certPem: toPem("CERTIFICATE", certDer),
  };
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  versions?: string;
  /** Where the child's stdin comes from (default: a pipe we hold). */
  stdin?: "pipe" | "ignore";
}

export interface Started {
  child: ChildProcess;
  handshake: Handshake;
  hostCert: ServerCert;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns the plugin with Vault's environment and waits for its handshake line. */
export async function startPlugin(opts: StartOptions = {}): Promise<Started> {
  const hostCert = await generateServerCert();
  const env: Record<string, string | undefined> = {
    PATH: process.env["PATH"],
    HOME: process.env["HOME"],
    ...COOKIE,
    PLUGIN_PROTOCOL_VERSIONS: opts.versions ?? "4,5",
    PLUGIN_MIN_PORT: "10000",
    PLUGIN_MAX_PORT: "25000",
    PLUGIN_CLIENT_CERT: hostCert.certPem,
    VAULT_PLUGIN_AUTOMTLS_ENABLED: "true",
    VAULT_VERSION: "1.20.0",
    ...opts.env,
  };
  const child = spawn(process.execPath, ["--import", "tsx", PLUGIN_ENTRY], {
    cwd: REPO,
    env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv,
    stdio: [opts.stdin ?? "pipe", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => {
    err += d;
    // Relayed so that the suite's secrets scan sees everything the plugin logs.
    process.stderr.write(d);
  });
  const exited = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const line = await new Promise<string>((resolveLine, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8");
    const onData = (d: string): void => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl !== -1) {
        child.stdout!.off("data", onData);
        resolveLine(out.slice(0, nl));
      }
    };
    child.stdout!.on("data", onData);
    void exited.then((e) => reject(new Error(`plugin exited before its handshake (${e.code}): ${err}`)));
  });
  return { child, handshake: parseHandshake(line), hostCert, stderr: () => err, exited };
}

export function clientCreds(h: Handshake, cert: ServerCert): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    Buffer.from(h.certPem),
    Buffer.from(cert.keyPem),
    Buffer.from(cert.certPem),
  );
}

export const CLIENT_OPTIONS: grpc.ClientOptions = {
  "grpc.ssl_target_name_override": "localhost",
  "grpc.default_authority": "localhost",
  "grpc.max_receive_message_length": -1,
  "grpc.max_send_message_length": -1,
};

export interface Clients {
  channel: grpc.Channel;
  backend: BackendClient;
  health: HealthClient;
  broker: GRPCBrokerClient;
  controller: GRPCControllerClient;
  version: PluginVersionClient;
  multiplexing: PluginMultiplexingClient;
  close(): void;
}

export function connect(h: Handshake, creds: grpc.ChannelCredentials): Clients {
  const channel = new grpc.Channel(h.address, creds, CLIENT_OPTIONS);
  const o = { channelOverride: channel };
  const insecure = grpc.credentials.createInsecure();
  return {
    channel,
    backend: new BackendClient(h.address, insecure, o),
    health: new HealthClient(h.address, insecure, o),
    broker: new GRPCBrokerClient(h.address, insecure, o),
    controller: new GRPCControllerClient(h.address, insecure, o),
    version: new PluginVersionClient(h.address, insecure, o),
    multiplexing: new PluginMultiplexingClient(h.address, insecure, o),
    close: () => channel.close(),
  };
}

/** Promisifies a generated unary method: unary(client, "method", request, metadata?). */
export function unary<Res>(
  client: grpc.Client,
  method: string,
  request: unknown,
  metadata = new grpc.Metadata(),
  deadlineMs = 20_000,
): Promise<Res> {
  return new Promise((resolveCall, reject) => {
    const fn = (client as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!;
    fn.call(
      client,
      request,
      metadata,
      { deadline: Date.now() + deadlineMs },
      (err: grpc.ServiceError | null, res: Res) => (err ? reject(err) : resolveCall(res)),
    );
  });
}

/** A Map-backed Storage the test controls, with injectable failures. */
export class MapStorage {
  readonly entries = new Map<string, Buffer>();
  /** When set, Put answers StoragePutReply.err with this text. */
  failPut: string | null = null;
  puts = 0;
  /** When set, List answers after this many milliseconds (a call kept in flight). */
  listDelayMs = 0;

  service(): StorageServer {
    return {
      list: (call, cb) => {
        const answer = () =>
          cb(null, { keys: listSegments(this.entries.keys(), call.request.prefix), err: "" });
        if (this.listDelayMs > 0) setTimeout(answer, this.listDelayMs);
        else answer();
      },
      get: (call, cb) => {
        const v = this.entries.get(call.request.key);
        cb(null, {
          entry:
            v === undefined ? undefined : { key: call.request.key, value: Buffer.from(v), sealWrap: false },
          err: "",
        });
      },
      put: (call, cb) => {
        this.puts++;
        if (this.failPut !== null) {
          cb(null, { err: this.failPut });
          return;
        }
        const e = call.request.entry!;
        this.entries.set(e.key, Buffer.from(e.value));
        cb(null, { err: "" });
      },
      delete: (call, cb) => {
        this.entries.delete(call.request.key);
        cb(null, { err: "" });
      },
    };
  }
}

function systemView(): SystemViewServer {
  const unimplemented = (_c: unknown, cb: grpc.sendUnaryData<never>) =>
    cb({ code: grpc.status.UNIMPLEMENTED, details: "not in this test host" });
  return {
    defaultLeaseTtl: (_c, cb) => cb(null, { TTL: 768 * 3600 * 1e9 }),
    maxLeaseTtl: (_c, cb) => cb(null, { TTL: 768 * 3600 * 1e9 }),
    tainted: (_c, cb) => cb(null, { tainted: false }),
    cachingDisabled: (_c, cb) => cb(null, { disabled: false }),
    replicationState: (_c, cb) => cb(null, { state: 0 }),
    responseWrapData: unimplemented,
    mlockEnabled: (_c, cb) => cb(null, { enabled: false }),
    localMount: (_c, cb) => cb(null, { local: false }),
    entityInfo: unimplemented,
    pluginEnv: (_c, cb) =>
      cb(null, {
        pluginEnvironment: { vaultVersion: "1.20.0", vaultVersionPrerelease: "", vaultVersionMetadata: "" },
        err: "",
      }),
    groupsForEntity: unimplemented,
    generatePasswordFromPolicy: unimplemented,
    clusterInfo: unimplemented,
    generateIdentityToken: unimplemented,
    registerRotationJob: unimplemented,
    deregisterRotationJob: unimplemented,
  };
}

/**
 * The host side of the broker: one StartStream, and for each Setup a TLS
 * listener serving Storage and SystemView, announced by id. The listener
 * trusts only the plugin's certificate, as go-plugin's does.
 */
export class HostBroker {
  private stream: grpc.ClientDuplexStream<ConnInfo, ConnInfo>;
  private nextId = 1;
  readonly servers: grpc.Server[] = [];

  constructor(
    clients: Clients,
    private readonly h: Handshake,
    private readonly cert: ServerCert,
  ) {
    this.stream = clients.broker.startStream();
    this.stream.on("data", () => {});
    this.stream.on("error", () => {});
  }

  /** Serves `storage` on a new brokered listener; returns the broker id to pass to Setup. */
  async serve(
    storage: MapStorage,
    opts: { announce?: boolean; unixSocket?: string } = {},
  ): Promise<{ id: number; announce: () => void }> {
    const server = new grpc.Server();
    server.addService(StorageService, storage.service());
    server.addService(SystemViewService, systemView());
    const creds = grpc.ServerCredentials.createSsl(
      Buffer.from(this.h.certPem),
      [{ private_key: Buffer.from(this.cert.keyPem), cert_chain: Buffer.from(this.cert.certPem) }],
      true,
    );
    // go-plugin hosts on Unix-like systems broker over unix sockets; TCP is what Windows hosts use.
    const target = opts.unixSocket === undefined ? "127.0.0.1:0" : `unix://${opts.unixSocket}`;
    const port = await new Promise<number>((ok, ko) =>
      server.bindAsync(target, creds, (e, p) => (e ? ko(e) : ok(p))),
    );
    this.servers.push(server);
    const id = this.nextId++;
    const info =
      opts.unixSocket === undefined
        ? { serviceId: id, network: "tcp", address: `127.0.0.1:${port}` }
        : { serviceId: id, network: "unix", address: opts.unixSocket };
    const announce = (): void => {
      this.stream.write(info);
    };
    if (opts.announce !== false) announce();
    return { id, announce };
  }

  close(): void {
    this.stream.end();
    for (const s of this.servers) s.forceShutdown();
  }
}

/** One mounted backend over the plugin: Setup, Initialize and requests, with its multiplex id. */
export class Mount {
  readonly metadata = new grpc.Metadata();

  constructor(
    readonly clients: Clients,
    readonly storage: MapStorage,
    multiplexId: string | null,
  ) {
    if (multiplexId !== null) this.metadata.set("multiplex_id", multiplexId);
  }

  call<Res>(method: string, request: unknown): Promise<Res> {
    return unary<Res>(this.clients.backend, method, request, this.metadata);
  }

  request(operation: string, path: string, data?: Record<string, unknown>): Promise<HandleRequestReply> {
    const request: Partial<Request> = {
      id: "req-1",
      operation,
      path,
      data: data === undefined ? "" : JSON.stringify(data),
      mountPoint: "transit/",
      mountType: "transit",
      headers: {},
    };
    return this.call<HandleRequestReply>("handleRequest", { storageId: 0, request: fillRequest(request) });
  }
}

export function fillRequest(r: Partial<Request>): Request {
  return {
    id: "",
    ReplicationCluster: "",
    operation: "",
    path: "",
    data: "",
    headers: {},
    clientToken: "",
    clientTokenAccessor: "",
    displayName: "",
    mountPoint: "",
    mountType: "",
    mountAccessor: "",
    clientTokenRemainingUses: 0,
    entityId: "",
    policyOverride: false,
    unauthenticated: false,
    requiresSnapshotId: "",
    ...r,
  };
}

export function responseData(reply: HandleRequestReply): Record<string, unknown> {
  return JSON.parse(reply.response?.data ?? "null") as Record<string, unknown>;
}

/** True while a process with this pid runs (a zombie waiting for a reaper has exited). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return true;
  }
}

/** Spawns the plugin, connects, serves a fresh MapStorage through the broker and sets up one mount. */
export async function startMounted(
  opts: StartOptions = {},
): Promise<{ p: Started; clients: Clients; broker: HostBroker; mount: Mount }> {
  const p = await startPlugin(opts);
  const clients = connect(p.handshake, clientCreds(p.handshake, p.hostCert));
  const broker = new HostBroker(clients, p.handshake, p.hostCert);
  const mount = new Mount(clients, new MapStorage(), p.handshake.app >= 5 ? "m1" : null);
  const { id } = await broker.serve(mount.storage);
  const setup = await mount.call<{ err: string }>("setup", { brokerId: id, Config: {}, backendUUID: "u1" });
  if (setup.err !== "") throw new Error(setup.err);
  await mount.call("initialize", {});
  return { p, clients, broker, mount };
}

/** Resolves true once the pid is gone, false after timeoutMs. */
export async function waitGone(pid: number, timeoutMs = 15_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

export function certSubject(pem: string): string {
  return new X509Certificate(pem).subject;
}
