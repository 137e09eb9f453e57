import { assert, assertEquals, assertRejects } from "../../../tests/_helpers/assert.ts";
import { quiet } from "../../../tests/_helpers/storage.ts";
import { openStorage } from "../backend.ts";
import { INLINE_MAX } from "./objects.ts";
import { INLINE_ROW_BYTES, INLINE_ROWS_MAX } from "./inline.ts";
import { inlineDataKey, inlineRowKey, objectKey } from "../meta/keys.ts";
import { DatabaseSync } from "node:sqlite";
import type { BucketRecord } from "../types.ts";
import { S3Error } from "../../s3/errors.ts";

type Opened = Awaited<ReturnType<typeof openStorage>>;

const bytes = (n: number, seed: number): Uint8Array<ArrayBuffer> =>
  Uint8Array.from({ length: n }, (_, i) => (i * seed) % 251);

async function files(s: Opened): Promise<string[]> {
  const out: string[] = [];
  for await (const id of s.core.blobs.listIds()) out.push(id);
  return out;
}

/** The blob ids that have inline rows, each once. */
async function inlineEntries(s: Opened): Promise<string[]> {
  const out = new Set<string>();
  for await (const e of s.core.meta.list({ prefix: ["blobd"] })) out.add(e.key[1] as string);
  return [...out];
}

