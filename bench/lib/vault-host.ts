import { execFile, spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** One case of the Vault-like host (bench/vault/host/main.go `kase`). */
export interface HostCase {
  name: string;
  /** Plaintext bytes per item. */
  size: number;
  /** Items per request (1: a single plaintext; more: batch_input). */
  batch: number;
  inFlight: number;
  /** Items of a large batch kept in flight beside the measured calls (0: none). */
  mixed?: number;
}

/** One case, plugin and round as the host prints it. */
export interface HostOutcome {
  case: Required<HostCase>;
  plugin: string;
  round: number;
  calls: number;
  seconds: number;
  opsPerSec: number;
  itemsPerSec: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  pluginCpuUsPerCall: number;
  hostCpuUsPerCall: number;
  bigCalls?: number;
  bigMeanMs?: number;
  requestBytes: number;
  error?: string;
}

/**
 * Builds bench/vault/{host,peer} with bench/vault/build.sh (Debian's go-plugin,
 * grpc-go and protoc-gen-go 1.3, GOPATH mode, offline). Returns the two
 * binaries, or why they cannot be built here.
 */
export async function buildVaultHost(
  root: string,
  tmp: string,
): Promise<{ host: string; peer: string } | { reason: string }> {
  const out = path.join(tmp, "vault-host");
  const host = path.join(out, "host");
  const peer = path.join(out, "peer");
  const sources = ["bench/vault/host/main.go", "bench/vault/peer/main.go", "bench/vault/build.sh"];
  const newest = Math.max(...sources.map((s) => statSync(path.join(root, s)).mtimeMs));
  if (
    existsSync(host) &&
    existsSync(peer) &&
    Math.min(statSync(host).mtimeMs, statSync(peer).mtimeMs) >= newest
  ) {
    return { host, peer };
  }
  try {
    await run("bash", [path.join(root, "bench/vault/build.sh"), out], { timeout: 600_000 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    const why = (err.stderr ?? err.message).trim().split("\n").slice(-3).join(" ");
    return {
      reason: `bench/vault/build.sh failed (needs golang-go, golang-github-hashicorp-go-plugin-dev, golang-google-grpc-dev, protobuf-compiler, protoc-gen-go-1-3): ${why}`,
    };
  }
  return { host, peer };
}

/**
 * Runs the host over `plugins` (name → argv) for every case in `rounds`
 * interleaved rounds; every outcome line is handed to `onOutcome` as it comes.
 */
export function runVaultHost(
  bin: string,
  plugins: Record<string, string[]>,
  cases: readonly HostCase[],
  opts: { rounds: number; ms: number; warmupMs: number },
  onOutcome: (o: HostOutcome) => void,
): Promise<HostOutcome[]> {
  const argv = [
    ...Object.entries(plugins).flatMap(([name, cmd]) => ["-plugin", `${name}=${cmd.join(",")}`]),
    "-cases",
    JSON.stringify(cases.map((c) => ({ mixed: 0, ...c }))),
    "-rounds",
    String(opts.rounds),
    "-ms",
    String(opts.ms),
    "-warmup-ms",
    String(opts.warmupMs),
  ];
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, argv, { stdio: ["ignore", "pipe", "pipe"] });
    const all: HostOutcome[] = [];
    let buf = "";
    let stderr = "";
    proc.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === "") continue;
        const o = JSON.parse(line) as HostOutcome;
        all.push(o);
        onOutcome(o);
      }
    });
    proc.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    proc.once("error", reject);
    proc.once("exit", (code) => {
      if (code === 0) resolve(all);
      else reject(new Error(`vault-like host exited with ${code}: ${stderr.trim()}`));
    });
  });
}
