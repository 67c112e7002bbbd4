/**
 * The results schema of `npm run bench` (bench/results/latest.json).
 *
 * Every figure is one Measurement; a group of measurements that are compared
 * with each other shares `group`, and the row marked `limit` is the platform's
 * own figure for that group, measured in the same run. Ratios name the two
 * measurements they divide and the target the issue sets for them.
 */
export const SCHEMA_VERSION = 1;

export const LAYERS = ["primitives", "engine", "peer", "grpc", "http", "scaling", "vault"] as const;
export type LayerId = (typeof LAYERS)[number];

export interface Latency {
  /** Microseconds. For in-process layers these are means of timed batches of calls (see `batch` in notes). */
  mean: number;
  p50: number;
  p99: number;
}

export interface Measurement {
  /** Unique within a run: layer/group/impl/size/... */
  id: string;
  layer: LayerId;
  /** What is compared: e.g. "aes-256-gcm encrypt", "engine encrypt", "grpc encrypt 64 in flight". */
  group: string;
  /** Who did it: "node:crypto (prealloc)", "@noble/ciphers", "openssl speed -evp", "go peer", "engine"... */
  impl: string;
  op: string;
  /** Message size in bytes, per item. */
  size: number;
  /** Items per call (batch_input length; 1 for single requests). */
  batch: number;
  /** Calls in flight (1 = sequential). */
  concurrency: number;
  /** Calls (requests) completed per second. */
  opsPerSec: number;
  /** opsPerSec × batch. */
  itemsPerSec: number;
  /** itemsPerSec × size. */
  bytesPerSec: number;
  latencyUs?: Latency;
  /** In-process layers: CPU time of the process per call, µs (best round; see measure.ts). */
  cpuUsPerCall?: number;
  /** Layer vault: CPU of the Vault-like Go host per call, µs (its getrusage), the best round. */
  hostCpuUsPerCall?: number;
  /** Timed samples behind the figure. */
  samples: number;
  /** In-process layers: calls timed together per sample (the sample is their mean). */
  callsPerSample?: number;
  /** ops/s of each interleaved round; the figure is the best of them (bench/lib/stats.ts bestRound). */
  rounds?: number[];
  /** The platform's own limit for this group, drawn dashed in the chart. */
  limit?: boolean;
  /** A reference line that is neither ours nor the limit (e.g. a stricter variant). */
  reference?: boolean;
  note?: string;
}

export interface Ratio {
  id: string;
  layer: LayerId;
  description: string;
  /** Measurement ids: value = numerator / denominator on `basis`. */
  numerator: string;
  denominator: string;
  /**
   * "p50items": items per second of the typical call (batch ÷ median latency), a figure that ms-long
   * stalls from other processes on the machine do not move, unlike the mean behind itemsPerSec.
   * "cpuItems": items per CPU second of this process (batch ÷ cpuUsPerCall).
   * "cpu", "hostCpu": CPU µs per call of the serving process, of the Vault-like host (lower is better).
   * "p99AddedMs": not a quotient but numerator p99 − denominator p99, in milliseconds.
   */
  basis:
    | "itemsPerSec"
    | "opsPerSec"
    | "bytesPerSec"
    | "p99"
    | "p50items"
    | "cpuItems"
    | "cpu"
    | "hostCpu"
    | "p99AddedMs";
  value: number;
  /** The target for this ratio, or null when it is recorded only. */
  target: number | null;
  /** ">=": value must reach target; "<=": value must stay under it. */
  direction: ">=" | "<=";
  met: boolean | null;
  note?: string;
}

export interface LayerStatus {
  status: "ok" | "skipped" | "failed";
  reason?: string;
  seconds: number;
}

export interface Machine {
  cpu: string;
  cores: number;
  memGiB: number;
  os: string;
  kernel: string;
  node: string;
  v8: string;
  nodeOpenssl: string;
  systemOpenssl: string | null;
  go: string | null;
  /** 1-minute load average when the run started: other work on the machine shows here. */
  loadAvgAtStart: number;
}

export interface Results {
  schema: typeof SCHEMA_VERSION;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  mode: "full" | "quick";
  argv: string[];
  machine: Machine;
  layers: Partial<Record<LayerId, LayerStatus>>;
  measurements: Measurement[];
  ratios: Ratio[];
}