async function read(s: Opened, b: BucketRecord, key: string, range?: [number, number]) {
  const rec = await s.backend.getObjectRecord(b, key);
  const stream = await s.backend.openObject(
    rec,
    range ? { start: range[0], end: range[1] } : undefined,
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function put(
  s: Opened,
  b: BucketRecord,
  key: string,
  data: Uint8Array<ArrayBuffer>,
  declared = true,
) {
  return s.backend.putObject(b, {
    key,
    body: new Response(data).body!,
    contentLength: declared ? data.length : null,
    content: {},
    meta: {},
    ownerId: "o",
  });
}

Deno.test("small bodies are stored in KV with their record, larger ones in files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-inline-" });
  let s = await openStorage({ dataDir: dir, log: quiet, hotCacheBytes: 1 << 20 });
  try {
    let b = await s.backend.createBucket({ ns: "", name: "inl", ownerId: "o", region: "r" });
    const small = bytes(INLINE_MAX, 7);
    const big = bytes(INLINE_MAX + 1, 11);
    const a = await put(s, b, "small", small);
    assert(a.inline && a.blob);
    assertEquals(await inlineEntries(s), [a.blob]);
    const f = await put(s, b, "big", big);
    assert(!f.inline);
    assertEquals(await files(s), [f.blob]);
    // Without a declared length the size is unknown up front: a file.
    const u = await put(s, b, "unknown", bytes(100, 3), false);
    assert(!u.inline);
    assertEquals((await files(s)).length, 2);
    const empty = await put(s, b, "empty", new Uint8Array(0));
    assert(empty.inline);

    // A new process (nothing cached): the bytes come from KV.
    await s.close();
    s = await openStorage({ dataDir: dir, log: quiet, hotCacheBytes: 1 << 20 });
    b = await s.backend.getBucket("", "inl");
    assertEquals(await read(s, b, "small"), small);
    assertEquals(await read(s, b, "small", [5, 99]), small.subarray(5, 100));
    assertEquals(await read(s, b, "big"), big);
    assertEquals(await read(s, b, "empty"), new Uint8Array(0));

    // Overwrites free the bytes they replace, inline or not, in either direction.
    const a2 = await put(s, b, "small", big);
    assertEquals(await read(s, b, "small"), big);
    assertEquals((await inlineEntries(s)).includes(a.blob!), false);
    const f2 = await put(s, b, "big", small);
    assert(f2.inline);
    assertEquals((await files(s)).includes(f.blob!), false);
    assertEquals(await read(s, b, "big"), small);
    // A reader holding the replaced record is told its bytes are gone (and re-reads).
    await put(s, b, "big", bytes(10, 5));
    s.core.blobs.hot.clear();
    await assertRejects(() => s.backend.openObject(f2));

    // A body shorter or longer than declared leaves nothing.
    const before = [await files(s), await inlineEntries(s)];
    const short = new Response(bytes(10, 1)).body!;
    const e = await assertRejects(() =>
      s.backend.putObject(b, {
        key: "short",
        body: short,
        contentLength: 20,
        content: {},
        meta: {},
        ownerId: "o",
      })
    );
    assertEquals((e as S3Error).code, "IncompleteBody");
    assertEquals([await files(s), await inlineEntries(s)], before);

    // Deleting the objects drops everything.
    for (const k of ["small", "big", "unknown", "empty"]) await s.backend.deleteObject(b, k);
    assertEquals([await files(s), await inlineEntries(s)], [[], []]);
    assertEquals(await s.backend.bucketStats(b.id), { objects: 0, bytes: 0 });
    assert(a2);
  } finally {
    await s.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** The sizes of the `["blobd", id, ...]` entries of one blob, in key order. */
async function inlineParts(s: Opened, blob: string): Promise<number[]> {
  const out: number[] = [];
  for await (const e of s.core.meta.list<Uint8Array>({ prefix: ["blobd", blob] })) {
    out.push(e.value.length);
  }
  const one = await s.core.meta.get<Uint8Array>(inlineDataKey(blob));
  return one.value ? [one.value.length, ...out] : out;
}

/** Overflow pages of Deno KV's table in a closed data dir. */
function overflowPages(dir: string): number {
  const db = new DatabaseSync(`${dir}/kv.sqlite3`, { readOnly: true });
  try {
    const row = db.prepare(
      "SELECT count(*) AS n FROM dbstat WHERE name = 'kv' AND pagetype = 'overflow'",
    ).get() as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

Deno.test("small inline bodies are rows that fit in a page, larger ones one entry; ranges read back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-inline-rows-" });
  let s = await openStorage({ dataDir: dir, log: quiet, hotCacheBytes: 0 });
  const small = [0, 1, INLINE_ROW_BYTES - 1, INLINE_ROW_BYTES, INLINE_ROW_BYTES + 1, 1024];
  small.push(INLINE_ROWS_MAX);
  const large = [INLINE_ROWS_MAX + 1, 4096, 10_000, INLINE_MAX];
  const check = async (b: BucketRecord, key: string, data: Uint8Array<ArrayBuffer>) => {
    assertEquals(await read(s, b, key), data);
    if (data.length > 2) {
      // A range across row boundaries (or inside the one row).
      const from = Math.floor(data.length / 3), to = data.length - 2;
      assertEquals(await read(s, b, key, [from, to]), data.subarray(from, to + 1));
    }
  };
  try {
    let b = await s.backend.createBucket({ ns: "", name: "rows", ownerId: "o", region: "r" });
    for (const [i, size] of small.entries()) {
      const data = bytes(size, i + 3);
      const rec = await put(s, b, `s${i}`, data);
      assertEquals(rec.inlineRows, Math.max(1, Math.ceil(size / INLINE_ROW_BYTES)));
      const parts = await inlineParts(s, rec.blob!);
      assertEquals(parts.length, rec.inlineRows);
      assert(parts.every((n) => n <= INLINE_ROW_BYTES));
      // Absent optional fields are not stored as `undefined` properties.
      const stored = (await s.core.meta.get<Record<string, unknown>>(objectKey(b.id, `s${i}`)))
        .value!;
      assertEquals(Object.keys(stored).filter((k) => stored[k] === undefined), []);
      await check(b, `s${i}`, data);
    }
    await s.close();
    assertEquals(overflowPages(dir), 0);

    s = await openStorage({ dataDir: dir, log: quiet, hotCacheBytes: 0 });
    b = await s.backend.getBucket("", "rows");
    for (const [i, size] of large.entries()) {
      const data = bytes(size, i + 5);
      const rec = await put(s, b, `l${i}`, data);
      assertEquals(rec.inlineRows, undefined);
      assertEquals(await inlineParts(s, rec.blob!), [size]);
      await check(b, `l${i}`, data);
    }
    for (const [i, size] of small.entries()) await check(b, `s${i}`, bytes(size, i + 3));
  } finally {
    await s.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inline bytes written as one ['blobd', id] entry (older servers) read and drop", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-inline-old-" });
  let s = await openStorage({ dataDir: dir, log: quiet, hotCacheBytes: 0 });
  try {
    let b = await s.backend.createBucket({ ns: "", name: "old", ownerId: "o", region: "r" });
    const data = bytes(1500, 5);
    const rec = await put(s, b, "k", data);
    assertEquals(rec.inlineRows, 2);
    // Rewrite it the way servers before inline rows stored it, then start again on the dir.
    const { inlineRows: _, ...old } = rec;
    const op = s.core.meta.write().set(objectKey(b.id, "k"), old)
      .set(inlineDataKey(rec.blob!), data);
    for (let n = 0; n < rec.inlineRows!; n++) op.delete(inlineRowKey(rec.blob!, n));
    await op.commit();
    await s.close();
    s = await openStorage({ dataDir: dir, log: quiet, hotCacheBytes: 0 });
    b = await s.backend.getBucket("", "old");
    assertEquals((await s.backend.getObjectRecord(b, "k")).inlineRows, undefined);
    assertEquals(await read(s, b, "k"), data);
    assertEquals(await read(s, b, "k", [1000, 1499]), data.subarray(1000));
    await s.backend.deleteObject(b, "k");
    assertEquals(await inlineEntries(s), []);
  } finally {
    await s.close();
    await Deno.remove(dir, { recursive: true });
  }
});
