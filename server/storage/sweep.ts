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
 * it. At start-up no request is in flight, so the caller passes 0.
 */
export async function sweepOrphanBlobs(core: StorageCore, graceMs: number): Promise<SweepResult> {
  const cutoff = core.clock.now() - graceMs;
  let scanned = 0;
  let removed = 0;
  let batch: { id: string; mtime: number }[] = [];
  const flush = async () => {
    const refs = await core.kv.getMany(batch.map((b) => blobRefKey(blobGroup(b.id))));
    for (let i = 0; i < batch.length; i++) {
      if (refs[i].value !== null) continue;
      await core.blobs.remove(batch[i].id);
      removed++;
    }
    batch = [];
  };
  for await (const b of core.blobs.list()) {
    scanned++;
    if (b.mtime > cutoff) continue;
    batch.push(b);
    if (batch.length === 10) await flush();
  }
  if (batch.length) await flush();
  if (removed) core.log.info("orphan sweep removed blobs", { scanned, removed });
  return { scanned, removed };
}
