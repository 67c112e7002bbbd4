import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { type RunContext, SkipLayer } from "../lib/context.ts";
import { bundlePlugin } from "../lib/plugin.ts";
import { bestRound, median } from "../lib/stats.ts";
import type { Measurement, Ratio } from "../lib/types.ts";
import { buildVaultHost, type HostCase, type HostOutcome, runVaultHost } from "../lib/vault-host.ts";

/**
 * Layer 7: the plugin as Vault sees it. A Go host built from go-plugin and
 * grpc-go (bench/vault/host) starts the plugin executable and a Go plugin
 * peer (bench/vault/peer) exactly as Vault starts a backend plugin, and sends
 * each encrypt as Vault does (HandleExistenceCheck, then HandleRequest), in
 * interleaved rounds. Every case below is one row per plugin; the ratios
 * are the issue's targets (#12), ours over the Go peer's in the same run.
 */
const SINGLE = "encrypt through a Vault-like host";
const BATCH = "batch_input encrypt through a Vault-like host";
const MIXED = "64 B encrypts beside a large batch";

interface LayerCase {
  host: HostCase;
  group: string;
  /** In --quick runs, items of the large batch (the full run's would take seconds per round). */
  quickMixed?: number;
}

const CASES: readonly LayerCase[] = [
  { host: { name: "e64c1", size: 64, batch: 1, inFlight: 1 }, group: SINGLE },
  { host: { name: "e64c16", size: 64, batch: 1, inFlight: 16 }, group: SINGLE },
  { host: { name: "e64c64", size: 64, batch: 1, inFlight: 64 }, group: SINGLE },
  { host: { name: "e4kc1", size: 4096, batch: 1, inFlight: 1 }, group: SINGLE },
  { host: { name: "e4kc64", size: 4096, batch: 1, inFlight: 64 }, group: SINGLE },
  { host: { name: "b100", size: 64, batch: 100, inFlight: 1 }, group: BATCH },
  { host: { name: "b1000", size: 64, batch: 1000, inFlight: 1 }, group: BATCH },
  // About 16.6 MB of request: 200 000 items of 64 B, base64 in JSON.
  {
    host: { name: "mixed", size: 64, batch: 1, inFlight: 16, mixed: 200_000 },
    group: MIXED,
    quickMixed: 10_000,
  },
];

interface RatioSpec {
  id: string;
  /** The case whose two rows (ours, the Go peer's) are divided. */
  of: string;
  /** Another case for the denominator, ours (p99 added by the mixed load). */
  against?: string;
  /** Whose row is the numerator: the default build, or the same executable with grpc-js. */
  who?: "plugin" | "plugin-grpcjs";
  basis: Ratio["basis"];
  target: number | null;
  direction: Ratio["direction"];
  description: string;
}

const RATIOS: readonly RatioSpec[] = [
  r("e64c64", "opsPerSec", 0.9, ">=", "encrypts/s, 64 B, 64 in flight: plugin / Go peer"),
  r("e64c1", "opsPerSec", 0.9, ">=", "encrypts/s, 64 B, 1 in flight: plugin / Go peer"),
  r("e64c16", "opsPerSec", null, ">=", "encrypts/s, 64 B, 16 in flight: plugin / Go peer"),
  r("e64c64", "p99", 1.5, "<=", "p99, 64 B, 64 in flight: plugin / Go peer"),
  r("e64c64", "cpu", 1.5, "<=", "plugin process CPU per encrypt, 64 in flight: plugin / Go peer"),
  r("e64c64", "hostCpu", 1.1, "<=", "host CPU per encrypt, 64 in flight: on the plugin / on the Go peer"),
  r("e4kc1", "opsPerSec", null, ">=", "encrypts/s, 4 KiB, 1 in flight: plugin / Go peer"),
  r("b1000", "itemsPerSec", 1, ">=", "batch_input of 1000, items/s: plugin / Go peer"),
  r("b100", "itemsPerSec", null, ">=", "batch_input of 100, items/s: plugin / Go peer"),
  // The transport not chosen, kept for comparison (rpc-server.ts).
  ...(["opsPerSec", "p99", "cpu", "hostCpu"] as const).map(
    (basis): RatioSpec => ({
      ...r(
        "e64c64",
        basis,
        null,
        basis === "opsPerSec" ? ">=" : "<=",
        `grpc-js server: ${basis} at 64 in flight / Go peer`,
      ),
      id: `vault-grpcjs-${basis}|e64c64`,
      who: "plugin-grpcjs",
    }),
  ),
  {
    id: "vault-mixed-p99-added",
    of: "mixed",
    against: "e64c16",
    basis: "p99AddedMs",
    target: 50,
    direction: "<=",
    description: "ms a large batch in flight adds to the p99 of 16 concurrent 64 B encrypts (plugin)",
  },
];

function r(
  of: string,
  basis: Ratio["basis"],
  target: number | null,
  direction: Ratio["direction"],
  description: string,
): RatioSpec {
  return { id: `vault-${basis}|${of}`, of, basis, target, direction, description };
}

