/**
 * Conformance cases: ListObjects against a reference model written here (UTF-8 byte order,
 * prefix, delimiter folding, exclusive start, max-keys and pagination), over keys whose order
 * is easy to get wrong; and the paging of ListObjectVersions and ListMultipartUploads.
 */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import type { Backend } from "../backend.ts";
import type { BucketRecord, ListObjectsInput, ListObjectsPage } from "../types.ts";
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
  text,
  utf8,
  versionRows,
  versionsInput,
} from "./harness.ts";
import { createUpload } from "./multipart.ts";

/**
 * Keys that sort oddly: `//`, `..`, spaces and tabs, characters just below and above `/`
 * (`-` `.` `0`), upper before lower case, combining accents, U+FFFD before astral characters
 * (the opposite of UTF-16 order), U+10FFFF, a trailing delimiter, a leading one.
 */
export const ODD_KEYS = [
  "a",
  "A",
  "a b",
  "a-b",
  "a.b",
  "a/b",
  "a//b",
  "a//c",
  "a/../b",
  "a/./b",
  "a0",
  "aB",
  "a\u{10FFFF}",
  "Z",
  "_x",
  "~tilde",
  "!bang",
  "+plus",
  "%2F",
  "/lead",
  "//lead",
  "b/1",
  "b/2",
  "b/c/3",
  "b/c/4",
  "b//",
  "c/",
  "c",
  "d-x-y",
  "d-x-z",
  "sp ace/1",
  "tab\tkey",
  "é",
  "é/1",
  "e\u0301",
  "\u{FFFD}x",
  "\u{FFFD}/y",
  "\u{1F600}/a",
  "\u{1F600}/b",
  "日本/語",
];

/** The page S3 answers, computed from the sorted keys. */
export function modelPage(sorted: string[], input: ListObjectsInput) {
  const { prefix, delimiter, after, maxKeys } = input;
  // A start inside a common prefix means that prefix was already returned.
  let done: string | null = null;
  if (delimiter && after.startsWith(prefix)) {
    const i = after.indexOf(delimiter, prefix.length);
    if (i >= 0) done = after.slice(0, i + delimiter.length);
  }
  const entries: { name: string; prefix: boolean }[] = [];
  for (const k of sorted) {
    if (!k.startsWith(prefix) || byteOrder(k, after) <= 0) continue;
    const i = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
    if (i < 0) {
      entries.push({ name: k, prefix: false });
      continue;
    }
    const cp = k.slice(0, i + delimiter.length);
    if (cp !== done && entries.at(-1)?.name !== cp) entries.push({ name: cp, prefix: true });
  }
  const page = entries.slice(0, Math.max(0, maxKeys));
  return {
    objects: page.filter((e) => !e.prefix).map((e) => e.name),
    commonPrefixes: page.filter((e) => e.prefix).map((e) => e.name),
    truncated: entries.length > page.length,
    last: page.at(-1)?.name ?? null,
  };
}

const shape = (p: ListObjectsPage) => ({
  objects: p.objects.map((o) => o.key),
  commonPrefixes: p.commonPrefixes,
  truncated: p.truncated,
  last: p.last,
});

/** Pages through a listing from the start and checks every page against the model. */
async function checkPaged(
  be: Backend,
  b: BucketRecord,
  sorted: string[],
  input: ListObjectsInput,
): Promise<void> {
  let after = input.after;
  for (let pages = 0; pages <= sorted.length + 1; pages++) {
    const i = { ...input, after };
    const got = shape(await be.listObjects(b, i));
    assertEquals(got, modelPage(sorted, i), `page of ${JSON.stringify(i)}`);
    if (!got.truncated) return;
    after = got.last!;
  }
  throw new Error(`listing ${JSON.stringify(input)} did not end`);
}

async function putAll(be: Backend, b: BucketRecord, keys: string[]) {
  for (let i = 0; i < keys.length; i += 25) {
    await Promise.all(keys.slice(i, i + 25).map((k) => put(be, b, k, k)));
  }
}

