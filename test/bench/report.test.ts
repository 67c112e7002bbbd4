import { describe, expect, it } from "vitest";
import { escapeXml, logTicks, panelsFor, renderChart, renderPanels } from "../../bench/lib/chart.ts";
import { limitFor, renderMarkdown } from "../../bench/lib/report.ts";
import { type Measurement, type Results, SCHEMA_VERSION } from "../../bench/lib/types.ts";

function m(p: Partial<Measurement> & Pick<Measurement, "impl" | "size" | "opsPerSec">): Measurement {
  const batch = p.batch ?? 1;
  return {
    id: `${p.layer ?? "primitives"}|${p.group ?? "aes-256-gcm encrypt"}|${p.impl}|${p.size}|${batch}`,
    layer: "primitives",
    group: "aes-256-gcm encrypt",
    op: "encrypt",
    batch,
    concurrency: 1,
    itemsPerSec: p.opsPerSec * batch,
    bytesPerSec: p.opsPerSec * batch * p.size,
    samples: 10,
    ...p,
  };
}

function results(measurements: Measurement[]): Results {
  return {
    schema: SCHEMA_VERSION,
    startedAt: "2026-11-25T06:00:00.000Z",
    finishedAt: "2026-11-25T06:05:00.000Z",
    seconds: 300,
    mode: "full",
    argv: [],
    machine: {
      cpu: "Test CPU <x&y>",
      cores: 2,
      memGiB: 24,
      os: "Debian",
      kernel: "6",
      node: "v20",
      v8: "11",
      nodeOpenssl: "3.0.19",
      systemOpenssl: "OpenSSL 3.0.19",
      go: "go1.19",
      loadAvgAtStart: 0.5,
    },
    layers: {
      primitives: { status: "ok", seconds: 1 },
      grpc: { status: "skipped", reason: "no plugin", seconds: 0 },
    },
    measurements,
    ratios: [
      {
        id: "r",
        layer: "primitives",
        description: "fastest | openssl",
        numerator: "a",
        denominator: "b",
        basis: "bytesPerSec",
        value: 0.6,
        target: 0.75,
        direction: ">=",
        met: false,
      },
    ],
  };
}

const sample = [
  m({ impl: "openssl speed -evp", size: 64, opsPerSec: 2_000_000, limit: true }),
  m({ impl: "openssl speed -evp", size: 1 << 20, opsPerSec: 4000, limit: true }),
  m({ impl: "node:crypto", size: 64, opsPerSec: 200_000 }),
  m({ impl: "node:crypto", size: 1 << 20, opsPerSec: 2000 }),
  m({ impl: "@noble/ciphers", size: 64, opsPerSec: 30_000 }),
];

describe("chart", () => {
  it("makes power ticks that cover the data", () => {
    expect(logTicks(64, 1 << 20, 4)).toEqual([64, 256, 1024, 4096, 16384, 65536, 262144, 1048576]);
    expect(logTicks(3e6, 4e9, 10)).toEqual([1e6, 1e7, 1e8, 1e9, 1e10]);
    expect(logTicks(5, 5, 10).length).toBeGreaterThanOrEqual(2);
  });

  it("escapes text for XML", () => {
    expect(escapeXml(`a<b>&"c"`)).toBe("a&lt;b&gt;&amp;&quot;c&quot;");
  });

  it("draws one line per implementation, the limit dashed and labelled", () => {
    const panels = panelsFor(results(sample));
    expect(panels).toHaveLength(1);
    const series = panels[0]?.series ?? [];
    expect(series.map((s) => [s.name, s.style])).toEqual([
      ["node:crypto", "normal"],
      ["@noble/ciphers", "normal"],
      ["openssl speed -evp", "limit"],
    ]);
    const svg = renderChart(results(sample));
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("openssl speed -evp (limit)");
    expect(svg).toContain('stroke-dasharray="7 4"');
    expect(svg).toContain("Test CPU &lt;x&amp;y&gt;");
    expect(svg).not.toContain("NaN");
    // One path per series with at least one point.
    expect(svg.match(/<path /g)).toHaveLength(3);
  });

  it("still writes a valid document when nothing can be drawn", () => {
    const svg = renderPanels([], "t", "s");
    expect(svg).toContain("</svg>");
  });
});

describe("markdown", () => {
  it("finds a measurement's limit at the same size", () => {
    const node64 = sample[2] as Measurement;
    expect(limitFor(sample, node64)?.opsPerSec).toBe(2_000_000);
  });

  it("pivots sizes into columns with the ratio to the limit, and lists targets and skipped layers", () => {
    const md = renderMarkdown(results(sample));
    expect(md).toContain("| | 64 B | 1 MiB |");
    expect(md).toContain("**limit: openssl speed -evp**");
    // node:crypto at 64 B is 0.10 of the limit, at 1 MiB 0.50.
    expect(md).toMatch(
      /\| node:crypto \| 200\.0 k op\/s<br>\*\*0\.10×\*\* \| 2\.0 k op\/s<br>2\.10 GB\/s<br>\*\*0\.50×\*\* \|/,
    );
    expect(md).toContain("| primitives | fastest \\| openssl | 0.60 | >= 0.75 | **missed** |");
    expect(md).toContain("skipped: no plugin");
  });
});
