import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** One algorithm's figures from `openssl speed -mr`: bytes/s and operations/s per buffer size. */
export interface SpeedFigure {
  algorithm: string;
  size: number;
  bytesPerSec: number;
  /** Operations counted over the timed seconds (from the +R line), when present. */
  opsPerSec: number | null;
}

/**
 * Parses the machine-readable output of `openssl speed -mr -evp ALG [-bytes N]`.
 *
 *   +DT:AES-256-GCM:1:64        start of a timed run (name, seconds, size)
 *   +R:2682102:AES-256-GCM:1.000000   operations done, name, seconds taken
 *   +H:16:64:256                sizes of the table that follows
 *   +F:25:AES-256-GCM:171654528.00:...   bytes per second for each size
 *
 * The +F line is the figure OpenSSL itself prints in its table (there in
 * 1000s of bytes/s); the +R lines, in the order of the sizes, give ops/s.
 */
export function parseSpeedMr(text: string): SpeedFigure[] {
  let sizes: number[] = [];
  const counts = new Map<string, { ops: number; seconds: number }[]>();
  const figures: SpeedFigure[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("+R:")) {
      const [, ops, name, seconds] = line.split(":");
      if (ops === undefined || name === undefined || seconds === undefined) continue;
      const list = counts.get(name) ?? [];
      list.push({ ops: Number(ops), seconds: Number(seconds) });
      counts.set(name, list);
    } else if (line.startsWith("+H:")) {
      sizes = line
        .slice(3)
        .split(":")
        .filter((s) => s !== "")
        .map(Number);
    } else if (line.startsWith("+F:")) {
      const parts = line.split(":");
      const name = parts[2];
      if (name === undefined) continue;
      const values = parts.slice(3).map(Number);
      const runs = counts.get(name) ?? [];
      values.forEach((bytesPerSec, i) => {
        const size = sizes[i];
        if (size === undefined || !Number.isFinite(bytesPerSec)) return;
        const r = runs[i];
        figures.push({
          algorithm: name,
          size,
          bytesPerSec,
          opsPerSec: r !== undefined && r.seconds > 0 ? r.ops / r.seconds : null,
        });
      });
    }
  }
  return figures;
}

/** The version line of the system's `openssl`, or null when there is none. */
export async function systemOpensslVersion(): Promise<string | null> {
  try {
    const { stdout } = await run("openssl", ["version"], { timeout: 5000 });
    return stdout.trim();
  } catch {
    return null;
  }
}

export interface SpeedOptions {
  /** EVP cipher name: aes-256-gcm, aes-128-gcm, chacha20-poly1305. */
  cipher: string;
  size: number;
  decrypt: boolean;
  /** `-aead`: a TLS-like sequence per message (new IV, AAD, update, final, tag) instead of a stream of updates. */
  aead: boolean;
  seconds: number;
}

/**
 * Runs the system's `openssl speed` for one cipher, size and direction. Uses
 * wall-clock time (-elapsed) like every other figure of the run, so that
 * other work on the machine slows both sides of a ratio alike.
 */
export async function opensslSpeed(o: SpeedOptions): Promise<SpeedFigure | null> {
  const args = ["speed", "-mr", "-elapsed", "-seconds", String(o.seconds), "-bytes", String(o.size)];
  if (o.decrypt) args.push("-decrypt");
  if (o.aead) args.push("-aead");
  args.push("-evp", o.cipher);
  const { stdout } = await run("openssl", args, { timeout: (o.seconds + 20) * 1000 });
  return parseSpeedMr(stdout).find((f) => f.size === o.size) ?? null;
}
