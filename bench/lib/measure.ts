import { performance } from "node:perf_hooks";
import { Bench } from "tinybench";
import type { Progress } from "./progress.ts";
import { bestRound, median, quantileSorted } from "./stats.ts";

/**
 * In-process measurement with tinybench.
 *
 * Each tinybench iteration runs a batch of `k` calls of the operation and
 * reports the batch's mean as its sample (overriddenDuration), so that the
 * cost of reading the clock (~0.1 µs) does not distort sub-microsecond
 * operations; `k` is calibrated per task so that a batch lasts about
 * `batchTargetMs`. The Go peer (bench/go-peer) times its loops the same way.
 *
 * Tasks that are compared with each other run in the same Bench, in
 * interleaved rounds (the order alternates), and each task's figure is its
 * best round (see bestRound): on a shared 2-core machine this keeps a burst
 * of other work from landing on one side of a ratio only.
 */
export interface TaskDef {
  key: string;
  label: string;
  /** One call of the operation; may return a promise. */
  fn: () => unknown;
  /** Force a batch size (1 for latency-per-call measurements). */
  batch?: number;
}

export interface Timing {
  opsPerSec: number;
  /** Microseconds per call: mean, and p50/p99 of the batch means. */
  meanUs: number;
  p50Us: number;
  p99Us: number;
  samples: number;
  rounds: number[];
  batch: number;
  /**
   * CPU time of this process per call (user + system, µs), the best round: other jobs on the
   * machine stretch wall time far more than CPU time. Includes V8's and libuv's helper threads.
   */
  cpuUsPerCall?: number;
}

export interface MeasureOptions {
  timeMs: number;
  warmupMs: number;
  rounds: number;
  batchTargetMs: number;
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/** Runs fn until `ms` have passed (at least `min` times); returns the mean ms per call. */
async function calibrate(fn: () => unknown, ms: number): Promise<{ perCallMs: number; async: boolean }> {
  const first = fn();
  const async = isPromise(first);
  if (async) await first;
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms || n < 3) {
    const r = fn();
    if (async) await r;
    n++;
    t = performance.now();
  }
  return { perCallMs: (t - t0) / n, async };
}

