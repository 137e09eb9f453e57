import assert from "node:assert/strict";
import { taggingXml } from "./tags.ts";

Deno.test("tags: a tag set is rendered sorted by key", () => {
  const xml = taggingXml({ zeta: "1", Alpha: "2", mid: "3", alpha: "4" });
  const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
  assert.deepEqual(keys, ["Alpha", "alpha", "mid", "zeta"]);
  assert.ok(xml.includes("<Tag><Key>mid</Key><Value>3</Value></Tag>"), xml);
  assert.ok(taggingXml(undefined).includes("<TagSet></TagSet>"));
});
