import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { type Storage, withStorage } from "../../../tests/_helpers/storage.ts";
import type { BucketRecord } from "../../storage/mod.ts";
import { decodeToken, encodeToken, type SearchFilter, searchObjects } from "./search.ts";

async function put(
  s: Storage,
  b: BucketRecord,
  key: string,
  size: number,
  opts: { type?: string; tags?: Record<string, string> } = {},
) {
  await s.backend.putObject(b, {
    key,
    body: new Blob([new Uint8Array(size)]).stream(),
    contentLength: size,
    content: opts.type ? { contentType: opts.type } : {},
    meta: {},
    tags: opts.tags,
    ownerId: "o",
  });
}

const bucketIn = (s: Storage) =>
  s.backend.createBucket({ ns: "", name: "bkt", ownerId: "o", region: "us-east-1" });

/** Every hit of a search, page by page; also the number of pages. */
async function all(s: Storage, b: BucketRecord, f: SearchFilter, budget: number, limit = 100) {
  const keys: string[] = [];
  let token: string | null = null;
  let pages = 0;
  do {
    const p = await searchObjects(s.backend, b, f, {
      continuationToken: token,
      scanBudget: budget,
      limit,
    });
    assert(p.scanned <= budget, `scanned ${p.scanned} > budget ${budget}`);
    keys.push(...p.items.map((h) => h.key));
    token = p.continuationToken;
    pages++;
  } while (token !== null && pages < 1000);
  return { keys, pages };
}

Deno.test("search: filters, pages within the scan budget, and continuation", async () => {
  await withStorage("maxiofs-search-", async (s) => {
    const b = await bucketIn(s);
    for (let i = 0; i < 30; i++) {
      const key = `docs/${String(i).padStart(2, "0")}.${i % 3 === 0 ? "png" : "txt"}`;
      await put(s, b, key, i * 10, {
        type: i % 3 === 0 ? "image/png" : "text/plain",
        tags: i % 5 === 0 ? { team: "red" } : { team: "blue" },
      });
    }
    await put(s, b, "other/x", 5, { type: "image/png" });
    const t0 = (await s.backend.getObjectRecord(b, "docs/10.txt", null)).lastModified;
    const t1 = (await s.backend.getObjectRecord(b, "docs/20.txt", null)).lastModified;

    const images = await all(s, b, { prefix: "docs/", contentType: "IMAGE/" }, 7);
    assertEquals(
      images.keys,
      [0, 3, 6, 9, 12, 15, 18, 21, 24, 27].map((i) => `docs/${String(i).padStart(2, "0")}.png`),
    );
    assert(images.pages >= 5, `30 entries at 7 a page took ${images.pages} pages`);

    const sized = await all(s, b, { prefix: "", minSize: 100, maxSize: 120 }, 1000);
    assertEquals(sized.keys, ["docs/10.txt", "docs/11.txt", "docs/12.png"]);

    const dated = await all(s, b, { prefix: "docs/", modifiedAfter: t0, modifiedBefore: t1 }, 4);
    assertEquals(dated.keys.length, 10);
    assertEquals(dated.keys[0], "docs/10.txt");

    const red = await all(s, b, { prefix: "", tags: [["team", "red"]] }, 1000);
    assertEquals(red.keys, [
      "docs/00.png",
      "docs/05.txt",
      "docs/10.txt",
      "docs/15.png",
      "docs/20.txt",
      "docs/25.txt",
    ]);
    const tagged = await all(s, b, { prefix: "", tags: [["team", ""]] }, 1000);
    assertEquals(tagged.keys.length, 30);

    // A page that fills its limit midway continues right after its last hit.
    const limited = await all(s, b, { prefix: "" }, 1000, 4);
    assertEquals(limited.keys.length, 31);
    assertEquals(new Set(limited.keys).size, 31);
    const first = await searchObjects(s.backend, b, { prefix: "", minSize: 50 }, { limit: 2 });
    // docs/05 and docs/06 are the first two of 50 bytes or more: seven entries examined.
    assertEquals([first.items.map((h) => h.key), first.scanned], [
      ["docs/05.txt", "docs/06.png"],
      7,
    ]);
  });
});

Deno.test("search: continuation tokens round-trip any key; a foreign token is refused", () => {
  for (const k of ["", "a/b", "é/\u{1f600}", "x+y/z="]) {
    assertEquals(decodeToken(encodeToken(k)), k);
  }
  let threw = false;
  try {
    decodeToken("%%%");
  } catch (e) {
    threw = e instanceof RangeError;
  }
  assert(threw);
});

Deno.test("search: records are read only past mayRead, and only the fields asked for return", async () => {
  await withStorage("maxiofs-search-read-", async (s) => {
    const b = await bucketIn(s);
    await put(s, b, "a/1", 1, { type: "image/png", tags: { k: "v" } });
    await put(s, b, "a/2", 500, { type: "image/png", tags: { k: "v" } });
    await put(s, b, "b/1", 1, { type: "text/plain", tags: { k: "w" } });
    const asked: string[] = [];
    const mayRead = (key: string) => {
      asked.push(key);
      return key.startsWith("b/") ? Promise.reject(new Error(`no ${key}`)) : Promise.resolve();
    };
    // Only entries that passed the listing filters are asked about.
    const small = await searchObjects(s.backend, b, {
      prefix: "a/",
      maxSize: 10,
      contentType: "image/",
    }, {
      mayRead,
    });
    assertEquals(asked, ["a/1"]);
    assertEquals(small.items, [{ ...small.items[0], key: "a/1", contentType: "image/png" }]);
    assertEquals(small.items[0].tags, undefined);
    const byTag = await searchObjects(s.backend, b, { prefix: "a/", tags: [["k", "v"]] }, {
      mayRead,
    });
    assertEquals(byTag.items.map((h) => [h.key, h.tags, h.contentType]), [
      ["a/1", { k: "v" }, undefined],
      ["a/2", { k: "v" }, undefined],
    ]);
    // A refusal refuses the search.
    let refused = "";
    await searchObjects(s.backend, b, { prefix: "", tags: [["k", "x"]] }, { mayRead }).catch(
      (e) => (refused = (e as Error).message),
    );
    assertEquals(refused, "no b/1");
    // Without a record filter nothing is asked.
    asked.length = 0;
    await searchObjects(s.backend, b, { prefix: "" }, { mayRead });
    assertEquals(asked, []);
  });
});
