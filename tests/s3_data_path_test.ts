/**
 * The object data path under stress: bucket counters stay exact under concurrent overwrites and
 * deletes of the same keys, and a client that hangs up mid-body leaves nothing behind (no object,
 * no partial file, counters unchanged). Counters and files are checked in the data dir itself.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { bodyBytes, randomBytes, startServer, type TestServer } from "./_helpers/server.ts";
import { createHash } from "node:crypto";
import { rawSignedRequest } from "./_helpers/raw_http.ts";
import { assertInlineOwnership } from "./_helpers/inline.ts";
import { storedVersions } from "./_helpers/versions.ts";

const PLAIN = "data-path-plain";
const VERSIONED = "data-path-versioned";
const KEYS = ["a", "b", "c"];
const SIZES = [0, 1, 700, 70 * 1024, 200 * 1024];

interface BucketTruth {
  objects: number;
  bytes: number;
  counters: { objects: number; bytes: number };
}

/** Counts what the bucket really holds (every live version) and reads its counters. */
async function bucketTruth(kv: Deno.Kv, name: string): Promise<BucketTruth> {
  let id: string | null = null;
  for await (const b of kv.list<{ id: string; name: string }>({ prefix: ["bucket"] })) {
    if (b.value?.name === name) id = b.value.id;
  }
  assert(id, `bucket ${name} not found in KV`);
  let objects = 0;
  let bytes = 0;
  for await (
    const e of storedVersions<{ size: number; deleteMarker?: boolean }>(kv, id)
  ) {
    if (e.value.deleteMarker) continue;
    objects++;
    bytes += e.value.size;
  }
  const [o, b] = await kv.getMany<[Deno.KvU64, Deno.KvU64]>([
    ["bstat", id, "objects"],
    ["bstat", id, "bytes"],
  ]);
  return {
    objects,
    bytes,
    counters: { objects: Number(o.value?.value ?? 0n), bytes: Number(b.value?.value ?? 0n) },
  };
}

async function blobFiles(dataDir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const d of Deno.readDir(`${dataDir}/objects`)) {
    if (!d.isDirectory) continue;
    for await (const f of Deno.readDir(`${dataDir}/objects/${d.name}`)) out.push(f.name);
  }
  return out;
}

/** Non-empty files in tmp/ (a temp file is empty until a body writes to it). */
async function partialTempFiles(dataDir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const f of Deno.readDir(`${dataDir}/tmp`)) {
    const st = await Deno.stat(`${dataDir}/tmp/${f.name}`).catch(() => null);
    if (st && st.size > 0) out.push(f.name);
  }
  return out;
}

/** A client that announces `declared` bytes, sends `sent` of them and hangs up. */
async function truncatedPut(srv: TestServer, path: string, declared: number, sent: number) {
  await rawSignedRequest(srv, {
    method: "PUT",
    path,
    headers: { "content-length": String(declared) },
    body: randomBytes(sent, 3),
  });
}

