/**
 * A `delimiter=/` page of 1,000 common prefixes over a large bucket: from KV (a seek per prefix)
 * against the directory summary, alternating in one run over the same KV file, plus the time a
 * summary load takes (a scan of every listing entry).
 *
 *   deno run -A --unstable-kv server/storage/listing/dir_summary_measure.ts [--keys 1000000] [--rounds 15]
 *
 * Only listing entries are written (`["objl", bucket, key]`, bench:scale's keys
 * `d123/obj00012345`), straight into a temp KV file: no server.
 */
import { type ListingSource, listObjects } from "./listing.ts";
import { DirSummary } from "./dir_summary.ts";
import { listEntry } from "./list_index.ts";
import { objectListKey, objectListPrefix } from "../meta/keys.ts";
import type { ListObjectsInput, ObjectRecord } from "../types.ts";

const flag = (name: string, dflt: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : dflt;
};
const keys = flag("keys", 1_000_000);
const rounds = flag("rounds", 15);
const bucket = "B";
const keyOf = (n: number) =>
  `d${String(n % 1000).padStart(3, "0")}/obj${String(n).padStart(8, "0")}`;
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const loadavg = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");

const dir = await Deno.makeTempDir({ prefix: "maxiofs-dirsum-bench-" });
const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
try {
  console.log(
    `dir_summary_measure ${new Date().toISOString()} keys ${keys} load average ${loadavg()}`,
  );
  let t = performance.now();
  for (let i = 0; i < keys; i += 500) {
    const op = kv.atomic();
    for (let n = i; n < Math.min(keys, i + 500); n++) {
      const key = keyOf(n);
      const rec = {
        key,
        size: 1024,
        etag: '"0f343b0931126a20f133d67c2b018a3b"',
        lastModified: 1_796_000_000_000,
        storageClass: "STANDARD",
        ownerId: "o",
      } as ObjectRecord;
      op.set(objectListKey(bucket, key), listEntry(rec));
    }
    await op.commit();
  }
  console.log(`wrote ${keys} listing entries in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  t = performance.now();
  const summary = new DirSummary();
  for await (const e of kv.list({ prefix: objectListPrefix(bucket) }, { batchSize: 1000 })) {
    summary.add(e.key[2] as string);
  }
  console.log(
    `summary load (scan of every entry): ${((performance.now() - t) / 1000).toFixed(2)} s, ` +
      `${summary.dirs} directories`,
  );

  const input: ListObjectsInput = { prefix: "", delimiter: "/", after: "", maxKeys: 1000 };
  const source = { meta: kv } as unknown as ListingSource;
  const fromKv: number[] = [];
  const fromSummary: number[] = [];
  for (let r = 0; r < rounds; r++) {
    t = performance.now();
    const a = await listObjects(source, bucket, input);
    fromKv.push(performance.now() - t);
    t = performance.now();
    const b = await summary.list(kv, bucket, input);
    fromSummary.push(performance.now() - t);
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error("pages differ");
    if (a.commonPrefixes.length !== Math.min(1000, keys)) throw new Error("expected 1000 prefixes");
  }
  console.log(
    `delimiter=/ page of ${Math.min(1000, keys)} prefixes, p50 of ${rounds}: ` +
      `KV ${p50(fromKv).toFixed(2)} ms, summary ${
        p50(fromSummary).toFixed(2)
      } ms (pages identical)`,
  );
  console.log(`load average at the end ${loadavg()}`);
} finally {
  kv.close();
  await Deno.remove(dir, { recursive: true });
}
