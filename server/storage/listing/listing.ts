/**
 * Listing the latest objects of a bucket. A common prefix is skipped with one new seek past it,
 * never by walking every key under it, so a page costs O(page), not O(keys under prefixes).
 */
import { objectListKey, objectListPrefix } from "../meta/keys.ts";
import { decodeListEntry } from "./list_index.ts";
import type { MetaStore } from "../meta/store.ts";
import type { ListedObject, ListObjectsInput, ListObjectsPage } from "../types.ts";

/**
 * Compares strings in UTF-8 byte order (= code point order), the order of KV keys and of S3
 * listings. JS `<` compares UTF-16 units, which puts U+E000..U+FFFF after astral characters.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after U+E000..U+FFFF in code point order.
    if (x >= 0xd800 && x <= 0xdfff) x += 0x2000;
    else if (x >= 0xe000) x -= 0x800;
    if (y >= 0xd800 && y <= 0xdfff) y += 0x2000;
    else if (y >= 0xe000) y -= 0x800;
    return x - y;
  }
  return a.length - b.length;
}

/** Greater than any string that starts with `p` (in KV's byte order), barring U+10FFFF runs. */
export const pastPrefix = (p: string): string => p + "\u{10FFFF}";

/**
 * The exclusive end of the key range of a prefix: the least string greater than every string
 * that starts with `p`, in UTF-8 byte (code point) order. Unlike `pastPrefix` it has no blind
 * spot: keys that go on with U+10FFFF are inside the range. Null when there is no such string
 * (`p` is empty or only U+10FFFF). The range may then hold keys that do not start with `p`
 * (when `p` ends with U+10FFFF); the walks stop at the first of those.
 */
export function prefixEnd(p: string): string | null {
  const cps = Array.from(p);
  while (cps.length && cps[cps.length - 1] === "\u{10FFFF}") cps.pop();
  if (!cps.length) return null;
  let next = cps.pop()!.codePointAt(0)! + 1;
  if (next === 0xd800) next = 0xe000; // surrogate code points are not characters
  cps.push(String.fromCodePoint(next));
  return cps.join("");
}

/**
 * Generic delimiter walk shared by object and upload listings: `seek(after)` returns an iterator
 * of entries whose name is strictly greater than `after` in byte order.
 */
export function walkWithDelimiter<T>(
  input: ListObjectsInput,
  seek: (start: string, inclusive: boolean) => AsyncIterable<T>,
  nameOf: (item: T) => string,
  onItem: (item: T) => void,
  onPrefix: (prefix: string) => void,
): Promise<{ truncated: boolean; last: string | null }> {
  const batches = async function* (start: string, inclusive: boolean) {
    for await (const item of seek(start, inclusive)) yield [item];
  };
  return walkBatches(input, batches, nameOf, onItem, onPrefix);
}

/**
 * `walkWithDelimiter` over a seek that yields whole KV batches: a 1000-key page then costs a
 * few awaits instead of two async-generator hops per entry.
 */
export async function walkBatches<T>(
  input: ListObjectsInput,
  seek: (start: string, inclusive: boolean) => AsyncIterable<T[]>,
  nameOf: (item: T) => string,
  onItem: (item: T) => void,
  onPrefix: (prefix: string) => void,
): Promise<{ truncated: boolean; last: string | null }> {
  const { prefix, delimiter, after, maxKeys } = input;
  let count = 0;
  let last: string | null = null;
  let start: string;
  let inclusive: boolean;
  if (after && compareUtf8(after, prefix) >= 0) {
    start = after;
    inclusive = false;
  } else {
    start = prefix;
    inclusive = true;
  }
  // When `after` falls inside a common prefix, that prefix was already returned: skip it.
  if (delimiter && after && after.startsWith(prefix)) {
    const i = after.indexOf(delimiter, prefix.length);
    if (i >= 0) {
      const cp = after.slice(0, i + delimiter.length);
      if (after >= cp) {
        start = pastPrefix(cp);
        inclusive = true;
      }
    }
  }
  if (maxKeys <= 0) return { truncated: false, last: null };
  for (let seeks = 0;; seeks++) {
    let reseek: string | null = null;
    batches: for await (const batch of seek(start, inclusive)) {
      for (const item of batch) {
        const name = nameOf(item);
        if (!name.startsWith(prefix)) return { truncated: false, last };
        if (delimiter) {
          const i = name.indexOf(delimiter, prefix.length);
          if (i >= 0) {
            const cp = name.slice(0, i + delimiter.length);
            if (cp === last) continue;
            if (count >= maxKeys) return { truncated: true, last };
            onPrefix(cp);
            count++;
            last = cp;
            reseek = pastPrefix(cp);
            break batches;
          }
        }
        if (count >= maxKeys) return { truncated: true, last };
        onItem(item);
        count++;
        last = name;
      }
    }
    if (reseek === null) return { truncated: false, last };
    start = reseek;
    inclusive = true;
  }
}

