import type { IncomingMessage } from "node:http";

/** Reads and drops the rest of a request body, up to `limit` bytes and `timeoutMs`. */
export function drainRequest(req: IncomingMessage, limit: number, timeoutMs: number): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", done);
      req.off("close", done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit) done();
    };
    const timer = setTimeout(done, timeoutMs);
    req.on("data", onData);
    req.once("end", done);
    req.once("close", done);
    req.resume();
  });
}
