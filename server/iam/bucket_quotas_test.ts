import { assertEquals } from "../../tests/_helpers/assert.ts";
import { openDb } from "../db/mod.ts";
import { bucketQuotaProblem, BucketQuotas } from "./bucket_quotas.ts";
import { updateSettings } from "./settings.ts";
import { SecretBox } from "./secrets.ts";

const box = new SecretBox(btoa(String.fromCharCode(...new Uint8Array(32))));

Deno.test("bucket quotas: own limits over the defaults, kept across restarts, dropped with the bucket", async () => {
  const db = openDb(":memory:");
  const q = new BucketQuotas({ db });
  const b1 = { id: "b1", ns: "t1", name: "photos" };
  const b2 = { id: "b2", ns: "", name: "photos" };
  assertEquals(q.limitsOf("b1"), null);
  q.put(b1, { maxBytes: 100, maxObjects: null });
  q.put(b2, { maxBytes: null, maxObjects: 5 });
  assertEquals(q.limitsOf("b1"), { maxBytes: 100, maxObjects: null });
  // The storage default fills what a bucket does not set; 0 is none.
  await updateSettings({ db, box }, { storage: { defaultBucketMaxObjects: 9 } });
  const reopened = new BucketQuotas({ db });
  assertEquals(reopened.limitsOf("b1"), { maxBytes: 100, maxObjects: 9 });
  assertEquals(reopened.limitsOf("b3"), { maxBytes: null, maxObjects: 9 });
  reopened.setDefaults({ defaultBucketMaxBytes: 0, defaultBucketMaxObjects: 0 });
  assertEquals(reopened.limitsOf("b3"), null);
  // Same name, other namespace: only that bucket's limits go.
  reopened.drop("t1", "photos");
  assertEquals(reopened.get("b1"), { maxBytes: null, maxObjects: null });
  assertEquals(new BucketQuotas({ db }).get("b2"), { maxBytes: null, maxObjects: 5 });
  reopened.put(b2, { maxBytes: null, maxObjects: null });
  assertEquals(new BucketQuotas({ db }).limitsOf("b2"), { maxBytes: null, maxObjects: 9 });
  db.close();
});

Deno.test("bucket quota bodies: non-negative integers or null", () => {
  assertEquals(bucketQuotaProblem({ maxBytes: 1, maxObjects: null }), null);
  assertEquals(
    bucketQuotaProblem({ maxBytes: -1 }),
    "maxBytes must be a non-negative integer or null",
  );
  assertEquals(
    bucketQuotaProblem({ maxObjects: 1.5 }),
    "maxObjects must be a non-negative integer or null",
  );
  assertEquals(bucketQuotaProblem({ other: 1 }), 'unknown field "other"');
});
