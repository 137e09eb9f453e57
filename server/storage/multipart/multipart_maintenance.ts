/**
 * Timer-driven upkeep of multipart state (run at start-up and periodically by server/app.ts):
 * finish interrupted cleanups, abort uploads older than the configured age or whose bucket was
 * deleted (S3 deletes a general purpose bucket with open uploads), clear seals a crash left
 * behind, and drop part chunks of multipart objects that were deleted or overwritten.
 */
import { blobRefKey, bucketIdKey, bucketKey } from "../meta/keys.ts";
import { abortUpload, cleanupUpload, type UploadRecord } from "./multipart.ts";
import { DONE_TTL_MS, type UploadDone } from "./multipart_complete.ts";
import { freePartsGroup, type PartsIndex } from "../objects/parts.ts";
import type { StorageCore } from "../core.ts";
import type { BucketRecord } from "../types.ts";

export interface MaintenanceOptions {
  /** Uploads initiated longer ago than this are aborted. */
  maxAgeMs: number;
  /** At start-up no Complete can be running, so every seal is stale and is cleared. */
  startup: boolean;
}

export interface MaintenanceResult {
  cleaned: number;
  aborted: number;
  unsealed: number;
  droppedChunks: number;
}

async function bucketExists(core: StorageCore, id: string): Promise<boolean> {
  const ref = await core.meta.get<{ ns: string; name: string }>(bucketIdKey(id));
  if (!ref.value) return false;
  const b = await core.meta.get<BucketRecord>(bucketKey(ref.value.ns, ref.value.name));
  return b.value?.id === id;
}

export async function multipartMaintenance(
  core: StorageCore,
  opts: MaintenanceOptions,
): Promise<MaintenanceResult> {
  const out: MaintenanceResult = { cleaned: 0, aborted: 0, unsealed: 0, droppedChunks: 0 };
  const pending: string[] = [];
  for await (const e of core.meta.list({ prefix: ["mpclean"] })) pending.push(e.key[1] as string);
  for (const id of pending) {
    await cleanupUpload(core, id, { startup: opts.startup });
    out.cleaned++;
  }

  const doneCutoff = core.clock.now() - DONE_TTL_MS;
  for await (const e of core.meta.list<UploadDone>({ prefix: ["mpdone"] })) {
    if (e.value.at < doneCutoff) await core.meta.write().check(e).delete(e.key).commit();
  }

  const cutoff = core.clock.now() - opts.maxAgeMs;
  const alive = new Map<string, boolean>();
  const uploads: Deno.KvEntry<UploadRecord>[] = [];
  for await (const e of core.meta.list<UploadRecord>({ prefix: ["mpu"] })) uploads.push(e);
  for (const e of uploads) {
    const up = e.value;
    if (!alive.has(up.bucketId)) alive.set(up.bucketId, await bucketExists(core, up.bucketId));
    if (up.initiated < cutoff || !alive.get(up.bucketId)) {
      await abortUpload(core, null, up.key, up.uploadId).catch((err) =>
        core.log.warn("multipart expiry abort failed", {
          uploadId: up.uploadId,
          error: String(err),
        })
      );
      out.aborted++;
    } else if (opts.startup && up.sealed) {
      const { sealed: _, ...open } = up;
      const res = await core.meta.write().check(e).set(e.key, open).commit();
      if (res.ok) out.unsealed++;
    }
  }

  // Part chunks outlive their object only when it was deleted or overwritten (the reference of
  // the group goes in that commit) or when a Complete failed after writing them and the upload
  // was then aborted: either way the files are unreferenced too. The small index entries are
  // scanned, never the chunks.
  const idx: Deno.KvEntry<PartsIndex>[] = [];
  for await (const e of core.meta.list<PartsIndex>({ prefix: ["objpartsidx"] })) idx.push(e);
  for (let i = 0; i < idx.length; i += 10) {
    const batch = idx.slice(i, i + 10);
    const refs = await core.meta.getMany(batch.map((e) => blobRefKey(e.key[1] as string)));
    for (const [k, e] of batch.entries()) {
      if (!refs[k].value) out.droppedChunks += await freePartsGroup(core, e.key[1] as string);
    }
  }
  if (out.cleaned || out.aborted || out.unsealed || out.droppedChunks) {
    core.log.info("multipart maintenance", { ...out });
  }
  return out;
}
