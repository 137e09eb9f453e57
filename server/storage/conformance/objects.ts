/** Conformance cases: object writes, reads, ranges, metadata, body checks, conditional writes. */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import type { S3ErrorCode } from "../../s3/errors.ts";
import { multipartPut } from "./multipart.ts";
import type { StoredAcl } from "../types.ts";
import {
  bodyOf,
  bucket,
  byteOrder,
  type ConformanceCase,
  expectCode,
  listedKeys,
  listInput,
  md5Base64,
  OWNER,
  put,
  putEtag,
  randomBytes,
  read,
  setVersioning,
  sha256Base64,
  stats,
  text,
  utf8,
} from "./harness.ts";

/** Sizes around the boundaries a backend may have: empty, tiny, small-inline, file-backed. */
const SIZES = [0, 1, 1000, 16 * 1024, 16 * 1024 + 1, 40_000, 300_000];

export const OBJECT_CASES: ConformanceCase[] = [
  {
    name: "objects: put, get, overwrite and delete; bytes read whole and in ranges",
    async run({ be }) {
      const b = await bucket(be, "objects");
      for (const size of SIZES) {
        const key = `obj-${size}`;
        const data = randomBytes(size);
        const rec = await put(be, b, key, data);
        assertEquals([rec.key, rec.size, rec.etag, rec.versionId], [
          key,
          size,
          putEtag(data),
          "null",
        ]);
        assert(!rec.deleteMarker, "a PUT is not a marker");
        const got = await be.getObjectRecord(b, key);
        assertEquals([got.size, got.etag, got.versionId], [size, putEtag(data), "null"]);
        assertEquals(await read(be, got), data, `bytes of ${key}`);
        assertEquals(await be.objectParts(got), []);
        if (size === 0) continue;
        const ranges = [
          [0, 0],
          [size - 1, size - 1],
          [0, size - 1],
          [Math.floor(size / 3), Math.floor((2 * size) / 3)],
        ];
        for (const [start, end] of ranges) {
          const part = await read(be, got, { start, end });
          assertEquals(part, data.subarray(start, end + 1), `${key} bytes ${start}-${end}`);
        }
      }
      assertEquals(await stats(be, b), {
        objects: SIZES.length,
        bytes: SIZES.reduce((n, s) => n + s, 0),
      });

      // An overwrite replaces bytes, size and ETag; the old record's bytes are not served as new.
      const next = randomBytes(5000);
      const over = await put(be, b, "obj-40000", next);
      assertEquals(over.etag, putEtag(next));
      const cur = await be.getObjectRecord(b, "obj-40000");
      assertEquals([cur.size, cur.etag], [5000, putEtag(next)]);
      assertEquals(await read(be, cur), next);

      const gone = await be.deleteObject(b, "obj-1000");
      assertEquals(gone?.key, "obj-1000");
      await expectCode(() => be.getObjectRecord(b, "obj-1000"), "NoSuchKey");
      // Deleting what is not there succeeds (S3's DeleteObject is idempotent).
      assertEquals(await be.deleteObject(b, "obj-1000"), null);
      assertEquals(await be.deleteObject(b, "never-written"), null);
      await expectCode(() => be.getObjectRecord(b, "never-written"), "NoSuchKey");
      const left = SIZES.filter((s) => s !== 1000).map((s) => `obj-${s}`).sort(byteOrder);
      assertEquals(await listedKeys(be, b), left);
    },
  },
  {
    name: "objects: metadata, content headers, tags, storage class and owner round-trip",
    async run({ be, clock }) {
      const b = await bucket(be, "metadata");
      const content = {
        contentType: "text/plain; charset=utf-8",
        contentEncoding: "gzip",
        contentDisposition: 'attachment; filename="a b.txt"',
        contentLanguage: "fr-CA",
        cacheControl: "max-age=60",
        expires: "Wed, 21 Oct 2015 07:28:00 GMT",
      };
      const meta = { color: "blue", "with-dash": "ü ☃ and spaces", empty: "" };
      const acl: StoredAcl = {
        owner: { id: "owner-2", displayName: "two" },
        grants: [
          {
            grantee: { type: "CanonicalUser", id: "owner-2", displayName: "two" },
            permission: "READ",
          },
          { grantee: { type: "Group", uri: "urn:everyone" }, permission: "WRITE_ACP" },
        ],
      };
      const before = clock?.now();
      const rec = await put(be, b, "dir/meta", "hello", {
        content,
        meta,
        tags: { project: "x", "tag with space": "v" },
        storageClass: "STANDARD_IA",
        ownerId: "owner-2",
        acl,
      });
      const after = clock?.now();
      const got = await be.getObjectRecord(b, "dir/meta");
      assertEquals(got.content, content);
      assertEquals(got.meta, meta);
      assertEquals(got.tags, { project: "x", "tag with space": "v" });
      assertEquals([got.storageClass, got.ownerId], ["STANDARD_IA", "owner-2"]);
      assertEquals(got.acl, acl);
      assertEquals(got.lastModified, rec.lastModified);
      if (before !== undefined && after !== undefined) {
        assert(
          rec.lastModified >= before && rec.lastModified <= after,
          "lastModified is the clock's time of the write",
        );
      }
      const [listed] = (await be.listObjects(b, listInput())).objects;
      assertEquals(
        [listed.key, listed.size, listed.etag, listed.lastModified, listed.storageClass],
        ["dir/meta", 5, putEtag(utf8("hello")), rec.lastModified, "STANDARD_IA"],
      );
      assertEquals(listed.ownerId, "owner-2");

      // An overwrite replaces the metadata as a whole; the storage class defaults to STANDARD.
      await put(be, b, "dir/meta", "again");
      const plain = await be.getObjectRecord(b, "dir/meta");
      assertEquals([plain.meta, plain.content, plain.storageClass], [{}, {}, "STANDARD"]);
      assert(!plain.tags || Object.keys(plain.tags).length === 0, "tags are not carried over");
      assertEquals(plain.ownerId, OWNER);
      assertEquals("acl" in plain, false, "no ACL given: no field (private)");
    },
  },
  {
    name: "objects: a body that fails its checks is refused and leaves the old object",
    async run({ be }) {
      const b = await bucket(be, "body-checks");
      await put(be, b, "k", "old");
      const big = randomBytes(40_000);
      const attempts: [string, () => Promise<unknown>, S3ErrorCode][] = [
        [
          "wrong Content-MD5",
          () => put(be, b, "k", "new", { contentMd5: md5Base64(utf8("x")) }),
          "BadDigest",
        ],
        [
          "malformed Content-MD5",
          () => put(be, b, "k", "new", { contentMd5: "not-an-md5" }),
          "InvalidDigest",
        ],
        ["short body", () => put(be, b, "k", "new", { contentLength: 10 }), "IncompleteBody"],
        ["long body", () => put(be, b, "k", "new", { contentLength: 2 }), "IncompleteBody"],
        [
          "short large body",
          () => put(be, b, "k", big, { contentLength: 50_000 }),
          "IncompleteBody",
        ],
        [
          "long large body",
          () => put(be, b, "k", big, { contentLength: 30_000 }),
          "IncompleteBody",
        ],
        [
          "over maxSize",
          () => put(be, b, "k", big, { maxSize: 1000, contentLength: null }),
          "EntityTooLarge",
        ],
        ["declared over maxSize", () => put(be, b, "k", big, { maxSize: 1000 }), "EntityTooLarge"],
        [
          "wrong SHA256",
          () =>
            put(be, b, "k", "new", {
              checksum: { algorithm: "SHA256", expected: () => sha256Base64(utf8("x")) },
            }),
          "BadDigest",
        ],
      ];
      for (const [what, attempt, code] of attempts) {
        await expectCode(attempt, code, what);
        assertEquals(await text(be, b, "k"), "old", `${what}: the object is unchanged`);
      }
      assertEquals(await stats(be, b), { objects: 1, bytes: 3 });
      assertEquals(await listedKeys(be, b), ["k"]);

      // The same checks pass when the body matches; an unknown length is fine too.
      const data = utf8("new!");
      const ok = await put(be, b, "k", data, {
        contentMd5: md5Base64(data),
        checksum: { algorithm: "SHA256", expected: () => sha256Base64(data) },
      });
      assertEquals(ok.checksum, {
        algorithm: "SHA256",
        value: sha256Base64(data),
        type: "FULL_OBJECT",
      });
      assertEquals((await be.getObjectRecord(b, "k")).checksum?.value, sha256Base64(data));
      await be.putObject(b, {
        key: "unknown-length",
        body: bodyOf(big),
        contentLength: null,
        content: {},
        meta: {},
        ownerId: OWNER,
      });
      assertEquals(await read(be, await be.getObjectRecord(b, "unknown-length")), big);
      assertEquals(await stats(be, b), { objects: 2, bytes: 4 + big.length });
    },
  },
  {
    name: "objects: conditional writes and deletes (If-Match, If-None-Match)",
    async run({ be }) {
      const b = await bucket(be, "conditions");
      const first = await put(be, b, "k", "one", { conditions: { ifNoneMatch: "*" } });
      await expectCode(
        () => put(be, b, "k", "two", { conditions: { ifNoneMatch: "*" } }),
        "PreconditionFailed",
      );
      await expectCode(
        () => put(be, b, "k", "two", { conditions: { ifNoneMatch: first.etag } }),
        "PreconditionFailed",
      );
      await expectCode(
        () =>
          put(be, b, "k", "two", { conditions: { ifMatch: '"0123456789abcdef0123456789abcdef"' } }),
        "PreconditionFailed",
      );
      await expectCode(
        () => put(be, b, "absent", "x", { conditions: { ifMatch: first.etag } }),
        "NoSuchKey",
      );
      assertEquals(await text(be, b, "k"), "one");
      assertEquals(await stats(be, b), { objects: 1, bytes: 3 });

      const second = await put(be, b, "k", "two", { conditions: { ifMatch: first.etag } });
      // An ETag list and unquoted ETags match too; `*` matches any existing object.
      const bare = second.etag.replaceAll('"', "");
      const third = await put(be, b, "k", "three", { conditions: { ifMatch: `"nope", ${bare}` } });
      await put(be, b, "k", "four", { conditions: { ifMatch: "*", ifNoneMatch: first.etag } });
      assertEquals(await text(be, b, "k"), "four");

      await expectCode(
        () => be.deleteObject(b, "k", { conditions: { ifMatch: third.etag } }),
        "PreconditionFailed",
      );
      await expectCode(
        () => be.deleteObject(b, "absent", { conditions: { ifMatch: "*" } }),
        "NoSuchKey",
      );
      assertEquals(await text(be, b, "k"), "four");
      const cur = await be.getObjectRecord(b, "k");
      await be.deleteObject(b, "k", { conditions: { ifMatch: cur.etag } });
      await expectCode(() => be.getObjectRecord(b, "k"), "NoSuchKey");
      assertEquals(await stats(be, b), { objects: 0, bytes: 0 });

      // A key whose latest version is a delete marker has no current object to match.
      const v = await bucket(be, "conditions-versioned", { versioning: "Enabled" });
      const one = await put(be, v, "k", "one");
      await be.deleteObject(v, "k");
      await expectCode(
        () => put(be, v, "k", "x", { conditions: { ifMatch: one.etag } }),
        "NoSuchKey",
      );
      await put(be, v, "k", "after-marker", { conditions: { ifNoneMatch: "*" } });
      assertEquals(await text(be, v, "k"), "after-marker");
    },
  },
  {
    name: "objects: S3's limits fit: 1024-byte keys, 2 KB of metadata, 10 tags, every path",
    async run({ be }) {
      let b = await bucket(be, "limits");
      // 1024 UTF-8 bytes each, in 1-, 2- and 4-byte characters.
      const keys = ["k".repeat(1024), "é".repeat(512), "\u{1F600}".repeat(256)];
      const meta = { big: "m".repeat(1900), small: "s" };
      const tags = Object.fromEntries(
        Array.from({ length: 10 }, (_, i) => [`t${i}`, "v".repeat(256)]),
      );
      for (const k of keys) {
        assertEquals(utf8(k).length, 1024);
        await put(be, b, k, "0123456789", { meta, tags });
        const rec = await be.getObjectRecord(b, k);
        assertEquals([rec.key, rec.meta, rec.tags], [k, meta, tags]);
      }
      assertEquals(await listedKeys(be, b), [...keys].sort(byteOrder));
      b = await setVersioning(be, b, "Enabled");
      for (const k of keys) {
        await put(be, b, k, "v2");
        await be.deleteObject(b, k);
        await multipartPut(be, b, k, [randomBytes(10), randomBytes(5)]);
        const up = await be.createMultipartUpload(b, { key: k, content: {}, meta, ownerId: OWNER });
        await be.abortMultipartUpload(b, k, up.uploadId);
      }
      const vs = await be.listObjectVersions(b, {
        prefix: "",
        delimiter: "",
        keyMarker: keys[1],
        versionIdMarker: "",
        maxKeys: 1000,
      });
      // Keys sort k < é < 😀: after the second come the four versions of the third.
      assertEquals(vs.versions.map((v) => v.rec.key), Array(4).fill(keys[2]));
      assertEquals(await listedKeys(be, b, { after: keys[0] }), [keys[1], keys[2]].sort(byteOrder));
      assertEquals(await stats(be, b), { objects: 9, bytes: 3 * (10 + 2 + 15) });
    },
  },
  {
    name: "objects: updateObjectVersion changes one version's tags in place",
    async run({ be }) {
      const b = await bucket(be, "update-version", { versioning: "Enabled" });
      const v1 = await put(be, b, "k", "one", { tags: { n: "1" } });
      const v2 = await put(be, b, "k", "two");
      const tag = (tags: Record<string, string>) => (r: typeof v1) => ({ ...r, tags });
      const changed = await be.updateObjectVersion(b, "k", v1.versionId, tag({ n: "one" }));
      assertEquals([changed.versionId, changed.tags], [v1.versionId, { n: "one" }]);
      assertEquals((await be.getObjectRecord(b, "k", v1.versionId)).tags, { n: "one" });
      const latest = await be.getObjectRecord(b, "k");
      assertEquals([latest.versionId, latest.tags ?? {}], [v2.versionId, {}]);

      await be.updateObjectVersion(b, "k", undefined, tag({ latest: "yes" }));
      const now = await be.getObjectRecord(b, "k");
      assertEquals([now.versionId, now.tags, now.etag], [v2.versionId, { latest: "yes" }, v2.etag]);
      assertEquals(await text(be, b, "k"), "two");
      const listed = (await be.listObjectVersions(b, {
        prefix: "",
        delimiter: "",
        keyMarker: "",
        versionIdMarker: "",
        maxKeys: 10,
      })).versions.map((v) => v.rec.tags ?? {});
      assertEquals(listed, [{ latest: "yes" }, { n: "one" }]);

      const m = await be.deleteObject(b, "k");
      await expectCode(
        () => be.updateObjectVersion(b, "k", m!.versionId, tag({})),
        "MethodNotAllowed",
      );
      await expectCode(() => be.updateObjectVersion(b, "k", undefined, tag({})), "NoSuchKey");
      await expectCode(() => be.updateObjectVersion(b, "k", "null", tag({})), "NoSuchVersion");

      const u = await bucket(be, "update-unversioned");
      await put(be, u, "k", "x");
      await be.updateObjectVersion(u, "k", "null", tag({ a: "b" }));
      assertEquals((await be.getObjectRecord(u, "k")).tags, { a: "b" });
      assertEquals(await text(be, u, "k"), "x");
    },
  },
];
