/**
 * Protocol abuse against the real plugin process (src/plugin), beyond the
 * plugin's own refusal tests in test/plugin/process.test.ts (no client
 * certificate, another certificate, plain text, a broker id never announced):
 *
 * - transport: plain-text garbage, an HTTP/1.1 request, TLS handshakes that
 *   stall, a flood of connections without a client certificate: refused, and
 *   the plugin keeps answering its host;
 * - the broker announcing unexpected addresses for Setup (a closed port, a
 *   non-gRPC server, an HTTP server, a TLS server with another certificate,
 *   a missing unix socket, a malformed address, an unknown network, an
 *   unroutable address): Setup fails with an error, in bounded time, and the
 *   process keeps serving (a good Setup afterwards works);
 * - oversized and malformed gRPC messages: a 48 MiB request is answered, a
 *   frame declaring 2 GiB and then abandoned, a frame of garbage protobuf and
 *   a truncated frame are refused, and the plugin survives each;
 * - requests for paths outside the mount: answered 404 or 4xx, and storage is
 *   only ever touched under the engine's own prefixes.
 */
import { connect as http2Connect } from "node:http2";
import { createServer as createNetServer, connect as netConnect, type Server } from "node:net";
import { connect as tlsConnect } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HandleRequestReply, SetupReply } from "../../src/gen/sdk/plugin/pb/backend.ts";
import { generateServerCert } from "../../src/plugin/tls.ts";
import {
  alive,
  type Clients,
  certSubject,
  clientCreds,
  connect,
  type HostBroker,
  MapStorage,
  Mount,
  responseData,
  type Started,
  startMounted,
  unary,
} from "../plugin/helpers/host.ts";

let p: Started;
let clients: Clients;
let broker: HostBroker;
let mount: Mount;
const figures: string[] = [];
const servers: Server[] = [];

beforeAll(async () => {
  ({ p, clients, broker, mount } = await startMounted({ versions: "5" }));
  expect((await mount.request("update", "keys/alive")).err).toBeUndefined();
}, 60_000);

afterAll(async () => {
  for (const f of figures) console.log(`PROTOCOL-RESULT ${f}`);
  for (const s of servers) s.close();
  broker?.close();
  clients?.close();
  if (p?.child.exitCode === null) p.child.kill("SIGKILL");
});

const port = () => Number(p.handshake.address.split(":").at(-1));

async function healthy(): Promise<void> {
  expect(alive(p.child.pid!)).toBe(true);
  await expect(
    unary(clients.health, "check", { service: "plugin" }, new grpc.Metadata(), 10_000),
  ).resolves.toMatchObject({
    status: 1,
  });
  const r = await mount.request("update", "encrypt/alive", { plaintext: "YWxpdmU=" });
  expect(r.err).toBeUndefined();
  expect(String(responseData(r)["ciphertext"])).toMatch(/^vault:v1:/);
}

/** Opens a raw TCP connection, writes `bytes`, and resolves with what came back before the close or timeout. */
function rawExchange(bytes: Buffer | string, waitMs = 1500): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = netConnect(port(), "127.0.0.1");
    const chunks: Buffer[] = [];
    const done = () => resolve(Buffer.concat(chunks));
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("close", done);
    s.on("error", done);
    s.write(bytes);
    setTimeout(() => s.destroy(), waitMs);
  });
}

