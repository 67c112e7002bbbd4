import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { startChild } from "../lib/child.ts";
import { type RunContext, SkipLayer } from "../lib/context.ts";
import { bundlePlugin } from "../lib/plugin.ts";
import type { Measurement } from "../lib/types.ts";
import { type LoadResult, runWrk, wrkVersion } from "../lib/wrk.ts";
import { IN_FLIGHT } from "./grpc.ts";

const CONNECTIONS = [1, 64];
const TOKEN = `bench-${randomBytes(8).toString("hex")}`;

/** One request the layer loads the host and the bare server with, at each connection count. */
interface Scenario {
  name: string;
  op: string;
  size: number;
  batch: number;
  path: string;
  /** The request body from a 64 B plaintext and its ciphertext (null without a host). */
  body: (pt: string, ct: string | null) => string;
  /** Measured only when the host (and its plugin) answers: it needs a ciphertext. */
  needsHost?: boolean;
  /** Full runs only. */
  full?: boolean;
}

const batchOf = (item: object): string =>
  JSON.stringify({ batch_input: Array.from({ length: 100 }, () => item) });

/** The scenarios, in the order they are measured. */
const SCENARIOS: readonly Scenario[] = [
  {
    name: "encrypt",
    op: "encrypt",
    size: 64,
    batch: 1,
    path: "/v1/transit/encrypt/bench",
    body: (pt) => JSON.stringify({ plaintext: pt }),
  },
  {
    name: "decrypt",
    op: "decrypt",
    size: 64,
    batch: 1,
    path: "/v1/transit/decrypt/bench",
    body: (_pt, ct) => JSON.stringify({ ciphertext: ct }),
    needsHost: true,
  },
  {
    name: "encrypt-batch",
    op: "encrypt",
    size: 64,
    batch: 100,
    path: "/v1/transit/encrypt/bench",
    body: (pt) => batchOf({ plaintext: pt }),
    full: true,
  },
  {
    name: "decrypt-batch",
    op: "decrypt",
    size: 64,
    batch: 100,
    path: "/v1/transit/decrypt/bench",
    body: (_pt, ct) => batchOf({ ciphertext: ct }),
    needsHost: true,
    full: true,
  },
];

