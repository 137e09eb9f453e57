/**
 * One checkpoint of the scale benchmark: fill both main buckets up to `objects` keys (the last
 * `window` of them timed), top up the versioned bucket, then measure memory, disk, GET, the list
 * shapes, a full walk, DeleteObjects and a restart. The run (scripts/bench_scale.ts) calls it for
 * each checkpoint in turn on the same server and data dir.
 */
import { type Credentials, ScaleClient, summarizePage } from "./client.ts";
import { type Batch, keyOf, percentile } from "./load.ts";
import { diskUsage, ScaleServer } from "./server.ts";
import {
  deleteKeys,
  fill,
  fullWalk,
  getWindow,
  listShape,
  putKeys,
  putWindow,
  spread,
} from "./steps.ts";
import type { Checkpoint, Figures, Reuse } from "./report.ts";
import { searchShapes } from "./search.ts";

/** The buckets of a run and what they hold so far. */
export interface RunState {
  dataDir: string;
  creds: Credentials;
  /** The console user the search step signs in as. */
  consoleUser: { username: string; password: string };
  env: Record<string, string>;
  /** Listed once right after it was created (and again after each restart). */
  listed: string;
  /** Never listed. */
  plain: string;
  versioned: string;
  /** Buckets in all (the extra empty ones and the three above). */
  buckets: number;
  body: Uint8Array;
  /** Seconds of the GET window. */
  getSeconds: number;
}

/** Largest PUT window per bucket: long enough to be steady, short at small checkpoints. */
const MAX_WINDOW = 20_000;
/** Largest number of keys deleted per bucket at a checkpoint. */
const MAX_DELETES = 10_000;

/** Counts failed requests of the steps and keeps the first failure. */
class Failures {
  count = 0;
  first: string | null = null;
  add(r: { errors: number; firstError: string | null }): void {
    this.count += r.errors;
    if (r.errors > 0) this.first ??= r.firstError;
  }
}

const perSecond = (b: Batch) => b.ops / b.seconds;
const p99 = (b: Batch) => percentile(b.lat, 0.99);
const MiB = 2 ** 20;

/** Keys of the versioned bucket (two versions each) when the main buckets hold `objects`. */
const versionedKeysAt = (objects: number) =>
  objects === 0 ? 0 : Math.max(1, Math.floor(objects / 10));

/**
 * Runs one checkpoint, from `previous` keys in each main bucket (0 at the start) to `objects`;
 * returns its figures and the server to go on with (a new process after the restart).
 */