describe("transport abuse", () => {
  it("plain-text garbage, an HTTP/1.1 request and an HTTP/2 preface without TLS get nothing useful; the plugin serves on", async () => {
    for (const bytes of [
      Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0x16, 0x03]),
      "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
      Buffer.alloc(256 * 1024, 0x41),
    ]) {
      const back = await rawExchange(bytes, 800);
      // No HTTP answer and no gRPC frames: at most a TLS alert.
      expect(back.toString("latin1")).not.toMatch(/HTTP\/|grpc/);
      expect(back.length).toBeLessThan(64);
    }
    await healthy();
  });

  it("the plugin's trusted client certificate is the host's alone: the other certificate even has the same subject", async () => {
    const other = await generateServerCert();
    // A certificate naming the same subject (go-plugin's O=HashiCorp, CN=localhost) is still another certificate.
    expect(certSubject(other.certPem)).toBe(certSubject(p.hostCert.certPem));
    const c = connect(p.handshake, clientCreds(p.handshake, other));
    await expect(
      unary(c.health, "check", { service: "plugin" }, new grpc.Metadata(), 5000),
    ).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    c.close();
  });

  it("200 concurrent TLS connections without a client certificate, and 50 that stall mid-handshake, do not stop it", async () => {
    const started = performance.now();
    const attempts = Array.from(
      { length: 200 },
      () =>
        new Promise<string>((resolve) => {
          const s = tlsConnect({
            host: "127.0.0.1",
            port: port(),
            servername: "localhost",
            ca: p.handshake.certPem,
            ALPNProtocols: ["h2"],
          });
          s.on("secureConnect", () => {
            // TLS 1.3: the server checks the client certificate after the client's Finished.
            s.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
          });
          s.on("data", () => {});
          s.on("error", (e) => resolve(`error:${(e as NodeJS.ErrnoException).code ?? e.message}`));
          s.on("close", () => resolve("closed"));
          setTimeout(() => {
            s.destroy();
            resolve("timeout");
          }, 10_000);
        }),
    );
    // Half handshakes: a TCP connection that sends the first bytes of a ClientHello and stops.
    const stalled = Array.from({ length: 50 }, () => {
      const s = netConnect(port(), "127.0.0.1");
      s.on("error", () => {});
      s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
      return s;
    });
    // The host's own calls are answered meanwhile.
    await healthy();
    const outcomes = await Promise.all(attempts);
    for (const s of stalled) s.destroy();
    expect(outcomes.filter((o) => o === "timeout")).toEqual([]);
    await healthy();
    figures.push(
      `tls_flood refused=${outcomes.length} stalled=${stalled.length} seconds=${((performance.now() - started) / 1000).toFixed(1)}`,
    );
  }, 60_000);
});

