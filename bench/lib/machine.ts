import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { promisify } from "node:util";
import { systemOpensslVersion } from "./openssl.ts";
import type { Machine } from "./types.ts";

const run = promisify(execFile);

function osName(): string {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text);
    if (m?.[1] !== undefined) return m[1];
  } catch {
    // not Linux, or no os-release
  }
  return `${os.type()} ${os.release()}`;
}

export async function goVersion(): Promise<string | null> {
  try {
    const { stdout } = await run("go", ["version"], { timeout: 10_000 });
    return stdout.trim();
  } catch {
    return null;
  }
}

export async function describeMachine(): Promise<Machine> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    kernel: os.release(),
    node: process.version,
    v8: process.versions.v8,
    nodeOpenssl: process.versions.openssl ?? "unknown",
    systemOpenssl: await systemOpensslVersion(),
    go: await goVersion(),
    loadAvgAtStart: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
}
