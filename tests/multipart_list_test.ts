/**
 * ListMultipartUploads marker semantics through the AWS SDK (AWS API reference): key-marker
 * alone lists keys after it; with upload-id-marker, uploads of that key after the marker upload
 * come first; a marker upload that is gone falls back to the documented rule (upload ids that
 * sort after it). encoding-type=url encodes the key fields, NextKeyMarker included.
 */
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
} from "@aws-sdk/client-s3";
import { assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { signedFetch } from "./_helpers/signed_fetch.ts";

const B = "mp-markers";

Deno.test("ListMultipartUploads markers and encoding", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    const ids: Record<string, string[]> = {};
    for (const key of ["a", "k", "k", "k", "k", "z"]) {
      const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key }));
      (ids[key] ??= []).push(c.UploadId!);
    }
    const list = (KeyMarker?: string, UploadIdMarker?: string, MaxUploads?: number) =>
      s3.send(
        new ListMultipartUploadsCommand({ Bucket: B, KeyMarker, UploadIdMarker, MaxUploads }),
      );

    await t.step("key-marker alone lists keys strictly after it", async () => {
      const r = await list("k");
      assertEquals(r.Uploads?.map((u) => u.Key), ["z"]);
    });

    await t.step("key-marker with upload-id-marker resumes after that upload", async () => {
      const r = await list("k", ids.k[1]);
      assertEquals(r.Uploads?.map((u) => u.UploadId), [ids.k[2], ids.k[3], ids.z[0]]);
      const page = await list(undefined, undefined, 3);
      assertEquals(page.IsTruncated, true);
      assertEquals([page.NextKeyMarker, page.NextUploadIdMarker], ["k", ids.k[1]]);
    });

    await t.step("a marker upload that is gone: ids after it, then later keys", async () => {
      const gone = ids.k[1];
      await s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: "k", UploadId: gone }));
      const r = await list("k", gone);
      const want = [ids.k[0], ids.k[2], ids.k[3]].filter((id) => id > gone);
      assertEquals(r.Uploads?.map((u) => u.UploadId), [...want, ids.z[0]]);
    });

    await t.step("encoding-type=url encodes keys and NextKeyMarker", async () => {
      await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: "b c/d" }));
      const res = await signedFetch(srv, {
        method: "GET",
        path: `/${B}`,
        query: { uploads: "", "encoding-type": "url", "max-uploads": "2", delimiter: "/" },
      });
      const xml = await res.text();
      assertEquals(res.status, 200);
      assertEquals(/<EncodingType>url<\/EncodingType>/.test(xml), true);
      // Encoded as the keys of ListObjects (the shared encoder): the space is escaped.
      assertEquals(/<CommonPrefixes><Prefix>b%20c\/<\/Prefix>/.test(xml), true, xml);
      assertEquals(/<NextKeyMarker>b%20c\/<\/NextKeyMarker>/.test(xml), true, xml);
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
