/**
 * The data directory's pid file: one dev host per data directory. A file
 * naming a live process other than this one refuses the start; a stale one
 * (the process is gone) is taken over.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StartupError } from "./startup-error.ts";

export function pidFilePath(dataDir: string): string {
  return join(dataDir, "host.pid");
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Throws StartupError when another live host holds the data directory. */
export function refuseIfInUse(dataDir: string): void {
  const file = pidFilePath(dataDir);
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, "utf8").trim());
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isProcessAlive(pid)) {
    throw new StartupError(`another dev host (pid ${pid}) is using the data directory ${dataDir}`);
  }
}

export function writePidFile(dataDir: string): void {
  writeFileSync(pidFilePath(dataDir), `${process.pid}\n`, { mode: 0o600 });
}

export function removePidFile(dataDir: string): void {
  rmSync(pidFilePath(dataDir), { force: true });
}
