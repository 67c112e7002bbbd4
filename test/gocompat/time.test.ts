/**
 * src/gocompat/time.ts against Go's time package as documented
 * (time/format.go: RFC3339Nano = "2006-01-02T15:04:05.999999999Z07:00",
 * whose 9s drop trailing zeros; UnmarshalJSON takes RFC 3339 with any zone).
 */
import { describe, expect, it } from "vitest";
import { formatRfc3339Nano, GO_ZERO_TIME, isGoZeroTime, parseRfc3339 } from "../../src/gocompat/time.ts";

describe("time.Time in JSON", () => {
  it("MarshalJSON: fraction without trailing zeros, none when zero", () => {
    expect(formatRfc3339Nano("2024-07-01T12:00:00.000Z")).toBe("2024-07-01T12:00:00Z");
    expect(formatRfc3339Nano("2024-07-01T12:00:00.500Z")).toBe("2024-07-01T12:00:00.5Z");
    expect(formatRfc3339Nano("2023-11-14T08:15:30.123456789Z")).toBe("2023-11-14T08:15:30.123456789Z");
    expect(formatRfc3339Nano("not a time")).toBe(GO_ZERO_TIME);
  });

  it("UnmarshalJSON: zones folded into UTC, nanoseconds kept, Go's refusals", () => {
    expect(parseRfc3339("2023-11-14T09:15:30.123456789+01:00")).toBe("2023-11-14T08:15:30.123456789Z");
    expect(parseRfc3339("2024-07-01T12:00:00-07:00")).toBe("2024-07-01T19:00:00.000Z");
    expect(parseRfc3339("0001-01-01T00:00:00Z")).toBe("0001-01-01T00:00:00.000Z");
    expect(isGoZeroTime(parseRfc3339(GO_ZERO_TIME) ?? "")).toBe(true);
    expect(parseRfc3339("2024-07-01 12:00:00Z")).toBeNull();
    expect(parseRfc3339("2024-07-01T12:00:00.1234567891Z")).toBeNull();
    expect(parseRfc3339("2024-07-01T12:00:00")).toBeNull();
  });

  it("round trip: what MarshalJSON writes, UnmarshalJSON reads back to the same instant", () => {
    for (const t of [
      "2024-02-29T23:59:59.5Z",
      "1999-12-31T23:59:59.000000001Z",
      "2024-07-01T12:00:00.000Z",
    ]) {
      expect(formatRfc3339Nano(parseRfc3339(formatRfc3339Nano(t)) ?? "")).toBe(formatRfc3339Nano(t));
    }
  });
});
