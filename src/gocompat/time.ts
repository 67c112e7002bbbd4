/**
 * Go's time.Time in JSON (time/format_rfc3339.go: MarshalJSON writes
 * RFC 3339 with nanoseconds, trailing fraction zeros dropped; UnmarshalJSON
 * reads RFC 3339 with an optional fraction of up to nine digits and a zone
 * offset). The engine keeps times as UTC RFC 3339 strings (Date's
 * toISOString shape, with up to nanosecond digits).
 */

/** Go's zero time.Time as it marshals. */
export const GO_ZERO_TIME = "0001-01-01T00:00:00Z";

/** Whether an RFC 3339 time is Go's zero time (a time.Time never set). */
export function isGoZeroTime(t: string): boolean {
  return t.startsWith("0001-01-01T00:00:00");
}

/**
 * time.Time.MarshalJSON (RFC3339Nano) of a UTC RFC 3339 string: the
 * fraction without trailing zeros. Anything Date cannot read is Go's zero time.
 */
export function formatRfc3339Nano(rfc3339: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(rfc3339);
  if (m === null) {
    const ms = Date.parse(rfc3339);
    return Number.isNaN(ms) ? GO_ZERO_TIME : formatRfc3339Nano(new Date(ms).toISOString());
  }
  const frac = (m[2] ?? "").replace(/0+$/, "");
  return `${m[1]}${frac === "" ? "" : `.${frac}`}${m[3]}`;
}

/**
 * time.Time.UnmarshalJSON's RFC 3339 into a UTC RFC 3339 string keeping
 * up to nanoseconds, with at least the three fraction digits
 * Date.toISOString writes, so a restored time reads back as it was
 * written; null when Go would refuse it.
 */
export function parseRfc3339(s: string): string | null {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|([+-])(\d\d):(\d\d))$/.exec(s);
  if (m === null) return null;
  const d = new Date(
    Date.UTC(2000, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])),
  );
  d.setUTCFullYear(Number(m[1]));
  if (m[9] !== undefined) {
    const offset = (Number(m[10]) * 60 + Number(m[11])) * 60_000;
    d.setTime(d.getTime() - (m[9] === "+" ? offset : -offset));
  }
  if (Number.isNaN(d.getTime())) return null;
  const base = d.toISOString().slice(0, 19);
  const frac = (m[7] ?? "").replace(/0+$/, "").padEnd(3, "0");
  return `${base}.${frac}Z`;
}
