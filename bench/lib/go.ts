import { execFile } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface GoResult {
  op: string;
  size: number;
  variant: string;
  opsPerSec: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  samples: number;
  batch: number;
  rounds: number[];
}

/**
 * Builds bench/go-peer with the machine's Go (Debian's golang-go) in GOPATH
 * mode: standard library only, no modules, nothing fetched. Returns the
 * binary, or a reason it cannot be built here.
 */
export async function buildGoPeer(root: string, tmp: string): Promise<{ bin: string } | { reason: string }> {
  const src = path.join(root, "bench/go-peer/main.go");
  const bin = path.join(tmp, "go-peer");
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs) return { bin };
  mkdirSync(tmp, { recursive: true });
  const env = {
    ...process.env,
    GO111MODULE: "off",
    GOFLAGS: "",
    GOTOOLCHAIN: "local",
    GOCACHE: process.env["GOCACHE"] ?? path.join(tmp, "gocache"),
    GOPATH: process.env["GOPATH"] ?? path.join(tmp, "gopath"),
    CGO_ENABLED: "0",
  };
  try {
    await run("go", ["build", "-o", bin, "main.go"], { cwd: path.dirname(src), env, timeout: 300_000 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === "ENOENT") return { reason: "Go is not installed (apt-get install golang-go)" };
    return { reason: `go build failed: ${(err.stderr ?? err.message).trim().split("\n")[0]}` };
  }
  return { bin };
}

export async function runGoPeer(
  bin: string,
  args: Record<string, string | number | boolean>,
): Promise<GoResult> {
  const argv = Object.entries(args).flatMap(([k, v]) =>
    v === true ? [`-${k}`] : v === false ? [] : [`-${k}`, String(v)],
  );
  const { stdout } = await run(bin, argv, { timeout: 120_000, maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as GoResult;
}

export async function goPeerCheck(bin: string, size: number, keyHex: string): Promise<string> {
  const { stdout } = await run(bin, ["-check", "-size", String(size), "-key", keyHex], { timeout: 30_000 });
  return stdout;
}
