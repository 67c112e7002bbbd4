/**
 * Cooperative time slicing for work proportional to a request's size (batch
 * items, the JSON of a large body): the single thread is handed back to the
 * event loop whenever a slice has run for SLICE_MS, so that other callers'
 * small requests are answered between two slices of a large one instead of
 * after all of it. setImmediate runs after pending I/O callbacks, so a slice
 * boundary lets every request already on the socket through.
 */
import { performance } from "node:perf_hooks";

/** Longest stretch of one request's work between two yields. */
export const SLICE_MS = 4;
/** Work is timed every CHECK_EVERY units (reading the clock costs about as much as a small unit). */
const CHECK_EVERY = 32;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Counts yields (tests observe the interleaving without timing anything). */
export const sliceStats = { yields: 0 };

/** A clock for one request's work: `tick()` after each unit; awaits a turn of the loop when the slice is spent. */
export class TimeSlice {
  private start = performance.now();
  private units = 0;

  constructor(private readonly sliceMs = SLICE_MS) {}

  /** True when the caller should `await this.yield()` now. */
  due(): boolean {
    if (++this.units % CHECK_EVERY !== 0) return false;
    return performance.now() - this.start >= this.sliceMs;
  }

  async yield(): Promise<void> {
    sliceStats.yields++;
    await nextTurn();
    this.start = performance.now();
  }
}

/** items.map(fn), yielding to the event loop between slices; small lists are mapped in one go. */
export async function mapInSlices<T, R>(
  items: readonly T[],
  fn: (item: T, index: number) => R,
  slice = new TimeSlice(),
): Promise<R[]> {
  if (items.length <= CHECK_EVERY) return items.map(fn);
  const out = new Array<R>(items.length);
  for (let i = 0; i < items.length; i++) {
    out[i] = fn(items[i] as T, i);
    if (slice.due()) await slice.yield();
  }
  return out;
}
