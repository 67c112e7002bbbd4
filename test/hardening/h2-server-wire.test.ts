/**
 * The plugin's gRPC server on node:http2 (src/plugin/h2-server.ts) against an
 * independent gRPC implementation, @grpc/grpc-js's client, over mutual TLS:
 * unary calls with metadata, server streams, the broker's bidirectional
 * stream, statuses with non-ASCII messages, unknown methods, refused clients
 * and a graceful shutdown that lets a call in flight answer. Plus the wire
 * pieces (message framing across chunk boundaries, grpc-message encoding).
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  HealthCheckResponse_ServingStatus,
  HealthClient,
  HealthService,
} from "../../src/gen/grpc/health/v1/health.ts";
import { type ConnInfo, GRPCBrokerClient, GRPCBrokerService } from "../../src/gen/plugin/grpc_broker.ts";
import { encodeGrpcMessage, frameMessage, H2Server, MessageReader } from "../../src/plugin/h2-server.ts";
import { generateServerCert, type ServerCert } from "../../src/plugin/tls.ts";

const OPTIONS: grpc.ClientOptions = {
  "grpc.ssl_target_name_override": "localhost",
  "grpc.default_authority": "localhost",
};

describe("gRPC wire pieces", () => {
  it("splits messages across any chunk boundaries and refuses compressed ones", () => {
    const msgs = [Buffer.from("a"), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from("last")];
    const wire = Buffer.concat(msgs.map(frameMessage));
    for (const step of [1, 3, 5, 4096, wire.length]) {
      const reader = new MessageReader();
      const got: Buffer[] = [];
      for (let i = 0; i < wire.length; i += step) {
        const out = reader.push(wire.subarray(i, i + step));
        if (typeof out === "string") throw new Error(out);
        got.push(...out);
      }
      expect(got.map((b) => b.toString("hex"))).toEqual(msgs.map((b) => b.toString("hex")));
      expect(reader.pending).toBe(0);
    }
    const compressed = frameMessage(Buffer.from("x"));
    compressed[0] = 1;
    expect(typeof new MessageReader().push(compressed)).toBe("string");
  });

  it("percent-encodes grpc-message as the gRPC spec: non-printable ASCII, '%' and UTF-8 bytes", () => {
    expect(encodeGrpcMessage("plain text: ok")).toBe("plain text: ok");
    expect(encodeGrpcMessage("100%\n")).toBe("100%25%0A");
    expect(encodeGrpcMessage("clé")).toBe("cl%C3%A9");
  });
});

describe("H2Server with a grpc-js client", () => {
  let server: H2Server;
  let port = 0;
  let hostCert: ServerCert;
  let serverCert: ServerCert;
  let release: (() => void) | undefined;
  const seenMetadata: string[][] = [];

  beforeAll(async () => {
    hostCert = await generateServerCert();
    serverCert = await generateServerCert();
    server = new H2Server();
    server.addService(HealthService, {
      check: (
        call: { request: { service: string }; metadata: grpc.Metadata },
        cb: grpc.sendUnaryData<unknown>,
      ) => {
        seenMetadata.push(call.metadata.get("multiplex_id").map(String));
        if (call.request.service === "fail")
          cb({ code: grpc.status.FAILED_PRECONDITION, details: "no: clé 100%" });
        else if (call.request.service === "slow")
          release = () => cb(null, { status: HealthCheckResponse_ServingStatus.SERVING });
        else cb(null, { status: HealthCheckResponse_ServingStatus.SERVING });
      },
      watch: (call: grpc.ServerWritableStream<unknown, unknown>) => {
        call.write({ status: HealthCheckResponse_ServingStatus.SERVING });
        call.write({ status: HealthCheckResponse_ServingStatus.NOT_SERVING });
        call.end();
      },
    });
    server.addService(GRPCBrokerService, {
      startStream: (call: grpc.ServerDuplexStream<ConnInfo, ConnInfo>) => {
        call.on("data", (info: ConnInfo) => call.write({ ...info, address: `echo:${info.address}` }));
        call.on("end", () => call.end());
      },
    });
    port = await server.listen(0, {
      rootPem: hostCert.certPem,
      certPem: serverCert.certPem,
      keyPem: serverCert.keyPem,
    });
  });

  afterAll(() => server.forceShutdown());

  const creds = (cert: ServerCert): grpc.ChannelCredentials =>
    grpc.credentials.createSsl(
      Buffer.from(serverCert.certPem),
      Buffer.from(cert.keyPem),
      Buffer.from(cert.certPem),
    );

  function check(client: HealthClient, service: string, md = new grpc.Metadata()): Promise<unknown> {
    return new Promise((resolve, reject) =>
      client.check({ service }, md, (err, res) => (err ? reject(err) : resolve(res))),
    );
  }

  it("answers unary calls, with every value of a metadata key, and statuses with their message", async () => {
    const client = new HealthClient(`127.0.0.1:${port}`, creds(hostCert), OPTIONS);
    const md = new grpc.Metadata();
    md.add("multiplex_id", "a");
    md.add("multiplex_id", "b");
    await expect(check(client, "", md)).resolves.toEqual({
      status: HealthCheckResponse_ServingStatus.SERVING,
    });
    expect(seenMetadata.at(-1)).toEqual(["a", "b"]);
    await expect(check(client, "fail")).rejects.toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
      details: "no: clé 100%",
    });
    client.close();
  });

  it("streams server messages and the broker's bidirectional stream", async () => {
    const client = new HealthClient(`127.0.0.1:${port}`, creds(hostCert), OPTIONS);
    const got: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const s = client.watch({ service: "" });
      s.on("data", (r: { status: number }) => got.push(r.status));
      s.on("error", reject);
      s.on("end", () => resolve());
    });
    expect(got).toEqual([
      HealthCheckResponse_ServingStatus.SERVING,
      HealthCheckResponse_ServingStatus.NOT_SERVING,
    ]);
    client.close();

    const broker = new GRPCBrokerClient(`127.0.0.1:${port}`, creds(hostCert), OPTIONS);
    const echoed: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const s = broker.startStream();
      s.on("data", (info: ConnInfo) => {
        echoed.push(info.address);
        if (echoed.length === 3) s.end();
      });
      s.on("error", reject);
      s.on("end", () => resolve());
      s.write({ serviceId: 1, network: "tcp", address: "x" });
      s.write({ serviceId: 2, network: "tcp", address: "y" });
      // Over 64 KiB: written as prefix and payload, not copied into one buffer.
      s.write({ serviceId: 3, network: "tcp", address: "z".repeat(100_000) });
    });
    expect(echoed).toEqual(["echo:x", "echo:y", `echo:${"z".repeat(100_000)}`]);
    broker.close();
  });

  it("answers an unknown method with UNIMPLEMENTED and refuses a client certificate it was not given", async () => {
    const channel = new grpc.Client(`127.0.0.1:${port}`, creds(hostCert), OPTIONS);
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      channel.makeUnaryRequest(
        "/no.Such/Method",
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        (e) => resolve(e as grpc.ServiceError),
      ),
    );
    expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
    channel.close();
    const stranger = new HealthClient(`127.0.0.1:${port}`, creds(await generateServerCert()), {
      ...OPTIONS,
      "grpc.initial_reconnect_backoff_ms": 50,
    });
    const deadline = new grpc.Metadata();
    await expect(
      new Promise((resolve, reject) =>
        stranger.check({ service: "" }, deadline, { deadline: Date.now() + 3000 }, (e, r) =>
          e ? reject(e) : resolve(r),
        ),
      ),
    ).rejects.toMatchObject({ code: expect.any(Number) });
    stranger.close();
  });

  it("shuts down gracefully: a call in flight answers, then the server is closed", async () => {
    const client = new HealthClient(`127.0.0.1:${port}`, creds(hostCert), OPTIONS);
    await check(client, "");
    const inFlight = check(client, "slow");
    while (release === undefined) await new Promise((r) => setTimeout(r, 5));
    let closed = false;
    server.tryShutdown(() => {
      closed = true;
    });
    expect(closed).toBe(false);
    release();
    await expect(inFlight).resolves.toEqual({ status: HealthCheckResponse_ServingStatus.SERVING });
    client.close();
    while (!closed) await new Promise((r) => setTimeout(r, 5));
    expect(closed).toBe(true);
  });
});
