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

interface Scenario {
  name: string;
  op: string;
  size: number;
  batch: number;
  path: string;
  body: string;
}

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

/**
 * Layer 4: the dev host (HTTP -> host -> plugin) under load from wrk in its
 * own process, 1 and 64 connections, single and batch requests, against a
 * bare node:http server answering a fixed body to the same requests.
 */
export async function runHttp(ctx: RunContext): Promise<void> {
  if ((await wrkVersion()) === null) throw new SkipLayer("wrk is not installed (apt-get install wrk)");
  const { root, tmp, loadSeconds } = ctx.options;
  const quick = ctx.options.quick;
  const seconds = Math.max(1, loadSeconds);
  const pt = randomBytes(64).toString("base64");
  const scenarios: Scenario[] = [
    {
      name: "encrypt",
      op: "encrypt",
      size: 64,
      batch: 1,
      path: "/v1/transit/encrypt/bench",
      body: JSON.stringify({ plaintext: pt }),
    },
  ];
  const bare = await startChild([path.join(root, "bench/http/bare-server.ts")], "", { cwd: root });
  let host = await startHost(ctx);
  if ("url" in host) {
    // The host may be up while its plugin is not (not built yet, or failing to start): then the limit alone.
    try {
      await post(`${host.url}/v1/transit/keys/bench`, { type: "aes256-gcm96" });
    } catch (e) {
      await host.stop();
      rmSync(host.dir, { recursive: true, force: true });
      host = {
        reason: `the dev host answers but its plugin does not: ${(e as Error).message.split("\n")[0]}`,
      };
    }
  }
  try {
    if ("url" in host) {
      const enc = await post(`${host.url}/v1/transit/encrypt/bench`, { plaintext: pt });
      const ct = String((enc["data"] as Record<string, unknown>)["ciphertext"]);
      scenarios.push({
        name: "decrypt",
        op: "decrypt",
        size: 64,
        batch: 1,
        path: "/v1/transit/decrypt/bench",
        body: JSON.stringify({ ciphertext: ct }),
      });
      if (!quick) {
        scenarios.push({
          name: "encrypt-batch",
          op: "encrypt",
          size: 64,
          batch: 100,
          path: "/v1/transit/encrypt/bench",
          body: JSON.stringify({ batch_input: Array.from({ length: 100 }, () => ({ plaintext: pt })) }),
        });
        scenarios.push({
          name: "decrypt-batch",
          op: "decrypt",
          size: 64,
          batch: 100,
          path: "/v1/transit/decrypt/bench",
          body: JSON.stringify({ batch_input: Array.from({ length: 100 }, () => ({ ciphertext: ct })) }),
        });
      }
    } else {
      ctx.progress.line(`dev host: ${host.reason}; the bare server limit alone is measured`);
      if (!quick)
        scenarios.push({
          name: "encrypt-batch",
          op: "encrypt",
          size: 64,
          batch: 100,
          path: "/v1/transit/encrypt/bench",
          body: JSON.stringify({ batch_input: Array.from({ length: 100 }, () => ({ plaintext: pt })) }),
        });
    }
    const bareUrl = `http://127.0.0.1:${bare.firstLine}`;
    for (const sc of scenarios) {
      const group = `http ${sc.op}${sc.batch > 1 ? ` batch of ${sc.batch}` : ""}`;
      for (const connections of quick ? [64] : CONNECTIONS) {
        const load = async (base: string, who: string): Promise<LoadResult> => {
          ctx.progress.status(`wrk ${who} ${sc.name} c${connections}`);
          return runWrk({
            url: `${base}${sc.path}`,
            connections,
            seconds,
            method: "POST",
            body: sc.body,
            headers: { "X-Vault-Token": TOKEN, "Content-Type": "application/json" },
            tmp,
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
        const b = rec(await load(bareUrl, "bare"), "bare node:http, fixed body", true);
        if ("url" in host) {
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
              m.layer === "grpc" &&
              m.impl === "grpc-js echo" &&
              m.concurrency === (connections > 1 ? IN_FLIGHT : 1),
          );
          if (echo !== undefined && sc.batch === 1) {
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
        }
      }
    }
  } finally {
    await bare.stop();
    if ("url" in host) {
      await host.stop();
      rmSync(host.dir, { recursive: true, force: true });
    }
  }
}
