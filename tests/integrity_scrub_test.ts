/**
 * The integrity scrubber on real storage: bytes corrupted on the disk (a blob file, a part file)
 * and in KV (an inline object's row) are found by a pass and by a bucket check, past the memory
 * caches; a clean bucket reports nothing; the rate limit waits on the injected clock; a stopped
 * pass resumes from its checkpoint in SQLite and does not verify anything twice.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { openTempStorage, quiet } from "./_helpers/storage.ts";
import { bucket, put, randomBytes, setVersioning } from "../server/storage/conformance/harness.ts";
import { multipartPut } from "../server/storage/conformance/multipart.ts";
import { digestOf, kvFilePath, newMd5, toBase64 } from "../server/storage/mod.ts";
import type { BucketRecord, ObjectRecord } from "../server/storage/types.ts";
import { openDb } from "../server/db/mod.ts";
import {
  Scrubber,
  type ScrubberOptions,
  type Sleep,
} from "../server/features/integrity/scrubber.ts";
import type { IntegrityFinding } from "../server/features/integrity/state.ts";

type Opened = Awaited<ReturnType<typeof openTempStorage>>;

/** A clock that only moves when the scrubber sleeps on it. */
function fakeTime() {
  const t = { now: 1_700_000_000_000, slept: 0, sleeps: 0 };
  const sleep: Sleep = (ms) => {
    t.now += ms;
    t.slept += ms;
    t.sleeps++;
    return Promise.resolve();
  };
  return { t, clock: { now: () => t.now }, sleep };
}

function scrubber(s: Opened, db: ReturnType<typeof openDb>, opts: Partial<ScrubberOptions> = {}) {
  const found: IntegrityFinding[] = [];
  const time = fakeTime();
  const sc = new Scrubber(s.storage.backend, {
    db,
    rate: 0,
    intervalMs: 3600_000,
    clock: time.clock,
    log: quiet,
    sleep: time.sleep,
    onFinding: (f) => found.push(f),
    ...opts,
  });
  return { sc, found, time };
}

/** Runs `fn` on a fresh storage and an in-memory database, closing both afterwards. */
async function withStores(
  fn: (s: Opened, db: ReturnType<typeof openDb>) => Promise<void>,
  opts: Parameters<typeof openTempStorage>[1] = {},
) {
  const s = await openTempStorage("maxiofs-scrub-", opts);
  const db = openDb(":memory:");
  try {
    await fn(s, db);
  } finally {
    db.close();
    await s.close();
  }
}

/** Flips one bit of byte `at` of a file. */
async function flipFileByte(path: string, at: number) {
  const data = await Deno.readFile(path);
  data[at] ^= 0x01;
  await Deno.writeFile(path, data);
}

/** Flips one bit of byte `at` of an inline object's first KV row. */
async function flipInlineByte(dataDir: string, rec: ObjectRecord, at: number) {
  const kv = await Deno.openKv(kvFilePath(dataDir));
  try {
    const key = rec.inlineRows === undefined ? ["blobd", rec.blob!] : ["blobd", rec.blob!, 0];
    const row = await kv.get<Uint8Array>(key);
    assert(row.value instanceof Uint8Array, `no inline row ${JSON.stringify(key)}`);
    const bytes = row.value.slice();
    bytes[at] ^= 0x01;
    await kv.set(key, bytes);
  } finally {
    kv.close();
  }
}

/** A bucket of every layout: file blob, inline rows, multipart with checksums, versions, marker. */
async function fill(s: Opened, name: string) {
  const be = s.storage.backend;
  let b: BucketRecord = await bucket(be, name);
  const file = await put(be, b, "big/file", randomBytes(40_000));
  const inline = await put(be, b, "small", randomBytes(700));
  const summed = await put(be, b, "summed", randomBytes(30_000), {
    checksum: { algorithm: "CRC32", expected: () => undefined },
  });
  const multi = await multipartPut(be, b, "multi", [randomBytes(20_000), randomBytes(9_000)]);
  b = await setVersioning(be, b, "Enabled");
  const v1 = await put(be, b, "versioned", randomBytes(5_000));
  assert(v1.inline && v1.inlineRows === undefined && inline.inlineRows === 1);
  await put(be, b, "versioned", randomBytes(6_000));
  await be.deleteObject(b, "versioned");
  const bytes = 40_000 + 700 + 30_000 + 29_000 + 5_000 + 6_000;
  return { b, file, inline, summed, multi, v1, objects: 6, bytes };
}

