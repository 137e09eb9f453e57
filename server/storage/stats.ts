/**
 * What the local storage tells metrics about itself (`Backend.stats`): the counters of every
 * bucket and the commit counters the metadata store keeps. Each is
 * read when a scrape asks; nothing here runs on the request path.
 */
import type { StorageCore } from "./core.ts";
import { listAllBuckets } from "./buckets/buckets.ts";
import type { BucketTotals, StorageCounters, StorageStats } from "./types.ts";

export class LocalStorageStats implements StorageStats {
  constructor(private readonly core: StorageCore) {}

  /** Two KV listings (bucket records, bucket counters), whatever the number of buckets. */
  async bucketTotals(): Promise<BucketTotals[]> {
    const counters = new Map<string, { objects: number; bytes: number }>();
    for await (const e of this.core.meta.list<Deno.KvU64>({ prefix: ["bstat"] })) {
      const [, id, stat] = e.key as [string, string, string];
      const c = counters.get(id) ?? { objects: 0, bytes: 0 };
      if (stat === "objects" || stat === "bytes") c[stat] = Number(e.value.value);
      counters.set(id, c);
    }
    return (await listAllBuckets(this.core)).map((b) => ({
      ns: b.ns,
      name: b.name,
      ...(counters.get(b.id) ?? { objects: 0, bytes: 0 }),
    }));
  }

  counters(): StorageCounters {
    const meta = this.core.meta;
    return {
      kvCommits: meta.commits,
      busyCommits: meta.busy.busyWrites,
      lockRetries: meta.busy.retries,
    };
  }
}
