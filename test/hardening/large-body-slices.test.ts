/**
 * Fair under mixed load (issue #12): a large request is worked on in time
 * slices, so other callers' small requests are answered between them. These
 * tests assert the behaviour (interleaving, and that slicing changes no
 * value or error), never a time.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LARGE_JSON, parseJsonInSlices, stringifyJsonInSlices } from "../../src/util/json-slices.ts";
import { sliceStats, TimeSlice } from "../../src/util/time-slice.ts";
import { b64, TestEngine } from "../helpers/engine.ts";
import { jsonValue } from "./helpers/arbitraries.ts";

/** An object of the shape batches have, large enough to take the sliced path. */
function largeText(items: unknown[], extra: Record<string, unknown>): string {
  const copies: unknown[] = [];
  let text = "";
  for (let n = 1; text.length < LARGE_JSON; n *= 2) {
    while (copies.length < n * items.length) copies.push(...items);
    text = JSON.stringify({ ...extra, batch_input: copies, tail: extra });
  }
  return text;
}

/** The error JSON.parse throws for text, or null. */
function builtinError(text: string): string | null {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

describe("JSON in slices", () => {
  it("parses to exactly what JSON.parse gives", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(jsonValue(), { minLength: 1, maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 6 }), jsonValue(), { maxKeys: 3 }),
        async (items, extra) => {
          const text = largeText(items, extra);
          expect(await parseJsonInSlices(text)).toStrictEqual(JSON.parse(text));
        },
      ),
      { numRuns: 15 },
    );
  });

  it("keeps JSON.parse's semantics for duplicate keys, __proto__ and whitespace", async () => {
    const big = JSON.stringify(Array.from({ length: 30_000 }, (_, i) => ({ plaintext: `p${i}` })));
    for (const text of [
      `{"a":1, "batch_input": ${big}, "a": 2}`,
      ` \n{"__proto__": {"polluted": true}, "batch_input": ${big}}\t`,
      `{ "batch_input" : ${big.replace(/,/g, " ,\n ")} }`,
    ]) {
      const got = (await parseJsonInSlices(text)) as Record<string, unknown>;
      expect(got).toStrictEqual(JSON.parse(text));
      expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    }
  });

  it("rejects what JSON.parse rejects, with its error", async () => {
    const good = largeText([{ plaintext: "YWJj" }], { k: "v" });
    const broken = [
      good.replace('"},{"', '"},,{"'),
      good.replace(/]/, ",]"),
      `${good} x`,
      good.slice(0, -1),
      good.replace('"k"', "k"),
      good.replace('"YWJj"', '"YW\nJj"'),
      `[${good}]`.slice(0, -1),
    ];
    for (const text of broken) {
      const want = builtinError(text);
      expect(want).not.toBeNull();
      await expect(parseJsonInSlices(text)).rejects.toThrow(want as string);
    }
  });

  it("stringifies to exactly what JSON.stringify gives", async () => {
    const replacer = (_k: string, v: unknown): unknown => (typeof v === "bigint" ? v.toString() : v);
    await fc.assert(
      fc.asyncProperty(fc.array(jsonValue(), { minLength: 300, maxLength: 700 }), async (list) => {
        const value = { batch_results: list, n: 1n, skipped: undefined, s: "<&>" };
        expect(await stringifyJsonInSlices(value, replacer)).toBe(JSON.stringify(value, replacer));
        // A per-character escape (as Go's encoding/json's <, >, &) applied run by run gives the same text.
        const goEsc = (j: string): string =>
          j.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
        expect(await stringifyJsonInSlices(value, replacer, goEsc)).toBe(
          goEsc(JSON.stringify(value, replacer)),
        );
      }),
      { numRuns: 10 },
    );
  });

  it("hands the thread back while a large text is parsed", async () => {
    const text = largeText([{ plaintext: "YWJjZGVm", context: "Y3R4" }], {});
    let turns = 0;
    const tick = (): void => {
      turns++;
      if (!done) setImmediate(tick);
    };
    let done = false;
    setImmediate(tick);
    // A slice of 0 ms: every check of the clock is due, whatever the machine's speed.
    expect(await parseJsonInSlices(text, new TimeSlice(0))).toStrictEqual(JSON.parse(text));
    done = true;
    expect(turns).toBeGreaterThan(0);
  });
});

describe("a large batch beside small requests", () => {
  it("answers small encrypts started after a large batch before the batch", async () => {
    const engine = new TestEngine();
    await engine.write("keys/k", { type: "aes256-gcm96" });
    const item = { plaintext: b64("a".repeat(64)) };
    const yieldsBefore = sliceStats.yields;
    const order: string[] = [];
    const big = engine
      .write("encrypt/k", { batch_input: Array.from({ length: 40_000 }, () => item) })
      .then((o) => {
        order.push("batch");
        return o;
      });
    // Started one event-loop turn later, as another caller's request arriving on the socket.
    const small = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      const o = await engine.write("encrypt/k", item);
      order.push("small");
      return o;
    });
    const [bigOut, smallOut] = await Promise.all([big, small]);
    expect(order).toEqual(["small", "batch"]);
    expect(sliceStats.yields).toBeGreaterThan(yieldsBefore);
    const results = (bigOut.data?.["batch_results"] ?? []) as { ciphertext?: string }[];
    expect(results).toHaveLength(40_000);
    expect(results.every((r) => r.ciphertext?.startsWith("vault:v1:"))).toBe(true);
    expect(String(smallOut.data?.["ciphertext"])).toMatch(/^vault:v1:/);
  });
});
