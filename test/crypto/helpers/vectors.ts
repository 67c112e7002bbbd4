// Loads the known-answer files under test/vectors (see each folder's README for source and licence).
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const VECTORS = resolve(dirname(fileURLToPath(import.meta.url)), "../../vectors");

export function loadVectors<T>(path: string): T {
  return JSON.parse(readFileSync(join(VECTORS, path), "utf8")) as T;
}

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
export const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64"));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Wycheproof's common file shape (the fields each test file reads are typed where it reads them). */
export interface WycheproofFile<G> {
  algorithm: string;
  testGroups: G[];
}
export interface WycheproofTest {
  tcId: number | string;
  comment: string;
  result: "valid" | "invalid" | "acceptable";
  flags: string[];
}
