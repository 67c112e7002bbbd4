/**
 * `npm run bench`: every layer of the transit plugin beside the platform's
 * limit, measured in one run. See the "Performance" section of the README;
 * `npm run bench -- --help` for the options. A layer whose pieces are missing
 * here (Go, wrk, the plugin) says so and is recorded as skipped.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writePerformanceDoc } from "./docs-performance.ts";
import { runEngine } from "./layers/engine.ts";
import { runGrpc } from "./layers/grpc.ts";
import { runHttp } from "./layers/http.ts";
import { runPeer } from "./layers/peer.ts";
import { runPrimitives } from "./layers/primitives.ts";
import { runScaling } from "./layers/scaling.ts";
import { runVault } from "./layers/vault.ts";
import { parseArgs, USAGE } from "./lib/args.ts";
import { renderChart } from "./lib/chart.ts";
import { RunContext, type RunOptions, SkipLayer } from "./lib/context.ts";
import { describeMachine } from "./lib/machine.ts";
import { Progress } from "./lib/progress.ts";
import { renderMarkdown } from "./lib/report.ts";
import { LAYERS, type LayerId, type Results, SCHEMA_VERSION } from "./lib/types.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const RUNNERS: Record<LayerId, (ctx: RunContext) => Promise<void>> = {
  primitives: runPrimitives,
  engine: runEngine,
  peer: runPeer,
  grpc: runGrpc,
  http: runHttp,
  scaling: runScaling,
  vault: runVault,
};

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const complete = !args.quick && args.layers.length === LAYERS.length;
  const outDir = path.resolve(
    args.out ??
      (complete
        ? path.join(ROOT, "bench/results")
        : path.join(ROOT, "bench/results/tmp", args.quick ? "quick" : "partial")),
  );
  const tmp = path.join(ROOT, "bench/results/tmp");
  mkdirSync(outDir, { recursive: true });
  mkdirSync(tmp, { recursive: true });

  const options: RunOptions = {
    quick: args.quick,
    measure: args.quick
      ? { timeMs: 40, warmupMs: 20, rounds: 1, batchTargetMs: 0.2 }
      : { timeMs: 100, warmupMs: 60, rounds: 5, batchTargetMs: 0.5 },
    loadSeconds: args.quick ? 1 : 4,
    root: ROOT,
    tmp,
  };
  const progress = new Progress();
  // A stray rejection inside a layer (a module failing to load in a dependency) must not end the
  // run before latest.json is written: it is printed, and the layer fails or skips on its own.
  process.on("unhandledRejection", (e) => {
    progress.line(`unhandled rejection: ${(e as Error)?.message ?? String(e)}`);
  });
  const ctx = new RunContext(options, progress);
  const started = new Date();
  const machine = await describeMachine();
  progress.heading(
    `bench ${args.quick ? "--quick " : ""}on ${machine.cpu}, ${machine.cores} cores; node ${machine.node} (OpenSSL ${machine.nodeOpenssl}); ${machine.systemOpenssl ?? "no system openssl"}; load ${machine.loadAvgAtStart}`,
  );

  const results: Results = {
    schema: SCHEMA_VERSION,
    startedAt: started.toISOString(),
    finishedAt: "",
    seconds: 0,
    mode: args.quick ? "quick" : "full",
    argv: process.argv.slice(2),
    machine,
    layers: {},
    measurements: ctx.measurements,
    ratios: ctx.ratios,
  };

  for (const layer of args.layers) {
    progress.heading(`layer ${layer}`);
    ctx.layer = layer;
    const t0 = Date.now();
    try {
      await RUNNERS[layer](ctx);
      results.layers[layer] = { status: "ok", seconds: (Date.now() - t0) / 1000 };
    } catch (e) {
      const skipped = e instanceof SkipLayer;
      const reason = skipped ? e.message : ((e as Error).stack ?? String(e));
      results.layers[layer] = {
        status: skipped ? "skipped" : "failed",
        reason,
        seconds: (Date.now() - t0) / 1000,
      };
      progress.line(skipped ? `SKIPPED ${layer}: ${reason}` : `FAILED ${layer}: ${reason}`);
    }
  }

  const finished = new Date();
  results.finishedAt = finished.toISOString();
  results.seconds = (finished.getTime() - started.getTime()) / 1000;
  writeFileSync(path.join(outDir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(outDir, "latest.md"), renderMarkdown(results));
  writeFileSync(path.join(outDir, "latest.svg"), renderChart(results));
  if (outDir === path.join(ROOT, "bench/results")) writePerformanceDoc(ROOT, results);
  progress.heading(
    `done in ${results.seconds.toFixed(0)} s: ${path.relative(ROOT, outDir) || "."}/latest.{json,md,svg}`,
  );
  const failed = Object.entries(results.layers).filter(([, s]) => s.status === "failed");
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
