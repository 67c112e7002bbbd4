/**
 * The unseal key: 32 random bytes that seal the barrier's root key. The host
 * generates it on the first start of a data directory and writes it, base64,
 * to a file with mode 0600 (created exclusively, fsynced, then its directory
 * fsynced), or takes it from the environment. It never appears in a log.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { randomBytes } from "../../crypto/hash.ts";
import { KEY_SIZE } from "./barrier.ts";

export class UnsealKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsealKeyError";
  }
}

export interface UnsealKeySource {
  /** Path of the key file (read, or created on first start). */
  file: string;
  /** Base64 key from the environment; wins over the file. */
  fromEnv?: string | undefined;
  /** The data directory already holds a store: a missing key is then an error, never a new key. */
  storeExists: boolean;
  /** Name of the environment variable, for messages. */
  envName: string;
}

export interface UnsealKey {
  key: Buffer;
  origin: "environment" | "file" | "generated";
}

function decode(text: string, where: string): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) {
    throw new UnsealKeyError(`${where} does not hold a base64 unseal key`);
  }
  const key = Buffer.from(trimmed, "base64");
  if (key.length !== KEY_SIZE) {
    throw new UnsealKeyError(
      `${where} holds ${key.length} bytes; an unseal key is ${KEY_SIZE} bytes (base64)`,
    );
  }
  return key;
}

export function loadUnsealKey(src: UnsealKeySource): UnsealKey {
  if (src.fromEnv !== undefined && src.fromEnv !== "") {
    return { key: decode(src.fromEnv, src.envName), origin: "environment" };
  }
  if (existsSync(src.file)) {
    const st = statSync(src.file);
    if (!st.isFile()) throw new UnsealKeyError(`unseal key file ${src.file} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new UnsealKeyError(
        `unseal key file ${src.file} has mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}; ` +
          `it must be readable by its owner only (chmod 600 ${src.file})`,
      );
    }
    return { key: decode(readFileSync(src.file, "utf8"), `unseal key file ${src.file}`), origin: "file" };
  }
  if (src.storeExists) {
    throw new UnsealKeyError(
      `this data directory holds an initialized store, but its unseal key is missing: ${src.file} does not exist ` +
        `and ${src.envName} is not set. Restore the key file (or set ${src.envName}); the host will not create a ` +
        "new key for existing data.",
    );
  }
  const key = randomBytes(KEY_SIZE);
  writeKeyFile(src.file, key);
  return { key, origin: "generated" };
}

/** Creates the key file exclusively with mode 0600 and makes it durable before the store uses the key. */
function writeKeyFile(file: string, key: Buffer): void {
  const fd = openSync(file, "wx", 0o600);
  try {
    writeSync(fd, `${key.toString("base64")}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    const dirFd = openSync(dirname(file), "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the file itself is synced.
  }
}
