import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

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

/**
 * Runs `check` on every vector: valid must pass, invalid must be refused, acceptable may do either.
 * `check` returns null to skip a vector outside what transit uses (the caller says why); at least
 * `minShare` of the file must run, so a wrong filter cannot skip everything.
 */
export function runVectors(
  name: string,
  check: (g: Record<string, unknown>, t: Record<string, unknown>) => boolean | null,
  minShare = 0.9,
): void {
  it(`Wycheproof ${name}`, () => {
    const file = loadWycheproof(name);
    let ran = 0;
    for (const [g, t] of vectors(file)) {
      const got = check(g, t);
      if (got === null) continue;
      ran++;
      if (t.result === "acceptable") continue;
      expect({ tcId: t.tcId, comment: t.comment, ok: got }).toEqual({
        tcId: t.tcId,
        comment: t.comment,
        ok: t.result === "valid",
      });
    }
    expect(ran).toBeGreaterThanOrEqual(Math.ceil(file.numberOfTests * minShare));
  });
}
