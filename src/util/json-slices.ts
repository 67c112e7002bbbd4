/**
 * JSON.parse and JSON.stringify of large request and response bodies in
 * slices (time-slice.ts), so that a 16 MB batch does not hold the thread for
 * the whole of one parse. Only the shape batches have is sliced: a top-level
 * object whose large members are arrays. Each slice is still JSON.parse (or
 * JSON.stringify) of a run of array elements, so values are exactly the
 * built-in's; anything else, and any text the slicing does not accept, goes
 * to the built-in in one piece (which then also throws the built-in's error).
 */
import { TimeSlice } from "./time-slice.ts";

/** Below this many characters the built-in runs in one go (well under a slice). */
export const LARGE_JSON = 256 * 1024;
/** Array elements parsed or serialised per call of the built-in. */
const RUN = 256;

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function skipWs(text: string, i: number): number {
  while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  return i;
}

/** Index after the string starting at i (a '"'), or -1. */
function scanString(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q < 0) return -1;
    let bs = 0;
    for (let k = q - 1; k > i && text.charCodeAt(k) === 0x5c; k--) bs++;
    if (bs % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** Index after the value starting at i, or -1; values are checked later by JSON.parse. */
function scanValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x22) return scanString(text, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const ch = text.charCodeAt(j);
      if (ch === 0x22) {
        const end = scanString(text, j);
        if (end < 0) return -1;
        j = end - 1;
      } else if (ch === 0x7b || ch === 0x5b) depth++;
      else if (ch === 0x7d || ch === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < text.length) {
    const ch = text.charCodeAt(j);
    if (ch === 0x2c || ch === 0x7d || ch === 0x5d || WS.has(ch)) break;
    j++;
  }
  return j > i ? j : -1;
}

class NotSliceable extends Error {}

async function parseArray(
  text: string,
  i: number,
  slice: TimeSlice,
): Promise<{ value: unknown[]; end: number }> {
  const starts: number[] = [];
  const ends: number[] = [];
  let j = skipWs(text, i + 1);
  if (text.charCodeAt(j) === 0x5d) return { value: [], end: j + 1 };
  for (;;) {
    const end = scanValue(text, j);
    if (end < 0) throw new NotSliceable();
    starts.push(j);
    ends.push(end);
    j = skipWs(text, end);
    const ch = text.charCodeAt(j);
    if (ch === 0x5d) break;
    if (ch !== 0x2c) throw new NotSliceable();
    j = skipWs(text, j + 1);
    if (slice.due()) await slice.yield();
  }
  const value: unknown[] = [];
  for (let a = 0; a < starts.length; a += RUN) {
    const b = Math.min(a + RUN, starts.length) - 1;
    const run = JSON.parse(`[${text.slice(starts[a], ends[b])}]`) as unknown[];
    if (run.length !== b - a + 1) throw new NotSliceable();
    for (const v of run) value.push(v);
    if (slice.due()) await slice.yield();
  }
  return { value, end: j + 1 };
}

async function parseObject(text: string, slice: TimeSlice): Promise<Record<string, unknown>> {
  let i = skipWs(text, 0);
  if (text.charCodeAt(i) !== 0x7b) throw new NotSliceable();
  const out: Record<string, unknown> = {};
  i = skipWs(text, i + 1);
  if (text.charCodeAt(i) === 0x7d) i++;
  else {
    for (;;) {
      if (text.charCodeAt(i) !== 0x22) throw new NotSliceable();
      const keyEnd = scanString(text, i);
      if (keyEnd < 0) throw new NotSliceable();
      const key = JSON.parse(text.slice(i, keyEnd)) as string;
      // Assignment would set the prototype where JSON.parse defines an own property.
      if (key === "__proto__") throw new NotSliceable();
      i = skipWs(text, keyEnd);
      if (text.charCodeAt(i) !== 0x3a) throw new NotSliceable();
      i = skipWs(text, i + 1);
      if (text.charCodeAt(i) === 0x5b) {
        const arr = await parseArray(text, i, slice);
        out[key] = arr.value;
        i = arr.end;
      } else {
        const end = scanValue(text, i);
        if (end < 0) throw new NotSliceable();
        out[key] = JSON.parse(text.slice(i, end));
        i = end;
      }
      i = skipWs(text, i);
      const ch = text.charCodeAt(i);
      if (ch === 0x7d) {
        i++;
        break;
      }
      if (ch !== 0x2c) throw new NotSliceable();
      i = skipWs(text, i + 1);
    }
  }
  if (skipWs(text, i) !== text.length) throw new NotSliceable();
  return out;
}

/** JSON.parse(text), yielding between slices when the text is large. */
export async function parseJsonInSlices(text: string, slice = new TimeSlice()): Promise<unknown> {
  if (text.length < LARGE_JSON) return JSON.parse(text);
  try {
    return await parseObject(text, slice);
  } catch {
    return JSON.parse(text);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * rewrite(JSON.stringify(value, replacer)), yielding between runs of the
 * elements of a top-level object's long arrays. The replacer must not depend
 * on the key or the holder (it sees each run as an array of its own); rewrite
 * must work piecewise (a per-character rewrite of JSON text).
 */
export async function stringifyJsonInSlices(
  value: unknown,
  replacer: (key: string, value: unknown) => unknown,
  rewrite: (json: string) => string = (json) => json,
  slice = new TimeSlice(),
): Promise<string> {
  if (!isPlainObject(value) || !Object.values(value).some((v) => Array.isArray(v) && v.length > RUN)) {
    return rewrite(JSON.stringify(value, replacer) ?? "null");
  }
  const parts: string[] = [];
  for (const key of Object.keys(value)) {
    const v = replacer.call(value, key, value[key]);
    if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
    let json: string;
    if (Array.isArray(v) && v.length > RUN) {
      const runs: string[] = [];
      for (let a = 0; a < v.length; a += RUN) {
        runs.push(rewrite((JSON.stringify(v.slice(a, a + RUN), replacer) as string).slice(1, -1)));
        if (slice.due()) await slice.yield();
      }
      json = `[${runs.join(",")}]`;
    } else {
      json = rewrite(JSON.stringify(v, replacer) as string);
    }
    parts.push(`${rewrite(JSON.stringify(key))}:${json}`);
  }
  return `{${parts.join(",")}}`;
}