export async function runCheckpoint(
  s: RunState,
  server: ScaleServer,
  previous: number,
  objects: number,
  progress: (msg: string) => void,
): Promise<{ checkpoint: Checkpoint; server: ScaleServer }> {
  let c = new ScaleClient(server.url, s.creds);
  const fails = new Failures();
  const window = Math.min(MAX_WINDOW, Math.floor(objects / 2), objects - previous);
  progress(`filling ${previous} -> ${objects - window} keys in each bucket`);
  fails.add(await fill(c, [s.listed, s.plain], previous, objects - window, s.body));
  const io0 = await server.io();
  progress(`timed PUT window: ${window} keys in each bucket`);
  const put = await putWindow(c, s.listed, s.plain, objects - window, window, s.body);
  const io1 = await server.io();
  fails.add(put.listed);
  fails.add(put.plain);

  const versionedFrom = versionedKeysAt(previous);
  const versionedKeys = versionedKeysAt(objects);
  progress(`versioned bucket: ${versionedFrom} -> ${versionedKeys} keys, two versions each`);
  for (let round = 0; round < 2; round++) {
    fails.add(await fill(c, [s.versioned], versionedFrom, versionedKeys, s.body));
  }

  const mem = await server.memory();
  const disk = await diskUsage(s.dataDir);
  const stored = 2 * objects + 2 * versionedKeys;

  progress(`GET window: ${s.getSeconds} s`);
  const get = await getWindow(c, s.listed, objects, s.getSeconds);
  fails.add(get);

  progress("list shapes");
  const expectKeys = (n: number) => (xml: string) => {
    const got = summarizePage(xml).keys;
    return got === n ? null : `expected ${n} keys in the page, got ${got}`;
  };
  // The versioned bucket's keys spread over min(keys, 1000) prefixes: start in the middle one.
  const versionsMiddle = encodeURIComponent(
    keyOf(Math.floor(Math.min(versionedKeys, 1000) / 2)).slice(0, 5),
  );
  const shapes = {
    listFirst: await listShape(() => c.listV2(s.listed), expectKeys(Math.min(1000, objects))),
    listDeep: await listShape(
      () => c.listV2(s.listed, "start-after=d500%2F"),
      (xml) => summarizePage(xml).keys > 0 ? null : "deep page is empty",
    ),
    delimiter: await listShape(() => c.listV2(s.listed, "delimiter=%2F"), (xml) => {
      const p = summarizePage(xml);
      const want = Math.min(1000, objects);
      return p.prefixes === want && !p.truncated
        ? null
        : `expected ${want} common prefixes, got ${p.prefixes} (truncated ${p.truncated})`;
    }),
    versionsPage: await listShape(
      () => c.listVersions(s.versioned),
      expectKeys(Math.min(1000, 2 * versionedKeys)),
    ),
    versionsDeep: await listShape(
      () => c.listVersions(s.versioned, `key-marker=${versionsMiddle}`),
      (xml) => summarizePage(xml).keys > 0 ? null : "deep page is empty",
    ),
    versionsV2Page: await listShape(
      () => c.listV2(s.versioned),
      expectKeys(Math.min(1000, versionedKeys)),
    ),
    listBuckets: await listShape(() => c.listBuckets(), (xml) => {
      const got = xml.split("<Name>").length - 1;
      return got === s.buckets ? null : `expected ${s.buckets} buckets, got ${got}`;
    }),
  };
  for (const r of Object.values(shapes)) fails.add(r);

  progress("object search pages");
  const search = await searchShapes(server.consoleUrl, s.consoleUser, s.listed, objects);
  fails.add(search.scan);
  fails.add(search.records);

  progress("full walk");
  const walk = await fullWalk(c, s.listed);
  fails.add(walk);
  if (walk.keys !== objects) {
    fails.add({ errors: 1, firstError: `walk saw ${walk.keys} keys, expected ${objects}` });
  }

  const doomed = spread(objects, Math.min(MAX_DELETES, Math.floor(objects / 2)));
  const deletes: Record<string, Batch> = {};
  for (const bucket of [s.listed, s.plain]) {
    progress(`DeleteObjects of ${doomed.length} keys in ${bucket}, then PUT them again`);
    deletes[bucket] = await deleteKeys(c, bucket, doomed);
    fails.add(deletes[bucket]);
    fails.add(await putKeys(c, bucket, doomed, s.body));
  }

  progress("restart");
  const logged = server.errorLines().slice(0, 5).map((l) => `server logged: ${l}`);
  const stopMs = await server.stop();
  const t0 = performance.now();
  server = await ScaleServer.start(s.dataDir, s.env);
  const listenMs = performance.now() - t0;
  c = new ScaleClient(server.url, s.creds);
  const first = await c.listV2(s.listed);
  const restartMs = performance.now() - t0;
  fails.add({ errors: first.status === 200 ? 0 : 1, firstError: `${first.status} ${first.text}` });

  const figures: Figures = {
    putListed: perSecond(put.listed),
    putListedP99: p99(put.listed),
    putPlain: perSecond(put.plain),
    putPlainP99: p99(put.plain),
    writePerPut: (io1.writeBytes - io0.writeBytes) / (2 * window),
    wcharPerPut: (io1.wchar - io0.wchar) / (2 * window),
    get: perSecond(get),
    getP99: p99(get),
    listFirst: shapes.listFirst.p50,
    listDeep: shapes.listDeep.p50,
    delimiter: shapes.delimiter.p50,
    versionsPage: shapes.versionsPage.p50,
    versionsDeep: shapes.versionsDeep.p50,
    versionsV2Page: shapes.versionsV2Page.p50,
    listBuckets: shapes.listBuckets.p50,
    buckets: s.buckets,
    searchScan: search.scan.p50,
    searchRecords: search.records.p50,
    walkSeconds: walk.seconds,
    walkRate: walk.keys / walk.seconds,
    deleteListed: doomed.length / deletes[s.listed].seconds,
    deletePlain: doomed.length / deletes[s.plain].seconds,
    rss: mem.rssBytes / MiB,
    peakRss: mem.peakRssBytes / MiB,
    stored,
    diskMiB: disk.allocated / MiB,
    diskPerObject: disk.allocated / stored,
    stopMs,
    listenMs,
    restartMs,
    load1: Deno.loadavg()[0],
    errors: fails.count,
  };
  const diskNote = Object.entries(disk.byEntry).filter(([, bytes]) => bytes >= MiB / 10)
    .sort((a, b) => b[1] - a[1])
    .map(([name, bytes]) => `${name} ${(bytes / MiB).toFixed(1)}`).join(", ");
  return {
    checkpoint: {
      objects,
      figures,
      firstError: fails.first,
      notes: [`data dir MiB by entry: ${diskNote}`, ...logged],
    },
    server,
  };
}

/**
 * Space reuse at the last checkpoint: DeleteObjects of every other key of the listed bucket,
 * then as many new keys, with the data dir's size before, between and after.
 */
export async function runReuse(
  s: RunState,
  server: ScaleServer,
  objects: number,
  progress: (msg: string) => void,
): Promise<Reuse> {
  const c = new ScaleClient(server.url, s.creds);
  const odd = Array.from({ length: Math.floor(objects / 2) }, (_, i) => 2 * i + 1);
  const before = (await diskUsage(s.dataDir)).allocated;
  progress(`space reuse: DeleteObjects of ${odd.length} keys`);
  const del = await deleteKeys(c, s.listed, odd);
  const afterDelete = (await diskUsage(s.dataDir)).allocated;
  progress(`space reuse: PUT of ${odd.length} new keys`);
  const put = await fill(c, [s.listed], objects, objects + odd.length, s.body);
  const afterRewrite = (await diskUsage(s.dataDir)).allocated;
  return {
    objects,
    deleted: odd.length,
    deleteRate: odd.length / del.seconds,
    before,
    afterDelete,
    afterRewrite,
    errors: del.errors + put.errors,
    firstError: del.firstError ?? put.firstError,
  };
}
