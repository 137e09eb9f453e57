/**
 * The local storage implementation's parts, built once by `openStorage`: the metadata store
 * (KV handles, commits, caches, usage accounting), the blob files, the clock and the log.
 */
import type { BlobStore } from "./blob/blob_store.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import type { MetaStore } from "./meta/store.ts";
import type { Tuning } from "../tuning.ts";
import type { ObjectKeys } from "../crypto/types.ts";
import type { ChangeLog } from "./feed/change_log.ts";

export interface StorageCore {
  readonly meta: MetaStore;
  readonly blobs: BlobStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** Which performance mechanisms are on (server/tuning.ts). */
  readonly tuning: Tuning;
  /** Data keys of encrypted objects (docs/decisions/0012); null: encryption unavailable. */
  readonly keys: ObjectKeys | null;
  /** The change feed of followed buckets (feed/change_log.ts). */
  readonly feed: ChangeLog;
}

/**
 * The blob files an object record owns (one blob, or its parts; none for inline bytes, which
 * live in KV). A chunked multipart layout (part
 * list not inline) is represented by `${partsId}.`: a name in its parts' blob group that is
 * never a file, so reference bookkeeping (`blobGroup`) stays right; the part files themselves
 * are removed by the multipart maintenance once the group's reference is gone.
 */
export function blobsOf(
  rec: { blob: string | null; inline?: true; parts?: { blob: string }[]; partsId?: string },
): string[] {
  if (rec.inline) return [];
  if (rec.blob) return [rec.blob];
  if (!rec.parts && rec.partsId) return [`${rec.partsId}.`];
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
