import { createHash } from "node:crypto";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";

const DAY = 86_400_000;
const inDays = (d: number) => new Date(Date.now() + d * DAY);

Deno.test("Object Lock through the AWS SDK", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  const B = "locked";
  try {
    await t.step("a lock bucket is versioned and cannot be suspended", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: B, ObjectLockEnabledForBucket: true }));
      const v = await s3.send(new GetBucketVersioningCommand({ Bucket: B }));
      assertEquals(v.Status, "Enabled");
      const c = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: B }));
      assertEquals(c.ObjectLockConfiguration?.ObjectLockEnabled, "Enabled");
      assertEquals(c.ObjectLockConfiguration?.Rule, undefined);
      await assertS3Error(
        () =>
          s3.send(
            new PutBucketVersioningCommand({
              Bucket: B,
              VersioningConfiguration: { Status: "Suspended" },
            }),
          ),
        "InvalidBucketState",
        409,
      );
    });

    await t.step("GOVERNANCE: delete of the version is denied unless bypassed", async () => {
      const until = inDays(2);
      const p = await s3.send(
        new PutObjectCommand({
          Bucket: B,
          Key: "g",
          Body: "gov",
          ObjectLockMode: "GOVERNANCE",
          ObjectLockRetainUntilDate: until,
        }),
      );
      const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "g" }));
      assertEquals(h.ObjectLockMode, "GOVERNANCE");
      assertEquals(h.ObjectLockRetainUntilDate?.getTime(), until.getTime());
      const r = await s3.send(
        new GetObjectRetentionCommand({ Bucket: B, Key: "g", VersionId: p.VersionId }),
      );
      assertEquals(r.Retention?.Mode, "GOVERNANCE");
      await assertS3Error(
        () => s3.send(new DeleteObjectCommand({ Bucket: B, Key: "g", VersionId: p.VersionId })),
        "AccessDenied",
        403,
      );
      // A new version of a locked key is always accepted, and so is a delete marker.
      const p2 = await s3.send(new PutObjectCommand({ Bucket: B, Key: "g", Body: "gov2" }));
      assert(p2.VersionId !== p.VersionId);
      const m = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "g" }));
      assertEquals(m.DeleteMarker, true);
      // Shortening GOVERNANCE needs the bypass too.
      await assertS3Error(
        () =>
          s3.send(
            new PutObjectRetentionCommand({
              Bucket: B,
              Key: "g",
              VersionId: p.VersionId,
              Retention: { Mode: "GOVERNANCE", RetainUntilDate: inDays(1) },
            }),
          ),
        "AccessDenied",
        403,
      );
      await s3.send(
        new DeleteObjectCommand({
          Bucket: B,
          Key: "g",
          VersionId: p.VersionId,
          BypassGovernanceRetention: true,
        }),
      );
      await assertS3Error(
        () => s3.send(new HeadObjectCommand({ Bucket: B, Key: "g", VersionId: p.VersionId })),
        "NotFound",
        404,
      );
    });

    await t.step("COMPLIANCE: can be extended, never shortened, switched or bypassed", async () => {
      const p = await s3.send(
        new PutObjectCommand({
          Bucket: B,
          Key: "c",
          Body: "comp",
          ObjectLockMode: "COMPLIANCE",
          ObjectLockRetainUntilDate: inDays(2),
        }),
      );
      const vid = p.VersionId;
      for (
        const Retention of [
          { Mode: "COMPLIANCE" as const, RetainUntilDate: inDays(1) },
          { Mode: "GOVERNANCE" as const, RetainUntilDate: inDays(5) },
        ]
      ) {
        await assertS3Error(
          () =>
            s3.send(
              new PutObjectRetentionCommand({
                Bucket: B,
                Key: "c",
                VersionId: vid,
                Retention,
                BypassGovernanceRetention: true,
              }),
            ),
          "AccessDenied",
          403,
        );
      }
      const later = inDays(10);
      await s3.send(
        new PutObjectRetentionCommand({
          Bucket: B,
          Key: "c",
          VersionId: vid,
          Retention: { Mode: "COMPLIANCE", RetainUntilDate: later },
        }),
      );
      const r = await s3.send(
        new GetObjectRetentionCommand({ Bucket: B, Key: "c", VersionId: vid }),
      );
      assertEquals(r.Retention?.RetainUntilDate?.getTime(), later.getTime());
      await assertS3Error(
        () =>
          s3.send(
            new DeleteObjectCommand({
              Bucket: B,
              Key: "c",
              VersionId: vid,
              BypassGovernanceRetention: true,
            }),
          ),
        "AccessDenied",
        403,
      );
      const d = await s3.send(
        new DeleteObjectsCommand({
          Bucket: B,
          Delete: { Objects: [{ Key: "c", VersionId: vid }] },
        }),
      );
      assertEquals(d.Errors?.map((e) => e.Code), ["AccessDenied"]);
    });

    await t.step("legal hold blocks deletion until released", async () => {
      const p = await s3.send(
        new PutObjectCommand({
          Bucket: B,
          Key: "h",
          Body: "hold",
          ObjectLockLegalHoldStatus: "ON",
        }),
      );
      const vid = p.VersionId;
      const g = await s3.send(
        new GetObjectLegalHoldCommand({ Bucket: B, Key: "h", VersionId: vid }),
      );
      assertEquals(g.LegalHold?.Status, "ON");
      await assertS3Error(
        () =>
          s3.send(
            new DeleteObjectCommand({
              Bucket: B,
              Key: "h",
              VersionId: vid,
              BypassGovernanceRetention: true,
            }),
          ),
        "AccessDenied",
        403,
      );
      await s3.send(
        new PutObjectLegalHoldCommand({
          Bucket: B,
          Key: "h",
          VersionId: vid,
          LegalHold: { Status: "OFF" },
        }),
      );
      await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "h", VersionId: vid }));
    });

    await t.step("multipart uploads carry lock headers into the completed version", async () => {
      const until = inDays(4);
      const up = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: B,
          Key: "mp",
          ObjectLockMode: "COMPLIANCE",
          ObjectLockRetainUntilDate: until,
          ObjectLockLegalHoldStatus: "ON",
        }),
      );
      const part = await s3.send(
        new UploadPartCommand({
          Bucket: B,
          Key: "mp",
          UploadId: up.UploadId,
          PartNumber: 1,
          Body: "part",
        }),
      );
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: B,
          Key: "mp",
          UploadId: up.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      );
      assert(done.VersionId && done.VersionId !== "null");
      const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "mp" }));
      assertEquals(
        [h.ObjectLockMode, h.ObjectLockRetainUntilDate?.getTime(), h.ObjectLockLegalHoldStatus],
        ["COMPLIANCE", until.getTime(), "ON"],
      );
      await assertS3Error(
        () => s3.send(new DeleteObjectCommand({ Bucket: B, Key: "mp", VersionId: done.VersionId })),
        "AccessDenied",
        403,
      );
    });

    await t.step("default retention applies to new versions", async () => {
      await s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: B,
          ObjectLockConfiguration: {
            ObjectLockEnabled: "Enabled",
            Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 3 } },
          },
        }),
      );
      const c = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: B }));
      assertEquals(c.ObjectLockConfiguration?.Rule?.DefaultRetention, {
        Mode: "GOVERNANCE",
        Days: 3,
      });
      const before = Date.now();
      await s3.send(new PutObjectCommand({ Bucket: B, Key: "d", Body: "def" }));
      const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "d" }));
      assertEquals(h.ObjectLockMode, "GOVERNANCE");
      const until = h.ObjectLockRetainUntilDate!.getTime();
      assert(until >= before + 3 * DAY - 5000 && until <= Date.now() + 3 * DAY + 5000);
    });

    await t.step("invalid lock configurations and headers", async () => {
      const cfg = (rule: string) =>
        `<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>${rule}</ObjectLockConfiguration>`;
      const cases: [string, number, string][] = [
        [
          cfg(
            "<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years></DefaultRetention></Rule>",
          ),
          400,
          "MalformedXML",
        ],
        [
          cfg(
            "<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>0</Days></DefaultRetention></Rule>",
          ),
          400,
          "InvalidArgument",
        ],
        [
          cfg("<Rule><DefaultRetention><Mode>WEIRD</Mode><Days>1</Days></DefaultRetention></Rule>"),
          400,
          "MalformedXML",
        ],
      ];
      for (const [body, status, code] of cases) {
        const res = await signedFetch(srv, {
          method: "PUT",
          path: `/${B}`,
          query: { "object-lock": "" },
          headers: { "content-md5": createHash("md5").update(body).digest("base64") },
          body,
        });
        assertEquals([res.status, await errorCode(res)], [status, code], body);
      }
      const res = await signedFetch(srv, {
        method: "PUT",
        path: `/${B}/bad`,
        headers: { "x-amz-object-lock-mode": "GOVERNANCE" },
        body: "x",
      });
      assertEquals([res.status, await errorCode(res)], [400, "InvalidArgument"]);
      const past = await signedFetch(srv, {
        method: "PUT",
        path: `/${B}/bad`,
        headers: {
          "x-amz-object-lock-mode": "GOVERNANCE",
          "x-amz-object-lock-retain-until-date": "2001-01-01T00:00:00Z",
        },
        body: "x",
      });
      assertEquals([past.status, await errorCode(past)], [400, "InvalidArgument"]);
    });

    await t.step("buckets without Object Lock refuse lock settings", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "plain" }));
      await assertS3Error(
        () => s3.send(new GetObjectLockConfigurationCommand({ Bucket: "plain" })),
        "ObjectLockConfigurationNotFoundError",
        404,
      );
      await assertS3Error(
        () =>
          s3.send(
            new PutObjectCommand({
              Bucket: "plain",
              Key: "x",
              Body: "x",
              ObjectLockLegalHoldStatus: "ON",
            }),
          ),
        "InvalidRequest",
        400,
      );
      await assertS3Error(
        () =>
          s3.send(
            new CreateMultipartUploadCommand({
              Bucket: "plain",
              Key: "x",
              ObjectLockLegalHoldStatus: "ON",
            }),
          ),
        "InvalidRequest",
        400,
      );
      await s3.send(new PutObjectCommand({ Bucket: "plain", Key: "x", Body: "x" }));
      await assertS3Error(
        () => s3.send(new GetObjectRetentionCommand({ Bucket: "plain", Key: "x" })),
        "InvalidRequest",
        400,
      );
      // Turning Object Lock on later needs versioning Enabled first.
      const enable = new PutObjectLockConfigurationCommand({
        Bucket: "plain",
        ObjectLockConfiguration: { ObjectLockEnabled: "Enabled" },
      });
      await assertS3Error(() => s3.send(enable), "InvalidBucketState", 409);
      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: "plain",
          VersioningConfiguration: { Status: "Enabled" },
        }),
      );
      await s3.send(enable);
      await assertS3Error(
        () => s3.send(new GetObjectRetentionCommand({ Bucket: "plain", Key: "x" })),
        "NoSuchObjectLockConfiguration",
        404,
      );
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
