// The OpenSSL 3.5 path of src/crypto, reached through the Node 26 runtime that `npm run build:plugin`
// fetches (node_modules/.cache/plugin-runtime/<package>/package/bin/node): tests on the system's
// Node 20 batch their calls, run them there in one child process, and compare with noble's results.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const CACHE = join(ROOT, "node_modules", ".cache", "plugin-runtime");

/** The Node 26 binary, or undefined when `npm run build:plugin` has not fetched it. */
export function opensslRuntime(): string | undefined {
  if (!existsSync(CACHE)) return undefined;
  for (const dir of readdirSync(CACHE).sort().reverse()) {
    const bin = join(CACHE, dir, "package", "bin", "node");
    if (existsSync(bin)) return bin;
  }
  return undefined;
}

export const NO_RUNTIME_REASON =
  "the Node 26 runtime is absent (run `npm run build:plugin` once; CI builds it before the tests)";

export interface Call {
  fn: string;
  args: unknown[];
}
export type Result = { ok: unknown } | { error: string };

function encode(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $b: Buffer.from(v).toString("hex") };
  if (Array.isArray(v)) return v.map(encode);
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  return v;
}

function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o.$b === "string") return new Uint8Array(Buffer.from(o.$b, "hex"));
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

/** Runs the calls in the Node 26 runtime; throws if that process fails as a whole. */
export function runOnOpenssl(calls: Call[], forceNoble = false): { openssl: string; results: Result[] } {
  const bin = opensslRuntime();
  if (bin === undefined) throw new Error(NO_RUNTIME_REASON);
  const out = spawnSync(bin, ["--import", "tsx", join(ROOT, "test/crypto/helpers/openssl-worker.ts")], {
    cwd: ROOT,
    input: JSON.stringify(encode(calls)),
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, TRANSIT_PQC_FORCE_NOBLE: forceNoble ? "1" : "" },
  });
  if (out.status !== 0) throw new Error(`Node 26 worker failed: ${out.stderr.toString().slice(0, 2000)}`);
  const parsed = JSON.parse(out.stdout.toString("utf8")) as { openssl: string; results: Result[] };
  return { openssl: parsed.openssl, results: parsed.results.map((r) => decode(r) as Result) };
}

/** The value of a successful call; fails the test with the worker's error otherwise. */
export function ok<T>(result: Result | undefined): T {
  if (result === undefined) throw new Error("missing result");
  if ("error" in result) throw new Error(`Node 26 call failed: ${result.error}`);
  return result.ok as T;
}
