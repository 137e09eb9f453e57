/**
 * Storage-level multipart tests on a temp data dir: the chunked part-list layout (more parts
 * than fit inline), reads across parts, cleanup of unlisted parts, maintenance (expiry, stale
 * seals, part chunks of deleted objects). Part sizes are tiny: the 5 MiB minimum is lowered.
 */
import { assert, assertEquals, assertRejects } from "../../../tests/_helpers/assert.ts";
import { quiet } from "../../../tests/_helpers/storage.ts";
import { randomBytes } from "../../../tests/_helpers/server.ts";
import { openStorage } from "../backend.ts";
import { partRange } from "../objects/parts.ts";
import { INLINE_PARTS, PARTS_PER_CHUNK } from "./multipart_complete.ts";
import { uploadKey } from "../meta/keys.ts";
import { listUploads, type UploadRecord } from "./multipart.ts";
import type { CompletePart } from "./multipart_complete.ts";
import type { S3Error } from "../../s3/errors.ts";

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

const body = (b: Uint8Array) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(b);
      c.close();
    },
  });

Deno.test("multipart storage: chunked layouts, reads, cleanup and maintenance", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-mp-unit-" });
  let now = Date.now();
  const st = await openStorage({ dataDir: dir, log: quiet, clock: { now: () => now } });
  const be = st.backend;
  try {
    const bucket = await be.createBucket({ ns: "", name: "unit", ownerId: "u", region: "r" });
    const create = (key: string) =>
      be.createMultipartUpload(bucket, { key, content: {}, meta: {}, ownerId: "u" });

    await t.step("more parts than fit inline are chunked and read back exactly", async () => {
      const n = INLINE_PARTS + 250;
      const up = await create("many");
      const datas: Uint8Array[] = [];
      const etags: string[] = [];
      for (let i = 1; i <= n; i++) {
        const d = randomBytes(1 + (i * 37) % 300, i);
        datas.push(d);
        const p = await be.uploadPart(bucket, {
          key: "many",
          uploadId: up.uploadId,
          partNumber: i,
          body: body(d),
          contentLength: d.length,
        });
        etags.push(p.etag);
      }
      // Part 7 is left out of the object: its blob must go after the commit.
      const listed = etags.map((etag, i) => ({ n: i + 1, etag, checksums: {} }))
        .filter((p) => p.n !== 7);
      const rec = await be.completeMultipartUpload(bucket, {
        key: "many",
        uploadId: up.uploadId,
        parts: listed,
        minPartSize: 0,
      });
      assertEquals(rec.parts, undefined);
      assertEquals(rec.partsCount, n - 1);
      assertEquals(rec.partsChunks, Math.ceil((n - 1) / PARTS_PER_CHUNK));
      const used = datas.filter((_, i) => i !== 6);
      const all = new Uint8Array(used.reduce((s, d) => s + d.length, 0));
      let off = 0;
      for (const d of used) {
        all.set(d, off);
        off += d.length;
      }
      assertEquals(rec.size, all.length);
      const stored = await be.getObjectRecord(bucket, "many");
      assertEquals(await readAll(await be.openObject(stored)), all);
      for (let i = 0; i < 25; i++) {
        const a = (i * 7919) % all.length;
        const b = Math.min(all.length - 1, a + (i * 104729) % 5000);
        const got = await readAll(await be.openObject(stored, { start: a, end: b }));
        assertEquals(got, all.subarray(a, b + 1), `range ${a}-${b}`);
      }
      // partNumber addresses the n-th part of the object.
      const pr = partRange(stored, "300");
      const start = used.slice(0, 299).reduce((s, d) => s + d.length, 0);
      assertEquals(pr, { range: { start, end: start + used[299].length - 1 }, partsCount: n - 1 });
      const err = await assertRejects(() =>
        Promise.resolve().then(() => partRange(stored, String(n)))
      ) as S3Error;
      assertEquals(err.code, "InvalidPartNumber");
      assertEquals((await st.core.blobs.listPrefix(`${up.uploadId}.`)).length, n - 1);
      assertEquals((await Array.fromAsync(st.core.meta.list({ prefix: ["mpart"] }))).length, 0);

      // Counters count the object once, with its full size.
      assertEquals(await be.bucketStats(bucket.id), { objects: 1, bytes: all.length });

      // Deleting the object frees its part files and chunks right after the commit, like a
      // single-blob object; nothing is left for the maintenance.
      await be.deleteObject(bucket, "many");
      assertEquals(await be.bucketStats(bucket.id), { objects: 0, bytes: 0 });
      assertEquals(await st.core.blobs.listPrefix(`${up.uploadId}.`), []);
      assertEquals((await Array.fromAsync(st.core.meta.list({ prefix: ["objparts"] }))).length, 0);
      assertEquals(
        (await Array.fromAsync(st.core.meta.list({ prefix: ["objpartsidx"] }))).length,
        0,
      );
      const res = await be.multipartMaintenance({ maxAgeMs: Infinity, startup: false });
      assertEquals(res.droppedChunks, 0);
    });

    await t.step("a crash after deleting a chunked object: the maintenance frees it", async () => {
      const n = INLINE_PARTS + 1;
      const up = await create("crashed");
      const parts = [];
      for (let i = 1; i <= n; i++) {
        const p = await be.uploadPart(bucket, {
          key: "crashed",
          uploadId: up.uploadId,
          partNumber: i,
          body: body(new Uint8Array([i & 0xff])),
          contentLength: 1,
        });
        parts.push({ n: i, etag: p.etag, checksums: {} });
      }
      await be.completeMultipartUpload(bucket, {
        key: "crashed",
        uploadId: up.uploadId,
        parts,
        minPartSize: 0,
      });
      // What a crash between the delete commit and freeing leaves: the object and its group
      // reference are gone, the files, chunks and index entry are still there.
      const cur = (await st.core.meta.get<{ blob: null }>(["obj", bucket.id, "crashed"])).value!;
      const op = st.core.meta.write();
      for await (const e of st.core.meta.list({ prefix: ["ver", bucket.id, "crashed"] })) {
        op.delete(e.key);
      }
      await op.delete(["obj", bucket.id, "crashed"]).delete(["vhead", bucket.id, "crashed"])
        .delete(["vnull", bucket.id, "crashed"]).delete(["blob", up.uploadId]).commit();
      assert(cur);
      assertEquals((await st.core.blobs.listPrefix(`${up.uploadId}.`)).length, n);
      const res = await be.multipartMaintenance({ maxAgeMs: Infinity, startup: true });
      assertEquals(res.droppedChunks, 2);
      assertEquals(await st.core.blobs.listPrefix(`${up.uploadId}.`), []);
      assertEquals((await Array.fromAsync(st.core.meta.list({ prefix: ["objparts"] }))).length, 0);
    });

    await t.step(
      "a replaced part whose old blob a crash left behind is freed on Complete",
      async () => {
        const up = await create("replaced");
        const first = await be.uploadPart(bucket, {
          key: "replaced",
          uploadId: up.uploadId,
          partNumber: 1,
          body: body(new Uint8Array([1, 2, 3])),
          contentLength: 3,
        });
        const second = await be.uploadPart(bucket, {
          key: "replaced",
          uploadId: up.uploadId,
          partNumber: 1,
          body: body(new Uint8Array([4, 5, 6])),
          contentLength: 3,
        });
        assert(first.blob !== second.blob);
        // The process died between the part-record commit and removing the old blob: the old
        // file is still on disk (put it back, as the removal never ran).
        await Deno.writeFile(st.core.blobs.pathOf(first.blob), new Uint8Array([1, 2, 3]));
        assertEquals((await st.core.blobs.listPrefix(`${up.uploadId}.`)).length, 2);
        // A restart's sweep keeps it: the open upload references its whole blob group.
        await be.sweep(0);
        assertEquals((await st.core.blobs.listPrefix(`${up.uploadId}.`)).length, 2);
        await be.completeMultipartUpload(bucket, {
          key: "replaced",
          uploadId: up.uploadId,
          parts: [{ n: 1, etag: second.etag, checksums: {} }],
          minPartSize: 0,
        });
        assertEquals(await st.core.blobs.listPrefix(`${up.uploadId}.`), [second.blob]);
        const rec = await be.getObjectRecord(bucket, "replaced");
        assertEquals(await readAll(await be.openObject(rec)), new Uint8Array([4, 5, 6]));
      },
    );

    await t.step("a failed chunked Complete keeps the upload; abort drops its chunks", async () => {
      const n = INLINE_PARTS + 1; // chunked: 2 chunk entries
      const uploadAll = async (key: string) => {
        const up = await create(key);
        const parts = [];
        for (let i = 1; i <= n; i++) {
          const p = await be.uploadPart(bucket, {
            key,
            uploadId: up.uploadId,
            partNumber: i,
            body: body(new Uint8Array([i & 0xff])),
            contentLength: 1,
          });
          parts.push({ n: i, etag: p.etag, checksums: {} });
        }
        return { uploadId: up.uploadId, parts };
      };
      const failComplete = async (key: string, uploadId: string, parts: CompletePart[]) => {
        // If-None-Match: * fails in the publish commit, after the chunks were written.
        const err = await assertRejects(() =>
          be.completeMultipartUpload(bucket, {
            key,
            uploadId,
            parts,
            minPartSize: 0,
            conditions: { ifNoneMatch: "*" },
          })
        ) as S3Error;
        assertEquals(err.code, "PreconditionFailed");
      };
      for (const key of ["taken", "dropme"]) {
        await be.putObject(bucket, {
          key,
          body: body(new Uint8Array([1, 2, 3])),
          contentLength: 3,
          content: {},
          meta: {},
          ownerId: "u",
        });
      }
      const before = await be.bucketStats(bucket.id);

      const a = await uploadAll("taken");
      await failComplete("taken", a.uploadId, a.parts);
      // The upload is intact and unsealed; the object is unchanged.
      const open = await be.getMultipartUpload(bucket, "taken", a.uploadId);
      assertEquals(open.sealed, undefined);
      assertEquals((await be.getObjectRecord(bucket, "taken")).size, 3);
      const rec = await be.completeMultipartUpload(bucket, {
        key: "taken",
        uploadId: a.uploadId,
        parts: a.parts,
        minPartSize: 0,
      });
      assertEquals(rec.partsChunks, 2);
      const got = await readAll(await be.openObject(await be.getObjectRecord(bucket, "taken")));
      assertEquals(got, new Uint8Array(a.parts.map((p) => p.n & 0xff)));
      assertEquals(await be.bucketStats(bucket.id), {
        objects: before.objects,
        bytes: before.bytes - 3 + n,
      });

      const b = await uploadAll("dropme");
      await failComplete("dropme", b.uploadId, b.parts);
      await be.abortMultipartUpload(bucket, "dropme", b.uploadId);
      assertEquals(await st.core.blobs.listPrefix(`${b.uploadId}.`), []);
      const res = await be.multipartMaintenance({ maxAgeMs: Infinity, startup: false });
      assertEquals(res.droppedChunks, 2);
      const left = await Array.fromAsync(st.core.meta.list({ prefix: ["objparts", b.uploadId] }));
      assertEquals(left.length, 0);
      // The completed object's chunks are untouched.
      const still = await Array.fromAsync(st.core.meta.list({ prefix: ["objparts", a.uploadId] }));
      assertEquals(still.length, 2);
      assertEquals(await be.bucketStats(bucket.id), {
        objects: before.objects,
        bytes: before.bytes - 3 + n,
      });
    });

    await t.step("expired uploads are aborted and their blobs freed", async () => {
      const up = await create("old");
      const d = randomBytes(100, 1);
      await be.uploadPart(bucket, {
        key: "old",
        uploadId: up.uploadId,
        partNumber: 1,
        body: body(d),
        contentLength: d.length,
      });
      now += 10_000;
      const keep = await create("young");
      assertEquals((await st.core.blobs.listPrefix(`${up.uploadId}.`)).length, 1);
      const res = await be.multipartMaintenance({ maxAgeMs: 5_000, startup: false });
      assertEquals(res.aborted, 1);
      await assertRejects(() => be.getMultipartUpload(bucket, "old", up.uploadId));
      assertEquals(await st.core.blobs.listPrefix(`${up.uploadId}.`), []);
      assertEquals((await be.getMultipartUpload(bucket, "young", keep.uploadId)).key, "young");
    });

    await t.step("a seal left by a crash is cleared at start-up", async () => {
      const up = await create("sealed");
      const e = await st.core.meta.get<UploadRecord>(uploadKey(up.uploadId));
      await st.core.meta.set(e.key, { ...e.value!, sealed: Date.now() });
      await be.multipartMaintenance({ maxAgeMs: Infinity, startup: false });
      assert((await st.core.meta.get<UploadRecord>(e.key)).value?.sealed, "kept while running");
      const res = await be.multipartMaintenance({ maxAgeMs: Infinity, startup: true });
      assertEquals(res.unsealed, 1);
      const d = randomBytes(10, 2);
      const p = await be.uploadPart(bucket, {
        key: "sealed",
        uploadId: up.uploadId,
        partNumber: 1,
        body: body(d),
        contentLength: d.length,
      });
      assertEquals(p.size, 10);
    });
  } finally {
    await st.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("multipart storage: 10,000 parts complete in one publish and read back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-mp-10k-" });
  const st = await openStorage({ dataDir: dir, log: quiet });
  const be = st.backend;
  try {
    const bucket = await be.createBucket({ ns: "", name: "tenk", ownerId: "u", region: "r" });
    const up = await be.createMultipartUpload(bucket, {
      key: "k",
      content: {},
      meta: {},
      ownerId: "u",
      checksum: { algorithm: "SHA256", type: "COMPOSITE" },
    });
    const n = 10_000;
    const parts: { n: number; etag: string; checksums: Record<string, string> }[] = [];
    let next = 1;
    // Four writers, as clients upload parts in parallel.
    await Promise.all([0, 1, 2, 3].map(async () => {
      while (next <= n) {
        const i = next++;
        const d = new Uint8Array([i & 0xff, i >> 8]);
        const p = await be.uploadPart(bucket, {
          key: "k",
          uploadId: up.uploadId,
          partNumber: i,
          body: body(d),
          contentLength: 2,
        });
        parts[i - 1] = { n: i, etag: p.etag, checksums: {} };
      }
    }));
    const rec = await be.completeMultipartUpload(bucket, {
      key: "k",
      uploadId: up.uploadId,
      parts,
      minPartSize: 0,
    });
    assertEquals(rec.partsCount, n);
    assertEquals(rec.size, 2 * n);
    assert(rec.checksum?.value.endsWith("-10000"));
    const got = await readAll(await be.openObject(await be.getObjectRecord(bucket, "k")));
    assertEquals(got.length, 2 * n);
    for (let i = 1; i <= n; i++) {
      if (got[2 * (i - 1)] !== (i & 0xff) || got[2 * (i - 1) + 1] !== i >> 8) {
        throw new Error(`part ${i} out of place`);
      }
    }
    const pr = partRange(rec, "9999");
    assertEquals(pr.range, { start: 2 * 9998, end: 2 * 9998 + 1 });
  } finally {
    await st.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ListMultipartUploads folds prefixes reading few entries each", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-mp-list-" });
  const st = await openStorage({ dataDir: dir, log: quiet });
  const be = st.backend;
  try {
    const lb = await be.createBucket({ ns: "", name: "unit-list", ownerId: "u", region: "r" });
    for (let d = 0; d < 30; d++) {
      for (let f = 0; f < 10; f++) {
        await be.createMultipartUpload(lb, {
          key: `d${String(d).padStart(2, "0")}/f${f}`,
          content: {},
          meta: {},
          ownerId: "u",
        });
      }
    }
    // KV fetches entries in batches of `batchSize`: the sum over all list calls bounds the
    // entries read.
    let fetched = 0;
    const kv = st.core.meta.reader;
    // A stand-in for the metadata store with the reads the listing makes.
    const counting = {
      ...st.core,
      meta: {
        get: kv.get.bind(kv),
        list: (sel: Deno.KvListSelector, opts?: Deno.KvListOptions) => {
          fetched += Math.min(opts?.batchSize ?? 100, opts?.limit ?? Infinity);
          return kv.list(sel, opts);
        },
      },
    } as unknown as typeof st.core;
    const page = await listUploads(counting, lb, {
      prefix: "",
      delimiter: "/",
      keyMarker: "",
      uploadIdMarker: "",
      maxUploads: 1000,
    });
    assertEquals(page.commonPrefixes.length, 30);
    assertEquals(page.truncated, false);
    assert(fetched < 30 * 20, `fetched up to ${fetched} entries for 30 prefixes`);
    const flat = await listUploads(counting, lb, {
      prefix: "d07/",
      delimiter: "/",
      keyMarker: "",
      uploadIdMarker: "",
      maxUploads: 4,
    });
    assertEquals(flat.uploads.map((u) => u.key), ["d07/f0", "d07/f1", "d07/f2", "d07/f3"]);
    assertEquals(flat.truncated, true);
  } finally {
    await st.close();
    await Deno.remove(dir, { recursive: true });
  }
});
