/**
 * docs/performance.md, generated: the hand-written prose of bench/performance.template.md with
 * the figures of a results file put in, so that no figure in the document is copied by hand.
 *
 *   npm run docs:performance [-- bench/results/latest.json]
 *
 * bench/run.ts calls writePerformanceDoc after a complete run that wrote bench/results/.
 *
 * Placeholders in the template:
 *   {{run}}          when the run started, its mode and length
 *   {{machine}}      the machine and runtimes the run recorded
 *   {{headline}}     every ratio with a target, and the recorded ones that explain a gap, with
 *                    both sides' figures
 *   {{skipped}}      the layers that did not run, and why (empty when every layer ran)
 *   {{ratio:ID}}     one ratio's value, two decimals; {{verdict:ID}}: met, missed or recorded
 * A placeholder naming a ratio the results lack renders as "n/a" and is reported in `missing`.
 * `{{ratio?:ID}}`, `{{verdict?:ID}}`: a ratio that older results may lack (a case added since the
 * committed run): it renders as "not measured yet" and is not reported.
 * A leading `<!-- template: ... -->` comment is for the template's editors and is dropped.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { machineLine } from "./lib/report.ts";
import { formatMicros, formatRate } from "./lib/stats.ts";
import type { Measurement, Ratio, Results } from "./lib/types.ts";

export const TEMPLATE = "bench/performance.template.md";
export const OUTPUT = "docs/performance.md";
export const RESULTS = "bench/results/latest.json";

function figure(m: Measurement | undefined, basis: Ratio["basis"]): string {
  if (m === undefined) return "–";
  const items = m.batch > 1 ? " items" : "";
  switch (basis) {
    case "p50items":
      return `${formatRate((m.batch * 1e6) / (m.latencyUs?.p50 ?? Number.NaN))}${items}/s at p50`;
    case "cpuItems":
      return `${formatRate((m.batch * 1e6) / (m.cpuUsPerCall ?? Number.NaN))}${items}/CPU-s`;
    case "p99":
    case "p99AddedMs":
      return `p99 ${formatMicros(m.latencyUs?.p99)}`;
    case "cpu":
      return `${formatMicros(m.cpuUsPerCall)} CPU/call`;
    case "hostCpu":
      return `${formatMicros(m.hostCpuUsPerCall)} host CPU/call`;
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
/** The headline keeps the primitives of the default key type; `all` shows every algorithm. */
const HEADLINE_PRIMITIVES = /\|aes-256-gcm |^pq-vs-(openssl|gcm)\|/;

function inHeadline(x: Ratio, all: boolean): boolean {
  if (x.target === null && !EXPLAINING.some((re) => re.test(x.id))) return false;
  if (all) return true;
  if (x.layer === "primitives" && !HEADLINE_PRIMITIVES.test(x.id)) return false;
  return !/^aead-hot-path-is-fastest\|.*\|1048576$/.test(x.id) && !/\|fastest$/.test(x.id);
}

function verdict(x: Ratio): string {
  return x.met === null ? "recorded" : x.met ? "met" : "missed";
}

/** The headline table as Markdown lines: layer, ratio, both sides, value, target, verdict. */
export function headlineTable(r: Results, all = false): string[] {
  const byId = new Map(r.measurements.map((m) => [m.id, m]));
  const lines = ["| layer | ratio | ours | limit | value | target | |", "|---|---|---:|---:|---:|---:|---|"];
  // The layer as Vault drives the plugin leads: it is what an operator pays for choosing this plugin.
  const ordered = [
    ...r.ratios.filter((x) => x.layer === "vault"),
    ...r.ratios.filter((x) => x.layer !== "vault"),
  ];
  for (const x of ordered) {
    if (!inHeadline(x, all)) continue;
    const v = x.met === null ? "" : x.met ? "met" : "**missed**";
    const target = x.target === null ? "" : `${x.direction} ${x.target}`;
    const ours = figure(byId.get(x.numerator), x.basis);
    const limit = figure(byId.get(x.denominator), x.basis);
    lines.push(
      `| ${x.layer} | ${esc(x.description)} | ${ours} | ${limit} | ${x.value.toFixed(2)} | ${target} | ${v} |`,
    );
  }
  return lines;
}

export function runLine(r: Results): string {
  return `${r.startedAt.slice(0, 16).replace("T", " ")} UTC, ${r.mode} run, ${r.seconds.toFixed(0)} s`;
}

export function skippedLines(r: Results): string[] {
  return Object.entries(r.layers)
    .filter(([, s]) => s.status !== "ok")
    .map(([layer, s]) => `- ${layer}: ${s.status} (${(s.reason ?? "").split("\n")[0]})`);
}

export interface Rendered {
  text: string;
  /** Ratio ids the template names that the results do not have. */
  missing: string[];
}

/** Fills the template's placeholders from one results file. */
export function renderPerformance(template: string, r: Results): Rendered {
  const ratios = new Map(r.ratios.map((x) => [x.id, x]));
  const missing: string[] = [];
  const blocks: Record<string, () => string> = {
    run: () => runLine(r),
    machine: () => machineLine(r),
    headline: () => headlineTable(r).join("\n"),
    skipped: () => skippedLines(r).join("\n"),
  };
  const body = template.replace(/^<!-- template:[\s\S]*?-->\n/, "");
  const text = body.replace(
    /\{\{([a-z]+)(\?)?(?::([^}]+))?\}\}/g,
    (whole, name: string, optional?: string, arg?: string) => {
      if (arg === undefined) {
        const block = blocks[name];
        if (block === undefined) throw new Error(`${TEMPLATE}: unknown placeholder ${whole}`);
        return block();
      }
      const x = ratios.get(arg);
      if (x === undefined) {
        if (optional !== undefined) return "not measured yet";
        missing.push(arg);
        return "n/a";
      }
      if (name === "ratio") return x.value.toFixed(2);
      if (name === "verdict") return verdict(x);
      throw new Error(`${TEMPLATE}: unknown placeholder ${whole}`);
    },
  );
  return { text: text.replace(/\n{3,}/g, "\n\n"), missing };
}

/** Renders docs/performance.md under `root` from a results object; returns the ratio ids it missed. */
export function writePerformanceDoc(root: string, r: Results): string[] {
  const template = readFileSync(path.join(root, TEMPLATE), "utf8");
  const { text, missing } = renderPerformance(template, r);
  writeFileSync(path.join(root, OUTPUT), text);
  return missing;
}

if (process.argv[1] !== undefined && import.meta.url === `file://${path.resolve(process.argv[1])}`) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const file = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? path.join(root, RESULTS);
  const missing = writePerformanceDoc(root, JSON.parse(readFileSync(file, "utf8")) as Results);
  process.stdout.write(`${OUTPUT} written from ${path.relative(root, path.resolve(file))}\n`);
  if (missing.length > 0) {
    process.stderr.write(`ratios named in ${TEMPLATE} but absent from the results: ${missing.join(", ")}\n`);
    process.exitCode = 1;
  }
}
