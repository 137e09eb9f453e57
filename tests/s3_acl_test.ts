import {
  CreateBucketCommand,
  GetBucketAclCommand,
  GetObjectAclCommand,
  PutBucketAclCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";

Deno.test("ACLs behave as on buckets with ACLs disabled (BucketOwnerEnforced)", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  try {
    await s3.send(
      new CreateBucketCommand({ Bucket: "acl", ObjectOwnership: "BucketOwnerEnforced" }),
    );
    await s3.send(new PutObjectCommand({ Bucket: "acl", Key: "k", Body: "x" }));

    await t.step("reads report the owner's FULL_CONTROL", async () => {
      const b = await s3.send(new GetBucketAclCommand({ Bucket: "acl" }));
      assertEquals(b.Grants?.map((g) => g.Permission), ["FULL_CONTROL"]);
      assertEquals(b.Grants?.[0].Grantee?.ID, b.Owner?.ID);
      const o = await s3.send(new GetObjectAclCommand({ Bucket: "acl", Key: "k" }));
      assertEquals(o.Grants?.map((g) => g.Permission), ["FULL_CONTROL"]);
    });

    await t.step("owner-only ACLs are accepted, others refused", async () => {
      await s3.send(new PutBucketAclCommand({ Bucket: "acl", ACL: "private" }));
      await s3.send(
        new PutObjectAclCommand({ Bucket: "acl", Key: "k", ACL: "bucket-owner-full-control" }),
      );
      await assertS3Error(
        () => s3.send(new PutBucketAclCommand({ Bucket: "acl", ACL: "public-read" })),
        "AccessControlListNotSupported",
        400,
      );
      const owner = (await s3.send(new GetBucketAclCommand({ Bucket: "acl" }))).Owner!;
      await s3.send(
        new PutObjectAclCommand({
          Bucket: "acl",
          Key: "k",
          AccessControlPolicy: {
            Owner: owner,
            Grants: [{
              Grantee: { Type: "CanonicalUser", ID: owner.ID },
              Permission: "FULL_CONTROL",
            }],
          },
        }),
      );
      await assertS3Error(
        () =>
          s3.send(
            new PutObjectAclCommand({
              Bucket: "acl",
              Key: "k",
              AccessControlPolicy: {
                Owner: owner,
                Grants: [{
                  Grantee: {
                    Type: "Group",
                    URI: "http://acs.amazonaws.com/groups/global/AllUsers",
                  },
                  Permission: "READ",
                }],
              },
            }),
          ),
        "AccessControlListNotSupported",
        400,
      );
    });

    await t.step(
      "object ACL answers carry the version id, null included, as GET does",
      async () => {
        await s3.send(
          new CreateBucketCommand({ Bucket: "aclv", ObjectOwnership: "BucketOwnerEnforced" }),
        );
        await s3.send(new PutObjectCommand({ Bucket: "aclv", Key: "old", Body: "x" }));
        const unversioned = await signedFetch(srv, {
          method: "GET",
          path: "/aclv/old",
          query: { acl: "" },
        });
        await unversioned.body?.cancel();
        assertEquals(unversioned.headers.get("x-amz-version-id"), null);
        await s3.send(
          new PutBucketVersioningCommand({
            Bucket: "aclv",
            VersioningConfiguration: { Status: "Enabled" },
          }),
        );
        const put = await s3.send(new PutObjectCommand({ Bucket: "aclv", Key: "new", Body: "y" }));
        for (const [key, want] of [["old", "null"], ["new", put.VersionId!]]) {
          for (const method of ["GET", "PUT"]) {
            const res = await signedFetch(srv, {
              method,
              path: `/aclv/${key}`,
              query: { acl: "" },
              headers: method === "PUT" ? { "x-amz-acl": "private" } : {},
            });
            await res.body?.cancel();
            assertEquals([res.status, res.headers.get("x-amz-version-id")], [200, want], method);
          }
        }
      },
    );

    await t.step("missing objects and malformed bodies", async () => {
      await assertS3Error(
        () => s3.send(new GetObjectAclCommand({ Bucket: "acl", Key: "nope" })),
        "NoSuchKey",
        404,
      );
      await assertS3Error(
        () => s3.send(new GetBucketAclCommand({ Bucket: "nope" })),
        "NoSuchBucket",
        404,
      );
      const bad = await signedFetch(srv, {
        method: "PUT",
        path: "/acl",
        query: { acl: "" },
        body: "<AccessControlPolicy><Owner>",
      });
      assertEquals([bad.status, await errorCode(bad)], [400, "MalformedXML"]);
      const noList = await signedFetch(srv, {
        method: "PUT",
        path: "/acl",
        query: { acl: "" },
        body: "<AccessControlPolicy></AccessControlPolicy>",
      });
      assertEquals([noList.status, await errorCode(noList)], [400, "MalformedACLError"]);
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
