/**
 * Copies everything a test worker writes to stdout and stderr (logs, console
 * output, child process stderr relayed through them) into a file under
 * $TEST_OUTPUT_DIR, for the secrets scan that CI runs after the suite.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const dir = process.env["TEST_OUTPUT_DIR"];
if (dir !== undefined && dir !== "") {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `worker-${process.pid}.log`);
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      try {
        appendFileSync(file, typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array));
      } catch {
        // Capturing must never break a test.
      }
      return original(chunk, ...rest);
    }) as typeof stream.write;
  }
}
