/**
 * Conformance cases: paging ListObjectVersions (key and version-id markers, markers that were
 * deleted meanwhile, folding) and ListMultipartUploads (key and upload-id markers).
 */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import type { Backend } from "../backend.ts";
import {
  allVersions,
  bodyOf,
  bucket,
  byteOrder,
  type ConformanceCase,
  expectCode,
  listedKeys,
  listInput,
  put,
  setVersioning,
  utf8,
  versionRows,
  versionsInput,
} from "./harness.ts";
import { modelPage, ODD_KEYS, putAll } from "./listing.ts";
import { createUpload } from "./multipart.ts";

export const PAGING_CASES: ConformanceCase[] = [
  {
    name: "listing: versions page with key and version-id markers, prefixes fold",
    async run({ be }) {
      let b = await bucket(be, "listing-versions");
      await put(be, b, "c", "c-null");
      b = await setVersioning(be, b, "Enabled");
      const written: Record<string, string[]> = { c: ["null"] };
      const write = async (key: string, n: number) => {
        for (let i = 0; i < n; i++) {
          written[key] = [
            (await put(be, b, key, `${key}-${i}`)).versionId,
            ...(written[key] ?? []),
          ];
        }
      };
      const mark = async (key: string) => {
        written[key] = [(await be.deleteObject(b, key))!.versionId, ...(written[key] ?? [])];
      };
      await write("a", 2);
      await write("a a", 1);
      await mark("a a");
      await write("b/1", 2);
      await write("b/2", 1);
      await mark("b/2");
      await write("c", 2);
      await mark("é");
      await write("é", 1);
      const keys = Object.keys(written).sort(byteOrder);
      const expected = keys.flatMap((k) => written[k].map((id, i) => [k, id, i === 0]));
      const full = await allVersions(be, b);
      assertEquals(versionRows(full).map((r) => r.slice(0, 3)), expected);
      assertEquals(versionRows(full).filter((r) => r[3]).length, 3, "three markers");

      for (const maxKeys of [1, 2, 3, 5]) {
        const rows: unknown[] = [];
        let keyMarker = "";
        let versionIdMarker = "";
        for (let pages = 0; pages < 30; pages++) {
          const p = await be.listObjectVersions(
            b,
            versionsInput({ keyMarker, versionIdMarker, maxKeys }),
          );
          assert(p.versions.length <= maxKeys, "at most max-keys versions");
          rows.push(...versionRows(p.versions).map((r) => r.slice(0, 3)));
          if (!p.truncated) break;
          assertEquals([p.nextKeyMarker, p.nextVersionIdMarker], [
            p.versions.at(-1)!.rec.key,
            p.versions.at(-1)!.rec.versionId,
          ]);
          keyMarker = p.nextKeyMarker!;
          versionIdMarker = p.nextVersionIdMarker!;
        }
        assertEquals(rows, expected, `pages of ${maxKeys}`);
      }

      // A key marker alone resumes after every version of that key.
      const afterA = await allVersions(be, b, { keyMarker: "a" });
      assertEquals(afterA.map((v) => v.rec.key)[0], "a a");
      assertEquals(afterA.length, expected.length - 2);
      await expectCode(
        () => be.listObjectVersions(b, versionsInput({ versionIdMarker: written.a[0] })),
        "InvalidArgument",
      );
      await expectCode(
        () => be.listObjectVersions(b, versionsInput({ keyMarker: "a", versionIdMarker: "bad" })),
        "InvalidArgument",
      );
      const none = await be.listObjectVersions(b, versionsInput({ maxKeys: 0 }));
      assertEquals([none.versions, none.commonPrefixes, none.truncated], [[], [], false]);

      const folded = await be.listObjectVersions(b, versionsInput({ delimiter: "/" }));
      assertEquals(folded.commonPrefixes, ["b/"]);
      assertEquals(
        folded.versions.map((v) => v.rec.key),
        expected.filter((r) => !(r[0] as string).startsWith("b/")).map((r) => r[0]),
      );
      const inB = await allVersions(be, b, { prefix: "b/" });
      assertEquals(
        versionRows(inB).map((r) => r.slice(0, 3)),
        expected.filter((r) => (r[0] as string).startsWith("b/")),
      );
      // With a delimiter, a common prefix counts once and can end a page.
      const rows: unknown[] = [];
      const prefixes: string[] = [];
      let keyMarker = "";
      let versionIdMarker = "";
      for (let pages = 0; pages < 30; pages++) {
        const p = await be.listObjectVersions(
          b,
          versionsInput({ delimiter: "/", keyMarker, versionIdMarker, maxKeys: 2 }),
        );
        rows.push(...p.versions.map((v) => [v.rec.key, v.rec.versionId]));
        prefixes.push(...p.commonPrefixes);
        if (!p.truncated) break;
        keyMarker = p.nextKeyMarker!;
        versionIdMarker = p.nextVersionIdMarker ?? "";
      }
      assertEquals(prefixes, ["b/"]);
      assertEquals(rows, folded.versions.map((v) => [v.rec.key, v.rec.versionId]));
    },
  },
  {
    name: "listing: emptying a bucket page by page (list, delete the page, go on) removes all",
    async run({ be }) {
      // What "empty this bucket" tools do: the marker of the next page is a version that the
      // previous step deleted, so the listing must resume from its position, not skip the key.
      for (const maxKeys of [1, 2, 3, 4]) {
        let b = await bucket(be, `empty-by-pages-${maxKeys}`, { versioning: "Enabled" });
        for (const key of ["a", "b", "c"]) {
          await put(be, b, key, "v1");
          b = await setVersioning(be, b, "Suspended");
          await put(be, b, key, "null");
          b = await setVersioning(be, b, "Enabled");
          await put(be, b, key, "v2");
          await be.deleteObject(b, key);
        }
        assertEquals((await allVersions(be, b)).length, 12);
        let keyMarker = "";
        let versionIdMarker = "";
        for (let pages = 0; pages < 20; pages++) {
          const p = await be.listObjectVersions(
            b,
            versionsInput({ keyMarker, versionIdMarker, maxKeys }),
          );
          for (const v of p.versions) {
            await be.deleteObject(b, v.rec.key, { versionId: v.rec.versionId });
          }
          if (!p.truncated) break;
          keyMarker = p.nextKeyMarker!;
          versionIdMarker = p.nextVersionIdMarker ?? "";
        }
        const left = versionRows(await allVersions(be, b));
        assertEquals(left, [], `pages of ${maxKeys} left versions behind`);
        await be.deleteBucket("", b.name);
      }
    },
  },
  {
    name: "listing: versions of odd keys, some written before versioning, in byte order",
    async run({ be }) {
      let b = await bucket(be, "listing-odd-versions");
      const written = new Map<string, string[]>();
      const early = ODD_KEYS.filter((_, i) => i % 2 === 0);
      await putAll(be, b, early);
      for (const k of early) written.set(k, ["null"]);
      b = await setVersioning(be, b, "Enabled");
      for (const [i, k] of ODD_KEYS.entries()) {
        if (i % 3 === 0) continue;
        const v = await put(be, b, k, `v-${k}`);
        written.set(k, [v.versionId, ...(written.get(k) ?? [])]);
      }
      const sorted = [...written.keys()].sort(byteOrder);
      const expected = sorted.flatMap((k) => written.get(k)!.map((id, i) => [k, id, i === 0]));
      const rows = (vs: Awaited<ReturnType<typeof allVersions>>) =>
        versionRows(vs).map((r) => r.slice(0, 3));
      assertEquals(rows(await allVersions(be, b)), expected);
      for (const maxKeys of [1, 4]) {
        const got: unknown[] = [];
        let keyMarker = "";
        let versionIdMarker = "";
        for (let pages = 0; pages <= expected.length; pages++) {
          const p = await be.listObjectVersions(
            b,
            versionsInput({ keyMarker, versionIdMarker, maxKeys }),
          );
          got.push(...rows(p.versions));
          if (!p.truncated) break;
          keyMarker = p.nextKeyMarker!;
          versionIdMarker = p.nextVersionIdMarker ?? "";
        }
        assertEquals(got, expected, `pages of ${maxKeys}`);
      }
      // Folding and prefixes follow the same model as ListObjects.
      for (const [prefix, delimiter] of [["", "/"], ["a", "/"], ["", "//"], ["\u{1F600}", ""]]) {
        const model = modelPage(sorted, listInput({ prefix, delimiter }));
        const p = await be.listObjectVersions(b, versionsInput({ prefix, delimiter }));
        assertEquals(p.commonPrefixes, model.commonPrefixes, `${prefix} ${delimiter}`);
        const keys = [...new Set(p.versions.map((v) => v.rec.key))];
        assertEquals(keys, model.objects, `${prefix} ${delimiter}`);
      }
      assertEquals(await listedKeys(be, b), sorted);
    },
  },
  {
    name: "listing: multipart uploads page by key and upload id, with prefix and delimiter",
    async run({ be, clock }) {
      const b = await bucket(be, "listing-uploads");
      const made: [string, string][] = [];
      for (const key of ["c", "a", "b/1", "a", "b/c/3", "d d", "b/2", "é", "a"]) {
        clock?.advance(1000);
        made.push([key, (await createUpload(be, b, key)).uploadId]);
      }
      const list = (i: Partial<Parameters<Backend["listMultipartUploads"]>[1]> = {}) =>
        be.listMultipartUploads(b, {
          prefix: "",
          delimiter: "",
          keyMarker: "",
          uploadIdMarker: "",
          maxUploads: 1000,
          ...i,
        });
      const full = await list();
      assertEquals(full.truncated, false);
      const rows = full.uploads.map((u) => [u.key, u.uploadId]);
      assertEquals(rows.map((r) => r[0]), ["a", "a", "a", "b/1", "b/2", "b/c/3", "c", "d d", "é"]);
      assertEquals(new Set(rows.map((r) => r[1])), new Set(made.map((m) => m[1])));
      if (clock) {
        // Uploads of one key come in the order they were started.
        assertEquals(rows.filter((r) => r[0] === "a"), made.filter((m) => m[0] === "a"));
      }
      for (const maxUploads of [1, 2, 4]) {
        const got: unknown[] = [];
        let keyMarker = "";
        let uploadIdMarker = "";
        for (let pages = 0; pages < 20; pages++) {
          const p = await list({ keyMarker, uploadIdMarker, maxUploads });
          got.push(...p.uploads.map((u) => [u.key, u.uploadId]));
          if (!p.truncated) break;
          keyMarker = p.nextKeyMarker!;
          uploadIdMarker = p.nextUploadIdMarker!;
        }
        assertEquals(got, rows, `pages of ${maxUploads}`);
      }
      const afterA = await list({ keyMarker: "a" });
      assertEquals(afterA.uploads.map((u) => u.key), ["b/1", "b/2", "b/c/3", "c", "d d", "é"]);
      const folded = await list({ delimiter: "/" });
      assertEquals(folded.commonPrefixes, ["b/"]);
      assertEquals(folded.uploads.map((u) => u.key), ["a", "a", "a", "c", "d d", "é"]);
      const inB = await list({ prefix: "b/", delimiter: "/" });
      assertEquals([inB.uploads.map((u) => u.key), inB.commonPrefixes], [["b/1", "b/2"], ["b/c/"]]);
      const paged = await list({ delimiter: "/", maxUploads: 4 });
      assertEquals([paged.uploads.length, paged.commonPrefixes, paged.truncated], [
        3,
        ["b/"],
        true,
      ]);
      assertEquals(paged.nextKeyMarker, "b/");
      const next = await list({
        delimiter: "/",
        keyMarker: "b/",
        uploadIdMarker: paged.nextUploadIdMarker ?? "",
      });
      assertEquals(next.uploads.map((u) => u.key), ["c", "d d", "é"]);

      // Completed and aborted uploads leave the listing.
      await be.abortMultipartUpload(b, "c", made[0][1]);
      const a = made[1][1];
      const p = await be.uploadPart(b, {
        key: "a",
        uploadId: a,
        partNumber: 1,
        body: bodyOf(utf8("x")),
        contentLength: 1,
      });
      await be.completeMultipartUpload(b, {
        key: "a",
        uploadId: a,
        parts: [{ n: 1, etag: p.etag, checksums: {} }],
        minPartSize: 0,
      });
      const left = (await list()).uploads.map((u) => u.uploadId);
      assertEquals(left.length, made.length - 2);
      assert(!left.includes(a) && !left.includes(made[0][1]), "gone from the listing");
    },
  },
];
