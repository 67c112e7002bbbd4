/**
 * Parses durations the way Vault's parseutil.ParseDurationSecond does: a
 * number of seconds (number or numeric string), or a Go duration string such
 * as "90s", "1h30m", plus Vault's "d" suffix for days. Returns whole seconds.
 */
const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

const GO_DURATION = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

export function parseDurationSeconds(input: unknown): number {
  if (typeof input === "number") {
    if (!Number.isFinite(input)) throw new Error("invalid duration");
    return Math.trunc(input);
  }
  if (typeof input !== "string") throw new Error(`could not parse duration from type ${typeName(input)}`);
  const s = input.trim();
  if (s === "") return 0;
  if (/^[-+]?\d+$/.test(s)) return checkedInt(Number(s));
  if (/^[-+]?\d+d$/.test(s)) return checkedInt(Number(s.slice(0, -1)) * 86400);
  if (s === "0") return 0;
  const m = GO_DURATION.exec(s);
  if (m === null) throw new Error(`time: invalid duration "${s.length > 64 ? `${s.slice(0, 64)}...` : s}"`);
  let total = 0;
  for (const part of s.matchAll(GO_DURATION_PART)) {
    total += Number(part[1]) * (UNIT_SECONDS[part[2] ?? "s"] ?? 1);
  }
  return checkedInt(Math.trunc(m[1] === "-" ? -total : total));
}

function checkedInt(n: number): number {
  if (!Number.isSafeInteger(n)) throw new Error("duration out of range");
  return n;
}

export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}
