/**
 * ListObjectVersions pages against a model built from the raw keyspace (every `["ver"]` entry
 * and every solo `["obj"]` record), over a bucket that mixes solo keys, versions, `null`
 * versions and delete markers: every page of every prefix, delimiter and page size, followed
 * through its markers. And what a page reads: O(page), not O(bucket).
 */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { putText, type Storage, withStorage } from "../../../tests/_helpers/storage.ts";
import { compareUtf8 } from "../listing/listing.ts";
import { versionsInput } from "../conformance/harness.ts";
import { listObjectVersions } from "./version_listing.ts";
import type { VersionSource } from "./version_walk.ts";
import type {
  BucketRecord,
  ListVersionsInput,
  ListVersionsPage,
  ObjectRecord,
  VersioningState,
} from "../types.ts";

type Row = { key: string; versionId: string; isLatest: boolean };

/** Every version of the bucket from the raw keyspace, in listing order. */
async function rawRows(s: Storage, bucketId: string): Promise<Row[]> {
  const all: { key: string; sort: string; versionId: string }[] = [];
  for await (const e of s.core.meta.list<ObjectRecord>({ prefix: ["ver", bucketId] })) {
    all.push({ key: e.key[2] as string, sort: e.key[3] as string, versionId: e.value.versionId });
  }
  for await (const e of s.core.meta.list<ObjectRecord>({ prefix: ["obj", bucketId] })) {
    if (!e.value.solo) continue;
    // A solo version is its key's only one.
    assert(!all.some((r) => r.key === e.value.key), `solo ${e.value.key} has ver entries`);
    all.push({ key: e.value.key, sort: "", versionId: e.value.versionId });
  }
  all.sort((a, b) => compareUtf8(a.key, b.key) || (a.sort < b.sort ? -1 : a.sort > b.sort ? 1 : 0));
  return all.map((r, i) => ({
    key: r.key,
    versionId: r.versionId,
    isLatest: i === 0 || all[i - 1].key !== r.key,
  }));
}

/** The page ListObjectVersions should return for `input`, computed from every row. */
function modelPage(rows: Row[], input: ListVersionsInput) {
  const { prefix, delimiter, keyMarker, versionIdMarker, maxKeys } = input;
  let i = 0;
  if (keyMarker && keyMarker >= prefix) {
    i = versionIdMarker
      ? rows.findIndex((r) => r.key === keyMarker && r.versionId === versionIdMarker) + 1
      : rows.findIndex((r) => compareUtf8(r.key, keyMarker) > 0);
    if (i < 0) i = rows.length;
  }
  let skip: string | null = null;
  if (delimiter && keyMarker.startsWith(prefix)) {
    const d = keyMarker.indexOf(delimiter, prefix.length);
    const cp = d >= 0 ? keyMarker.slice(0, d + delimiter.length) : null;
    if (cp !== null && (keyMarker !== cp || !versionIdMarker)) skip = cp;
  }
  const page = {
    versions: [] as Row[],
    commonPrefixes: [] as string[],
    truncated: false,
    nextKeyMarker: null as string | null,
    nextVersionIdMarker: null as string | null,
  };
  let last: [string, string | null] | null = null;
  for (; i < rows.length; i++) {
    const r = rows[i];
    if (!r.key.startsWith(prefix) || (skip !== null && r.key.startsWith(skip))) continue;
    const d = delimiter ? r.key.indexOf(delimiter, prefix.length) : -1;
    const cp = d >= 0 ? r.key.slice(0, d + delimiter.length) : null;
    if (page.versions.length + page.commonPrefixes.length >= maxKeys) {
      page.truncated = true;
      [page.nextKeyMarker, page.nextVersionIdMarker] = last!;
      break;
    }
    if (cp !== null) {
      page.commonPrefixes.push(cp);
      skip = cp;
      last = [cp, null];
    } else {
      page.versions.push(r);
      last = [r.key, r.versionId];
    }
  }
  return page;
}

const rowsOf = (p: ListVersionsPage): Row[] =>
  p.versions.map((v) => ({ key: v.rec.key, versionId: v.rec.versionId, isLatest: v.isLatest }));

const input = versionsInput;

async function setVersioning(s: Storage, b: BucketRecord, versioning: VersioningState) {
  return await s.backend.updateBucket(b, (x) => ({ ...x, versioning }));
}

const KEYS = Array.from(
  { length: 60 },
  (_, i) => ["a/", "b/", "c", "d/e/", "", "é/"][i % 6] + `k${i}`,
);