export const LISTING_CASES: ConformanceCase[] = [
  {
    name: "listing: keys come in UTF-8 byte order, odd characters included",
    async run({ be }) {
      const b = await bucket(be, "listing-order");
      await putAll(be, b, ODD_KEYS);
      const sorted = [...ODD_KEYS].sort(byteOrder);
      const page = await be.listObjects(b, listInput());
      assertEquals(page.objects.map((o) => o.key), sorted);
      assertEquals(page.truncated, false);
      for (const k of ODD_KEYS) {
        assertEquals(await text(be, b, k), k, `bytes of ${JSON.stringify(k)}`);
      }
      const empty = await be.listObjects(b, listInput({ maxKeys: 0 }));
      assertEquals(shape(empty), { objects: [], commonPrefixes: [], truncated: false, last: null });
    },
  },
  {
    name: "listing: prefix, delimiter, start-after and max-keys agree with the model",
    async run({ be }) {
      const b = await bucket(be, "listing-model");
      await putAll(be, b, ODD_KEYS);
      const sorted = [...ODD_KEYS].sort(byteOrder);
      const prefixes = ["", "a", "a/", "a//", "b/", "b/c", "é", "\u{1F600}", "/", "zz"];
      for (const prefix of prefixes) {
        for (const delimiter of ["", "/", "//", "-", "é"]) {
          for (const maxKeys of [1, 3, 1000]) {
            await checkPaged(be, b, sorted, listInput({ prefix, delimiter, maxKeys }));
          }
        }
      }
      const starts = ["", "0", "a", "a/", "a/b", "a//", "b/1", "b/", "b/c/", "b/c/3", "c", "zzz"];
      for (const after of [...starts, "\u{FFFD}", "\u{1F600}", "\u{10FFFF}"]) {
        for (const [prefix, delimiter] of [["", ""], ["", "/"], ["b/", "/"], ["a", "/"]]) {
          const i = listInput({ prefix, delimiter, after });
          assertEquals(shape(await be.listObjects(b, i)), modelPage(sorted, i), JSON.stringify(i));
        }
      }
    },
  },
  {
    name: "listing: a listing follows the writes, overwrites and deletes made between lists",
    async run({ be }) {
      let b = await bucket(be, "listing-changes");
      const live = new Map<string, string>();
      const check = async (what: string) => {
        const sorted = [...live.keys()].sort(byteOrder);
        // Twice: a backend may answer the second list of a bucket from another source.
        for (let i = 0; i < 2; i++) {
          const page = await be.listObjects(b, listInput());
          assertEquals(page.objects.map((o) => o.key), sorted, what);
          assertEquals(
            page.objects.map((o) => o.size),
            sorted.map((k) => utf8(live.get(k)!).length),
          );
          const folded = await be.listObjects(b, listInput({ delimiter: "/" }));
          assertEquals(shape(folded), modelPage(sorted, listInput({ delimiter: "/" })), what);
        }
      };
      const write = async (key: string, value: string) => {
        await put(be, b, key, value);
        live.set(key, value);
      };
      for (const k of ["a", "b/1", "c"]) await write(k, k);
      await check("first writes");
      await write("b/2", "two");
      await write("a", "a longer body");
      await be.deleteObject(b, "c");
      live.delete("c");
      await check("after a new key, an overwrite and a delete");
      b = await setVersioning(be, b, "Enabled");
      await be.deleteObject(b, "a");
      live.delete("a");
      // A folder whose only key is hidden by a marker is no common prefix.
      await put(be, b, "gone/x", "x");
      await be.deleteObject(b, "gone/x");
      await write("b/1", "version two");
      await check("after a delete marker and a new version");
      const m = (await allVersions(be, b, { prefix: "a" })).find((v) => v.rec.deleteMarker)!;
      await be.deleteObject(b, "a", { versionId: m.rec.versionId });
      live.set("a", "a longer body");
      await check("after removing the marker");
    },
  },
  {
    name: "listing: a page holds at most max-keys entries in a bucket of more than 1000 keys",
    async run({ be }) {
      const b = await bucket(be, "listing-thousand");
      const keys = Array.from({ length: 1001 }, (_, i) => `k/${String(i).padStart(4, "0")}`);
      await putAll(be, b, [...keys, "z"]);
      const first = await be.listObjects(b, listInput());
      assertEquals([first.objects.length, first.truncated, first.last], [1000, true, "k/0999"]);
      const rest = await be.listObjects(b, listInput({ after: first.last! }));
      assertEquals(rest.objects.map((o) => o.key), ["k/1000", "z"]);
      assertEquals(rest.truncated, false);
      const folded = await be.listObjects(b, listInput({ delimiter: "/" }));
      assertEquals([folded.commonPrefixes, folded.objects.map((o) => o.key)], [["k/"], ["z"]]);
      const prefixed = await be.listObjects(b, listInput({ prefix: "k/", after: "k/0500" }));
      assertEquals([prefixed.objects.length, prefixed.truncated], [500, false]);
    },
  },
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
