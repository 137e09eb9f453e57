import assert from "node:assert/strict";
import { ListDocuments } from "./list_documents.ts";

const doc = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

Deno.test("list documents: a kept document answers only its request and stamp", () => {
  const docs = new ListDocuments(1000);
  const d = doc(10);
  docs.set("a", 5, d);
  assert.equal(docs.get("a", 5), d);
  assert.equal(docs.get("b", 5), null, "another request");
  assert.equal(docs.get("a", 4), null, "an older stamp");
  assert.equal(docs.get("a", 5), d, "a lookup with an older stamp does not drop it");
  assert.equal(docs.get("a", 6), null, "a newer stamp");
  assert.equal(docs.get("a", 5), null, "a newer stamp drops the older document for good");
  assert.equal(docs.bytes, 0);
  assert.equal(docs.size, 0);
});

Deno.test("list documents: a newer document replaces an older one, never the reverse", () => {
  const docs = new ListDocuments(1000);
  docs.set("a", 5, doc(10, 1));
  docs.set("a", 7, doc(20, 2));
  assert.equal(docs.size, 1);
  assert.equal(docs.bytes, 20);
  docs.set("a", 6, doc(30, 3));
  assert.equal(docs.get("a", 7)?.[0], 2, "a page read from an older state does not win");
  assert.equal(docs.bytes, 20);
});

Deno.test("list documents: bounded by bytes, least recently used out first", () => {
  const docs = new ListDocuments(100);
  docs.set("a", 1, doc(25));
  docs.set("b", 1, doc(25));
  docs.set("c", 1, doc(25));
  docs.set("d", 1, doc(25));
  assert.equal(docs.bytes, 100);
  assert.ok(docs.get("a", 1), "a is now the most recently used");
  docs.set("e", 1, doc(25));
  assert.equal(docs.get("b", 1), null, "b was the least recently used");
  for (const k of ["a", "c", "d", "e"]) assert.ok(docs.get(k, 1), k);
  assert.equal(docs.bytes, 100);
  docs.set("big", 1, doc(26));
  assert.equal(docs.get("big", 1), null, "more than a quarter of the bound is not kept");
  assert.equal(docs.bytes, 100);
});

Deno.test("list documents: bounded by count", () => {
  const docs = new ListDocuments(1 << 20);
  for (let i = 0; i < 600; i++) docs.set(`k${i}`, 1, doc(1));
  assert.equal(docs.size, 512);
  assert.equal(docs.bytes, 512);
  assert.equal(docs.get("k0", 1), null);
  assert.ok(docs.get("k599", 1));
});

Deno.test("list documents: a bound of 0 keeps nothing", () => {
  const docs = new ListDocuments(0);
  docs.set("a", 1, doc(1));
  assert.equal(docs.get("a", 1), null);
  assert.equal(docs.size, 0);
});

Deno.test("list documents: a request is noted the first time it comes for a stamp", () => {
  const docs = new ListDocuments(1000);
  assert.equal(docs.seen("a", 1), false, "first time");
  assert.equal(docs.seen("a", 1), true, "second time: worth keeping");
  assert.equal(docs.get("a", 1), null, "noted, not kept");
  assert.equal(docs.bytes, 0);
  assert.equal(docs.seen("a", 2), false, "a new stamp starts over");
  assert.equal(docs.seen("a", 1), false, "an older stamp is not noted over a newer one");
  assert.equal(docs.seen("a", 2), true);
  docs.set("a", 2, doc(10));
  assert.equal(docs.get("a", 2)?.length, 10);
  assert.equal(docs.seen("a", 2), true);
  const none = new ListDocuments(0);
  none.seen("a", 1);
  assert.equal(none.seen("a", 1), false, "a bound of 0 notes nothing");
});
