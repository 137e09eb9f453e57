/**
 * Conformance cases: multipart uploads. Parts are small; `minPartSize: 0` lifts S3's 5 MiB
 * minimum except in the case that checks it.
 */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import type { S3ErrorCode } from "../../s3/errors.ts";
import type { Backend } from "../backend.ts";
import type { BucketRecord, StoredAcl } from "../types.ts";
import {
  allVersions,
  bodyOf,
  bucket,
  type CompletePart,
  concat,
  type ConformanceCase,
  expectCode,
  listedKeys,
  md5Base64,
  md5Hex,
  multipartEtag,
  OWNER,
  type PartRecord,
  put,
  randomBytes,
  read,
  stats,
  text,
} from "./harness.ts";

export function createUpload(be: Backend, b: BucketRecord, key: string) {
  return be.createMultipartUpload(b, { key, content: {}, meta: {}, ownerId: OWNER });
}

export function uploadPart(
  be: Backend,
  b: BucketRecord,
  key: string,
  uploadId: string,
  n: number,
  data: Uint8Array,
): Promise<PartRecord> {
  return be.uploadPart(b, {
    key,
    uploadId,
    partNumber: n,
    body: bodyOf(data),
    contentLength: data.length,
  });
}

const listed = (parts: PartRecord[]): CompletePart[] =>
  parts.map((p) => ({ n: p.n, etag: p.etag, checksums: {} }));

/** An upload of `datas` as parts 1..n, completed with every part. */
export async function multipartPut(
  be: Backend,
  b: BucketRecord,
  key: string,
  datas: Uint8Array[],
) {
  const up = await createUpload(be, b, key);
  const parts: PartRecord[] = [];
  for (const [i, d] of datas.entries()) {
    parts.push(await uploadPart(be, b, key, up.uploadId, i + 1, d));
  }
  return await be.completeMultipartUpload(b, {
    key,
    uploadId: up.uploadId,
    parts: listed(parts),
    minPartSize: 0,
  });
}

/** An upload's ACL, kept on the upload and given to the completed object. */
const ACL: StoredAcl = {
  owner: { id: OWNER, displayName: OWNER },
  grants: [{ grantee: { type: "Group", uri: "urn:readers" }, permission: "READ" }],
};

