/**
 * Whether storage can serve requests, for the readiness probe (`/minio/health/ready`): Deno KV
 * answers a strongly consistent read, the data dir takes a synced write, and its file system has
 * more free space than the operator's threshold. Cheap enough for a load balancer's poll: one KV
 * read, one small file written and removed, one statfs.
 */
import { statfsSync } from "node:fs";
import type { StorageCore } from "./core.ts";
import type { DiskSpace } from "./types.ts";

export interface HealthCheck {
  ok: boolean;
  /** What failed, or a figure (free space). */
  detail: string;
}

export interface StorageHealth {
  ok: boolean;
  kv: HealthCheck;
  writable: HealthCheck;
  space: HealthCheck & { freeBytes: number; totalBytes: number };
}

/** How long one check may take before it counts as failed. */
const CHECK_TIMEOUT_MS = 2000;

async function timed(what: string, work: () => Promise<void>): Promise<HealthCheck> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { ok: true, detail: "ok" };
  } catch (e) {
    return { ok: false, detail: `${what}: ${e instanceof Error ? e.message : String(e)}` };
  } finally {
    clearTimeout(timer);
  }
}

export async function storageHealth(
  core: StorageCore,
  minFreeBytes: number,
): Promise<StorageHealth> {
  const dir = core.blobs.dataDir;
  const [kv, writable] = await Promise.all([
    timed("Deno KV", async () => {
      await core.meta.get(["health"], { consistency: "strong" });
    }),
    timed("data dir", async () => {
      const path = `${core.blobs.tmpDir}/.health-${crypto.randomUUID()}`;
      const f = await Deno.open(path, { write: true, createNew: true });
      try {
        await f.write(new Uint8Array([1]));
        await f.syncData();
      } finally {
        f.close();
        await Deno.remove(path).catch(() => {});
      }
    }),
  ]);
  let space: StorageHealth["space"];
  try {
    const { freeBytes, totalBytes } = diskSpace(dir);
    space = {
      ok: freeBytes >= minFreeBytes,
      detail: freeBytes >= minFreeBytes
        ? `${Math.floor(freeBytes / 2 ** 20)} MiB free`
        : `${Math.floor(freeBytes / 2 ** 20)} MiB free, below the ${
          Math.floor(minFreeBytes / 2 ** 20)
        } MiB threshold`,
      freeBytes,
      totalBytes,
    };
  } catch (e) {
    space = { ok: false, detail: `free space: ${String(e)}`, freeBytes: 0, totalBytes: 0 };
  }
  return { ok: kv.ok && writable.ok && space.ok, kv, writable, space };
}

/**
 * The size of the file system holding `dir`, what an unprivileged writer may still use, and what
 * is in use (as `df` counts it: blocks the reserve keeps are neither used nor free to the server).
 */
export function diskSpace(dir: string): DiskSpace {
  const st = statfsSync(dir);
  return {
    totalBytes: st.blocks * st.bsize,
    freeBytes: st.bavail * st.bsize,
    usedBytes: (st.blocks - st.bfree) * st.bsize,
  };
}
