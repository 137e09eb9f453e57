/**
 * Master-key rotation end to end (issue 16 item 6), on the server in-process: encrypted objects
 * (single PUTs inline and in files, versions, multipart, an open upload) stay readable while the
 * key rotates under concurrent reads and writes; afterwards no record names the old key and the
 * keyring no longer holds it. A rotation stopped midway resumes when the server starts again.
 */
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startApp } from "./_helpers/app.ts";
import type { BucketRecord, ObjectRecord } from "../server/storage/types.ts";
import { putSse as put, rootBucket, textBody as body } from "./_helpers/stored_sse.ts";
import type { ServerApp } from "../server/app.ts";

/** A text long enough to go to a blob file (inline bodies stop at 16 KiB). */
const large = (tag: string) => `${tag}:`.padEnd(40_000, "x");

/** A multipart SSE-S3 object of two parts (5 MiB and a tail), through storage. */
async function putMultipart(app: ServerApp, b: BucketRecord, key: string) {
  const be = app.storage.backend;
  const up = await be.createMultipartUpload(b, {
    key,
    content: {},
    meta: {},
    ownerId: "root",
    sse: { mode: "AES256" },
  });
  const first = "a".repeat(5 * 1024 * 1024);
  const parts = [];
  for (const [n, text] of [[1, first], [2, "tail"]] as const) {
    const p = await be.uploadPart(b, {
      key,
      uploadId: up.uploadId,
      partNumber: n,
      body: body(text),
      contentLength: text.length,
    });
    parts.push({ n, etag: p.etag, checksums: {} });
  }
  await be.completeMultipartUpload(b, { key, uploadId: up.uploadId, parts });
  return first + "tail";
}

/** Every kek named in KV: records, their parts, chunks, uploads and upload parts. */
async function keksInKv(app: ServerApp): Promise<Set<string>> {
  const meta = app.storage.core.meta;
  const out = new Set<string>();
  for (const prefix of [["obj"], ["ver"], ["mpu"]]) {
    for await (const e of meta.list<ObjectRecord>({ prefix })) {
      const r = e.value;
      if (!r.enc) continue;
      out.add(r.enc.kek);
      for (const p of r.parts ?? []) if (p.kek) out.add(p.kek);
    }
  }
  for await (const e of meta.list<{ kek?: string }>({ prefix: ["mpart"] })) {
    if (e.value.kek) out.add(e.value.kek);
  }
  return out;
}

async function text(
  s3: Awaited<ReturnType<typeof startApp>>["s3"],
  bucket: string,
  key: string,
  versionId?: string,
) {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return await r.Body!.transformToString();
}

