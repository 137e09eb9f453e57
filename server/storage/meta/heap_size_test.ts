import assert from "node:assert/strict";
import { heapBytes, stringBytes } from "./heap_size.ts";

Deno.test("heap size: strings count their characters, two bytes each past Latin-1", () => {
  assert.equal(stringBytes("abcd"), 24 + 4);
  assert.equal(stringBytes("é"), 24 + 1);
  assert.equal(stringBytes("日本"), 24 + 4);
});

Deno.test("heap size: records grow with their fields, nested data and bytes", () => {
  const small = { key: "k", size: 1, meta: {} };
  const withMeta = { key: "k", size: 1, meta: { color: "blue".repeat(100) } };
  assert.ok(heapBytes(withMeta) > heapBytes(small) + 400);
  assert.equal(
    heapBytes({ data: new Uint8Array(1024) }) - heapBytes({ data: new Uint8Array(0) }),
    1024,
  );
  assert.equal(heapBytes([1, 2]) - heapBytes([1]), 8 + 16);
  assert.equal(heapBytes(null), 0);
  assert.equal(heapBytes(undefined), 0);
});

Deno.test("heap size: a plain object's latest record is estimated near its measured ~620 bytes", () => {
  const rec = {
    v: 1,
    key: "d000/obj00000000",
    versionId: "null",
    blob: "01a250173e7be11d0845fe97b2f8ebe8",
    inline: true,
    size: 1024,
    etag: '"f54af6f7efcabdf51aaee4612aa95b4e"',
    lastModified: 1796640030332,
    content: {},
    meta: {},
    checksum: undefined,
    storageClass: "STANDARD",
    tags: undefined,
    retention: undefined,
    legalHold: undefined,
    ownerId: "root",
    solo: true,
  };
  const n = heapBytes(rec);
  assert.ok(n > 450 && n < 750, `estimated ${n}`);
});
