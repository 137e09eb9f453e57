import { assertEquals } from "../../tests/_helpers/assert.ts";
import { withStorage } from "../../tests/_helpers/storage.ts";
import { type AclSubject, cannedAcl, type GranteeLookup } from "./acl.ts";
import { aclRequirement, aclVerdict } from "./acl_source.ts";
import { ACL_CONFIG, OWNERSHIP_CONFIG } from "./ownership.ts";

const lookup: GranteeLookup = {
  userById: (id) => ({ id, displayName: `name-${id}` }),
  usersByEmail: () => [],
};
const owner = { id: "o", displayName: "name-o" };
const anonymous: AclSubject = { canonicalId: null, authenticated: false };
const signed = (id: string): AclSubject => ({ canonicalId: id, authenticated: true });

Deno.test("aclRequirement follows the table of ACL permissions and actions", () => {
  assertEquals(aclRequirement("ListObjectsV2"), { on: "bucket", permission: "READ" });
  assertEquals(aclRequirement("PutObject"), { on: "bucket", permission: "WRITE" });
  assertEquals(aclRequirement("DeleteObject"), { on: "bucket", permission: "WRITE" });
  assertEquals(aclRequirement("GetObject"), { on: "object", permission: "READ" });
  assertEquals(aclRequirement("GetBucketAcl"), { on: "bucket", permission: "READ_ACP" });
  assertEquals(aclRequirement("PutObjectAcl"), { on: "object", permission: "WRITE_ACP" });
  assertEquals(aclRequirement("PutBucketPolicy"), null);
  assertEquals(aclRequirement("GetObjectTagging"), null);
});

Deno.test("aclVerdict reads the bucket's or the object's ACL, and honours ownership", async () => {
  await withStorage("maxiofs-acl-source-", async (s) => {
    const storage = s.backend;
    const publicRead = cannedAcl("public-read", owner, { bucketOwner: owner, forBucket: true });
    const b = await storage.createBucket({
      ns: "",
      name: "acl-source",
      ownerId: "o",
      region: "us-east-1",
      configs: { [ACL_CONFIG]: publicRead },
    });
    const bytes = new TextEncoder().encode("x");
    const put = (key: string, acl?: typeof publicRead) =>
      storage.putObject(b, {
        key,
        body: new Blob([bytes]).stream(),
        contentLength: 1,
        content: {},
        meta: {},
        ownerId: "o",
        acl,
      });
    await put("open", publicRead);
    await put("closed");
    const verdict = (op: string, key: string | null, subject = anonymous, ignore = false) =>
      aclVerdict({ storage, lookup, bucket: b, op, key, subject, ignorePublicAcls: ignore });

    assertEquals(await verdict("ListObjectsV2", null), {
      effect: "Allow",
      by: "bucket ACL grant READ to AllUsers",
    });
    assertEquals((await verdict("PutObject", "k")).effect, "NoMatch");
    assertEquals(await verdict("GetObject", "open"), {
      effect: "Allow",
      by: "object ACL grant READ to AllUsers",
    });
    assertEquals((await verdict("GetObject", "closed")).effect, "NoMatch");
    assertEquals((await verdict("GetObject", "missing")).effect, "NoMatch");
    assertEquals((await verdict("GetObject", "open", anonymous, true)).effect, "NoMatch");
    assertEquals(await verdict("PutObjectAcl", "closed", signed("o")), {
      effect: "Allow",
      by: "object ACL grant FULL_CONTROL to o (name-o)",
    });
    assertEquals((await verdict("PutBucketPolicy", null, signed("o"))).effect, "NoMatch");

    // ACLs off: only the bucket owner's FULL_CONTROL counts, whatever is stored.
    await storage.putBucketConfig(b.id, OWNERSHIP_CONFIG, { rule: "BucketOwnerEnforced" });
    assertEquals((await verdict("ListObjectsV2", null)).effect, "NoMatch");
    assertEquals((await verdict("GetObject", "open")).effect, "NoMatch");
    assertEquals((await verdict("GetObject", "open", signed("o"))).effect, "Allow");
  });
});