/** Starts the dev host (npm start) on a free loopback port with a fresh data dir; null when it is not there. */
async function startHost(
  ctx: RunContext,
): Promise<{ url: string; stop: () => Promise<void>; dir: string } | { reason: string }> {
  const root = ctx.options.root;
  const main = path.join(root, "src/host/main.ts");
  if (!existsSync(main)) return { reason: "src/host/main.ts not available yet" };
  const dir = mkdtempSync(path.join(ctx.options.tmp, "host-"));
  // The plugin as production runs it (bundled with its packages), not through tsx.
  let pluginCommand: string[] = [];
  if (existsSync(path.join(root, "src/plugin/main.ts"))) {
    try {
      pluginCommand = [
        "--plugin-command",
        JSON.stringify([process.execPath, await bundlePlugin(root, ctx.options.tmp)]),
      ];
    } catch {
      // the host's own default command then
    }
  }
  const proc: ChildProcess = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      main,
      "--listen-address",
      "127.0.0.1:0",
      "--root-token-id",
      TOKEN,
      "--data-dir",
      dir,
      "--mount",
      "transit",
      "--log-level",
      "error",
      ...pluginCommand,
    ],
    { cwd: root, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NODE_ENV: "production" } },
  );
  let output = "";
  const url = await new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), 60_000);
    const onData = (d: Buffer): void => {
      output += d.toString();
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (m !== null) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    proc.once("exit", () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (proc.exitCode !== null) {
        resolve();
        return;
      }
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      proc.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
      proc.kill("SIGTERM");
    });
  if (url === null) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    return { reason: `the dev host did not start: ${output.trim().split("\n").slice(-2).join(" / ")}` };
  }
  return { url, stop, dir };
}

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "X-Vault-Token": TOKEN, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${text.slice(0, 200)}`);
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
}

type Host = Awaited<ReturnType<typeof startHost>>;

/** The host with key "bench" made, or why not: it may be up while its plugin is not. */
async function hostWithKey(ctx: RunContext): Promise<Host> {
  const host = await startHost(ctx);
  if (!("url" in host)) return host;
  try {
    await post(`${host.url}/v1/transit/keys/bench`, { type: "aes256-gcm96" });
    return host;
  } catch (e) {
    await host.stop();
    rmSync(host.dir, { recursive: true, force: true });
    return { reason: `the dev host answers but its plugin does not: ${(e as Error).message.split("\n")[0]}` };
  }
}

/** What every scenario run gets. */
interface Load {
  ctx: RunContext;
  host: Host;
  bareUrl: string;
  body: string;
  seconds: number;
}

/** One scenario at one connection count: the bare server, the host, their ratios. */
async function measureScenario(sc: Scenario, connections: number, run: Load): Promise<void> {
  const { ctx, host } = run;
  const group = `http ${sc.op}${sc.batch > 1 ? ` batch of ${sc.batch}` : ""}`;
  const load = async (base: string, who: string): Promise<LoadResult> => {
    ctx.progress.status(`wrk ${who} ${sc.name} c${connections}`);
    return runWrk({
      url: `${base}${sc.path}`,
      connections,
      seconds: run.seconds,
      method: "POST",
      body: run.body,
      headers: { "X-Vault-Token": TOKEN, "Content-Type": "application/json" },
      tmp: ctx.options.tmp,
      name: `${who}-${sc.name}-${connections}`,
    });
  };
  const rec = (r: LoadResult, impl: string, limit: boolean): Measurement =>
    ctx.record({
      group,
      impl,
      op: sc.op,
      size: sc.size,
      batch: limit ? 1 : sc.batch,
      concurrency: connections,
      opsPerSec: r.requestsPerSec,
      latencyUs: { mean: r.mean, p50: r.p50, p99: r.p99 },
      samples: r.requests,
      ...(limit ? { limit: true } : {}),
      ...(r.errors > 0 ? { note: `${r.errors} errors or non-2xx answers` } : {}),
    });
  const b = rec(await load(run.bareUrl, "bare"), "bare node:http, fixed body", true);
  if (!("url" in host)) return;
  const h = rec(await load(host.url, "host"), "dev host (HTTP -> plugin)", false);
  ctx.ratio({
    id: `http-host-vs-bare|${sc.name}|${connections}`,
    description: `dev host ${sc.name}, ${connections} connection${connections > 1 ? "s" : ""}: requests/s / bare node:http`,
    numerator: h,
    denominator: b,
    basis: "opsPerSec",
    target: sc.batch === 1 ? 0.5 : null,
  });
  // The host's other ceiling: each write is two gRPC calls to the plugin (HandleExistenceCheck,
  // then HandleRequest, as Vault makes them), so it cannot pass half the echo's calls/s.
  const echo = ctx.find(
    (m) =>
      m.layer === "grpc" && m.impl === "grpc-js echo" && m.concurrency === (connections > 1 ? IN_FLIGHT : 1),
  );
  if (echo === undefined || sc.batch !== 1) return;
  const ceiling = ctx.record({
    group,
    impl: "gRPC ceiling: grpc-js echo calls/s ÷ 2",
    op: sc.op,
    size: sc.size,
    batch: 1,
    concurrency: connections,
    opsPerSec: echo.opsPerSec / 2,
    samples: echo.samples,
    reference: true,
    note: `half the calls/s of the grpc-js echo with ${echo.concurrency} in flight (grpc layer, this run): a write is HandleExistenceCheck + HandleRequest`,
  });
  ctx.ratio({
    id: `http-host-vs-grpc-ceiling|${sc.name}|${connections}`,
    description: `dev host ${sc.name}, ${connections} connection${connections > 1 ? "s" : ""}: requests/s / (grpc-js echo calls/s ÷ 2)`,
    numerator: h,
    denominator: ceiling,
    basis: "opsPerSec",
  });
}

/**
 * Layer 4: the dev host (HTTP -> host -> plugin) under load from wrk in its
 * own process, 1 and 64 connections, single and batch requests, against a
 * bare node:http server answering a fixed body to the same requests.
 */
export async function runHttp(ctx: RunContext): Promise<void> {
  if ((await wrkVersion()) === null) throw new SkipLayer("wrk is not installed (apt-get install wrk)");
  const { root, loadSeconds, quick } = ctx.options;
  const pt = randomBytes(64).toString("base64");
  const bare = await startChild([path.join(root, "bench/http/bare-server.ts")], "", { cwd: root });
  const host = await hostWithKey(ctx);
  try {
    let ct: string | null = null;
    if ("url" in host) {
      const enc = await post(`${host.url}/v1/transit/encrypt/bench`, { plaintext: pt });
      ct = String((enc["data"] as Record<string, unknown>)["ciphertext"]);
    } else {
      ctx.progress.line(`dev host: ${host.reason}; the bare server limit alone is measured`);
    }
    const chosen = SCENARIOS.filter(
      (sc) => (sc.needsHost !== true || ct !== null) && (sc.full !== true || !quick),
    );
    const bareUrl = `http://127.0.0.1:${bare.firstLine}`;
    const seconds = Math.max(1, loadSeconds);
    for (const sc of chosen)
      for (const connections of quick ? [64] : CONNECTIONS)
        await measureScenario(sc, connections, { ctx, host, bareUrl, body: sc.body(pt, ct), seconds });
  } finally {
    await bare.stop();
    if ("url" in host) {
      await host.stop();
      rmSync(host.dir, { recursive: true, force: true });
    }
  }
}