export const MULTIPART_CASES: ConformanceCase[] = [
  {
    name: "multipart: parts out of order, a part overwritten, complete with the composite ETag",
    async run({ be }) {
      const b = await bucket(be, "multipart");
      const content = { contentType: "application/x-test", cacheControl: "no-store" };
      const up = await be.createMultipartUpload(b, {
        key: "big/object",
        content,
        meta: { origin: "multipart" },
        tags: { t: "1" },
        storageClass: "STANDARD_IA",
        ownerId: OWNER,
        acl: ACL,
      });
      assertEquals(typeof up.uploadId, "string");
      const open = await be.getMultipartUpload(b, "big/object", up.uploadId);
      assertEquals([open.key, open.uploadId, open.content], ["big/object", up.uploadId, content]);

      const datas = [randomBytes(20_000), randomBytes(7), randomBytes(70_000)];
      for (const n of [3, 1, 2]) {
        const p = await uploadPart(be, b, "big/object", up.uploadId, n, datas[n - 1]);
        assertEquals([p.n, p.size, p.etag], [n, datas[n - 1].length, `"${md5Hex(datas[n - 1])}"`]);
      }
      // Part 2 again, with other bytes: the new part replaces the old one.
      const old2 = datas[1];
      datas[1] = randomBytes(33_333);
      await uploadPart(be, b, "big/object", up.uploadId, 2, datas[1]);
      const page = await be.listParts(b, "big/object", up.uploadId, { marker: 0, maxParts: 100 });
      assertEquals(page.parts.map((p) => [p.n, p.size, p.etag]), [
        [1, 20_000, `"${md5Hex(datas[0])}"`],
        [2, 33_333, `"${md5Hex(datas[1])}"`],
        [3, 70_000, `"${md5Hex(datas[2])}"`],
      ]);
      assertEquals(page.upload.uploadId, up.uploadId);
      // Open uploads are not objects: no listing entry, no counters.
      assertEquals(await listedKeys(be, b), []);
      assertEquals(await stats(be, b), { objects: 0, bytes: 0 });
      await expectCode(
        () =>
          be.completeMultipartUpload(b, {
            key: "big/object",
            uploadId: up.uploadId,
            parts: [
              { n: 1, etag: page.parts[0].etag, checksums: {} },
              { n: 2, etag: `"${md5Hex(old2)}"`, checksums: {} },
              { n: 3, etag: page.parts[2].etag, checksums: {} },
            ],
            minPartSize: 0,
          }),
        "InvalidPart",
      );

      // ETags in the list may come without quotes.
      const parts = page.parts.map((p) => ({
        n: p.n,
        etag: p.etag.replaceAll('"', ""),
        checksums: {},
      }));
      const rec = await be.completeMultipartUpload(b, {
        key: "big/object",
        uploadId: up.uploadId,
        parts,
        minPartSize: 0,
      });
      const all = concat(datas);
      assertEquals([rec.key, rec.size, rec.etag], ["big/object", all.length, multipartEtag(datas)]);
      const got = await be.getObjectRecord(b, "big/object");
      assertEquals([got.etag, got.size, got.versionId], [rec.etag, all.length, "null"]);
      assertEquals([got.content, got.meta, got.tags], [content, { origin: "multipart" }, {
        t: "1",
      }]);
      assertEquals(got.storageClass, "STANDARD_IA");
      assertEquals(got.acl, ACL, "the upload's ACL is the object's");
      assertEquals(await read(be, got), all);
      // Ranges inside a part, across part boundaries, and the last byte.
      for (
        const [start, end] of [[5, 10], [19_990, 20_010], [19_999, 53_333], [0, all.length - 1], [
          all.length - 1,
          all.length - 1,
        ]]
      ) {
        assertEquals(
          await read(be, got, { start, end }),
          all.subarray(start, end + 1),
          `${start}-${end}`,
        );
      }
      assertEquals((await be.objectParts(got)).map((p) => [p.n, p.size, p.etag]), [
        [1, 20_000, `"${md5Hex(datas[0])}"`],
        [2, 33_333, `"${md5Hex(datas[1])}"`],
        [3, 70_000, `"${md5Hex(datas[2])}"`],
      ]);
      assertEquals(await listedKeys(be, b), ["big/object"]);
      assertEquals(await stats(be, b), { objects: 1, bytes: all.length });

      // The upload is gone; a retried Complete answers the object it made.
      await expectCode(() => be.getMultipartUpload(b, "big/object", up.uploadId), "NoSuchUpload");
      await expectCode(
        () => be.listParts(b, "big/object", up.uploadId, { marker: 0, maxParts: 10 }),
        "NoSuchUpload",
      );
      await expectCode(
        () => uploadPart(be, b, "big/object", up.uploadId, 4, datas[0]),
        "NoSuchUpload",
      );
      const again = await be.completeMultipartUpload(b, {
        key: "big/object",
        uploadId: up.uploadId,
        parts,
        minPartSize: 0,
      });
      assertEquals([again.etag, again.size], [rec.etag, rec.size]);
      assertEquals(await stats(be, b), { objects: 1, bytes: all.length });
      await expectCode(() => be.abortMultipartUpload(b, "big/object", up.uploadId), "NoSuchUpload");
      assertEquals(
        (await be.listMultipartUploads(b, {
          prefix: "",
          delimiter: "",
          keyMarker: "",
          uploadIdMarker: "",
          maxUploads: 10,
        })).uploads,
        [],
      );
      // Once the object it made is replaced, the upload id is just gone.
      await put(be, b, "big/object", "replaced");
      await expectCode(
        () =>
          be.completeMultipartUpload(b, {
            key: "big/object",
            uploadId: up.uploadId,
            parts,
            minPartSize: 0,
          }),
        "NoSuchUpload",
      );
      assertEquals(await text(be, b, "big/object"), "replaced");
    },
  },
  {
    name: "multipart: Complete may leave parts out; the object is the listed parts in order",
    async run({ be }) {
      const b = await bucket(be, "multipart-subset");
      const up = await createUpload(be, b, "k");
      const datas = [1, 2, 3, 4].map((n) => randomBytes(100 * n));
      const parts: PartRecord[] = [];
      for (const [i, d] of datas.entries()) {
        parts.push(await uploadPart(be, b, "k", up.uploadId, i + 1, d));
      }
      const chosen = [datas[0], datas[2], datas[3]];
      const rec = await be.completeMultipartUpload(b, {
        key: "k",
        uploadId: up.uploadId,
        parts: listed([parts[0], parts[2], parts[3]]),
        minPartSize: 0,
      });
      assertEquals([rec.size, rec.etag], [800, multipartEtag(chosen)]);
      assertEquals(await read(be, await be.getObjectRecord(b, "k")), concat(chosen));
      assertEquals(await stats(be, b), { objects: 1, bytes: 800 });
      // One part makes a valid object too (ETag "-1").
      const one = await multipartPut(be, b, "single", [datas[1]]);
      assertEquals(one.etag, multipartEtag([datas[1]]));
    },
  },
  {
    name: "multipart: a wrong part list is refused and the upload stays open",
    async run({ be }) {
      const b = await bucket(be, "multipart-refused");
      const up = await createUpload(be, b, "k");
      const datas = [randomBytes(10), randomBytes(20), randomBytes(30)];
      const parts: PartRecord[] = [];
      for (const [i, d] of datas.entries()) {
        parts.push(await uploadPart(be, b, "k", up.uploadId, i + 1, d));
      }
      const [p1, p2, p3] = listed(parts);
      const attempts: [string, CompletePart[], number | undefined, S3ErrorCode][] = [
        ["a part never uploaded", [p1, { n: 4, etag: p3.etag, checksums: {} }], 0, "InvalidPart"],
        ["a wrong ETag", [p1, { ...p2, etag: p3.etag }], 0, "InvalidPart"],
        ["descending part numbers", [p2, p1], 0, "InvalidPartOrder"],
        ["a part listed twice", [p1, p1, p2], 0, "InvalidPartOrder"],
        ["parts under the 5 MiB minimum", [p1, p2, p3], undefined, "EntityTooSmall"],
        ["no parts", [], 0, "MalformedXML"],
      ];
      for (const [what, list, minPartSize, code] of attempts) {
        await expectCode(
          () =>
            be.completeMultipartUpload(b, {
              key: "k",
              uploadId: up.uploadId,
              parts: list,
              minPartSize,
            }),
          code,
          what,
        );
        assertEquals((await be.getMultipartUpload(b, "k", up.uploadId)).uploadId, up.uploadId);
        await expectCode(() => be.getObjectRecord(b, "k"), "NoSuchKey");
      }
      assertEquals(await stats(be, b), { objects: 0, bytes: 0 });
      const rec = await be.completeMultipartUpload(b, {
        key: "k",
        uploadId: up.uploadId,
        parts: [p1, p2, p3],
        minPartSize: 0,
      });
      assertEquals(rec.etag, multipartEtag(datas));
      // An upload id is bound to its bucket and key.
      const other = await bucket(be, "multipart-other");
      const up2 = await createUpload(be, b, "k2");
      await expectCode(() => be.getMultipartUpload(b, "k", up2.uploadId), "NoSuchUpload");
      await expectCode(() => be.getMultipartUpload(other, "k2", up2.uploadId), "NoSuchUpload");
      await expectCode(() => uploadPart(be, b, "k", up2.uploadId, 1, datas[0]), "NoSuchUpload");
      await expectCode(() => be.getMultipartUpload(b, "k2", "no-such-upload-id"), "NoSuchUpload");
      await expectCode(() => be.abortMultipartUpload(b, "k", up2.uploadId), "NoSuchUpload");
      // Any string a client sends as an upload id (here one longer than a KV key may be) is
      // just not an upload, for every operation that takes one.
      const junk = "x".repeat(3000);
      await expectCode(() => be.getMultipartUpload(b, "k", junk), "NoSuchUpload");
      await expectCode(() => uploadPart(be, b, "k", junk, 1, datas[0]), "NoSuchUpload");
      await expectCode(() => be.abortMultipartUpload(b, "k", junk), "NoSuchUpload");
      await expectCode(
        () =>
          be.completeMultipartUpload(b, { key: "k", uploadId: junk, parts: [p1], minPartSize: 0 }),
        "NoSuchUpload",
      );
      assertEquals((await be.getMultipartUpload(b, "k2", up2.uploadId)).key, "k2");
    },
  },
  {
    name: "multipart: the 5 MiB minimum applies to every part but the last",
    async run({ be }) {
      const b = await bucket(be, "multipart-minimum");
      const min = 5 * 1024 * 1024;
      const up = await createUpload(be, b, "k");
      const short = await uploadPart(be, b, "k", up.uploadId, 1, randomBytes(min - 1));
      const tail = randomBytes(1);
      const last = await uploadPart(be, b, "k", up.uploadId, 2, tail);
      await expectCode(
        () =>
          be.completeMultipartUpload(b, {
            key: "k",
            uploadId: up.uploadId,
            parts: listed([short, last]),
          }),
        "EntityTooSmall",
      );
      const full = randomBytes(min);
      const enough = await uploadPart(be, b, "k", up.uploadId, 1, full);
      const rec = await be.completeMultipartUpload(b, {
        key: "k",
        uploadId: up.uploadId,
        parts: listed([enough, last]),
      });
      assertEquals([rec.size, rec.etag], [min + 1, multipartEtag([full, tail])]);
      const got = await be.getObjectRecord(b, "k");
      const across = await read(be, got, { start: min - 2, end: min });
      assertEquals(across, concat([full.subarray(min - 2), tail]));
    },
  },
  {
    name: "multipart: abort removes the upload and its parts",
    async run({ be }) {
      const b = await bucket(be, "multipart-abort");
      await put(be, b, "k", "existing");
      const up = await createUpload(be, b, "k");
      await uploadPart(be, b, "k", up.uploadId, 1, randomBytes(100));
      await uploadPart(be, b, "k", up.uploadId, 2, randomBytes(100));
      await be.abortMultipartUpload(b, "k", up.uploadId);
      await expectCode(() => be.getMultipartUpload(b, "k", up.uploadId), "NoSuchUpload");
      await expectCode(
        () => be.listParts(b, "k", up.uploadId, { marker: 0, maxParts: 10 }),
        "NoSuchUpload",
      );
      await expectCode(
        () => uploadPart(be, b, "k", up.uploadId, 3, randomBytes(1)),
        "NoSuchUpload",
      );
      await expectCode(
        () =>
          be.completeMultipartUpload(b, {
            key: "k",
            uploadId: up.uploadId,
            parts: [{ n: 1, etag: "x", checksums: {} }],
            minPartSize: 0,
          }),
        "NoSuchUpload",
      );
      await expectCode(() => be.abortMultipartUpload(b, "k", up.uploadId), "NoSuchUpload");
      assertEquals(await text(be, b, "k"), "existing");
      assertEquals(await stats(be, b), { objects: 1, bytes: 8 });
      const page = await be.listMultipartUploads(b, {
        prefix: "",
        delimiter: "",
        keyMarker: "",
        uploadIdMarker: "",
        maxUploads: 10,
      });
      assertEquals(page.uploads, []);
      await be.deleteObject(b, "k");
      await be.deleteBucket("", b.name);
    },
  },
  {
    name: "multipart: a part body that fails its checks leaves the part it would replace",
    async run({ be }) {
      const b = await bucket(be, "multipart-part-checks");
      const up = await createUpload(be, b, "k");
      const good = randomBytes(1000);
      const p1 = await uploadPart(be, b, "k", up.uploadId, 1, good);
      const bad = randomBytes(1000);
      const send = (extra: { contentLength?: number; contentMd5?: string }) =>
        be.uploadPart(b, {
          key: "k",
          uploadId: up.uploadId,
          partNumber: 1,
          body: bodyOf(bad),
          contentLength: bad.length,
          ...extra,
        });
      await expectCode(() => send({ contentMd5: md5Base64(good) }), "BadDigest");
      await expectCode(() => send({ contentLength: 1001 }), "IncompleteBody");
      await expectCode(() => send({ contentLength: 999 }), "IncompleteBody");
      const page = await be.listParts(b, "k", up.uploadId, { marker: 0, maxParts: 10 });
      assertEquals(page.parts.map((p) => [p.n, p.etag]), [[1, p1.etag]]);
      const rec = await be.completeMultipartUpload(b, {
        key: "k",
        uploadId: up.uploadId,
        parts: listed([p1]),
        minPartSize: 0,
      });
      assertEquals(await read(be, rec), good);
    },
  },
  {
    name: "multipart: listParts pages by part number",
    async run({ be }) {
      const b = await bucket(be, "multipart-parts");
      const up = await createUpload(be, b, "k");
      for (const n of [5, 2, 7, 1, 3, 6, 4]) {
        await uploadPart(be, b, "k", up.uploadId, n, randomBytes(n));
      }
      const page = (marker: number, maxParts: number) =>
        be.listParts(b, "k", up.uploadId, { marker, maxParts });
      const rows = async (marker: number, maxParts: number) => {
        const p = await page(marker, maxParts);
        return [p.parts.map((x) => x.n), p.truncated];
      };
      assertEquals(await rows(0, 3), [[1, 2, 3], true]);
      assertEquals(await rows(3, 3), [[4, 5, 6], true]);
      assertEquals(await rows(6, 3), [[7], false]);
      assertEquals(await rows(0, 7), [[1, 2, 3, 4, 5, 6, 7], false]);
      assertEquals(await rows(0, 6), [[1, 2, 3, 4, 5, 6], true]);
      assertEquals(await rows(7, 3), [[], false]);
      assertEquals(await rows(2, 1000), [[3, 4, 5, 6, 7], false]);
      assertEquals((await page(0, 100)).parts.map((p) => p.size), [1, 2, 3, 4, 5, 6, 7]);
    },
  },
  {
    name: "multipart: Complete in a versioned bucket and with write conditions",
    async run({ be }) {
      const b = await bucket(be, "multipart-versioned", { versioning: "Enabled" });
      const v1 = await put(be, b, "k", "single");
      const up = await createUpload(be, b, "k");
      const d = randomBytes(1000);
      const p = await uploadPart(be, b, "k", up.uploadId, 1, d);
      const complete = (conditions: { ifMatch?: string; ifNoneMatch?: string }) =>
        be.completeMultipartUpload(b, {
          key: "k",
          uploadId: up.uploadId,
          parts: listed([p]),
          minPartSize: 0,
          conditions,
        });
      await expectCode(() => complete({ ifNoneMatch: "*" }), "PreconditionFailed");
      await expectCode(
        () => complete({ ifMatch: '"0123456789abcdef0123456789abcdef"' }),
        "PreconditionFailed",
      );
      assertEquals((await be.getMultipartUpload(b, "k", up.uploadId)).uploadId, up.uploadId);
      const rec = await complete({ ifMatch: v1.etag });
      assert(rec.versionId !== "null" && rec.versionId !== v1.versionId, "a new version");
      assertEquals((await be.getObjectRecord(b, "k")).versionId, rec.versionId);
      assertEquals((await allVersions(be, b)).map((v) => v.rec.versionId), [
        rec.versionId,
        v1.versionId,
      ]);
      assertEquals(await text(be, b, "k", v1.versionId), "single");
      assertEquals(await stats(be, b), { objects: 2, bytes: 6 + 1000 });
      // A multipart version deleted by id takes its bytes off the counters.
      await be.deleteObject(b, "k", { versionId: rec.versionId });
      assertEquals(await stats(be, b), { objects: 1, bytes: 6 });
      assertEquals(await text(be, b, "k"), "single");
    },
  },
];
