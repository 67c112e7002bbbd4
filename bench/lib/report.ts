import { formatMicros, formatRate, formatSize } from "./stats.ts";
import { LAYERS, type Measurement, type Results } from "./types.ts";

const LAYER_TITLES: Record<string, string> = {
  primitives: "1. Primitives (limit: `openssl speed -evp`)",
  engine: "2. Engine in process (limit: the bare primitive on the same data)",
  peer: "5. The peer: engine vs a Go lower bound of Vault's per-request work",
  grpc: "3. Plugin over gRPC, mTLS (limit: grpc-js echo of the same size)",
  http: "4. Dev host over HTTP (limit: bare node:http server)",
  scaling: "6. Scaling",
  vault: "7. Through a Vault-like Go host (limit: a Go plugin peer under the same host)",
};

export function machineLine(r: Results): string {
  const m = r.machine;
  return [
    `${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB`,
    m.os,
    `Node ${m.node} (bundled OpenSSL ${m.nodeOpenssl})`,
    m.systemOpenssl ?? "no system openssl",
    m.go ?? "no Go",
    `load average ${m.loadAvgAtStart} at start`,
  ].join("; ");
}

function rowName(m: Measurement): string {
  let name = m.impl;
  if (m.batch > 1) name += ` ×${m.batch}`;
  if (m.concurrency > 1) name += `, ${m.concurrency} in flight`;
  if (m.limit === true) return `**limit: ${name}**`;
  if (m.reference === true) return name.endsWith("(ref)") ? `_${name}_` : `_${name} (ref)_`;
  return name;
}

function esc(text: string): string {
  return text.replace(/\|/g, "\\|");
}

/** The limit of a measurement's group at the same size (and batch, concurrency when the limit has them). */
export function limitFor(all: readonly Measurement[], m: Measurement): Measurement | undefined {
  const candidates = all.filter(
    (x) => x.limit === true && x.layer === m.layer && x.group === m.group && x.size === m.size,
  );
  return (
    candidates.find((x) => x.concurrency === m.concurrency && x.batch === m.batch) ??
    candidates.find((x) => x.concurrency === m.concurrency) ??
    candidates[0]
  );
}

function cell(all: readonly Measurement[], m: Measurement): string {
  const parts = [`${formatRate(m.opsPerSec)} op/s`];
  if (m.batch > 1) parts.push(`${formatRate(m.itemsPerSec)} items/s`);
  if (m.size >= 1024) parts.push(`${formatRate(m.bytesPerSec)}B/s`);
  const lim = limitFor(all, m);
  if (lim !== undefined && lim !== m) parts.push(`**${(m.itemsPerSec / lim.itemsPerSec).toFixed(2)}×**`);
  return parts.join("<br>");
}

