import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { bodyBytes, startServer, type TestServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";

const text = async (b: unknown) => new TextDecoder().decode(await bodyBytes(b));

async function put(s3: S3Client, Bucket: string, Key: string, Body: string) {
  return await s3.send(new PutObjectCommand({ Bucket, Key, Body }));
}

async function allVersions(s3: S3Client, Bucket: string, Prefix?: string) {
  return await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix }));
}

Deno.test("versioning through the AWS SDK", async (t) => {
  const srv: TestServer = await startServer();
  const s3 = srv.client();
  const B = "vers";
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));

    await t.step(
      "a new bucket reports no versioning status; bad status is MalformedXML",
      async () => {
        const v = await s3.send(new GetBucketVersioningCommand({ Bucket: B }));
        assertEquals(v.Status, undefined);
        const res = await signedFetch(srv, {
          method: "PUT",
          path: `/${B}`,
          query: { versioning: "" },
          body: "<VersioningConfiguration><Status>On</Status></VersioningConfiguration>",
        });
        assertEquals([res.status, await errorCode(res)], [400, "MalformedXML"]);
      },
    );

    let nullEtag = "";
    await t.step("objects written before versioning are the null version", async () => {
      nullEtag = (await put(s3, B, "doc", "v0")).ETag!;
      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: B,
          VersioningConfiguration: { Status: "Enabled" },
        }),
      );
      const v = await s3.send(new GetBucketVersioningCommand({ Bucket: B }));
      assertEquals(v.Status, "Enabled");
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: B, Key: "doc", VersionId: "null" }),
      );
      assertEquals(head.ETag, nullEtag);
    });

    const ids: string[] = [];
    await t.step("each PUT makes a version; GET by versionId reads old bytes", async () => {
      for (const body of ["v1", "v2", "v3"]) {
        const r = await put(s3, B, "doc", body);
        assert(r.VersionId && r.VersionId !== "null");
        ids.push(r.VersionId);
      }
      assertEquals(new Set(ids).size, 3);
      const latest = await s3.send(new GetObjectCommand({ Bucket: B, Key: "doc" }));
      assertEquals([await text(latest.Body), latest.VersionId], ["v3", ids[2]]);
      const old = await s3.send(new GetObjectCommand({ Bucket: B, Key: "doc", VersionId: ids[0] }));
      assertEquals([await text(old.Body), old.VersionId], ["v1", ids[0]]);
      const nul = await s3.send(new GetObjectCommand({ Bucket: B, Key: "doc", VersionId: "null" }));
      assertEquals(await text(nul.Body), "v0");
    });

    await t.step("unknown and malformed version ids", async () => {
      await assertS3Error(
        () =>
          s3.send(
            new GetObjectCommand({ Bucket: B, Key: "doc", VersionId: "0".repeat(32) }),
          ),
        "NoSuchVersion",
        404,
      );
      await assertS3Error(
        () => s3.send(new GetObjectCommand({ Bucket: B, Key: "doc", VersionId: "bogus" })),
        "InvalidArgument",
        400,
      );
    });

    let markerId = "";
    await t.step("DELETE without versionId adds a delete marker", async () => {
      const d = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "doc" }));
      assertEquals(d.DeleteMarker, true);
      assert(d.VersionId);
      markerId = d.VersionId!;
      const res = await signedFetch(srv, { method: "GET", path: `/${B}/doc` });
      assertEquals(res.status, 404);
      assertEquals(res.headers.get("x-amz-delete-marker"), "true");
      assertEquals(res.headers.get("x-amz-version-id"), markerId);
      assertEquals(await errorCode(res), "NoSuchKey");
      const m = await signedFetch(srv, {
        method: "GET",
        path: `/${B}/doc`,
        query: { versionId: markerId },
      });
      assertEquals([m.status, await errorCode(m)], [405, "MethodNotAllowed"]);
      assertEquals(m.headers.get("x-amz-delete-marker"), "true");
      const h = await signedFetch(srv, {
        method: "HEAD",
        path: `/${B}/doc`,
        query: { versionId: markerId },
      });
      assertEquals(h.status, 405);
      const list = await s3.send(new ListObjectsV2Command({ Bucket: B }));
      assertEquals(list.KeyCount, 0);
    });

    await t.step("ListObjectVersions lists markers and versions newest first", async () => {
      const l = await allVersions(s3, B);
      assertEquals(l.DeleteMarkers?.map((m) => [m.Key, m.VersionId, m.IsLatest]), [
        ["doc", markerId, true],
      ]);
      assertEquals(l.Versions?.map((v) => [v.VersionId, v.IsLatest]), [
        [ids[2], false],
        [ids[1], false],
        [ids[0], false],
        ["null", false],
      ]);
      assertEquals(l.Versions?.[3].ETag, nullEtag);
    });

    await t.step("a copy source naming a delete marker is InvalidRequest", async () => {
      await assertS3Error(
        () =>
          s3.send(
            new CopyObjectCommand({
              Bucket: B,
              Key: "from-marker",
              CopySource: `${B}/doc?versionId=${markerId}`,
            }),
          ),
        "InvalidRequest",
        400,
      );
      await assertS3Error(
        () => s3.send(new CopyObjectCommand({ Bucket: B, Key: "x", CopySource: `${B}/doc` })),
        "NoSuchKey",
        404,
      );
    });

    await t.step("DELETE with versionId removes versions for good", async () => {
      const d = await s3.send(
        new DeleteObjectCommand({ Bucket: B, Key: "doc", VersionId: markerId }),
      );
      assertEquals([d.DeleteMarker, d.VersionId], [true, markerId]);
      const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: "doc" }));
      assertEquals(await text(g.Body), "v3");
      const d2 = await s3.send(
        new DeleteObjectCommand({ Bucket: B, Key: "doc", VersionId: ids[2] }),
      );
      assertEquals([d2.DeleteMarker, d2.VersionId], [undefined, ids[2]]);
      const g2 = await s3.send(new GetObjectCommand({ Bucket: B, Key: "doc" }));
      assertEquals([await text(g2.Body), g2.VersionId], ["v2", ids[1]]);
      await assertS3Error(
        () => s3.send(new GetObjectCommand({ Bucket: B, Key: "doc", VersionId: ids[2] })),
        "NoSuchVersion",
        404,
      );
    });

    await t.step("CopyObject reads a source version and creates a new version", async () => {
      const c = await s3.send(
        new CopyObjectCommand({
          Bucket: B,
          Key: "copy",
          CopySource: `${B}/doc?versionId=${ids[0]}`,
        }),
      );
      assertEquals(c.CopySourceVersionId, ids[0]);
      assert(c.VersionId && c.VersionId !== "null");
      const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: "copy" }));
      assertEquals(await text(g.Body), "v1");
    });

    await t.step("DeleteObjects with and without version ids", async () => {
      const r = await s3.send(
        new DeleteObjectsCommand({
          Bucket: B,
          Delete: { Objects: [{ Key: "copy" }, { Key: "doc", VersionId: ids[1] }] },
        }),
      );
      const byKey = Object.fromEntries((r.Deleted ?? []).map((d) => [d.Key, d]));
      assertEquals(byKey.copy.DeleteMarker, true);
      assert(byKey.copy.DeleteMarkerVersionId);
      assertEquals(byKey.doc.VersionId, ids[1]);
      const l = await allVersions(s3, B, "doc");
      assertEquals(l.Versions?.map((v) => v.VersionId), [ids[0], "null"]);
      assertEquals(l.Versions?.[0].IsLatest, true);
    });

    await t.step(
      "Suspended: writes replace the null version, deletes add a null marker",
      async () => {
        await s3.send(
          new PutBucketVersioningCommand({
            Bucket: B,
            VersioningConfiguration: { Status: "Suspended" },
          }),
        );
        const v = await s3.send(new GetBucketVersioningCommand({ Bucket: B }));
        assertEquals(v.Status, "Suspended");
        const p = await put(s3, B, "doc", "s1");
        assertEquals(p.VersionId, undefined);
        await put(s3, B, "doc", "s2");
        let l = await allVersions(s3, B, "doc");
        assertEquals(l.Versions?.map((x) => [x.VersionId, x.IsLatest]), [["null", true], [
          ids[0],
          false,
        ]]);
        const d = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "doc" }));
        assertEquals([d.DeleteMarker, d.VersionId], [true, "null"]);
        l = await allVersions(s3, B, "doc");
        assertEquals(l.DeleteMarkers?.map((x) => [x.VersionId, x.IsLatest]), [["null", true]]);
        assertEquals(l.Versions?.map((x) => x.VersionId), [ids[0]]);
      },
    );

    await t.step("DeleteBucket refuses while versions or markers remain", async () => {
      await assertS3Error(
        () => s3.send(new DeleteBucketCommand({ Bucket: B })),
        "BucketNotEmpty",
        409,
      );
      for (;;) {
        const l: ListObjectVersionsCommandOutput = await allVersions(s3, B);
        const all = [...(l.Versions ?? []), ...(l.DeleteMarkers ?? [])];
        if (all.length === 0) break;
        for (const v of all) {
          await s3.send(
            new DeleteObjectCommand({ Bucket: B, Key: v.Key!, VersionId: v.VersionId }),
          );
        }
      }
      await s3.send(new DeleteBucketCommand({ Bucket: B }));
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});

