import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import type { RunContext } from "../lib/context.ts";
import { formatSize } from "../lib/stats.ts";
import type { Measurement } from "../lib/types.ts";
import type { ChildInput, ChildOutput, ChildRow } from "../pq/child.ts";

/**
 * Issue #13's rows in the primitives layer: ML-DSA-65 and SLH-DSA-SHA2-128f sign and verify
 * (ours against OpenSSL 3.5 through node:crypto directly, noble beside), AES-256-GCM-SIV against
 * AES-256-GCM, AES-CMAC against HMAC-SHA256. OpenSSL has the first three only from Node 24, so
 * bench/pq/child.ts runs them on the plugin's Node 26 runtime (fetched by `npm run build:plugin`;
 * CI builds it before the bench). Without it the child runs on this Node: noble's paths only.
 */
const RUNTIME_CACHE = "node_modules/.cache/plugin-runtime";

/** The Node 26 binary of the plugin executable, as test/crypto/helpers/openssl-runtime.ts finds it. */
function pluginRuntime(root: string): string | undefined {
  const cache = path.join(root, RUNTIME_CACHE);
  if (!existsSync(cache)) return undefined;
  for (const dir of readdirSync(cache).sort().reverse()) {
    for (const bin of [path.join(cache, dir, "package/bin/node"), path.join(cache, dir, "bin/node")])
      if (existsSync(bin)) return bin;
  }
  return undefined;
}

function runChild(bin: string, input: ChildInput): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, ["--import", "tsx", path.join(input.root, "bench/pq/child.ts")], {
      cwd: input.root,
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    proc.once("error", reject);
    proc.once("exit", (code) => {
      if (code !== 0) reject(new Error(`bench/pq/child.ts exited with ${code}`));
      else resolve(JSON.parse(out.trim().split("\n").pop() ?? "{}") as ChildOutput);
    });
    proc.stdin.end(JSON.stringify(input));
  });
}

interface RatioCase {
  group: string;
  op: string;
  size: number;
  /** Role of the denominator row. */
  against: "openssl" | "gcm" | "hmac";
  target: number | null;
  /** The target holds only where ours runs on OpenSSL. */
  onlyOnOpenssl?: boolean;
}

function ratioCases(quick: boolean): RatioCase[] {
  const sigs = ["ml-dsa-65", "slh-dsa-sha2-128f"].flatMap((group) =>
    ["sign", "verify"].map(
      (op): RatioCase => ({ group, op, size: 64, against: "openssl", target: 0.9, onlyOnOpenssl: true }),
    ),
  );
  const siv = (quick ? [64, 1024 * 1024] : [64, 4096, 1024 * 1024]).map(
    (size): RatioCase => ({
      group: "aes-256-gcm-siv encrypt",
      op: "encrypt",
      size,
      against: "gcm",
      target: size === 1024 * 1024 ? 0.5 : null,
    }),
  );
  const mac = (quick ? [64] : [64, 4096]).map(
    (size): RatioCase => ({ group: "aes-256-cmac", op: "mac", size, against: "hmac", target: null }),
  );
  return [...sigs, ...siv, ...mac];
}

export async function runPqCases(ctx: RunContext): Promise<void> {
  const { root, tmp, quick, measure } = ctx.options;
  const runtime = pluginRuntime(root);
  if (runtime === undefined)
    ctx.progress.line(
      "post-quantum cases: the Node 26 runtime is absent (`npm run build:plugin` fetches it; CI builds it before the bench): OpenSSL rows skipped, noble's measured on this Node",
    );
  let out: ChildOutput;
  try {
    out = await runChild(runtime ?? process.execPath, { root, tmp, quick, measure });
  } catch (e) {
    ctx.progress.line(`post-quantum cases skipped: ${(e as Error).message.split("\n")[0]}`);
    return;
  }
  for (const s of out.skipped) ctx.progress.line(`skipped: ${s}`);
  const note = `Node ${out.node} (OpenSSL ${out.openssl}) in a child process`;
  const recorded = new Map<string, { row: ChildRow; m: Measurement }>();
  for (const row of out.rows) {
    const m = ctx.recordTiming(row.timing, {
      group: row.group,
      impl: row.impl,
      op: row.op,
      size: row.size,
      batch: 1,
      concurrency: 1,
      ...(row.limit === true ? { limit: true } : {}),
      ...(row.reference === true ? { reference: true } : {}),
      note,
    });
    recorded.set(`${row.group}|${row.op}|${row.size}|${row.role}`, { row, m });
  }
  for (const r of ratioCases(quick)) {
    const ours = recorded.get(`${r.group}|${r.op}|${r.size}|ours`);
    const den = recorded.get(`${r.group}|${r.op}|${r.size}|${r.against}`);
    const onOpenssl = ours?.row.backend === "openssl";
    const what =
      r.against === "openssl"
        ? "node:crypto (OpenSSL) directly"
        : r.against === "gcm"
          ? "aes-256-gcm"
          : "hmac-sha256";
    ctx.ratio({
      id: `pq-vs-${r.against}|${r.group}|${r.op}|${r.size}`,
      description: `${r.group.includes(r.op) ? r.group : `${r.group} ${r.op}`} ${formatSize(r.size)}, ours${ours?.row.backend !== undefined ? ` (${ours.row.backend})` : ""} / ${what}`,
      numerator: ours?.m,
      denominator: den?.m,
      basis: "opsPerSec",
      target: r.onlyOnOpenssl === true && !onOpenssl ? null : r.target,
      ...(r.onlyOnOpenssl === true && !onOpenssl ? { note: "ours runs on noble here: no target" } : {}),
    });
  }
}