function groupTable(all: readonly Measurement[], group: Measurement[]): string[] {
  const sizes = [...new Set(group.map((m) => m.size))].sort((a, b) => a - b);
  const hasLatency = group.some(
    (m) => m.concurrency > 1 || m.layer === "grpc" || m.layer === "http" || m.layer === "vault",
  );
  // Layer vault: CPU per call of the serving process and of the Go host.
  const hasCpu = group.some((m) => m.hostCpuUsPerCall !== undefined);
  const lines: string[] = [];
  if (sizes.length > 1 && !hasLatency) {
    // Pivot: one row per implementation, one column per size.
    const rows = new Map<string, Map<number, Measurement>>();
    for (const m of group) {
      const key = rowName(m);
      const row = rows.get(key) ?? new Map<number, Measurement>();
      row.set(m.size, m);
      rows.set(key, row);
    }
    lines.push(`| | ${sizes.map(formatSize).join(" | ")} |`);
    lines.push(`|---|${sizes.map(() => "---:").join("|")}|`);
    for (const [name, row] of rows) {
      lines.push(
        `| ${esc(name)} | ${sizes.map((s) => (row.has(s) ? cell(all, row.get(s) as Measurement) : "")).join(" | ")} |`,
      );
    }
  } else {
    const cpuHead = hasCpu ? " CPU/call | host CPU/call |" : "";
    lines.push(`| | size | ops/s | items/s | MB/s | p50 | p99 | vs limit |${cpuHead}`);
    lines.push(`|---|---:|---:|---:|---:|---:|---:|---:|${hasCpu ? "---:|---:|" : ""}`);
    for (const m of group) {
      const lim = limitFor(all, m);
      const ratio = lim !== undefined && lim !== m ? `${(m.itemsPerSec / lim.itemsPerSec).toFixed(2)}×` : "";
      lines.push(
        `| ${esc(rowName(m))} | ${formatSize(m.size)} | ${formatRate(m.opsPerSec)} | ${formatRate(m.itemsPerSec)} | ${(m.bytesPerSec / 1e6).toFixed(m.bytesPerSec >= 1e8 ? 0 : 1)} | ${formatMicros(m.latencyUs?.p50)} | ${formatMicros(m.latencyUs?.p99)} | ${ratio} |${hasCpu ? ` ${formatMicros(m.cpuUsPerCall)} | ${formatMicros(m.hostCpuUsPerCall)} |` : ""}`,
      );
    }
  }
  return lines;
}

export function targetsTable(r: Results): string[] {
  const lines = ["| layer | ratio | value | target | |", "|---|---|---:|---:|---|"];
  for (const x of r.ratios) {
    const verdict = x.met === null ? "recorded" : x.met ? "met" : "**missed**";
    const target = x.target === null ? "" : `${x.direction} ${x.target}`;
    lines.push(`| ${x.layer} | ${esc(x.description)} | ${x.value.toFixed(2)} | ${target} | ${verdict} |`);
  }
  return lines;
}

/** bench/results/latest.md: the targets, then one table per compared group, layer by layer. */
export function renderMarkdown(r: Results): string {
  const out: string[] = [];
  out.push(`# Benchmark results (${r.mode} run)`);
  out.push("");
  out.push(
    `${r.startedAt.slice(0, 16).replace("T", " ")} UTC, ${r.seconds.toFixed(0)} s. Machine: ${machineLine(r)}.`,
  );
  out.push("");
  out.push(
    "Each figure is the best of interleaved rounds (other work on this shared machine only slows a round down; every round is in latest.json); a ratio is ours over the limit measured next to it in the same run. " +
      "Cells: calls/s (items/s for batches, bytes/s from 1 KiB), and the ratio to the group's limit in bold.",
  );
  out.push("");
  out.push("## Targets");
  out.push("");
  out.push(...(r.ratios.length > 0 ? targetsTable(r) : ["(no ratios in this run)"]));
  for (const layer of LAYERS) {
    const status = r.layers[layer];
    if (status === undefined) continue;
    out.push("");
    out.push(`## ${LAYER_TITLES[layer] ?? layer}`);
    out.push("");
    if (status.status !== "ok") {
      out.push(`${status.status}: ${(status.reason ?? "").split("\n")[0]}`);
      continue;
    }
    const ms = r.measurements.filter((m) => m.layer === layer);
    const groups = [...new Set(ms.map((m) => m.group))];
    for (const g of groups) {
      out.push(`### ${g}`);
      out.push("");
      out.push(
        ...groupTable(
          r.measurements,
          ms.filter((m) => m.group === g),
        ),
      );
      const notes = [
        ...new Set(ms.filter((m) => m.group === g && m.note).map((m) => `${m.impl}: ${m.note}`)),
      ];
      if (notes.length > 0 && notes.length <= 12) {
        out.push("");
        for (const n of notes) out.push(`- ${esc(n)}`);
      }
      out.push("");
    }
  }
  return `${out.join("\n").replace(/\n{3,}/g, "\n\n")}\n`;
}
