import { existsSync } from "node:fs";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { EchoClient, type EchoClientType } from "../grpc/echo.ts";
import { makeMtls } from "../lib/certs.ts";
import { startChild } from "../lib/child.ts";
import type { RunContext } from "../lib/context.ts";
import { closedLoop } from "../lib/measure.ts";
import { quantile } from "../lib/stats.ts";

/**
 * Roughly the size of a HandleRequest for an encrypt of 64 bytes (the
 * request's JSON data, path, operation, ids, the storage broker id) until the
 * plugin client lands and the real message is measured.
 */
const NOMINAL_MESSAGE = 384;
export const IN_FLIGHT = 64;

/**
 * The certificate names localhost; the connection goes to 127.0.0.1. Newer
 * Node refuses an IP address as the TLS server name, so the name checked is
 * set explicitly, as go-plugin's client does with its own server name.
 */
export const TLS_NAME_OPTIONS: grpc.ChannelOptions = {
  "grpc.ssl_target_name_override": "localhost",
  "grpc.default_authority": "localhost",
};

function echoOnce(client: EchoClientType, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.Echo(msg, (err, res) => (err === null ? resolve(res) : reject(err)));
  });
}

/**
 * Layer 3: the plugin's HandleRequest over its mTLS gRPC connection against
 * a grpc-js echo of the same message size on the same kind of connection,
 * sequential and with 64 calls in flight.
 */
export async function runGrpc(ctx: RunContext): Promise<void> {
  const root = ctx.options.root;
  const mtls = await makeMtls(ctx.options.tmp);
  const echo = await startChild([path.join(root, "bench/grpc/echo-server.ts")], `${JSON.stringify(mtls)}\n`, {
    cwd: root,
  });
  const client = new EchoClient(
    `127.0.0.1:${echo.firstLine}`,
    grpc.credentials.createSsl(
      Buffer.from(mtls.ca),
      Buffer.from(mtls.clientKey),
      Buffer.from(mtls.clientCert),
    ),
    TLS_NAME_OPTIONS,
  ) as EchoClientType;
  try {
    const size = NOMINAL_MESSAGE;
    const msg = Buffer.alloc(size, 0x61);
    const back = await echoOnce(client, msg);
    if (!back.equals(msg)) throw new Error("echo answered with other bytes");
    const group = "grpc unary call, mTLS";

    const seq = await ctx.measure(
      [{ key: "echo", label: "grpc echo sequential", fn: () => echoOnce(client, msg), batch: 1 }],
      {
        timeMs: ctx.options.loadSeconds * 1000,
      },
    );
    const s = seq.get("echo");
    if (s !== undefined)
      ctx.recordTiming(s, {
        group,
        impl: "grpc-js echo",
        op: "echo",
        size,
        batch: 1,
        concurrency: 1,
        limit: true,
        note: "bytes in, same bytes out; separate process; mTLS (ECDSA P-256) on 127.0.0.1",
      });

    ctx.progress.status(`grpc echo ${IN_FLIGHT} in flight`);
    const loop = await closedLoop(
      () => echoOnce(client, msg),
      IN_FLIGHT,
      ctx.options.loadSeconds * 1000,
      500,
    );
    ctx.record({
      group,
      impl: "grpc-js echo",
      op: "echo",
      size,
      batch: 1,
      concurrency: IN_FLIGHT,
      opsPerSec: loop.opsPerSec,
      latencyUs: {
        mean: loop.latenciesUs.reduce((a, b) => a + b, 0) / loop.latenciesUs.length,
        p50: quantile(loop.latenciesUs, 0.5),
        p99: quantile(loop.latenciesUs, 0.99),
      },
      samples: loop.latenciesUs.length,
      limit: true,
    });

    const pluginHost = ["src/pluginhost/client.ts", "src/pluginhost/index.ts"].find((f) =>
      existsSync(path.join(root, f)),
    );
    if (pluginHost === undefined) {
      ctx.progress.line(
        "plugin over gRPC: src/pluginhost not available yet; the echo limit alone is measured",
      );
    }
  } finally {
    client.close();
    await echo.stop();
  }
}
