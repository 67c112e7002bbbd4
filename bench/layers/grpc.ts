import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { EchoClient, type EchoClientType } from "../grpc/echo.ts";
import { loadProjectModule } from "../lib/bundle.ts";
import { makeMtls } from "../lib/certs.ts";
import { startChild } from "../lib/child.ts";
import { type RunContext, SkipLayer } from "../lib/context.ts";
import { closedLoop, type TaskDef } from "../lib/measure.ts";
import { type HostRequestLike, type RunningPlugin, startPlugin } from "../lib/plugin.ts";
import { bestRound, formatSize, median, quantile } from "../lib/stats.ts";
import type { Measurement } from "../lib/types.ts";

/**
 * Roughly the size of a HandleRequest for an encrypt of 64 bytes, used for
 * the echo when the plugin is not there to size it from the real message.
 */
const NOMINAL_MESSAGE = 384;
export const IN_FLIGHT = 64;
const PLAINTEXT = 64;

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

type SizesModule = {
  handleRequestSizes?: (
    req: HostRequestLike,
    replyData: Record<string, unknown>,
  ) => { request: number; reply: number };
};

interface Call {
  key: string;
  /** "echo" or the transit operation. */
  op: string;
  impl: string;
  limit: boolean;
  fn: () => Promise<unknown>;
  note: string;
}

/**
 * Layer 3: the plugin's HandleRequest (encrypt, decrypt of 64 bytes) over its
 * real mTLS gRPC connection, driven by the project's go-plugin client
 * (src/pluginhost) as the dev host drives it, against a grpc-js echo of the
 * same message size on the same kind of connection (mTLS, loopback, its own
 * process), sequential and with 64 calls in flight. Both sides are measured
 * in the same interleaved rounds.
 */
export async function runGrpc(ctx: RunContext): Promise<void> {
  const { root, tmp } = ctx.options;
  const plugin = await startPlugin(root, tmp);
  let running: RunningPlugin | null = null;
  if ("reason" in plugin) {
    ctx.progress.line(`plugin over gRPC: ${plugin.reason}; the echo limit alone is measured`);
  } else {
    running = plugin;
  }
  let mtls: Awaited<ReturnType<typeof makeMtls>>;
  try {
    mtls = await makeMtls(tmp);
  } catch (e) {
    await running?.stop();
    throw new SkipLayer(
      `the echo's certificates need the openssl CLI (${(e as Error).message.split("\n")[0]}): no limit to measure against`,
    );
  }
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
    const calls: Call[] = [];
    let size = NOMINAL_MESSAGE;
    let sizeNote = "nominal size (the plugin is not measured)";
    if (running !== null) {
      const p = running;
      await p.write("keys/bench", { type: "aes256-gcm96" });
      const plaintext = Buffer.alloc(PLAINTEXT, 0x61).toString("base64");
      const encData = await p.write("encrypt/bench", { plaintext });
      const ciphertext = String(encData["ciphertext"]);
      const decData = await p.write("decrypt/bench", { ciphertext });
      if (decData["plaintext"] !== plaintext) throw new Error("plugin decrypt round trip failed");
      const encReq = p.request("encrypt/bench", { plaintext });
      const decReq = p.request("decrypt/bench", { ciphertext });
      const sizes = await loadProjectModule<SizesModule>(root, "bench/grpc/sizes.ts", tmp).catch(() => null);
      const enc = sizes?.handleRequestSizes?.(encReq, encData);
      const dec = sizes?.handleRequestSizes?.(decReq, decData);
      if (enc !== undefined && dec !== undefined) {
        // The echo carries a message of the mean size of the two directions of an encrypt call.
        size = Math.round((enc.request + enc.reply) / 2);
        sizeNote = `HandleRequest encrypt ${enc.request} B in, ${enc.reply} B out; decrypt ${dec.request} B in, ${dec.reply} B out`;
      }
      const check = async (req: HostRequestLike): Promise<unknown> => {
        const r = await p.mount.handleRequest(req);
        if (r.error !== null) throw new Error(`plugin ${req.path}: ${r.error.message}`);
        return r;
      };
      const note = `${PLAINTEXT} B plaintext; src/pluginhost client in this process, plugin bundle in its own (${path.basename(p.command[0] ?? "node")}), mTLS (P-521 auto-mTLS) on 127.0.0.1`;
      calls.push({
        key: "encrypt",
        op: "encrypt",
        impl: "plugin HandleRequest encrypt",
        limit: false,
        fn: () => check(encReq),
        note,
      });
      calls.push({
        key: "decrypt",
        op: "decrypt",
        impl: "plugin HandleRequest decrypt",
        limit: false,
        fn: () => check(decReq),
        note,
      });
    }
    const msg = Buffer.alloc(size, 0x61);
    const back = await echoOnce(client, msg);
    if (!back.equals(msg)) throw new Error("echo answered with other bytes");
    calls.unshift({
      key: "echo",
      op: "echo",
      impl: "grpc-js echo",
      limit: true,
      fn: () => echoOnce(client, msg),
      note: `bytes in, same bytes out, ${size} B on the wire each way (${sizeNote}); separate process; mTLS (ECDSA P-256) on 127.0.0.1`,
    });
    const seqRecorded = await measureSequential(ctx, calls);
    const inflight = await measureInFlight(ctx, calls);
    recordRatios(ctx, seqRecorded, inflight);
  } finally {
    client.close();
    await echo.stop();
    await running?.stop();
  }
}