/** The plugin command: the built executable (Node 26 inside), else the bundle on this Node. */
async function pluginCommand(root: string, tmp: string): Promise<{ argv: string[]; note: string }> {
  const exe = path.join(root, "dist/vault-plugin-secrets-transit-ts");
  if (existsSync(exe)) {
    const stale = statSync(exe).mtimeMs < statSync(path.join(root, "src/plugin/server.ts")).mtimeMs;
    return {
      argv: [exe],
      note: `dist/vault-plugin-secrets-transit-ts${stale ? " (older than src/plugin: run npm run build:plugin)" : ""}`,
    };
  }
  return {
    argv: [process.execPath, await bundlePlugin(root, tmp)],
    note: `bundle on Node ${process.version} (no executable: npm run build:plugin)`,
  };
}

/** Several rounds of one case and plugin as one Measurement: best round's throughput, median latency, least CPU. */
function aggregate(
  list: readonly HostOutcome[],
): Omit<Measurement, "id" | "layer" | "group" | "impl" | "op" | "itemsPerSec" | "bytesPerSec"> {
  const first = list[0] as HostOutcome;
  return {
    size: first.case.size,
    batch: first.case.batch,
    concurrency: first.case.inFlight,
    opsPerSec: bestRound(list.map((o) => o.opsPerSec)),
    latencyUs: {
      mean: median(list.map((o) => o.meanUs)),
      p50: median(list.map((o) => o.p50Us)),
      p99: median(list.map((o) => o.p99Us)),
    },
    cpuUsPerCall: Math.min(...list.map((o) => o.pluginCpuUsPerCall)),
    hostCpuUsPerCall: Math.min(...list.map((o) => o.hostCpuUsPerCall)),
    samples: list.reduce((n, o) => n + o.calls, 0),
    rounds: list.map((o) => o.opsPerSec),
  };
}

export async function runVault(ctx: RunContext): Promise<void> {
  const { root, tmp, quick } = ctx.options;
  ctx.progress.status("building the Vault-like host and the Go plugin peer");
  const built = await buildVaultHost(root, tmp);
  if ("reason" in built) throw new SkipLayer(built.reason);
  const ours = await pluginCommand(root, tmp);
  const cases = CASES.map((c) => ({
    ...c.host,
    ...(c.host.mixed !== undefined && quick ? { mixed: c.quickMixed ?? c.host.mixed } : {}),
  }));
  const rounds = quick ? 1 : 3;
  const outcomes = await runVaultHost(
    built.host,
    // The same executable with grpc-js as its server (rpc-server.ts), measured beside the default.
    {
      plugin: ours.argv,
      "plugin-grpcjs": ["/usr/bin/env", "TRANSIT_TS_GRPC_SERVER=grpc-js", ...ours.argv],
      go: [built.peer],
    },
    cases,
    { rounds, ms: quick ? 300 : 1500, warmupMs: quick ? 100 : 400 },
    (o) => ctx.progress.status(`${o.case.name} ${o.plugin} round ${o.round + 1}/${rounds}`),
  );
  const failed = outcomes.find((o) => o.error !== undefined);
  if (failed !== undefined) throw new Error(`${failed.plugin} ${failed.case.name}: ${failed.error}`);

  const recorded = new Map<string, Measurement>();
  for (const c of CASES) {
    const hc = cases.find((x) => x.name === c.host.name) as HostCase;
    for (const [plugin, impl] of [
      ["plugin", "plugin executable"],
      ["plugin-grpcjs", "plugin executable, grpc-js server"],
      ["go", "Go plugin peer"],
    ] as const) {
      const list = outcomes.filter((o) => o.case.name === hc.name && o.plugin === plugin);
      if (list.length === 0) continue;
      const big = list.find((o) => (o.bigCalls ?? 0) > 0);
      const mixedNote =
        hc.mixed !== undefined && hc.mixed > 0
          ? `; a batch_input of ${hc.mixed} items kept in flight (${big?.bigCalls ?? 0} done, ${big?.bigMeanMs ?? "–"} ms each)`
          : "";
      const m = ctx.record({
        group: c.group,
        impl: hc.mixed !== undefined && hc.mixed > 0 ? `${impl}, large batch in flight` : impl,
        op: "encrypt",
        ...aggregate(list),
        ...(plugin === "go" ? { limit: true } : plugin === "plugin-grpcjs" ? { reference: true } : {}),
        note: `${plugin === "go" ? "bench/vault/peer, go-plugin 1.0.1" : plugin === "plugin" ? `${ours.note}, node:http2 server` : `${ours.note}, TRANSIT_TS_GRPC_SERVER=grpc-js`}; per encrypt HandleExistenceCheck + HandleRequest, ${list[0]?.requestBytes} B of data JSON; ${hc.inFlight} in flight; ops/s best of ${list.length} rounds, p50/p99 their median, CPU/call the least${mixedNote}`,
      });
      recorded.set(`${plugin}|${hc.name}`, m);
    }
  }
  for (const spec of RATIOS) {
    ctx.ratio({
      id: spec.id,
      description: spec.description,
      numerator: recorded.get(`${spec.who ?? "plugin"}|${spec.of}`),
      denominator: recorded.get(spec.against !== undefined ? `plugin|${spec.against}` : `go|${spec.of}`),
      basis: spec.basis,
      target: spec.target,
      direction: spec.direction,
    });
  }
  // The Go peer under the same mixed load, for comparison (no target).
  ctx.ratio({
    id: "vault-mixed-p99-added|go",
    description: "ms a large batch in flight adds to the p99 of 16 concurrent 64 B encrypts (Go peer)",
    numerator: recorded.get("go|mixed"),
    denominator: recorded.get("go|e64c16"),
    basis: "p99AddedMs",
    direction: "<=",
  });
}