Deno.test("ListObjectVersions paging, prefixes and delimiters", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  const B = "vpage";
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: "Enabled" } }),
    );
    const keys = ["a", "dir/x", "dir/y", "dir/sub/z", "e"];
    for (const k of keys) {
      await put(s3, B, k, "1");
      await put(s3, B, k, "22");
    }
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "e" }));

    await t.step("max-keys pages resume exactly with key and version markers", async () => {
      const seen: string[] = [];
      let KeyMarker: string | undefined;
      let VersionIdMarker: string | undefined;
      for (let i = 0; i < 20; i++) {
        const l = await s3.send(
          new ListObjectVersionsCommand({ Bucket: B, MaxKeys: 2, KeyMarker, VersionIdMarker }),
        );
        const items = [...(l.Versions ?? []), ...(l.DeleteMarkers ?? [])];
        assert(items.length <= 2);
        for (const v of items) seen.push(`${v.Key}@${v.VersionId}`);
        if (!l.IsTruncated) break;
        KeyMarker = l.NextKeyMarker;
        VersionIdMarker = l.NextVersionIdMarker;
      }
      assertEquals(seen.length, 11);
      assertEquals(new Set(seen).size, 11);
    });

    await t.step("prefix and delimiter fold common prefixes", async () => {
      const l = await s3.send(
        new ListObjectVersionsCommand({ Bucket: B, Prefix: "dir/", Delimiter: "/" }),
      );
      assertEquals(l.CommonPrefixes?.map((p) => p.Prefix), ["dir/sub/"]);
      assertEquals(l.Versions?.map((v) => [v.Key, v.IsLatest]), [
        ["dir/x", true],
        ["dir/x", false],
        ["dir/y", true],
        ["dir/y", false],
      ]);
      const top = await s3.send(new ListObjectVersionsCommand({ Bucket: B, Delimiter: "/" }));
      assertEquals(top.CommonPrefixes?.map((p) => p.Prefix), ["dir/"]);
      assertEquals(top.DeleteMarkers?.map((m) => [m.Key, m.IsLatest]), [["e", true]]);
    });

    await t.step("a version-id-marker without key-marker is InvalidArgument", async () => {
      const res = await signedFetch(srv, {
        method: "GET",
        path: `/${B}`,
        query: { versions: "", "version-id-marker": "null" },
      });
      assertEquals([res.status, await errorCode(res)], [400, "InvalidArgument"]);
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