Deno.test("rotation: objects are read and written while every data key moves to the new master key; the old key is retired", async () => {
  const t = await startApp();
  try {
    const be = t.app.storage.backend;
    const plain = await rootBucket(t.app, "plain");
    const versioned = await rootBucket(t.app, "versioned", "Enabled");
    const expected = new Map<string, string>();
    for (let i = 0; i < 40; i++) {
      const v = i % 5 === 0 ? large(`p${i}`) : `small ${i}`;
      await put(t.app, plain, `k${i}`, v);
      expected.set(`plain/k${i}`, v);
    }
    const versions: [string, string][] = [];
    for (let i = 0; i < 4; i++) {
      const rec = await put(t.app, versioned, "doc", `doc version ${i}`);
      versions.push([rec.versionId, `doc version ${i}`]);
    }
    expected.set("plain/multi", await putMultipart(t.app, plain, "multi"));
    // An open upload holding one part.
    const open = await be.createMultipartUpload(plain, {
      key: "open",
      content: {},
      meta: {},
      ownerId: "root",
      sse: { mode: "AES256" },
    });
    await be.uploadPart(plain, {
      key: "open",
      uploadId: open.uploadId,
      partNumber: 1,
      body: body("x".repeat(5 * 1024 * 1024)),
      contentLength: 5 * 1024 * 1024,
    });
    const oldKek = `m:${t.app.keyring.activeId}`;
    assertEquals([...await keksInKv(t.app)], [oldKek]);

    const status = await t.app.encryption.rotate();
    assert(status.activeKeyId !== oldKek.slice(2));
    assertEquals(status.keys, 2);
    // While the job runs: overwrite, add versions and read everything, a bounded number of times.
    let overlapped = 0;
    const traffic = (async () => {
      for (let round = 0; round < 6; round++) {
        for (let i = round; i < 40; i += 6) {
          const v = `rewritten ${i} in round ${round}`;
          await put(t.app, plain, `k${i}`, v);
          expected.set(`plain/k${i}`, v);
          if ((await t.app.encryption.status()).running) overlapped++;
        }
        const rec = await put(t.app, versioned, "doc", `doc round ${round}`);
        versions.push([rec.versionId, `doc round ${round}`]);
        for (const [name, want] of expected) {
          const [bucket, key] = name.split("/");
          assertEquals(await text(t.s3, bucket, key), want, name);
        }
      }
    })();
    await traffic;
    assertEquals(await t.app.encryption.idle(), "retired");
    assert(overlapped > 0, "writes landed while the rotation ran");
    const after = await t.app.encryption.status();
    assertEquals(after.keys, 1);
    assertEquals(after.retiring, []);
    assert(after.progress?.finished, "the last pass finished");
    assertEquals([...await keksInKv(t.app)], [`m:${after.activeKeyId}`]);
    // Every object and every version reads back with the old key gone.
    for (const [name, want] of expected) {
      const [bucket, key] = name.split("/");
      assertEquals(await text(t.s3, bucket, key), want, name);
    }
    for (const [versionId, want] of versions) {
      assertEquals(await text(t.s3, "versioned", "doc", versionId), want);
    }
    // The open upload completes into a readable object.
    const tail = await be.uploadPart(plain, {
      key: "open",
      uploadId: open.uploadId,
      partNumber: 2,
      body: body("end"),
      contentLength: 3,
    });
    const parts = await be.listParts(plain, "open", open.uploadId, { marker: 0, maxParts: 10 });
    await be.completeMultipartUpload(plain, {
      key: "open",
      uploadId: open.uploadId,
      parts: parts.parts.map((p) => ({
        n: p.n,
        etag: p.n === 2 ? tail.etag : p.etag,
        checksums: {},
      })),
    });
    assertEquals(await text(t.s3, "plain", "open"), "x".repeat(5 * 1024 * 1024) + "end");
  } finally {
    await t.stop();
  }
});

Deno.test("rotation: stopped midway it resumes when the server starts again, and finishes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-rot-" });
  try {
    const first = await startApp({ dataDir: dir, rotationPassLimit: 5 });
    const expected = new Map<string, string>();
    let oldId: string;
    try {
      const b = await rootBucket(first.app, "resumed");
      for (let i = 0; i < 20; i++) {
        const v = i % 4 === 0 ? large(`r${i}`) : `resumed ${i}`;
        await put(first.app, b, `k${i}`, v);
        expected.set(`k${i}`, v);
      }
      oldId = first.app.keyring.activeId;
      await first.app.encryption.rotate();
      assertEquals(await first.app.encryption.idle(), "interrupted");
      const half = await first.app.encryption.status();
      assertEquals(half.retiring, [oldId]);
      assertEquals(half.progress?.finished, null);
      assertEquals(half.progress?.scanned, 5);
      assertEquals((await keksInKv(first.app)).size, 2, "both keys in use");
    } finally {
      await first.stop();
    }
    const second = await startApp({ dataDir: dir });
    try {
      assertEquals(await second.app.encryption.idle(), "retired");
      const st = await second.app.encryption.status();
      assertEquals(st.keys, 1);
      assert(st.activeKeyId !== oldId);
      assertEquals([...await keksInKv(second.app)], [`m:${st.activeKeyId}`]);
      for (const [key, want] of expected) assertEquals(await text(second.s3, "resumed", key), want);
    } finally {
      await second.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