const GROUP = "grpc unary call, mTLS";

/** Sequential: one call at a time, interleaved rounds (bench/lib/measure.ts), best round. */
async function measureSequential(ctx: RunContext, calls: readonly Call[]): Promise<Map<string, Measurement>> {
  const { quick, loadSeconds } = ctx.options;
  const seqTime = quick ? 300 : Math.max(400, Math.round((loadSeconds * 1000) / 4));
  const tasks: TaskDef[] = calls.map((c) => ({
    key: c.key,
    label: `grpc ${c.op} sequential`,
    fn: c.fn,
    batch: 1,
  }));
  const seq = await ctx.measure(tasks, { timeMs: seqTime, batchTargetMs: 0 });
  const seqRecorded = new Map<string, Measurement>();
  for (const c of calls) {
    const t = seq.get(c.key);
    if (t === undefined) continue;
    seqRecorded.set(
      c.key,
      ctx.recordTiming(t, {
        group: GROUP,
        impl: c.impl,
        op: c.op,
        size: PLAINTEXT,
        batch: 1,
        concurrency: 1,
        ...(c.limit ? { limit: true } : {}),
        note: c.note,
      }),
    );
  }
  return seqRecorded;
}

/**
 * 64 in flight: closed loops, the calls alternating round by round; throughput is the
 * best round, latency percentiles the median of the rounds' own.
 */
async function measureInFlight(ctx: RunContext, calls: readonly Call[]): Promise<Map<string, Measurement>> {
  const { quick, loadSeconds, measure } = ctx.options;
  const rounds = quick ? 1 : Math.max(2, Math.min(measure.rounds, 4));
  const loopMs = quick ? 600 : Math.max(1000, Math.round((loadSeconds * 1000) / 2));
  const perRound = new Map<
    string,
    { ops: number[]; p50: number[]; p99: number[]; mean: number[]; n: number }
  >();
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? calls : [...calls].reverse();
    for (const c of order) {
      ctx.progress.status(`grpc ${c.op} ${IN_FLIGHT} in flight, round ${r + 1}/${rounds}`);
      const loop = await closedLoop(c.fn, IN_FLIGHT, loopMs, r === 0 ? 500 : 150);
      const agg = perRound.get(c.key) ?? { ops: [], p50: [], p99: [], mean: [], n: 0 };
      agg.ops.push(loop.opsPerSec);
      agg.p50.push(quantile(loop.latenciesUs, 0.5));
      agg.p99.push(quantile(loop.latenciesUs, 0.99));
      agg.mean.push(loop.latenciesUs.reduce((a, b) => a + b, 0) / Math.max(1, loop.latenciesUs.length));
      agg.n += loop.latenciesUs.length;
      perRound.set(c.key, agg);
    }
  }
  const inflight = new Map<string, Measurement>();
  for (const c of calls) {
    const agg = perRound.get(c.key);
    if (agg === undefined) continue;
    inflight.set(
      c.key,
      ctx.record({
        group: GROUP,
        impl: c.impl,
        op: c.op,
        size: PLAINTEXT,
        batch: 1,
        concurrency: IN_FLIGHT,
        opsPerSec: bestRound(agg.ops),
        latencyUs: { mean: median(agg.mean), p50: median(agg.p50), p99: median(agg.p99) },
        samples: agg.n,
        rounds: agg.ops,
        ...(c.limit ? { limit: true } : {}),
        note: `${c.note}; ${IN_FLIGHT} calls in flight; ops/s best of ${rounds} rounds, p50/p99 their median`,
      }),
    );
  }
  return inflight;
}

/** The plugin's calls over the echo's, per operation, sequential and in flight. */
function recordRatios(
  ctx: RunContext,
  seqRecorded: ReadonlyMap<string, Measurement>,
  inflight: ReadonlyMap<string, Measurement>,
): void {
  for (const op of ["encrypt", "decrypt"]) {
    if (!seqRecorded.has(op)) continue;
    ctx.ratio({
      id: `grpc-plugin-vs-echo|${op}|seq`,
      description: `plugin ${op} ${formatSize(PLAINTEXT)} over gRPC, sequential: calls/s / grpc-js echo`,
      numerator: seqRecorded.get(op),
      denominator: seqRecorded.get("echo"),
      basis: "opsPerSec",
      target: op === "encrypt" ? 0.7 : null,
    });
    ctx.ratio({
      id: `grpc-plugin-vs-echo|${op}|c${IN_FLIGHT}`,
      description: `plugin ${op} ${formatSize(PLAINTEXT)} over gRPC, ${IN_FLIGHT} in flight: calls/s / grpc-js echo`,
      numerator: inflight.get(op),
      denominator: inflight.get("echo"),
      basis: "opsPerSec",
    });
    ctx.ratio({
      id: `grpc-plugin-vs-echo-p99|${op}|c${IN_FLIGHT}`,
      description: `plugin ${op} ${formatSize(PLAINTEXT)} over gRPC, ${IN_FLIGHT} in flight: p99 / grpc-js echo p99`,
      numerator: inflight.get(op),
      denominator: inflight.get("echo"),
      basis: "p99",
      target: op === "encrypt" ? 1.2 : null,
      direction: "<=",
    });
  }
}
