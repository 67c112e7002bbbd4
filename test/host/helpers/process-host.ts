/**
 * Runs the dev host as a user does (`node --import tsx src/host/main.ts`, what
 * `npm start` runs) in its own process group, so a test can kill -9 the host
 * and the plugin it launched together and nothing outlives the test.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export interface RunningHost {
  url: string;
  token: string;
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL to the host's whole process group (host and plugin). */
  kill9(): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

export function tempDataDir(prefix = "devhost-e2e-"): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const tracked: (() => void)[] = [];

/** A temporary data directory that removeDataDirs (in afterAll) deletes. */
export function trackedDataDir(prefix: string): string {
  const d = tempDataDir(prefix);
  tracked.push(d.cleanup);
  return d.dir;
}

/** Kills every host a test left running and deletes the tracked data directories. */
export function removeDataDirs(): void {
  killAllHosts();
  for (const c of tracked.splice(0)) c();
}

function killGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    // already gone
  }
}

/** Starts the host and resolves once it prints its address; rejects with its stderr if it exits first. */
export function startHost(opts: {
  dataDir: string;
  token?: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}): Promise<RunningHost> {
  const token = opts.token ?? `hvs.e2e-${Math.random().toString(36).slice(2)}`;
  const env: Record<string, string | undefined> = {
    ...process.env,
    VAULT_DEV_ROOT_TOKEN_ID: token,
    VAULT_DEV_LISTEN_ADDRESS: "127.0.0.1:0",
    TRANSIT_DEV_DATA_DIR: opts.dataDir,
    TRANSIT_DEV_ROLLBACK_INTERVAL: "0",
    VAULT_LOG_LEVEL: "info",
    ...opts.env,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const proc = spawn(process.execPath, ["--import", "tsx", "src/host/main.ts", ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env: env as NodeJS.ProcessEnv,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(proc);
  let out = "";
  let err = "";
  proc.stdout?.setEncoding("utf8").on("data", (c: string) => {
    out += c;
  });
  proc.stderr?.setEncoding("utf8").on("data", (c: string) => {
    err += c;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    proc.on("exit", (code, signal) => {
      running.delete(proc);
      res({ code, signal });
    });
  });

  const host: RunningHost = {
    url: "",
    token,
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async () => {
      proc.kill("SIGTERM");
      const { code } = await exited;
      killGroup(proc, "SIGKILL");
      return code;
    },
    kill9: async () => {
      killGroup(proc, "SIGKILL");
      await exited;
    },
  };

  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      killGroup(proc, "SIGKILL");
      reject(new Error(`dev host did not start in time\nstdout:\n${out}\nstderr:\n${err}`));
    }, opts.timeoutMs ?? 60_000);
    const onData = () => {
      const m = /Address:\s+(\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        proc.stdout?.off("data", onData);
        host.url = m[1]!;
        resolvePromise(host);
      }
    };
    proc.stdout?.on("data", onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(`dev host exited (code ${code}, signal ${signal}) before it started\nstderr:\n${err}`),
      );
    });
  });
}

/** Runs the host expecting it to refuse to start; resolves with its exit code and stderr. */
export async function runHostExpectingFailure(opts: {
  dataDir: string;
  args?: string[];
  env?: Record<string, string | undefined>;
}): Promise<{ code: number | null; stderr: string; stdout: string }> {
  try {
    const h = await startHost({ ...opts, timeoutMs: 60_000 });
    await h.stop();
    throw new Error("the host started although it should have refused");
  } catch (e) {
    const msg = (e as Error).message;
    const m = /exited \(code (\d+|null)/.exec(msg);
    if (m === null) throw e;
    return { code: m[1] === "null" ? null : Number(m[1]), stderr: msg, stdout: "" };
  }
}

/** Kills every host a test left running (afterAll safety net). */
export function killAllHosts(): void {
  for (const proc of running) killGroup(proc, "SIGKILL");
}

/**
 * Whether the plugin process and the plugin client exist in this tree. Until
 * they land (other issues), the process-level tests are reported as skipped,
 * with this reason printed, rather than failing CI for everyone.
 */
export const PLUGIN_READY =
  existsSync(join(REPO_ROOT, "src/pluginhost")) && existsSync(join(REPO_ROOT, "src/plugin"));
if (!PLUGIN_READY) {
  process.stderr.write(
    "test/host: src/plugin or src/pluginhost is missing: the dev host's process-level tests are skipped\n",
  );
}

/** Paths the mounted engine serves, from its root help (asks the running plugin, links nothing). */
export async function enginePaths(host: RunningHost, mount = "transit"): Promise<string> {
  const res = await fetch(`${host.url}/v1/${mount}/?help=1`, { headers: { "X-Vault-Token": host.token } });
  const body = (await res.json()) as { help?: string };
  return body.help ?? "";
}
