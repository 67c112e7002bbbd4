import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface LoadResult {
  requestsPerSec: number;
  requests: number;
  seconds: number;
  /** Microseconds. */
  p50: number;
  p99: number;
  mean: number;
  /** Non-2xx answers and socket errors. */
  errors: number;
}

export async function wrkVersion(): Promise<string | null> {
  // wrk prints its version on -v and exits non-zero; only a missing executable means no wrk.
  const r = await run("wrk", ["-v"], { timeout: 5000 }).catch((e: { stdout?: string; code?: unknown }) => e);
  if ((r as { code?: unknown }).code === "ENOENT") return null;
  const out = (r as { stdout?: string }).stdout ?? "";
  return out.split("\n")[0]?.trim() || "wrk";
}

function luaString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** The Lua script: the request to send, and a done() that prints one JSON line wrk's table does not. */
export function wrkScript(method: string, body: string, headers: Record<string, string>): string {
  const hdrs = Object.entries(headers)
    .map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`)
    .join("\n");
  return `wrk.method = ${luaString(method)}
wrk.body = ${luaString(body)}
${hdrs}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests":%d,"duration_us":%d,"p50":%d,"p99":%d,"mean":%f,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    e.connect + e.read + e.write + e.status + e.timeout))
end
`;
}

/** Parses the BENCHJSON line of a wrk run. */
export function parseWrkOutput(stdout: string): LoadResult {
  const line = stdout.split("\n").find((l) => l.startsWith("BENCHJSON "));
  if (line === undefined) throw new Error(`wrk printed no result: ${stdout.slice(0, 300)}`);
  const j = JSON.parse(line.slice("BENCHJSON ".length)) as {
    requests: number;
    duration_us: number;
    p50: number;
    p99: number;
    mean: number;
    errors: number;
  };
  const seconds = j.duration_us / 1e6;
  return {
    requests: j.requests,
    seconds,
    requestsPerSec: j.requests / seconds,
    p50: j.p50,
    p99: j.p99,
    mean: j.mean,
    errors: j.errors,
  };
}

/**
 * Runs wrk (one thread: the machine has two cores, one is the server's) from
 * its own process against a loopback URL for `seconds`.
 */
export async function runWrk(opts: {
  url: string;
  connections: number;
  seconds: number;
  method: string;
  body: string;
  headers: Record<string, string>;
  tmp: string;
  name: string;
}): Promise<LoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(opts.url)) throw new Error("load is only ever sent to 127.0.0.1");
  const script = path.join(opts.tmp, `wrk-${opts.name}.lua`);
  writeFileSync(script, wrkScript(opts.method, opts.body, opts.headers));
  const { stdout } = await run(
    "wrk",
    ["-t1", `-c${opts.connections}`, `-d${opts.seconds}s`, "--timeout", "10s", "-s", script, opts.url],
    { timeout: (opts.seconds + 30) * 1000, maxBuffer: 1 << 20 },
  );
  return parseWrkOutput(stdout);
}