Deno.test("data path: exact counters under concurrency, nothing left by cut uploads", async (t) => {
  const srv = await startServer();
  let stopped = false;
  try {
    const s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: PLAIN }));
    await s3.send(new CreateBucketCommand({ Bucket: VERSIONED }));
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: VERSIONED,
        VersioningConfiguration: { Status: "Enabled" },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: "keep", Body: "kept bytes" }));

    await t.step("a client hanging up mid-body stores nothing", async () => {
      const before = await blobFiles(srv.dataDir);
      await truncatedPut(srv, `/${PLAIN}/cut-small`, 10_000, 4_000);
      await truncatedPut(srv, `/${PLAIN}/cut-large`, 8 * 1024 * 1024, 3 * 1024 * 1024 + 17);
      await truncatedPut(srv, `/${PLAIN}/keep`, 50_000, 10);
      // An XML body cut short (DeleteObjects) is the client's failure too.
      await rawSignedRequest(srv, {
        method: "POST",
        path: `/${PLAIN}`,
        query: { delete: "" },
        headers: { "content-length": "5000", "content-md5": "1B2M2Y8AsgTpgAmY7PhCfg==" },
        body: new TextEncoder().encode("<Delete><Object><Key>keep</Key></Object>"),
      });
      // The server notices the hang-up when it next reads; give it a moment, bounded.
      let partial: string[] = [];
      for (let i = 0; i < 50; i++) {
        partial = await partialTempFiles(srv.dataDir);
        if (partial.length === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assertEquals(partial, [], "partial temp files left behind");
      await assertS3Error(
        () => s3.send(new HeadObjectCommand({ Bucket: PLAIN, Key: "cut-small" })),
        "NotFound",
        404,
      );
      await assertS3Error(
        () => s3.send(new HeadObjectCommand({ Bucket: PLAIN, Key: "cut-large" })),
        "NotFound",
        404,
      );
      const kept = await s3.send(new HeadObjectCommand({ Bucket: PLAIN, Key: "keep" }));
      assertEquals(kept.ContentLength, 10);
      assertEquals((await blobFiles(srv.dataDir)).sort(), before.sort());
      // A client hanging up is the client's failure (IncompleteBody), not a server error.
      assertEquals(srv.output.filter((l) => l.includes("ERROR")), []);
    });

    await t.step("concurrent PUT and DELETE of the same keys", async () => {
      const ops: Promise<unknown>[] = [];
      for (let i = 0; i < 60; i++) {
        for (const bucket of [PLAIN, VERSIONED]) {
          const key = KEYS[i % KEYS.length];
          ops.push(
            i % 3 === 2 ? s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })) : s3.send(
              new PutObjectCommand({
                Bucket: bucket,
                Key: key,
                Body: randomBytes(SIZES[(i * 7) % SIZES.length], i + 1),
              }),
            ),
          );
        }
      }
      const results = await Promise.allSettled(ops);
      const failed = results.filter((r) => r.status === "rejected");
      assertEquals(failed.map((r) => String((r as PromiseRejectedResult).reason)), []);
    });

    await t.step(
      "then versions deleted by id while a suspended bucket is overwritten",
      async () => {
        const ids: { key: string; versionId: string }[] = [];
        for (const key of KEYS) {
          for (let i = 0; i < 3; i++) {
            const r = await s3.send(
              new PutObjectCommand({ Bucket: VERSIONED, Key: key, Body: randomBytes(100 * i, i) }),
            );
            ids.push({ key, versionId: r.VersionId! });
          }
        }
        await s3.send(
          new PutBucketVersioningCommand({
            Bucket: VERSIONED,
            VersioningConfiguration: { Status: "Suspended" },
          }),
        );
        const ops: Promise<unknown>[] = ids.map(({ key, versionId }) =>
          s3.send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: key, VersionId: versionId }))
        );
        for (let i = 0; i < 30; i++) {
          const key = KEYS[i % KEYS.length];
          ops.push(
            i % 4 === 3
              ? s3.send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: key }))
              : s3.send(
                new PutObjectCommand({ Bucket: VERSIONED, Key: key, Body: randomBytes(i * 10, i) }),
              ),
          );
        }
        const results = await Promise.allSettled(ops);
        const failed = results.filter((r) => r.status === "rejected");
        assertEquals(failed.map((r) => String((r as PromiseRejectedResult).reason)), []);
      },
    );

    await t.step("GETs racing overwrites return one complete body each", async () => {
      const bodies = [1, 2, 3, 4].map((seed) => randomBytes(150 * 1024 + seed, seed));
      const md5s = new Set(bodies.map((b) => createHash("md5").update(b).digest("hex")));
      await s3.send(new PutObjectCommand({ Bucket: PLAIN, Key: "race", Body: bodies[0] }));
      const ops: Promise<void>[] = [];
      for (let i = 0; i < 40; i++) {
        ops.push((async () => {
          if (i % 2 === 0) {
            await s3.send(
              new PutObjectCommand({ Bucket: PLAIN, Key: "race", Body: bodies[i % 4] }),
            );
            return;
          }
          const res = await s3.send(new GetObjectCommand({ Bucket: PLAIN, Key: "race" }));
          const got = await bodyBytes(res.Body);
          const md5 = createHash("md5").update(got).digest("hex");
          assert(md5s.has(md5), "a GET returned bytes that were never written whole");
          assertEquals(res.ETag, `"${md5}"`);
        })());
      }
      await Promise.all(ops);
    });

    await srv.stop({ keepData: true });
    stopped = true;
    await t.step("counters equal the stored versions; every blob is referenced", async () => {
      const kv = await Deno.openKv(`${srv.dataDir}/kv.sqlite3`);
      try {
        for (const name of [PLAIN, VERSIONED]) {
          const truth = await bucketTruth(kv, name);
          assertEquals(truth.counters, { objects: truth.objects, bytes: truth.bytes }, name);
        }
        const files = new Set(await blobFiles(srv.dataDir));
        for (const id of files) {
          const ref = await kv.get(["blob", id.split(".")[0]]);
          assert(ref.value !== null, `unreferenced blob ${id}`);
        }
        // Small bodies live in KV (["blobd", id]) and must be owned one to one; larger ones are
        // files.
        await assertInlineOwnership(kv);
        for await (
          const e of storedVersions<{ key: string; blob: string | null; inline?: true }>(kv)
        ) {
          if (e.value.blob && !e.value.inline) {
            assert(files.has(e.value.blob), `${e.value.key}: blob file missing`);
          }
        }
      } finally {
        kv.close();
      }
    });
  } finally {
    if (!stopped) await srv.stop({ keepData: true });
    await Deno.remove(srv.dataDir, { recursive: true }).catch(() => {});
  }
});
