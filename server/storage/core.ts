/** Shared state of the local storage implementation: KV, blob files, clock and log. */
import type { BlobStore } from "./blob/blob_store.ts";

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface StorageCore {
  kv: Deno.Kv;
  blobs: BlobStore;
  clock: Clock;
  log: Logger;
  /**
   * Extra emptiness checks for DeleteBucket (noncurrent versions, open uploads...): each returns
   * true when the bucket holds nothing of its kind.
   */
  bucketEmptyChecks: ((bucketId: string) => Promise<boolean>)[];
}

/** The blob ids an object record owns (one blob, or its parts). */
export function blobsOf(rec: { blob: string | null; parts?: { blob: string }[] }): string[] {
  if (rec.blob) return [rec.blob];
  return rec.parts?.map((p) => p.blob) ?? [];
}

/**
 * The reference-index id of a blob: blobs named `group.rest` (multipart parts) share the
 * reference of their group, so a 10,000-part object needs one index entry, not 10,000.
 */
export function blobGroup(blobId: string): string {
  const dot = blobId.indexOf(".");
  return dot < 0 ? blobId : blobId.slice(0, dot);
}
