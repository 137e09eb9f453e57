/**
 * Object search within a bucket: prefix, content type, size range, modified date range and tags.
 *
 * Method: a bounded scan of the bucket's listing, not an index. Each page walks at most
 * `scanBudget` listing entries from where the previous page stopped (the continuation token) and
 * returns what matched, up to `limit`; so a page costs the same on a bucket of 1,000 objects and
 * of 1,000,000, and a search over a whole large bucket is many such pages, each answered quickly.
 * The prefix narrows the scan itself (listing seeks to it). Size and date are judged on the
 * listing entry; content type and tags need the object's record, read only for entries that
 * passed the other filters. An index would answer rare matches sooner, but would add a write to
 * every PUT, tag change and delete (docs/decisions/0018). Those filters reveal what GetObject and
 * GetObjectTagging reveal, so the caller checks each key before its record is read (`mayRead`,
 * docs/decisions/0022).
 */
import { isS3Error } from "../../s3/errors.ts";
import type { Backend, BucketRecord, ListedObject } from "../../storage/mod.ts";

/** Listing entries one page examines at most (the default). */
export const DEFAULT_SCAN_BUDGET = 10_000;
/** Matches one page returns at most (the default). */
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/** Records read at once for the content-type and tag filters. */
const RECORD_READS = 32;

export interface SearchFilter {
  prefix: string;
  /** The Content-Type starts with this (`image/`, `application/pdf`), case-insensitive. */
  contentType?: string;
  minSize?: number;
  maxSize?: number;
  /** ms since the epoch, inclusive. */
  modifiedAfter?: number;
  /** ms since the epoch, exclusive. */
  modifiedBefore?: number;
  /** Every pair must be among the object's tags (an empty value: the tag key present). */
  tags?: [string, string][];
}

export interface SearchHit {
  key: string;
  size: number;
  etag: string;
  lastModified: number;
  storageClass: string;
  /** Present with a content-type filter. */
  contentType?: string;
  /** Present with a tag filter (all the object's tags). */
  tags?: Record<string, string>;
}

export interface SearchPage {
  items: SearchHit[];
  /** Where the next page starts; null when the scan reached the end of the prefix. */
  continuationToken: string | null;
  /** Listing entries this page examined. */
  scanned: number;
}

export interface SearchOptions {
  /** A previous page's continuationToken. */
  continuationToken?: string | null;
  limit?: number;
  scanBudget?: number;
  /**
   * Called with each key whose record a content-type or tag filter is about to read, before it is
   * read; throws to refuse the search (the caller may not read what the filter would reveal).
   */
  mayRead?: (key: string) => Promise<void>;
}

export function encodeToken(key: string): string {
  const bytes = new TextEncoder().encode(key);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** The key a token continues after; throws RangeError for a token no page made. */
export function decodeToken(token: string): string {
  try {
    const bin = atob(token.replace(/-/g, "+").replace(/_/g, "/"));
    return new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(bin, (c) => c.charCodeAt(0)),
    );
  } catch {
    throw new RangeError(`Cannot parse continuation token "${token}"`);
  }
}

function listingMatches(o: ListedObject, f: SearchFilter): boolean {
  if (f.minSize !== undefined && o.size < f.minSize) return false;
  if (f.maxSize !== undefined && o.size > f.maxSize) return false;
  if (f.modifiedAfter !== undefined && o.lastModified < f.modifiedAfter) return false;
  if (f.modifiedBefore !== undefined && o.lastModified >= f.modifiedBefore) return false;
  return true;
}

const needsRecord = (f: SearchFilter) => !!f.contentType || (f.tags?.length ?? 0) > 0;

/** The hit for a listing entry that passed, or null when its record rules it out (or is gone). */
async function recordMatch(
  storage: Backend,
  bucket: BucketRecord,
  o: ListedObject,
  f: SearchFilter,
  mayRead: SearchOptions["mayRead"],
): Promise<SearchHit | null> {
  const hit: SearchHit = {
    key: o.key,
    size: o.size,
    etag: o.etag,
    lastModified: o.lastModified,
    storageClass: o.storageClass,
  };
  if (!needsRecord(f)) return hit;
  await mayRead?.(o.key);
  let rec;
  try {
    rec = await storage.getObjectRecord(bucket, o.key, null);
  } catch (e) {
    // Deleted (or replaced by a delete marker) since the listing: not a match.
    if (isS3Error(e)) return null;
    throw e;
  }
  const type = rec.content.contentType ?? "";
  if (f.contentType && !type.toLowerCase().startsWith(f.contentType.toLowerCase())) return null;
  const tags = rec.tags ?? {};
  for (const [k, v] of f.tags ?? []) {
    if (!(k in tags) || (v !== "" && tags[k] !== v)) return null;
  }
  // Only what a filter asked about (and the caller was allowed to read for it) is returned.
  if (f.contentType) hit.contentType = type;
  if ((f.tags?.length ?? 0) > 0) hit.tags = tags;
  return hit;
}

/** One page of a search (see the module comment for the method and its bounds). */
export async function searchObjects(
  storage: Backend,
  bucket: BucketRecord,
  f: SearchFilter,
  opts: SearchOptions = {},
): Promise<SearchPage> {
  const limit = Math.max(1, Math.min(opts.limit ?? DEFAULT_LIMIT, MAX_LIMIT));
  const budget = Math.max(1, opts.scanBudget ?? DEFAULT_SCAN_BUDGET);
  let after = opts.continuationToken ? decodeToken(opts.continuationToken) : "";
  if (after < f.prefix) after = "";
  const items: SearchHit[] = [];
  let scanned = 0;
  while (scanned < budget) {
    const page = await storage.listObjects(bucket, {
      prefix: f.prefix,
      delimiter: "",
      after,
      maxKeys: Math.min(1000, budget - scanned),
    });
    const before = scanned;
    scanned += page.objects.length;
    /** Entries that passed the listing filters, with their position in the page. */
    const candidates: [ListedObject, number][] = [];
    page.objects.forEach((o, i) => {
      if (listingMatches(o, f)) candidates.push([o, i]);
    });
    // Entries in key order; a page that fills `limit` midway stops after the last hit's key.
    for (let i = 0; i < candidates.length; i += RECORD_READS) {
      const batch = candidates.slice(i, i + RECORD_READS);
      const hits = await Promise.all(
        batch.map(([o]) => recordMatch(storage, bucket, o, f, opts.mayRead)),
      );
      for (let j = 0; j < hits.length; j++) {
        const h = hits[j];
        if (h === null) continue;
        items.push(h);
        if (items.length === limit) {
          const examined = before + batch[j][1] + 1;
          return { items, continuationToken: encodeToken(h.key), scanned: examined };
        }
      }
    }
    if (!page.truncated || page.objects.length === 0) {
      return { items, continuationToken: null, scanned };
    }
    after = page.objects[page.objects.length - 1].key;
  }
  return { items, continuationToken: encodeToken(after), scanned };
}
