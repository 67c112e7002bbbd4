import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * A helper process of the bench (echo server, bare HTTP server, load
 * generator): started with `node --import tsx`, sent its input on stdin,
 * its first stdout line read back (a port), ended by closing stdin and, if
 * need be, by its own pid.
 */
export interface Child {
  proc: ChildProcess;
  firstLine: string;
  stop(): Promise<void>;
}

export async function startChild(
  args: string[],
  input: string,
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Child> {
  const proc = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  proc.stdin?.write(input);
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const firstLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${args[0]}: no answer in time. ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    const rl = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
    rl.once("line", (line) => {
      clearTimeout(timer);
      resolve(line.trim());
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited with ${code}: ${stderr.trim()}`));
    });
  });
  return {
    proc,
    firstLine,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) {
          resolve();
          return;
        }
        const timer = setTimeout(() => proc.kill("SIGKILL"), 3000);
        proc.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        proc.stdin?.end();
        proc.kill("SIGTERM");
      }),
  };
}