export async function measureTasks(
  tasks: readonly TaskDef[],
  opts: MeasureOptions,
  progress: Progress,
): Promise<Map<string, Timing>> {
  const prepared: { def: TaskDef; k: number; async: boolean }[] = [];
  for (const def of tasks) {
    progress.status(`calibrating ${def.label}`);
    const { perCallMs, async } = await calibrate(def.fn, Math.min(20, opts.warmupMs));
    const k =
      def.batch ?? Math.max(1, Math.min(100_000, Math.round(opts.batchTargetMs / Math.max(perCallMs, 1e-6))));
    prepared.push({ def, k, async });
  }

  const perRound = new Map<string, number[]>();
  const perSamples = new Map<string, number[]>();
  /** CPU µs and calls of each task in the current round. */
  const cpu = new Map<string, { us: number; calls: number }>();
  const cpuRounds = new Map<string, number[]>();
  for (let round = 0; round < opts.rounds; round++) {
    const bench = new Bench({
      time: opts.timeMs,
      iterations: 3,
      warmup: opts.warmupMs > 0,
      warmupTime: round === 0 ? opts.warmupMs : Math.min(opts.warmupMs, 20),
      warmupIterations: 1,
      retainSamples: true,
    });
    const order = round % 2 === 0 ? prepared : [...prepared].reverse();
    for (const { def, k, async } of order) {
      const fn = def.fn;
      const acc = { us: 0, calls: 0 };
      cpu.set(def.key, acc);
      const count = (c0: NodeJS.CpuUsage): void => {
        const c = process.cpuUsage(c0);
        acc.us += c.user + c.system;
        acc.calls += k;
      };
      if (async) {
        bench.add(def.key, async () => {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          for (let i = 0; i < k; i++) await fn();
          const dt = performance.now() - t0;
          count(c0);
          return { overriddenDuration: dt / k, overriddenIterationCost: dt };
        });
      } else {
        bench.add(def.key, () => {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          for (let i = 0; i < k; i++) fn();
          const dt = performance.now() - t0;
          count(c0);
          return { overriddenDuration: dt / k, overriddenIterationCost: dt };
        });
      }
    }
    bench.addEventListener("cycle", (evt) => {
      const name = evt.task?.name ?? "";
      const def = prepared.find((p) => p.def.key === name)?.def;
      progress.status(`round ${round + 1}/${opts.rounds} ${def?.label ?? name}`);
    });
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state === "errored") throw new Error(`${task.name}: ${r.error.message}`);
      if (r.state !== "completed") throw new Error(`${task.name}: ${r.state}`);
      const list = perRound.get(task.name) ?? [];
      list.push(1000 / r.latency.mean);
      perRound.set(task.name, list);
      const s = perSamples.get(task.name) ?? [];
      for (const v of r.latency.samples ?? []) s.push(v);
      perSamples.set(task.name, s);
      // Warm-up iterations are counted too: CPU per call is the same whether timed or not.
      const acc = cpu.get(task.name);
      if (acc !== undefined && acc.calls > 0) {
        const list2 = cpuRounds.get(task.name) ?? [];
        list2.push(acc.us / acc.calls);
        cpuRounds.set(task.name, list2);
      }
    }
  }

  const out = new Map<string, Timing>();
  for (const { def, k } of prepared) {
    const rounds = perRound.get(def.key) ?? [];
    const samples = (perSamples.get(def.key) ?? []).sort((a, b) => a - b);
    const opsPerSec = bestRound(rounds);
    out.set(def.key, {
      opsPerSec,
      meanUs: 1e6 / opsPerSec,
      p50Us: quantileSorted(samples, 0.5) * 1000,
      p99Us: quantileSorted(samples, 0.99) * 1000,
      samples: samples.length,
      rounds,
      batch: k,
      ...(cpuRounds.has(def.key) ? { cpuUsPerCall: Math.min(...(cpuRounds.get(def.key) ?? [])) } : {}),
    });
  }
  return out;
}

/**
 * A closed loop with `concurrency` callers for `durationMs`: every call's own
 * latency is recorded (no batching), throughput is completed calls over the
 * wall time. Used where calls overlap (64 in flight over gRPC).
 */
export async function closedLoop(
  fn: () => Promise<unknown>,
  concurrency: number,
  durationMs: number,
  warmupMs: number,
): Promise<{ opsPerSec: number; latenciesUs: number[]; seconds: number }> {
  const runFor = async (ms: number, record: number[] | null): Promise<number> => {
    const deadline = performance.now() + ms;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await fn();
        if (record !== null) record.push((performance.now() - t0) * 1000);
        done++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return done;
  };
  if (warmupMs > 0) await runFor(warmupMs, null);
  const latencies: number[] = [];
  const t0 = performance.now();
  const done = await runFor(durationMs, latencies);
  const seconds = (performance.now() - t0) / 1000;
  return { opsPerSec: done / seconds, latenciesUs: latencies, seconds };
}

/** Combines the Timing of one task over separately run rounds (the figure stays the best round). */
export function mergeTimings(list: readonly Timing[]): Timing {
  const first = list[0];
  if (first === undefined) throw new Error("mergeTimings: nothing to merge");
  const rounds = list.flatMap((t) => t.rounds);
  const opsPerSec = bestRound(rounds);
  return {
    opsPerSec,
    meanUs: 1e6 / opsPerSec,
    p50Us: median(list.map((t) => t.p50Us)),
    p99Us: Math.max(...list.map((t) => t.p99Us)),
    samples: list.reduce((n, t) => n + t.samples, 0),
    rounds,
    batch: first.batch,
    ...(list.every((t) => t.cpuUsPerCall !== undefined)
      ? { cpuUsPerCall: Math.min(...list.map((t) => t.cpuUsPerCall as number)) }
      : {}),
  };
}