/**
 * The first read of a seek. With a delimiter, a seek often ends after one entry (the next common
 * prefix), so it starts small and grows; reading a full page per folded prefix made listing N
 * prefixes cost N pages.
 */
export function seekBatch(input: ListObjectsInput): number {
  const page = Math.min(1000, input.maxKeys + 1);
  return input.delimiter ? Math.min(page, 16) : page;
}

/**
 * The read after a full batch. Without a delimiter every entry counts, so exactly the rest of the
 * page plus one (to know whether it is truncated) is fetched: a full page of 1000 used to fetch
 * and decode a second batch of 1000 for that one entry. With a delimiter entries fold, so the
 * batch grows.
 */
function nextBatch(input: ListObjectsInput, batch: number, read: number): number {
  if (input.delimiter) return Math.min(batch * 4, 1000);
  return Math.max(1, Math.min(1000, input.maxKeys + 1 - read));
}

/** What `listObjects` reads: the listing entries, through KV's `list` (tests count the calls). */
export interface ListingSource {
  meta: Pick<MetaStore, "list">;
}

/**
 * ListObjects (v1 and v2 share it): latest versions, delimiter folding, exclusive start. Reads
 * the slim listing entries (`list_index.ts`), not the object records.
 */
export async function listObjects(
  core: ListingSource,
  bucketId: string,
  input: ListObjectsInput,
): Promise<ListObjectsPage> {
  const objects: ListedObject[] = [];
  const commonPrefixes: string[] = [];
  // With a prefix the range ends where the prefix does: KV fetches (and decodes) a whole batch
  // per round trip, and without the bound a short prefix read up to 1000 records past its end.
  const endName = prefixEnd(input.prefix);
  const end = endName === null ? null : objectListKey(bucketId, endName);
  const seek = async function* (start: string, inclusive: boolean) {
    let from = inclusive ? start : start + "\0";
    let read = 0;
    for (let batch = seekBatch(input);; batch = nextBatch(input, batch, read)) {
      // A start past the prefix's range (a marker after it) has nothing to list.
      if (endName !== null && compareUtf8(from, endName) >= 0) return;
      const first = objectListKey(bucketId, from);
      const sel: Deno.KvListSelector = end
        ? { start: first, end }
        : { prefix: objectListPrefix(bucketId), start: first };
      // A full page of 1000 needs one entry more to know whether it is truncated, which KV
      // cannot return in the same call: ask for the range's last key alongside, so a listing
      // that ends with the batch needs no second sequential round trip.
      const lastOfRange = !input.delimiter && batch === 1000
        ? Array.fromAsync(core.meta.list(sel, { limit: 1, reverse: true })).catch(() => null)
        : null;
      const iter = core.meta.list<Uint8Array>(sel, { limit: batch, batchSize: batch });
      // Entries are decoded only when they make the page (a folded prefix skips the rest).
      const out: Deno.KvEntry<Uint8Array>[] = [];
      for await (const e of iter) out.push(e);
      const n = out.length;
      const lastName = n ? out[n - 1].key[2] as string : null;
      if (lastName !== null) from = lastName + "\0";
      if (n) yield out;
      read += n;
      if (n < batch) return;
      const tail = lastOfRange ? await lastOfRange : null;
      if (tail && (tail.length === 0 || tail[0].key[2] === lastName)) return;
    }
  };
  const r = await walkBatches(
    input,
    seek,
    (e) => e.key[2] as string,
    (e) => objects.push(decodeListEntry(e.key[2] as string, e.value)),
    (p) => commonPrefixes.push(p),
  );
  return { objects, commonPrefixes, truncated: r.truncated, last: r.last };
}
