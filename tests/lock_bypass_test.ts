/**
 * Who may bypass GOVERNANCE retention: the bypass is the IAM action
 * `s3:BypassGovernanceRetention`, so a caller with only a write grant may not, a full grant may,
 * and an explicit policy Deny stops even the bucket's owner.
 */
import { assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { makeTenant, startIamServer } from "./iam_fixture.ts";

Deno.test("GOVERNANCE bypass follows IAM permissions", async () => {
  const s = await startIamServer();
  const clients: S3Client[] = [];
  try {
    const t = await makeTenant(s, "lockers");
    const owner = s.s3(t.admin.key, t.admin.secret);
    const user = s.s3(t.user.key, t.user.secret);
    clients.push(owner, user);
    const B = "govbucket";
    await owner.send(new CreateBucketCommand({ Bucket: B, ObjectLockEnabledForBucket: true }));
    const lockedVersion = async (Key: string) =>
      (await owner.send(
        new PutObjectCommand({
          Bucket: B,
          Key,
          Body: "x",
          ObjectLockMode: "GOVERNANCE",
          ObjectLockRetainUntilDate: new Date(Date.now() + 86_400_000),
        }),
      )).VersionId!;
    const bypassDelete = (c: S3Client, Key: string, VersionId: string) =>
      c.send(
        new DeleteObjectCommand({ Bucket: B, Key, VersionId, BypassGovernanceRetention: true }),
      );

    const grant = async (access: string) => {
      const r = await s.api(`/buckets/${B}/permissions?tenantId=${t.tenantId}`, {
        token: s.adminToken,
        body: { subjectType: "user", subjectId: t.user.id, access },
      });
      assertEquals(r.status, 201, JSON.stringify(r.body));
    };

    const v1 = await lockedVersion("a");
    await grant("write");
    await assertS3Error(() => bypassDelete(user, "a", v1), "AccessDenied", 403);
    await grant("full");
    await bypassDelete(user, "a", v1);

    const policy = await s.api("/policies", {
      token: s.adminToken,
      body: {
        name: "no-bypass",
        tenantId: t.tenantId,
        document: {
          Version: "2012-10-17",
          Statement: [{
            Effect: "Deny",
            Action: "s3:BypassGovernanceRetention",
            Resource: `arn:aws:s3:::${B}/*`,
          }],
        },
      },
    });
    assertEquals(policy.status, 201, JSON.stringify(policy.body));
    const attach = await s.api(`/policies/${policy.body.id}/attachments/users/${t.admin.id}`, {
      method: "PUT",
      token: s.adminToken,
    });
    assertEquals(attach.status < 300, true, JSON.stringify(attach.body));
    const v2 = await lockedVersion("b");
    await assertS3Error(() => bypassDelete(owner, "b", v2), "AccessDenied", 403);
    await bypassDelete(user, "b", v2);
  } finally {
    for (const c of clients) c.destroy();
    await s.stop();
  }
});
