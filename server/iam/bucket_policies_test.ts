import { assert, assertEquals } from "../../tests/_helpers/assert.ts";
import { withStorage } from "../../tests/_helpers/storage.ts";
import {
  BUCKET_POLICY_CONFIG,
  BucketPolicies,
  type StoredBucketPolicy,
} from "./bucket_policies.ts";

const text = (sid: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{
      Sid: sid,
      Effect: "Allow",
      Principal: "*",
      Action: "s3:GetObject",
      Resource: "arn:aws:s3:::bbb/*",
    }],
  });

Deno.test("bucket policies are parsed once per stored text", async () => {
  await withStorage("bucket-policies-", async ({ backend: s }) => {
    const b = await s.createBucket({ ns: "acme", name: "bbb", ownerId: "u1", region: "us-east-1" });
    const other = await s.createBucket({
      ns: "acme",
      name: "ccc",
      ownerId: "u1",
      region: "us-east-1",
    });
    const policies = new BucketPolicies(s, {
      accounts: { accountOf: () => "acme" },
      maxEntries: 1,
    });
    assertEquals(await policies.get(b), null);

    const put = (t: string) =>
      s.putBucketConfig<StoredBucketPolicy>(b.id, BUCKET_POLICY_CONFIG, { v: 1, text: t });
    await put(text("one"));
    const first = await policies.get(b);
    assertEquals(first?.policy.statements[0].sid, "one");
    assert((await policies.get(b)) === first, "the same text is not parsed again");

    await put(text("two"));
    assertEquals((await policies.get(b))?.policy.statements[0].sid, "two");

    // The least recently used bucket leaves when the bound is passed.
    await s.putBucketConfig<StoredBucketPolicy>(other.id, BUCKET_POLICY_CONFIG, {
      v: 1,
      text: text("one").replace("arn:aws:s3:::bbb/*", "arn:aws:s3:::ccc/*"),
    });
    assertEquals((await policies.get(other))?.policy.statements[0].sid, "one");
    assertEquals(policies.size, 1);

    await s.putBucketConfig(other.id, BUCKET_POLICY_CONFIG, null);
    assertEquals(await policies.get(other), null);
    assertEquals(policies.size, 0);
  });
});