Deno.test("a clean bucket reports nothing; every version and byte is verified", async () => {
  await withStores(async (s, db) => {
    const f = await fill(s, "clean");
    const { sc, found } = scrubber(s, db);
    const pass = await sc.verifyBucket(f.b);
    assertEquals(pass.findings, []);
    assertEquals([pass.objects, pass.bytes, pass.corrupt, pass.skipped], [
      f.objects,
      f.bytes,
      0,
      0,
    ]);
    const full = await sc.runPass();
    assertEquals([full?.objects, full?.bytes, full?.corrupt], [f.objects, f.bytes, 0]);
    assertEquals(found, []);
    assertEquals(sc.status().last?.objects, f.objects);
    assertEquals(sc.status().current, null);
  });
});

Deno.test("corrupt file, part and inline bytes are found past the memory caches", async () => {
  await withStores(async (s, db) => {
    const be = s.storage.backend;
    const f = await fill(s, "bad");
    const clean = await fill(s, "good");
    // Read first, so the bytes a GET would serve sit in the object cache.
    for (const rec of [f.file, f.inline, f.summed]) {
      await new Response(await be.openObject(rec)).arrayBuffer();
    }
    await flipFileByte(s.storage.core.blobs.pathOf(f.file.blob!), 12_345);
    await flipInlineByte(s.dataDir, f.inline, 10);
    const parts = await be.objectParts(f.multi);
    await flipFileByte(s.storage.core.blobs.pathOf(parts[1].blob), 0);
    // 5,000 bytes: one inline entry rather than rows.
    await flipInlineByte(s.dataDir, f.v1, 4_999);

    const { sc, found } = scrubber(s, db);
    const checked = await sc.verifyBucket(f.b);
    const rows = (p: { findings: IntegrityFinding[] }) =>
      p.findings.map((x) => `${x.bucket}/${x.key}@${x.versionId === "null" ? "null" : "v"}`).sort();
    assertEquals(rows(checked), [
      "bad/big/file@null",
      "bad/multi@null",
      "bad/small@null",
      "bad/versioned@v",
    ]);
    assertEquals(checked.findings.find((x) => x.key === "versioned")?.versionId, f.v1.versionId);
    assert(/^part 2: MD5 /.test(checked.findings.find((x) => x.key === "multi")!.reason));
    assert(
      /^MD5 [0-9a-f]{32}, recorded ETag /.test(
        checked.findings.find((x) => x.key === "small")!.reason,
      ),
    );
    assertEquals(checked.objects, f.objects);
    assertEquals((await sc.verifyBucket(clean.b)).findings, []);

    const pass = await sc.runPass();
    assertEquals(rows(pass!), rows(checked));
    assertEquals(pass!.objects, f.objects + clean.objects);
    assertEquals(found.length, 8, "every finding is reported, by the check and by the pass");
    assertEquals(sc.status().totals.corrupt, 8);

    // A missing blob file is a finding too (the record still names it).
    await Deno.remove(s.storage.core.blobs.pathOf(f.summed.blob!));
    const again = await sc.verifyBucket(f.b);
    assert(/^read failed: /.test(again.findings.find((x) => x.key === "summed")!.reason));
  }, { hotCacheBytes: 4 << 20 });
});

