import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { headlineTable, OUTPUT, RESULTS, renderPerformance, TEMPLATE } from "../../bench/docs-performance.ts";
import type { Results } from "../../bench/lib/types.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const read = (file: string): string => readFileSync(path.join(ROOT, file), "utf8");
const committed = (): Results => JSON.parse(read(RESULTS)) as Results;

describe("docs/performance.md generator", () => {
  it("renders the committed results into the committed template with every placeholder resolved", () => {
    const r = committed();
    const { text, missing } = renderPerformance(read(TEMPLATE), r);
    expect(missing).toEqual([]);
    expect(text).not.toMatch(/\{\{[a-z]+(:[^}]*)?\}\}/);
    expect(text).not.toContain("<!-- template:");
    expect(text).toContain(r.machine.cpu);
    expect(text).toContain(r.startedAt.slice(0, 16).replace("T", " "));
    // Every ratio with a target appears in the headline, with its value from the JSON.
    const targeted = r.ratios.filter((x) => x.target !== null && x.layer !== "primitives");
    expect(targeted.length).toBeGreaterThan(0);
    for (const x of targeted) {
      const row = text
        .split("\n")
        .find((l) => l.startsWith(`| ${x.layer} | ${x.description.replace(/\|/g, "\\|")} |`));
      expect(row, x.id).toBeDefined();
      expect(row).toContain(`| ${x.value.toFixed(2)} | ${x.direction} ${x.target} |`);
    }
  });

  it("takes every figure from the results: a changed ratio changes the document", () => {
    const r = committed();
    const id = "engine-vs-go|encrypt|64";
    const ratio = r.ratios.find((x) => x.id === id);
    expect(ratio).toBeDefined();
    const template = `Go at 64 B: {{ratio:${id}}} ({{verdict:${id}}}).`;
    (ratio as { value: number }).value = 0.123456;
    (ratio as { met: boolean | null }).met = false;
    expect(renderPerformance(template, r).text).toBe("Go at 64 B: 0.12 (missed).");
    (ratio as { value: number }).value = 1.987;
    (ratio as { met: boolean | null }).met = true;
    expect(renderPerformance(template, r).text).toBe("Go at 64 B: 1.99 (met).");
  });

  it("reports ratios the results lack instead of inventing a figure", () => {
    const { text, missing } = renderPerformance("x {{ratio:no-such-ratio}} y", committed());
    expect(text).toBe("x n/a y");
    expect(missing).toEqual(["no-such-ratio"]);
    expect(() => renderPerformance("{{nonsense}}", committed())).toThrow(/unknown placeholder/);
  });

  it("shows both sides of a ratio from their measurements", () => {
    const r = committed();
    const x = r.ratios.find((y) => y.id === "engine-vs-go|encrypt|64");
    const num = r.measurements.find((m) => m.id === x?.numerator);
    expect(num).toBeDefined();
    (num as { opsPerSec: number }).opsPerSec = 4_321_000;
    const row = headlineTable(r).find((l) => l.includes("engine encrypt 64 B (JSON in/out)"));
    expect(row).toContain("| 4.32 M/s |");
  });

  it("the committed docs/performance.md is the rendering of the committed results (run npm run docs:performance)", () => {
    expect(read(OUTPUT)).toBe(renderPerformance(read(TEMPLATE), committed()).text);
  });
});
