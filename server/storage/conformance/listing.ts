/**
 * Conformance cases: ListObjects against a reference model written here (UTF-8 byte order,
 * prefix, delimiter folding, exclusive start, max-keys and pagination), over keys whose order
 * is easy to get wrong.
 */
import { assertEquals } from "../../../tests/_helpers/assert.ts";
import type { Backend } from "../backend.ts";
import type { BucketRecord, ListObjectsInput, ListObjectsPage } from "../types.ts";
import {
  allVersions,
  bucket,
  byteOrder,
  type ConformanceCase,
  listInput,
  put,
  setVersioning,
  text,
  utf8,
} from "./harness.ts";

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

export async function putAll(be: Backend, b: BucketRecord, keys: string[]) {
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
      const prefixes = ["", "a", "a/", "a//", "b/", "b/c", "c/", "é", "\u{1F600}", "/", "//", "zz"];
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
];
