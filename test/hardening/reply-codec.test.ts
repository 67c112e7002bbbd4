/**
 * The plugin's one-pass encoder for large HandleRequestReply messages
 * (src/plugin/reply-codec.ts) against the generated ts-proto codec: what it
 * writes decodes, with the generated decoder, to the same message the
 * generated encoder's bytes decode to.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HandleRequestReply } from "../../src/gen/sdk/plugin/pb/backend.ts";
import { encodeHandleRequestReply, LARGE_REPLY } from "../../src/plugin/reply-codec.ts";

const roundTrip = (r: HandleRequestReply) => HandleRequestReply.decode(encodeHandleRequestReply(r));
const generated = (r: HandleRequestReply) => HandleRequestReply.decode(HandleRequestReply.encode(r).finish());

describe("HandleRequestReply one-pass encoder", () => {
  it("decodes as the generated codec's bytes do, small and large, ASCII and not", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
        fc.option(fc.record({ errType: fc.nat(10), errMsg: fc.string(), errCode: fc.integer() }), {
          nil: undefined,
        }),
        (unit, scale, warnings, err) => {
          // From a few bytes to several times the threshold, with multi-byte characters in between.
          const data = unit.repeat(
            scale === 0 ? 1 : Math.ceil((LARGE_REPLY * scale) / Math.max(1, unit.length)),
          );
          const reply: HandleRequestReply = {
            response: {
              data,
              redirect: "/r",
              warnings,
              headers: { "X-A": { header: ["1", "2"] } },
              mountType: "transit",
            },
            ...(err !== undefined ? { err } : {}),
          };
          expect(roundTrip(reply)).toEqual(generated(reply));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("writes a 20 MB batch reply exactly once into a buffer of the exact size", () => {
    const data = JSON.stringify({
      batch_results: Array.from({ length: 200_000 }, () => ({
        ciphertext: `vault:v1:${"A".repeat(80)}`,
        key_version: 1,
      })),
    });
    const reply: HandleRequestReply = {
      response: { data, redirect: "", warnings: [], headers: {}, mountType: "" },
    };
    const bytes = encodeHandleRequestReply(reply);
    expect(bytes.length).toBe(HandleRequestReply.encode(reply).finish().length);
    expect(roundTrip(reply).response?.data).toBe(data);
  });
});
