/**
 * The audit of S3 changes (server/iam/audit_s3.ts): versioning and every bucket configuration
 * change are recorded, from S3 and from the console (its bucket routes and S3 passthrough run
 * through the same handler), failures included; object writes and deletes only while the
 * `audit.s3ObjectEvents` setting is on.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketOwnershipControlsCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeletePublicAccessBlockCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  PutObjectTaggingCommand,
  PutPublicAccessBlockCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { type AuditEntry, makeTenant, startIamServer } from "./iam_fixture.ts";

Deno.test("bucket changes are always audited, object changes when the setting is on", async (t) => {
  const s = await startIamServer();
  try {
    const acme = await makeTenant(s, "audacme");
    const c = s.s3(acme.admin.key, acme.admin.secret);
    const B = "aud-b";
    let since = 0;
    /** Audit entries newer than `since` (oldest first). */
    const entries = async (action: string) => {
      const r = await s.api(`/audit?action=${action}&limit=1000`, { token: s.adminToken });
      assertEquals(r.status, 200);
      return (r.body.items as AuditEntry[]).filter((e) => e.id > since).reverse();
    };
    const mark = async () => {
      const r = await s.api("/audit?limit=1", { token: s.adminToken });
      since = (r.body.items as AuditEntry[])[0]?.id ?? 0;
    };

    await t.step("every bucket configuration change from S3, failures included", async () => {
      await mark();
      await c.send(new CreateBucketCommand({ Bucket: B, ObjectLockEnabledForBucket: true }));
      await c.send(
        new PutBucketVersioningCommand({
          Bucket: B,
          VersioningConfiguration: { Status: "Enabled" },
        }),
      );
      const policy = JSON.stringify({
        Version: "2012-10-17",
        Statement: [{
          Effect: "Deny",
          Principal: "*",
          Action: "s3:DeleteBucket",
          Resource: `arn:aws:s3:::${B}`,
        }],
      });
      await c.send(new PutBucketPolicyCommand({ Bucket: B, Policy: policy }));
      await c.send(new DeleteBucketPolicyCommand({ Bucket: B }));
      await assertS3Error(
        () => c.send(new PutBucketPolicyCommand({ Bucket: B, Policy: "{not json" })),
        "MalformedPolicy",
        400,
      );
      await c.send(
        new PutBucketCorsCommand({
          Bucket: B,
          CORSConfiguration: { CORSRules: [{ AllowedMethods: ["GET"], AllowedOrigins: ["*"] }] },
        }),
      );
      await c.send(new DeleteBucketCorsCommand({ Bucket: B }));
      await c.send(
        new PutBucketTaggingCommand({ Bucket: B, Tagging: { TagSet: [{ Key: "k", Value: "v" }] } }),
      );
      await c.send(new DeleteBucketTaggingCommand({ Bucket: B }));
      await c.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: B,
          LifecycleConfiguration: {
            Rules: [{
              ID: "r",
              Status: "Enabled",
              Filter: { Prefix: "" },
              Expiration: { Days: 9 },
            }],
          },
        }),
      );
      await c.send(new DeleteBucketLifecycleCommand({ Bucket: B }));
      await c.send(
        new PutObjectLockConfigurationCommand({
          Bucket: B,
          ObjectLockConfiguration: {
            ObjectLockEnabled: "Enabled",
            Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 1 } },
          },
        }),
      );
      await c.send(
        new PutPublicAccessBlockCommand({
          Bucket: B,
          PublicAccessBlockConfiguration: { BlockPublicAcls: true },
        }),
      );
      await c.send(new DeletePublicAccessBlockCommand({ Bucket: B }));
      await c.send(new PutBucketAclCommand({ Bucket: B, ACL: "private" }));
      await c.send(
        new PutBucketOwnershipControlsCommand({
          Bucket: B,
          OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
        }),
      );
      await c.send(new DeleteBucketOwnershipControlsCommand({ Bucket: B }));

      const got = (await entries("bucket")).map((e) => {
        assertEquals(e.resource, `bucket/${B}`, e.action);
        assertEquals(e.actorName, acme.admin.username, e.action);
        assertEquals(e.tenantId, acme.tenantId, e.action);
        assertEquals(e.ip, "127.0.0.1", e.action);
        assert(e.userAgent, e.action);
        return `${e.action} ${e.result}`;
      });
      assertEquals(got, [
        "bucket.create success",
        "bucket.versioning.put success",
        "bucket.policy.put success",
        "bucket.policy.delete success",
        "bucket.policy.put failure",
        "bucket.cors.put success",
        "bucket.cors.delete success",
        "bucket.tagging.put success",
        "bucket.tagging.delete success",
        "bucket.lifecycle.put success",
        "bucket.lifecycle.delete success",
        "bucket.object-lock.put success",
        "bucket.public-access-block.put success",
        "bucket.public-access-block.delete success",
        "bucket.acl.put success",
        "bucket.ownership.put success",
        "bucket.ownership.delete success",
      ]);
    });

    await t.step(
      "object writes and deletes: not by default, recorded when switched on",
      async () => {
        const O = "aud-o";
        await c.send(new CreateBucketCommand({ Bucket: O }));
        await mark();
        await c.send(new PutObjectCommand({ Bucket: O, Key: "a", Body: "x" }));
        await c.send(new DeleteObjectCommand({ Bucket: O, Key: "a" }));
        assertEquals(await entries("object"), []);

        const bad = await s.api("/settings", {
          method: "PATCH",
          token: s.adminToken,
          body: { audit: { s3ObjectEvents: "yes" } },
        });
        assertEquals(bad.status, 400);
        const on = await s.api("/settings", {
          method: "PATCH",
          token: s.adminToken,
          body: { audit: { s3ObjectEvents: true } },
        });
        assertEquals([on.status, on.body.audit.s3ObjectEvents], [200, true]);

        await mark();
        await c.send(new PutObjectCommand({ Bucket: O, Key: "dir/a b", Body: "x" }));
        await c.send(new CopyObjectCommand({ Bucket: O, Key: "c", CopySource: `${O}/dir/a%20b` }));
        await c.send(
          new PutObjectTaggingCommand({
            Bucket: O,
            Key: "c",
            Tagging: { TagSet: [{ Key: "t", Value: "1" }] },
          }),
        );
        await c.send(new DeleteObjectCommand({ Bucket: O, Key: "c" }));
        await c.send(
          new DeleteObjectsCommand({ Bucket: O, Delete: { Objects: [{ Key: "dir/a b" }] } }),
        );
        await assertS3Error(
          () => c.send(new PutObjectCommand({ Bucket: "aud-missing", Key: "k", Body: "x" })),
          "NoSuchBucket",
          404,
        );
        const got = (await entries("object")).map((e) => {
          assertEquals(e.actorName, acme.admin.username);
          assert(e.detail?.includes("request "), e.detail ?? "");
          return `${e.action} ${e.resource} ${e.result}`;
        });
        assertEquals(got, [
          `object.put bucket/${O}/dir/a b success`,
          `object.copy bucket/${O}/c success`,
          `object.tagging.put bucket/${O}/c success`,
          `object.delete bucket/${O}/c success`,
          `object.delete-multiple bucket/${O} success`,
          "object.put bucket/aud-missing/k failure",
        ]);
        // Reads are never audited.
        assertEquals((await entries("")).filter((e) => /get|head|list/i.test(e.action)), []);
      },
    );

    await t.step("changes made from the console are audited as the console user", async () => {
      await mark();
      const created = await s.api("/buckets", {
        token: s.adminToken,
        body: { name: "aud-console", versioning: true },
      });
      assertEquals(created.status, 201);
      const tagged = await s.api("/s3/aud-console?tagging", {
        method: "PUT",
        token: s.adminToken,
        headers: { "content-type": "application/xml" },
        body: undefined,
      });
      assert(tagged.status >= 400, "an empty tagging document is refused (and audited)");
      const cors =
        "<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>";
      const res = await fetch(`${s.srv.consoleUrl}/api/v1/s3/aud-console?cors`, {
        method: "PUT",
        headers: {
          authorization: `Bearer ${s.adminToken}`,
          "content-type": "application/xml",
          "content-md5": createHash("md5").update(cors).digest("base64"),
        },
        body: cors,
      });
      assertEquals(res.status, 200, await res.text());
      const got = (await entries("bucket")).map((e) => {
        assertEquals(e.actorName, "admin", e.action);
        return `${e.action} ${e.resource} ${e.result}`;
      });
      assertEquals(got, [
        "bucket.create bucket/aud-console success",
        "bucket.versioning.put bucket/aud-console success",
        "bucket.tagging.put bucket/aud-console failure",
        "bucket.cors.put bucket/aud-console success",
      ]);
    });
  } finally {
    await s.stop();
  }
});
