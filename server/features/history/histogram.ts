/**
 * Latency histograms with log-spaced buckets (a quarter octave each: any value is within 19% of
 * its bucket's bound), small enough to keep one per operation per minute and merge into hours.
 * Stored sparse: `{bucket index: count}`.
 */

/** The bound of bucket 0, in milliseconds. */
const BASE_MS = 0.05;
/** Buckets per doubling. */
const PER_OCTAVE = 4;
/** Buckets in all (the last one takes everything above ~5 minutes). */
export const BUCKETS = 96;

export type Histogram = Record<number, number>;

/** The bucket a duration falls in. */
export function bucketOf(ms: number): number {
  if (!(ms > BASE_MS)) return 0;
  const i = Math.ceil(Math.log2(ms / BASE_MS) * PER_OCTAVE);
  return i >= BUCKETS ? BUCKETS - 1 : i;
}

/** The upper bound of bucket `i`, in milliseconds. */
export function boundOf(i: number): number {
  return BASE_MS * 2 ** (i / PER_OCTAVE);
}

export function add(h: Histogram, ms: number, n = 1): void {
  const i = bucketOf(ms);
  h[i] = (h[i] ?? 0) + n;
}

export function merge(into: Histogram, from: Histogram): Histogram {
  for (const [k, v] of Object.entries(from)) into[Number(k)] = (into[Number(k)] ?? 0) + v;
  return into;
}

export function countOf(h: Histogram): number {
  let n = 0;
  for (const v of Object.values(h)) n += v;
  return n;
}

/** The `q` quantile (0..1) as the bound of the bucket that holds it; null when empty. */
export function quantile(h: Histogram, q: number): number | null {
  const total = countOf(h);
  if (total === 0) return null;
  const want = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const i of Object.keys(h).map(Number).sort((a, b) => a - b)) {
    seen += h[i];
    if (seen >= want) return boundOf(i);
  }
  return boundOf(BUCKETS - 1);
}