/** A bucket with solo keys, versions, null versions and markers (the state is returned). */
async function mixedBucket(s: Storage): Promise<BucketRecord> {
  const be = s.backend;
  let b = await be.createBucket({ ns: "", name: "mixed", ownerId: "o", region: "us-east-1" });
  for (const k of KEYS) await putText(s, b, k, `solo ${k}`);
  b = await setVersioning(s, b, "Enabled");
  for (const [i, k] of KEYS.entries()) {
    if (i % 3 === 0) await putText(s, b, k, `v ${k}`);
    if (i % 7 === 0) await be.deleteObject(b, k);
  }
  b = await setVersioning(s, b, "Suspended");
  for (const [i, k] of KEYS.entries()) {
    if (i % 4 === 0) await putText(s, b, k, `null ${k}`);
    if (i % 11 === 0) await be.deleteObject(b, k);
  }
  b = await setVersioning(s, b, "Enabled");
  for (const [i, k] of KEYS.entries()) if (i % 5 === 0) await putText(s, b, k, `again ${k}`);
  return b;
}

Deno.test("version listing: every page, followed through its markers, matches the keyspace", async () => {
  await withStorage("maxiofs-vlist-", async (s) => {
    const b = await mixedBucket(s);
    const rows = await rawRows(s, b.id);
    assert(rows.length > KEYS.length * 1.5, `${rows.length} versions`);
    assertEquals(rowsOf(await s.backend.listObjectVersions(b, input({}))), rows);
    for (const prefix of ["", "a/", "d/", "d/e/k", "é/", "zz"]) {
      for (const delimiter of ["", "/", "k"]) {
        for (const maxKeys of [1, 2, 7, 1000]) {
          let keyMarker = "";
          let versionIdMarker = "";
          for (let pages = 0;; pages++) {
            assert(pages < 200, "paging does not end");
            const i = input({ prefix, delimiter, keyMarker, versionIdMarker, maxKeys });
            const got = await listObjectVersions(s.core, b.id, i);
            const want = modelPage(rows, i);
            const what = JSON.stringify(i);
            assertEquals({ ...got, versions: rowsOf(got) }, want, what);
            if (!got.truncated) break;
            keyMarker = got.nextKeyMarker!;
            versionIdMarker = got.nextVersionIdMarker ?? "";
          }
        }
      }
    }
  });
});

/** A source that counts the entries each `list` gives. */
function counting(s: Storage): { source: VersionSource; read: () => number } {
  let n = 0;
  const meta = s.core.meta;
  const source: VersionSource = {
    meta: {
      getMany: (keys, options) => meta.getMany(keys, options),
      list<T>(sel: Deno.KvListSelector, options?: Deno.KvListOptions) {
        const it = meta.list<T>(sel, options);
        const counted = async function* () {
          for await (const e of it) {
            n++;
            yield e;
          }
        };
        return counted() as unknown as Deno.KvListIterator<T>;
      },
    },
  };
  return { source, read: () => n };
}

Deno.test("version listing: a page reads O(page) entries, however many keys follow", async () => {
  await withStorage("maxiofs-vlist-", async (s) => {
    const be = s.backend;
    // Versioned from the start: every obj entry is the latest of a key with ver entries, none
    // solo. A walk that looked ahead for the next solo record read all of them.
    let b = await be.createBucket({ ns: "", name: "wide", ownerId: "o", region: "us-east-1" });
    b = await setVersioning(s, b, "Enabled");
    const keys = Array.from({ length: 300 }, (_, i) => `p${i % 30}/k${String(i).padStart(3, "0")}`);
    for (const k of keys) await putText(s, b, k, k);
    for (const k of keys.slice(0, 100)) await putText(s, b, k, k + "!");
    const pages: [Partial<ListVersionsInput>, number][] = [
      [{ maxKeys: 10 }, 40],
      [{ maxKeys: 10, keyMarker: "p1/" }, 40],
      [{ maxKeys: 10, prefix: "p2" }, 40],
      // Thirty prefixes: each seek past one reads a couple of entries per range.
      [{ maxKeys: 1000, delimiter: "/" }, 30 * 6],
    ];
    for (const [i, most] of pages) {
      const { source, read } = counting(s);
      const p = await listObjectVersions(source, b.id, input(i));
      assert(p.versions.length + p.commonPrefixes.length > 0, JSON.stringify(i));
      assert(read() <= most, `${JSON.stringify(i)}: read ${read()} entries, expected <= ${most}`);
    }
  });
});
