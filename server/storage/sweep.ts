/**
 * Orphan sweep: removes blob files that no metadata references (left by a crash between the
 * blob rename and the publish commit, or between the commit and removing a replaced blob).
 */
import { blobRefKey } from "./meta/keys.ts";
import { blobGroup, type StorageCore } from "./core.ts";

export interface SweepResult {
  scanned: number;
  removed: number;
}

/**
 * Blobs younger than `graceMs` are kept: a request may have written one and not yet published
 * it. At start-up no request is in flight, so the caller passes 0. References are checked first
 * and only unreferenced files are looked at more closely, so a pass costs one directory listing
 * and one KV read per 10 blobs, not a file status call per blob.
 */
export async function sweepOrphanBlobs(core: StorageCore, graceMs: number): Promise<SweepResult> {
  const cutoff = core.clock.now() - graceMs;
  let scanned = 0;
  let removed = 0;
  let batch: string[] = [];
  const flush = async () => {
    const refs = await core.meta.getMany(batch.map((id) => blobRefKey(blobGroup(id))));
    for (let i = 0; i < batch.length; i++) {
      if (refs[i].value !== null) continue;
      if (graceMs > 0) {
        // A blob renamed into place but not yet published is new: leave it to its request.
        const changed = await core.blobs.changedAt(batch[i]);
        if (changed === null || changed > cutoff) continue;
      }
      await core.blobs.remove(batch[i]);
      removed++;
    }
    batch = [];
  };
  for await (const id of core.blobs.listIds()) {
    scanned++;
    batch.push(id);
    if (batch.length === 10) await flush();
  }
  if (batch.length) await flush();
  if (removed) core.log.info("orphan sweep removed blobs", { scanned, removed });
  return { scanned, removed };
}