describe("a broker announcing unexpected addresses", () => {
  it("Setup fails with an error in bounded time for each, the process keeps serving, and a good Setup still works", async () => {
    // Listeners that are not the host's brokered service.
    const listen = (onConn: (s: import("node:net").Socket) => void): Promise<number> =>
      new Promise((resolve) => {
        const srv = createNetServer(onConn);
        servers.push(srv);
        srv.listen(0, "127.0.0.1", () => resolve((srv.address() as { port: number }).port));
      });
    const garbage = await listen((s) => {
      s.on("error", () => {});
      s.end(Buffer.from("\x00\xff garbage \x16\x03\x01"));
    });
    const http1 = await listen((s) => {
      s.on("error", () => {});
      s.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    const silent = await listen((s) => {
      s.on("error", () => {});
    });
    const closed = await listen(() => {});
    servers.at(-1)?.close();
    // A real gRPC/TLS server, but with a certificate the plugin does not trust (a man in the middle).
    const mitmCert = await generateServerCert();
    const mitm = new grpc.Server();
    const mitmPort = await new Promise<number>((ok, ko) =>
      mitm.bindAsync(
        "127.0.0.1:0",
        grpc.ServerCredentials.createSsl(
          null,
          [{ private_key: Buffer.from(mitmCert.keyPem), cert_chain: Buffer.from(mitmCert.certPem) }],
          false,
        ),
        (e, port) => (e ? ko(e) : ok(port)),
      ),
    );
    const cases: [string, { network: string; address: string }][] = [
      ["closed port", { network: "tcp", address: `127.0.0.1:${closed}` }],
      ["garbage server", { network: "tcp", address: `127.0.0.1:${garbage}` }],
      ["HTTP/1.1 server", { network: "tcp", address: `127.0.0.1:${http1}` }],
      ["silent server", { network: "tcp", address: `127.0.0.1:${silent}` }],
      ["TLS server with another certificate", { network: "tcp", address: `127.0.0.1:${mitmPort}` }],
      ["missing unix socket", { network: "unix", address: "/nonexistent/dir/plugin.sock" }],
      ["malformed address", { network: "tcp", address: "not an address:::" }],
      ["empty address", { network: "tcp", address: "" }],
      ["unknown network", { network: "udp", address: "127.0.0.1:1" }],
      ["unroutable address (TEST-NET-1)", { network: "tcp", address: "192.0.2.1:9" }],
    ];
    const stream = (broker as unknown as { stream: grpc.ClientDuplexStream<unknown, unknown> }).stream;
    const started = performance.now();
    const results = await Promise.all(
      cases.map(async ([name, info], i) => {
        const serviceId = 1000 + i;
        stream.write({ serviceId, ...info });
        const m = new Mount(clients, new MapStorage(), `abuse-${i}`);
        const t0 = performance.now();
        const outcome = await m
          .call<SetupReply>("setup", { brokerId: serviceId, Config: {}, backendUUID: `abuse-${i}` })
          .then(
            (r) => (r.err === "" ? "accepted" : `err: ${r.err}`),
            (e: Error) => `rpc error: ${e.message}`,
          );
        // A request on the mount that never set up is refused, not served with some other storage.
        const req = await m.request("read", "keys/x").then(
          (r: HandleRequestReply) => (r.err === undefined ? "served" : "refused"),
          () => "refused",
        );
        return { name, outcome, req, ms: performance.now() - t0 };
      }),
    );
    mitm.forceShutdown();
    for (const r of results) {
      expect(r.outcome, r.name).not.toBe("accepted");
      expect(r.req, r.name).toBe("refused");
      expect(r.ms, r.name).toBeLessThan(15_000);
    }
    await healthy();
    // A good Setup after all that.
    const good = new Mount(clients, new MapStorage(), "after-abuse");
    const { id } = await broker.serve(good.storage);
    expect(
      (await good.call<SetupReply>("setup", { brokerId: id, Config: {}, backendUUID: "after" })).err,
    ).toBe("");
    await good.call("initialize", {});
    const created = await good.request("update", "keys/k");
    expect(created.err).toBeUndefined();
    expect(good.storage.entries.has("policy/k")).toBe(true);
    figures.push(
      `broker_addresses cases=${cases.length} all_refused=yes max_ms=${Math.round(Math.max(...results.map((r) => r.ms)))} seconds=${((performance.now() - started) / 1000).toFixed(1)}`,
    );
  }, 90_000);
});

/** An mTLS HTTP/2 session to the plugin as its host, for hand-made gRPC frames. */
function h2Session() {
  return http2Connect(`https://localhost:${port()}`, {
    ca: p.handshake.certPem,
    key: p.hostCert.keyPem,
    cert: p.hostCert.certPem,
    servername: "localhost",
    host: "127.0.0.1",
  } as Parameters<typeof http2Connect>[1]);
}

/** Sends one hand-made gRPC message body to Backend/HandleRequest; resolves with the grpc-status (or a reset). */
function rawCall(frame: Buffer, opts: { end?: boolean; resetAfterMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const session = h2Session();
    session.on("error", () => resolve("session error"));
    const req = session.request({
      ":method": "POST",
      ":path": "/pb.Backend/HandleRequest",
      "content-type": "application/grpc",
      te: "trailers",
      multiplex_id: "m1",
    });
    let status = "no status";
    req.on("response", (h) => {
      if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
    });
    req.on("trailers", (h) => {
      status = String(h["grpc-status"]);
    });
    req.on("data", () => {});
    req.on("error", () => {
      status = "stream error";
    });
    req.on("close", () => {
      session.close();
      resolve(status);
    });
    req.write(frame);
    if (opts.end !== false) req.end();
    if (opts.resetAfterMs !== undefined) setTimeout(() => req.close(), opts.resetAfterMs);
  });
}

describe("oversized and malformed gRPC messages", () => {
  it("a 48 MiB request is answered and the plugin survives", async () => {
    const plaintext = Buffer.alloc(48 * 1024 * 1024, 0x61).toString("base64");
    const started = performance.now();
    const r = await mount.request("update", "encrypt/alive", { plaintext });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    expect(r.err).toBeUndefined();
    expect(String(responseData(r)["ciphertext"])).toMatch(/^vault:v1:/);
    await healthy();
    figures.push(`oversized_request bytes=${plaintext.length} seconds=${seconds}`);
  }, 120_000);

  it("a frame declaring 2 GiB and then abandoned, garbage protobuf and a truncated frame are refused; the plugin survives", async () => {
    const rssBefore =
      Number((await import("node:fs")).readFileSync(`/proc/${p.child.pid}/statm`, "utf8").split(" ")[1]) *
      4096;
    const header = (len: number) => {
      const b = Buffer.alloc(5);
      b.writeUInt32BE(len, 1);
      return b;
    };
    const outcomes: Record<string, string> = {};
    // Declares 2^31-1 bytes, sends 1 MiB, then resets the stream.
    outcomes["declared 2 GiB, abandoned"] = await rawCall(
      Buffer.concat([header(0x7fffffff), Buffer.alloc(1 << 20, 1)]),
      {
        end: false,
        resetAfterMs: 300,
      },
    );
    // Declares 2^31-1 bytes, sends 1 MiB, then ends the stream: a truncated message.
    outcomes["declared 2 GiB, ended early"] = await rawCall(
      Buffer.concat([header(0x7fffffff), Buffer.alloc(1 << 20, 1)]),
    );
    outcomes["garbage protobuf"] = await rawCall(Buffer.concat([header(64), Buffer.alloc(64, 0xff)]));
    outcomes["compressed flag without compression"] = await rawCall(
      Buffer.concat([Buffer.from([1, 0, 0, 0, 4]), Buffer.from([1, 2, 3, 4])]),
    );
    outcomes["header cut short"] = await rawCall(Buffer.from([0, 0, 0]));
    for (const [name, status] of Object.entries(outcomes)) {
      // Never OK (0): each is refused with a gRPC status, a reset or a closed stream.
      expect(status, name).not.toBe("0");
    }
    await healthy();
    const rssAfter =
      Number((await import("node:fs")).readFileSync(`/proc/${p.child.pid}/statm`, "utf8").split(" ")[1]) *
      4096;
    // The declared 2 GiB was never allocated.
    expect(rssAfter - rssBefore).toBeLessThan(512 * 1024 * 1024);
    figures.push(
      `malformed_frames ${Object.entries(outcomes)
        .map(([k, v]) => `"${k}"=${v}`)
        .join(" ")} rss_growth_mib=${((rssAfter - rssBefore) / 1048576).toFixed(0)}`,
    );
  }, 60_000);
});

describe("requests for paths outside the mount", () => {
  it("traversal, absolute, mount-prefixed and encoded paths are refused and touch storage only under the engine's prefixes", async () => {
    const storage = new MapStorage();
    const m = new Mount(clients, storage, "outside");
    const { id } = await broker.serve(storage);
    expect(
      (await m.call<SetupReply>("setup", { brokerId: id, Config: {}, backendUUID: "outside" })).err,
    ).toBe("");
    await m.call("initialize", {});
    await m.request("update", "keys/k");
    const paths = [
      "../keys/k",
      "../../sys/mounts",
      "/keys/k",
      "//keys/k",
      "keys/../../k",
      "keys/k/../../../etc",
      "transit/keys/k",
      "%2e%2e/keys/k",
      "keys/%2e%2e",
      "keys/k\u0000x",
      "keys/..",
      "keys/.",
      "keys/k/../k",
      "encrypt/../keys/k",
      "encrypt/..%2fpolicy",
      "restore/../../x",
      "export/encryption-key/../../k",
      "sys/rotate",
      "",
      "\\keys\\k",
    ];
    const statuses: Record<string, number> = {};
    for (const path of paths) {
      for (const op of ["read", "update", "create", "delete", "list"]) {
        const r = await m.request(op, path, { plaintext: "eA==" });
        const code = r.err === undefined ? 200 : (r.err.errType ?? -1);
        statuses[String(code)] = (statuses[String(code)] ?? 0) + 1;
      }
    }
    const keys = [...storage.entries.keys()];
    const bad = keys.filter(
      (k) => k.includes("..") || k.startsWith("/") || k.includes("\u0000") || k.includes("\\"),
    );
    expect(bad).toEqual([]);
    for (const k of keys) expect(k).toMatch(/^(policy|archive|config|cache|import|wrapping|restore|backup)/);
    // The plugin's key is still the one key, untouched by the attempts.
    expect(keys.filter((k) => k.startsWith("policy/"))).toEqual(["policy/k"]);
    await healthy();
    figures.push(
      `outside_paths requests=${paths.length * 5} outcomes=${Object.entries(statuses)
        .map(([k, v]) => `${k}:${v}`)
        .join(",")} storage_keys=${keys.join("|")}`,
    );
  }, 60_000);
});
