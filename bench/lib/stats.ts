/** Small statistics helpers shared by the layers (percentiles by linear interpolation, medians). */

/** The q-quantile (0..1) of already sorted values, interpolating linearly between order statistics. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (q <= 0) return sorted[0] ?? Number.NaN;
  if (q >= 1) return sorted[sorted.length - 1] ?? Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[hi] ?? Number.NaN;
  return a + (b - a) * (pos - lo);
}

/** The q-quantile of unsorted values (copied, never reordered in place). */
export function quantile(values: readonly number[], q: number): number {
  return quantileSorted(
    [...values].sort((x, y) => x - y),
    q,
  );
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** A human-readable rate: 1234567 -> "1.23 M". */
export function formatRate(value: number): string {
  if (!Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(2)} G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(abs >= 100 ? 0 : 1);
}

/** A message size in the units the issue uses: 64 B, 1 KiB, 16 KiB, 1 MiB. */
export function formatSize(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/** Microseconds with a precision that suits their size. */
export function formatMicros(us: number | undefined): string {
  if (us === undefined || !Number.isFinite(us)) return "–";
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  if (us >= 100) return `${us.toFixed(0)} µs`;
  if (us >= 10) return `${us.toFixed(1)} µs`;
  return `${us.toFixed(2)} µs`;
}

/**
 * The figure reported for a task measured in several interleaved rounds: the
 * best round. On a shared machine other work only ever slows a round down,
 * so the fastest round is the least disturbed estimate of the cost; every
 * side of a ratio is taken the same way. The rounds themselves are kept in
 * latest.json.
 */
export function bestRound(rounds: readonly number[]): number {
  return rounds.length === 0 ? Number.NaN : Math.max(...rounds);
}
