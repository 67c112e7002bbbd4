/**
 * Prints the headline table of a results file as Markdown (the table docs/performance.md
 * carries): every ratio with a target, and the recorded ones that explain them, with both
 * sides' figures.
 *
 *   node --import tsx bench/summary.ts [--all] [bench/results/latest.json]
 */
import { readFileSync } from "node:fs";
import { headlineTable, RESULTS, runLine, skippedLines } from "./docs-performance.ts";
import { machineLine } from "./lib/report.ts";
import type { Results } from "./lib/types.ts";

const all = process.argv.includes("--all");
const file = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? RESULTS;
const r = JSON.parse(readFileSync(file, "utf8")) as Results;
const skipped = skippedLines(r);
const lines = [`Run of ${runLine(r)} on ${machineLine(r)}.`, "", ...headlineTable(r, all)];
if (skipped.length > 0) lines.push("", ...skipped);
process.stdout.write(`${lines.join("\n")}\n`);
