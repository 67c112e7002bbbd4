import { type MeasureOptions, measureTasks, type TaskDef, type Timing } from "./measure.ts";
import type { Progress } from "./progress.ts";
import { formatMicros, formatRate, formatSize } from "./stats.ts";
import type { LayerId, Measurement, Ratio } from "./types.ts";

/** Thrown by a layer that cannot run here (a piece not written yet, a tool missing): recorded as skipped. */
export class SkipLayer extends Error {}

export interface RunOptions {
  quick: boolean;
  /** In-process tasks: tinybench time per task per round, warmup, rounds, batch length. */
  measure: MeasureOptions;
  /** Load layers (gRPC, HTTP): seconds per run. */
  loadSeconds: number;
  /** Repository root. */
  root: string;
  /** bench/results/tmp: build outputs, certificates, scratch. */
  tmp: string;
}

export type MeasurementInput = Omit<
  Measurement,
  "id" | "layer" | "itemsPerSec" | "bytesPerSec" | "samples"
> & {
  samples?: number;
};

/** What a layer gets: the options, progress output, and where its figures go. */
export class RunContext {
  readonly measurements: Measurement[] = [];
  readonly ratios: Ratio[] = [];
  layer: LayerId = "primitives";

  constructor(
    readonly options: RunOptions,
    readonly progress: Progress,
  ) {}

  /** Records one figure and prints it. */
  record(input: MeasurementInput): Measurement {
    const id = [
      this.layer,
      input.group,
      input.impl,
      input.op,
      input.size,
      input.batch > 1 ? `x${input.batch}` : "",
      input.concurrency > 1 ? `c${input.concurrency}` : "",
    ]
      .filter((p) => p !== "")
      .join("|");
    const itemsPerSec = input.opsPerSec * input.batch;
    const m: Measurement = {
      ...input,
      id,
      layer: this.layer,
      itemsPerSec,
      bytesPerSec: itemsPerSec * input.size,
      samples: input.samples ?? 0,
    };
    const existing = this.measurements.findIndex((x) => x.id === id);
    if (existing >= 0) this.measurements.splice(existing, 1);
    this.measurements.push(m);
    const batch = m.batch > 1 ? ` ×${m.batch}` : "";
    const conc = m.concurrency > 1 ? ` c${m.concurrency}` : "";
    const lat = m.latencyUs
      ? `  p50 ${formatMicros(m.latencyUs.p50)} p99 ${formatMicros(m.latencyUs.p99)}`
      : "";
    const tag = m.limit ? " [limit]" : m.reference ? " [ref]" : "";
    const what = m.group.includes(m.op) ? m.group : `${m.group} ${m.op}`;
    this.progress.line(
      `${what.padEnd(30)} ${formatSize(m.size).padStart(7)}${batch}${conc}  ${m.impl.padEnd(34)} ${formatRate(m.opsPerSec).padStart(8)} ops/s ${(formatRate(m.bytesPerSec) + "B/s").padStart(10)}${lat}${tag}`,
    );
    return m;
  }

  /** Records measurements from tinybench timings. */
  recordTiming(t: Timing, input: Omit<MeasurementInput, "opsPerSec" | "latencyUs" | "rounds">): Measurement {
    return this.record({
      ...input,
      opsPerSec: t.opsPerSec,
      latencyUs: { mean: t.meanUs, p50: t.p50Us, p99: t.p99Us },
      rounds: t.rounds,
      samples: t.samples,
      callsPerSample: t.batch,
      ...(t.cpuUsPerCall !== undefined ? { cpuUsPerCall: t.cpuUsPerCall } : {}),
    });
  }

  measure(
    tasks: readonly TaskDef[],
    overrides: Partial<RunOptions["measure"]> = {},
  ): Promise<Map<string, Timing>> {
    return measureTasks(tasks, { ...this.options.measure, ...overrides }, this.progress);
  }

  /** Records a ratio of two recorded measurements and prints it with its target. */
  ratio(args: {
    id: string;
    description: string;
    numerator: Measurement | undefined;
    denominator: Measurement | undefined;
    basis?: Ratio["basis"];
    target?: number | null;
    direction?: Ratio["direction"];
    note?: string;
  }): Ratio | null {
    const { numerator: num, denominator: den } = args;
    if (num === undefined || den === undefined) return null;
    const basis = args.basis ?? "itemsPerSec";
    const pick = (m: Measurement): number =>
      basis === "p99"
        ? (m.latencyUs?.p99 ?? Number.NaN)
        : basis === "p50items"
          ? m.batch / (m.latencyUs?.p50 ?? Number.NaN)
          : basis === "cpuItems"
            ? m.batch / (m.cpuUsPerCall ?? Number.NaN)
            : basis === "cpu"
              ? (m.cpuUsPerCall ?? Number.NaN)
              : basis === "hostCpu"
                ? (m.hostCpuUsPerCall ?? Number.NaN)
                : basis === "p99AddedMs"
                  ? (m.latencyUs?.p99 ?? Number.NaN) / 1000
                  : m[basis];
    const value = basis === "p99AddedMs" ? pick(num) - pick(den) : pick(num) / pick(den);
    const target = args.target ?? null;
    const direction = args.direction ?? ">=";
    const met = target === null ? null : direction === ">=" ? value >= target : value <= target;
    const r: Ratio = {
      id: args.id,
      layer: this.layer,
      description: args.description,
      numerator: num.id,
      denominator: den.id,
      basis,
      value,
      target,
      direction,
      met,
      ...(args.note !== undefined ? { note: args.note } : {}),
    };
    const existing = this.ratios.findIndex((x) => x.id === r.id);
    if (existing >= 0) this.ratios.splice(existing, 1);
    this.ratios.push(r);
    const verdict = met === null ? "" : met ? "  MET" : "  MISSED";
    const goal = target === null ? "" : `  (target ${direction} ${target})`;
    this.progress.line(`ratio ${r.description}: ${value.toFixed(3)}${goal}${verdict}`);
    return r;
  }

  find(pred: (m: Measurement) => boolean): Measurement | undefined {
    return this.measurements.find(pred);
  }
}
