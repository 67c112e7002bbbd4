import { formatSize } from "./stats.ts";
import type { Measurement, Results } from "./types.ts";

/**
 * The results chart as a standalone SVG (no browser, no library): panels of
 * throughput against message size on log-log axes, one line per
 * implementation, the platform's limit dashed in black.
 */
export interface Series {
  name: string;
  points: [number, number][];
  style: "normal" | "limit" | "reference";
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
}

const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#bcbd22",
];

export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Powers of `base` covering [min, max] (at least two). */
export function logTicks(min: number, max: number, base: number): number[] {
  if (!(min > 0) || !(max > 0)) return [1, base];
  let lo = base ** Math.floor(Math.log(min) / Math.log(base) + 1e-9);
  const hi = base ** Math.ceil(Math.log(max) / Math.log(base) - 1e-9);
  const ticks: number[] = [];
  for (; lo <= hi * (1 + 1e-9); lo *= base) ticks.push(lo);
  if (ticks.length < 2) ticks.push((ticks[0] ?? 1) * base);
  return ticks;
}

function formatBytesPerSec(v: number): string {
  if (v >= 1e9) return `${+(v / 1e9).toPrecision(3)} GB/s`;
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)} MB/s`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)} kB/s`;
  return `${+v.toPrecision(3)} B/s`;
}

function formatX(v: number): string {
  return formatSize(v).replace(" ", "\u00a0");
}

const W = 520;
const H = 330;
const M = { left: 70, right: 12, top: 30, bottom: 40 };
const LEGEND_ROW = 15;

function renderPanel(p: Panel, ox: number, oy: number, legendRows: number): string {
  const pts = p.series.flatMap((s) => s.points);
  const xs = pts.map(([x]) => x);
  const ys = pts.map(([, y]) => y).filter((y) => y > 0);
  const xt = logTicks(Math.min(...xs), Math.max(...xs), 4);
  const yt = logTicks(Math.min(...ys), Math.max(...ys), 10);
  const x0 = Math.log(xt[0] ?? 1);
  const x1 = Math.log(xt[xt.length - 1] ?? 2);
  const y0 = Math.log(yt[0] ?? 1);
  const y1 = Math.log(yt[yt.length - 1] ?? 10);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number): number => ox + M.left + ((Math.log(x) - x0) / (x1 - x0 || 1)) * pw;
  const sy = (y: number): number => oy + M.top + ph - ((Math.log(y) - y0) / (y1 - y0 || 1)) * ph;
  const out: string[] = [];
  out.push(
    `<text x="${ox + M.left}" y="${oy + 18}" font-size="13" font-weight="bold">${escapeXml(p.title)}</text>`,
  );
  for (const t of xt) {
    const x = sx(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${oy + M.top}" x2="${x}" y2="${oy + M.top + ph}" stroke="#e5e5e5"/>`);
    out.push(
      `<text x="${x}" y="${oy + M.top + ph + 14}" font-size="10" text-anchor="middle">${escapeXml(formatX(t))}</text>`,
    );
  }
  for (const t of yt) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${ox + M.left}" y1="${y}" x2="${ox + M.left + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(
      `<text x="${ox + M.left - 4}" y="${(+y + 3).toFixed(1)}" font-size="10" text-anchor="end">${escapeXml(formatBytesPerSec(t))}</text>`,
    );
  }
  out.push(
    `<rect x="${ox + M.left}" y="${oy + M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
  );
  out.push(
    `<text x="${ox + M.left + pw / 2}" y="${oy + H - 8}" font-size="10" text-anchor="middle">message size</text>`,
  );
  let colour = 0;
  p.series.forEach((s, i) => {
    const stroke =
      s.style === "limit"
        ? "#000"
        : s.style === "reference"
          ? "#999"
          : (PALETTE[colour++ % PALETTE.length] ?? "#000");
    const dash =
      s.style === "limit"
        ? ' stroke-dasharray="7 4"'
        : s.style === "reference"
          ? ' stroke-dasharray="2 3"'
          : "";
    const width = s.style === "limit" ? 2.2 : 1.6;
    const sorted = [...s.points].filter(([, y]) => y > 0).sort((a, b) => a[0] - b[0]);
    if (sorted.length > 0) {
      const d = sorted
        .map(([x, y], j) => `${j === 0 ? "M" : "L"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
        .join(" ");
      out.push(`<path d="${d}" fill="none" stroke="${stroke}" stroke-width="${width}"${dash}/>`);
      for (const [x, y] of sorted)
        out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.2" fill="${stroke}"/>`);
    }
    // Legend under the plot, two columns.
    const lx = ox + M.left + (i % 2) * (pw / 2);
    const ly = oy + H + Math.floor(i / 2) * LEGEND_ROW;
    out.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${stroke}" stroke-width="${width}"${dash}/>`,
    );
    const label = s.style === "limit" ? `${s.name} (limit)` : s.name;
    out.push(`<text x="${lx + 22}" y="${ly}" font-size="10">${escapeXml(label)}</text>`);
  });
  void legendRows;
  return out.join("\n");
}

