import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Loads a Wycheproof vector file committed under test/vectors/wycheproof/
 * (source, commit and licence in its README). A vector's `result` is
 * "valid", "invalid" or "acceptable" (either answer is allowed).
 */
export interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  result: "valid" | "invalid" | "acceptable";
  [field: string]: unknown;
}

export interface WycheproofGroup {
  tests: WycheproofTest[];
  [field: string]: unknown;
}

export interface WycheproofFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: WycheproofGroup[];
}

export function loadWycheproof(name: string): WycheproofFile {
  const url = new URL(`../vectors/wycheproof/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(fileURLToPath(url), "utf8")) as WycheproofFile;
}

export const hex = (v: unknown): Buffer => Buffer.from(String(v), "hex");

/** Every (group, test) pair of a file. */
export function* vectors(file: WycheproofFile): Generator<[WycheproofGroup, WycheproofTest]> {
  for (const g of file.testGroups) for (const t of g.tests) yield [g, t];
}
