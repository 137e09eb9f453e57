/**
 * The steps of the scale benchmark, each a small function over the client: filling, the timed
 * PUT window, GETs, the list shapes, the full walk, DeleteObjects, and the half-delete-and-rewrite
 * that checks space is reused. Each returns its figures; failed requests are counted, never
 * hidden.
 */
import { type Answer, type ScaleClient, summarizePage } from "./client.ts";
import {
  type Batch,
  counted,
  failed,
  keyOf,
  percentile,
  randomIndexes,
  sumBatches,
  timed,
} from "./load.ts";

/** Connections for PUT and GET load. */
export const CONNECTIONS = 64;
/** DeleteObjects requests in flight. */
const DELETE_CONCURRENCY = 4;
/** Repetitions of each list shape (its p50 is reported). */
const LIST_REPEATS = 15;

/** Fills `bucket` (or both buckets of a pair, request by request in turn) with keys [from, to). */
export function fill(
  c: ScaleClient,
  buckets: string[],
  from: number,
  to: number,
  body: Uint8Array,
): Promise<Batch> {
  const k = buckets.length;
  return counted(
    CONNECTIONS,
    (to - from) * k,
    (i) => c.put(buckets[i % k], keyOf(from + Math.floor(i / k)), body),
  );
}

/**
 * The timed PUT window: keys [from, from + n) go to both buckets in four slices, listed, plain,
 * plain, listed, so a burst of load from elsewhere on the machine falls on both alike.
 */
export async function putWindow(
  c: ScaleClient,
  listed: string,
  plain: string,
  from: number,
  n: number,
  body: Uint8Array,
): Promise<{ listed: Batch; plain: Batch }> {
  const half = Math.floor(n / 2);
  const l1 = await fill(c, [listed], from, from + half, body);
  const p1 = await fill(c, [plain], from, from + half, body);
  const p2 = await fill(c, [plain], from + half, from + n, body);
  const l2 = await fill(c, [listed], from + half, from + n, body);
  return { listed: sumBatches([l1, l2]), plain: sumBatches([p1, p2]) };
}

/** GETs of random existing keys [0, n) for `seconds`. */
export function getWindow(c: ScaleClient, bucket: string, n: number, seconds: number) {
  const next = randomIndexes(n * 7 + 1);
  return timed(CONNECTIONS, seconds, () => c.get(bucket, keyOf(next(n))));
}

/** p50 of `LIST_REPEATS` sequential requests, and a check of what the first one returned. */
export async function listShape(
  send: () => Promise<Answer>,
  /** What is wrong with an answer's body, or null. */
  expect: (xml: string) => string | null,
): Promise<{ p50: number; errors: number; firstError: string | null }> {
  const lat: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  for (let i = 0; i < LIST_REPEATS; i++) {
    const a = await send();
    lat.push(a.ms);
    const wrong = failed(a) ? `${a.status} ${a.text.slice(0, 300)}` : expect(a.text);
    if (wrong) {
      errors++;
      firstError ??= wrong;
    }
  }
  return { p50: percentile(lat, 0.5), errors, firstError };
}

/** Every page of `bucket` in turn: seconds taken and keys seen. */
export async function fullWalk(
  c: ScaleClient,
  bucket: string,
): Promise<{ seconds: number; keys: number; errors: number; firstError: string | null }> {
  const t0 = performance.now();
  let keys = 0;
  let token: string | null = null;
  do {
    const a: Answer = await c.listV2(
      bucket,
      token ? `continuation-token=${encodeURIComponent(token)}` : "",
    );
    if (failed(a)) {
      return {
        seconds: (performance.now() - t0) / 1000,
        keys,
        errors: 1,
        firstError: `${a.status} ${a.text.slice(0, 300)}`,
      };
    }
    const page = summarizePage(a.text);
    keys += page.keys;
    token = page.truncated ? page.next : null;
  } while (token);
  return { seconds: (performance.now() - t0) / 1000, keys, errors: 0, firstError: null };
}

/** DeleteObjects of the keys `indexes` names, 1,000 a request, a few requests in flight. */
export function deleteKeys(c: ScaleClient, bucket: string, indexes: number[]): Promise<Batch> {
  const batches: string[][] = [];
  for (let i = 0; i < indexes.length; i += 1000) {
    batches.push(indexes.slice(i, i + 1000).map(keyOf));
  }
  return counted(DELETE_CONCURRENCY, batches.length, (i) => c.deleteObjects(bucket, batches[i]));
}

/** `count` indexes spread evenly over [0, n), so deletes hit the whole keyspace. */
export function spread(n: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.floor((i * n) / count));
}

/** PUTs of the keys `indexes` names (to restore what a delete step removed). */
export function putKeys(c: ScaleClient, bucket: string, indexes: number[], body: Uint8Array) {
  return counted(CONNECTIONS, indexes.length, (i) => c.put(bucket, keyOf(indexes[i]), body));
}
