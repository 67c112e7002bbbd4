/**
 * Prints the headline table of a results file as Markdown, for the README's
 * "Performance" section: every ratio the issue sets a target for (and the
 * recorded ones that explain them), with both sides' figures.
 *
 *   node --import tsx bench/summary.ts [--all] [bench/results/latest.json]
 */
import { readFileSync } from "node:fs";
import { machineLine } from "./lib/report.ts";
import { formatMicros, formatRate } from "./lib/stats.ts";
import type { Measurement, Ratio, Results } from "./lib/types.ts";

const all = process.argv.includes("--all");
const file = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "bench/results/latest.json";
const r = JSON.parse(readFileSync(file, "utf8")) as Results;
const byId = new Map(r.measurements.map((m) => [m.id, m]));

function figure(m: Measurement | undefined, basis: Ratio["basis"]): string {
  if (m === undefined) return "–";
  switch (basis) {
    case "p50items":
      return `${formatRate((m.batch * 1e6) / (m.latencyUs?.p50 ?? Number.NaN))}${m.batch > 1 ? " items" : ""}/s at p50`;
    case "cpuItems":
      return `${formatRate((m.batch * 1e6) / (m.cpuUsPerCall ?? Number.NaN))}${m.batch > 1 ? " items" : ""}/CPU-s`;
    case "p99":
      return `p99 ${formatMicros(m.latencyUs?.p99)}`;
    case "bytesPerSec":
      return `${formatRate(m.bytesPerSec)}B/s`;
    case "itemsPerSec":
      return m.batch > 1 ? `${formatRate(m.itemsPerSec)} items/s` : `${formatRate(m.opsPerSec)}/s`;
    default:
      return `${formatRate(m.opsPerSec)}/s`;
  }
}

const esc = (s: string): string => s.replace(/\|/g, "\\|");
/** Recorded ratios shown beside the targeted ones because they explain a gap. */
const EXPLAINING = [
  /node-stream/,
  /^engine-vs-go\|/,
  /^grpc-plugin-vs-echo\|.*\|c64$/,
  /^uncached/,
  /grpc-ceiling/,
  /-cpu\|/,
  /^flat-/,
];

const lines = [
  `Run of ${r.startedAt.slice(0, 16).replace("T", " ")} UTC (${r.mode}, ${r.seconds.toFixed(0)} s) on ${machineLine(r)}.`,
  "",
  "| layer | ratio | ours | limit | value | target | |",
  "|---|---|---:|---:|---:|---:|---|",
];
/** The headline (default): the primitives of the default key type only; --all prints every algorithm. */
const HEADLINE_PRIMITIVES = /\|aes-256-gcm /;
for (const x of r.ratios) {
  if (x.target === null && !EXPLAINING.some((re) => re.test(x.id))) continue;
  if (!all && x.layer === "primitives" && !HEADLINE_PRIMITIVES.test(x.id)) continue;
  if (!all && /^aead-hot-path-is-fastest\|.*\|1048576$/.test(x.id)) continue;
  if (!all && /\|fastest$/.test(x.id)) continue;
  const verdict = x.met === null ? "" : x.met ? "met" : "**missed**";
  const target = x.target === null ? "" : `${x.direction} ${x.target}`;
  lines.push(
    `| ${x.layer} | ${esc(x.description)} | ${figure(byId.get(x.numerator), x.basis)} | ${figure(byId.get(x.denominator), x.basis)} | ${x.value.toFixed(2)} | ${target} | ${verdict} |`,
  );
}
const skipped = Object.entries(r.layers).filter(([, s]) => s.status !== "ok");
if (skipped.length > 0) {
  lines.push("");
  for (const [layer, s] of skipped)
    lines.push(`- ${layer}: ${s.status} (${(s.reason ?? "").split("\n")[0]})`);
}
process.stdout.write(`${lines.join("\n")}\n`);
