/**
 * Load shapes of the scale benchmark: a fixed number of requests from N concurrent loops, or as
 * many as fit in a time window; the key naming; and latency summaries. A request counts as an
 * error when its status is not 2xx or, for DeleteObjects, when its answer lists an `<Error>`.
 */
import type { Answer } from "./client.ts";

/** What a batch of requests measured. */
export interface Batch {
  ops: number;
  seconds: number;
  /** Wall time of each request, ms. */
  lat: number[];
  errors: number;
  /** The first failed answer, for the report. */
  firstError: string | null;
}

/** Keys `d000/…` to `d999/…`: a delimiter listing of any 1,000+ objects has 1,000 prefixes. */
export function keyOf(n: number): string {
  return `d${String(n % 1000).padStart(3, "0")}/obj${String(n).padStart(8, "0")}`;
}

/** 1 KiB of bytes that do not compress. */
export function objectBody(): Uint8Array {
  const out = new Uint8Array(1024);
  crypto.getRandomValues(out);
  return out;
}

export function failed(a: Answer): boolean {
  return a.status < 200 || a.status >= 300 || a.text.includes("<Error>");
}

function describe(a: Answer): string {
  return `${a.status} ${a.text.slice(0, 300)}`;
}

/** Runs `op(i)` for i in [0, n) from `concurrency` loops. */
export async function counted(
  concurrency: number,
  n: number,
  op: (i: number) => Promise<Answer>,
): Promise<Batch> {
  return await loops(concurrency, (i) => i < n, op);
}

/** Runs `op(i)` from `concurrency` loops until `seconds` have passed. */
export async function timed(
  concurrency: number,
  seconds: number,
  op: (i: number) => Promise<Answer>,
): Promise<Batch> {
  const deadline = performance.now() + seconds * 1000;
  return await loops(concurrency, () => performance.now() < deadline, op);
}

async function loops(
  concurrency: number,
  more: (i: number) => boolean,
  op: (i: number) => Promise<Answer>,
): Promise<Batch> {
  const b: Batch = { ops: 0, seconds: 0, lat: [], errors: 0, firstError: null };
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (more(next)) {
      const a = await op(next++);
      b.ops++;
      b.lat.push(a.ms);
      if (failed(a)) {
        b.errors++;
        b.firstError ??= describe(a);
      }
    }
  }));
  b.seconds = (performance.now() - t0) / 1000;
  return b;
}

/** Sums batches measured in slices (their times add up; requests did not overlap). */
export function sumBatches(batches: Batch[]): Batch {
  return {
    ops: batches.reduce((s, b) => s + b.ops, 0),
    seconds: batches.reduce((s, b) => s + b.seconds, 0),
    lat: batches.flatMap((b) => b.lat),
    errors: batches.reduce((s, b) => s + b.errors, 0),
    firstError: batches.find((b) => b.firstError)?.firstError ?? null,
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = values.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

/** A deterministic xorshift sequence in [0, n), so runs read the same keys. */
export function randomIndexes(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}