/** Lays panels out two per row and returns the SVG document. */
export function renderPanels(panels: readonly Panel[], title: string, subtitle: string): string {
  const cols = 2;
  const legendRows = Math.max(1, ...panels.map((p) => Math.ceil(p.series.length / 2)));
  const cellH = H + legendRows * LEGEND_ROW + 10;
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  const width = W * cols;
  const height = 50 + rows * cellH;
  const body = panels.map((p, i) =>
    renderPanel(p, (i % cols) * W, 50 + Math.floor(i / cols) * cellH, legendRows),
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="12" y="22" font-size="16" font-weight="bold">${escapeXml(title)}</text>
<text x="12" y="40" font-size="11" fill="#444">${escapeXml(subtitle)}</text>
${body.join("\n")}
</svg>
`;
}

interface PanelSpec {
  title: string;
  layer: Measurement["layer"];
  group: string;
  /** Only measurements with this many calls in flight (default: any). */
  concurrency?: number;
}

const PANELS: PanelSpec[] = [
  { title: "AES-256-GCM encrypt", layer: "primitives", group: "aes-256-gcm encrypt" },
  { title: "AES-256-GCM decrypt", layer: "primitives", group: "aes-256-gcm decrypt" },
  { title: "AES-128-GCM encrypt", layer: "primitives", group: "aes-128-gcm encrypt" },
  { title: "ChaCha20-Poly1305 encrypt", layer: "primitives", group: "chacha20-poly1305 encrypt" },
  {
    title: "Engine encrypt (JSON in/out) vs Go lower bound",
    layer: "peer",
    group: "encrypt, JSON in and out",
  },
  {
    title: "Engine decrypt (JSON in/out) vs Go lower bound",
    layer: "peer",
    group: "decrypt, JSON in and out",
  },
  {
    title: "Encrypt through a Vault-like Go host, 1 in flight",
    layer: "vault",
    group: "encrypt through a Vault-like host",
    concurrency: 1,
  },
];

/** The panels the results support: a group appears once it has at least two sizes. */
export function panelsFor(r: Results): Panel[] {
  const panels: Panel[] = [];
  for (const spec of PANELS) {
    const ms = r.measurements.filter(
      (m) =>
        m.layer === spec.layer &&
        m.group === spec.group &&
        m.batch === 1 &&
        (spec.concurrency === undefined || m.concurrency === spec.concurrency),
    );
    if (new Set(ms.map((m) => m.size)).size < 2) continue;
    const byImpl = new Map<string, Measurement[]>();
    for (const m of ms) byImpl.set(m.impl, [...(byImpl.get(m.impl) ?? []), m]);
    const series: Series[] = [...byImpl].map(([name, list]) => ({
      name,
      points: list.map((m) => [m.size, m.bytesPerSec] as [number, number]),
      style: list.some((m) => m.limit === true)
        ? "limit"
        : list.some((m) => m.reference === true)
          ? "reference"
          : "normal",
    }));
    // Ours first, limit last so it is drawn on top.
    series.sort((a, b) => (a.style === "limit" ? 1 : 0) - (b.style === "limit" ? 1 : 0));
    panels.push({ title: spec.title, yLabel: "bytes/s", series });
  }
  return panels;
}

export function renderChart(r: Results): string {
  const m = r.machine;
  const subtitle = `${r.startedAt.slice(0, 10)}, ${r.mode} run; ${m.cpu}, ${m.cores} cores; Node ${m.node} (OpenSSL ${m.nodeOpenssl}); ${m.go ?? "no Go"}. Throughput (log) against message size (log).`;
  const panels = panelsFor(r);
  if (panels.length === 0) {
    return renderPanels(
      [],
      "vault-plugin-secrets-transit-ts: throughput",
      `${subtitle} No layer with several sizes ran.`,
    );
  }
  return renderPanels(panels, "vault-plugin-secrets-transit-ts: throughput against message size", subtitle);
}