Deno.test("a checksum that no longer matches is named", async () => {
  await withStores(async (s, db) => {
    const be = s.storage.backend;
    const b = await bucket(be, "sums");
    const rec = await put(be, b, "k", randomBytes(20_000), {
      checksum: { algorithm: "SHA256", expected: () => undefined },
    });
    // Change the record's checksum (not its ETag): only the checksum can tell.
    const kv = await Deno.openKv(kvFilePath(s.dataDir));
    try {
      const key = ["obj", b.id, "k"];
      const e = await kv.get<ObjectRecord>(key);
      await kv.set(key, {
        ...e.value!,
        checksum: { ...rec.checksum!, value: "AAAA" + rec.checksum!.value.slice(4) },
      });
    } finally {
      kv.close();
    }
    const { sc } = scrubber(s, db);
    const found = (await sc.verifyBucket(b)).findings;
    assertEquals(found.length, 1);
    assert(/^SHA256 .*, recorded AAAA/.test(found[0].reason), found[0].reason);
  });
});

Deno.test("the rate limit waits on the scrubber's clock; a stopped pass resumes from its checkpoint", async () => {
  await withStores(async (s, db) => {
    const be = s.storage.backend;
    const a = await fill(s, "a-bucket");
    const b = await fill(s, "b-bucket");
    const total = a.objects + b.objects;
    const bytes = a.bytes + b.bytes;
    const rate = 100_000;

    // Stopped after a few waits: its position and counts are in the database.
    const time = fakeTime();
    let stopping: Promise<void> | null = null;
    const stopped: Scrubber = new Scrubber(be, {
      db,
      rate,
      intervalMs: 3600_000,
      clock: time.clock,
      log: quiet,
      sleep: async (ms, signal) => {
        await time.sleep(ms, signal);
        if (time.t.sleeps === 5) stopping = stopped.stop();
      },
    });
    assertEquals(await stopped.runPass(), null);
    await stopping;
    const partial = stopped.status().totals.objects;
    assert(partial > 0 && partial < total, `stopped part-way (${partial} of ${total})`);

    // A new scrubber on the same database (a restart) goes on from there.
    const resumed = scrubber(s, db, { rate });
    assertEquals(resumed.sc.status().current?.objects, partial);
    const pass = await resumed.sc.runPass();
    assertEquals(resumed.sc.status().totals.objects, total - partial, "nothing verified twice");
    assertEquals([pass?.objects, pass?.bytes], [total, bytes]);
    assertEquals(resumed.sc.status().last?.objects, total);
    assertEquals(resumed.sc.status().current, null);
    // Reading `bytes` (plus each version's fixed cost) at `rate` took at least this long.
    const minMs = (resumed.sc.status().totals.bytes * 1000) / rate;
    assert(
      resumed.time.t.slept >= minMs * 0.99,
      `slept ${resumed.time.t.slept} ms, expected >= ${minMs}`,
    );

    // Unthrottled (rate 0) a pass never waits.
    const free = scrubber(s, db, { rate: 0 });
    await free.sc.runPass();
    assertEquals(free.time.t.sleeps, 0);
  });
});

Deno.test("encrypted objects: decrypted and checked; a flipped sealed byte is found", async () => {
  await withStores(async (s, db) => {
    const be = s.storage.backend;
    const b = await bucket(be, "sealed");
    const sse = { mode: "AES256" as const };
    const file = await put(be, b, "file", randomBytes(200_000), { sse });
    const inline = await put(be, b, "inline", randomBytes(900), { sse });
    await put(be, b, "fine", randomBytes(70_000), { sse });
    const key = crypto.getRandomValues(new Uint8Array(32));
    await put(be, b, "customer", randomBytes(3_000), {
      sse: { mode: "SSE-C", key, keyMd5: toBase64(digestOf(newMd5(), key)) },
    });
    assert(file.enc && inline.enc && inline.inline, "stored sealed");
    const { sc } = scrubber(s, db);
    const clean = await sc.verifyBucket(b);
    assertEquals(clean.findings, []);
    assertEquals([clean.objects, clean.skipped], [3, 1], "the SSE-C object cannot be read");
    await flipFileByte(s.storage.core.blobs.pathOf(file.blob!), 100_000);
    await flipInlineByte(s.dataDir, inline, 20);
    const bad = await sc.verifyBucket(b);
    assertEquals(bad.findings.map((f) => f.key).sort(), ["file", "inline"]);
    for (const f of bad.findings) assert(/^read failed: /.test(f.reason), f.reason);
  });
});
