/**
 * lmdb's failures in words: a failed write's OS error, a damaged database
 * found by a read or by a lookup scan, and a full disk refused before lmdb
 * maps its files. Every text is fixed here: never a stored value or key.
 */
import { statfsSync } from "node:fs";
import type { RootDatabase } from "lmdb";
import { StorageError } from "../../framework/errors.ts";

/** OS errors a write can meet, in words (lmdb-js reports the errno as a number). */
const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EIO: "input/output error",
  EFBIG: "file too large",
};
const ERRNO_CODE: Record<number, string> = {
  28: "ENOSPC",
  122: "EDQUOT",
  30: "EROFS",
  13: "EACCES",
  1: "EPERM",
  5: "EIO",
  27: "EFBIG",
};

/**
 * The StorageError for a failed lmdb write. A failed commit's error carries
 * the OS error in a separate `commitError` promise: it is awaited here, which
 * also keeps it from surfacing as an unhandled rejection that would end the
 * process.
 */
export async function writeFailure(e: unknown): Promise<StorageError> {
  let cause: unknown = e;
  const commitError = (e as { commitError?: PromiseLike<unknown> } | null)?.commitError;
  if (commitError !== undefined && typeof commitError.then === "function") {
    try {
      await commitError;
    } catch (inner) {
      cause = inner;
    }
  }
  const raw = (cause as { code?: unknown } | null)?.code;
  const code = typeof raw === "number" ? ERRNO_CODE[raw] : typeof raw === "string" ? raw : undefined;
  const text = code !== undefined ? ERRNO_TEXT[code] : undefined;
  return new StorageError(
    `storage write failed: ${text !== undefined ? `${text} (${code})` : "the database did not commit"}`,
    code,
  );
}

/**
 * lmdb maps its lock file (and grows its files) through mmap: on a file
 * system with no room left, touching those pages kills the process with
 * SIGBUS instead of returning ENOSPC. Refuse to open before that happens.
 */
export const MIN_FREE_BYTES_TO_OPEN = 1024 * 1024;

export function refuseFullDisk(dataDir: string): void {
  let free: number;
  try {
    const st = statfsSync(dataDir);
    free = Number(st.bavail) * Number(st.bsize);
  } catch {
    return; // no statfs here: lmdb will report what it meets
  }
  if (free < MIN_FREE_BYTES_TO_OPEN) {
    throw new StorageError(
      `storage unavailable: the data directory's file system has ${free} bytes free; at least ${MIN_FREE_BYTES_TO_OPEN} are needed to open the database (no space left on device)`,
      "ENOSPC",
    );
  }
}

/** A read that lmdb itself failed (MDB_PAGE_NOTFOUND, MDB_CORRUPTED...): its text names no value. */
export function damaged(e: unknown): StorageError {
  if (e instanceof StorageError) return e;
  const text = e instanceof Error ? e.message.split("\n")[0]?.slice(0, 120) : "";
  return new StorageError(`storage read failed: the database is damaged (${text || "lmdb read error"})`);
}

/** Entries that iteration finds but a lookup by their own key does not (or finds with other bytes). */
export function lookupMismatches(db: RootDatabase<Buffer, string>): string[] {
  const out: string[] = [];
  for (const { key, value } of db.getRange()) {
    let found: Buffer | undefined;
    try {
      found = db.get(key);
    } catch {
      found = undefined;
    }
    if (found === undefined || !Buffer.from(found).equals(Buffer.from(value))) out.push(String(key));
  }
  return out;
}
