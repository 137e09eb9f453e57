/**
 * Tenant quotas: 32 parallel writers cannot push a tenant past its storage quota; bucket and
 * access-key quotas; usage counters stay exact after overwrites and deletes.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { randomBytes } from "./_helpers/server.ts";
import { postObject } from "./_helpers/post_form.ts";
import { errorCode } from "./_helpers/signed_fetch.ts";
import { makeTenant, startIamServer } from "./iam_fixture.ts";

const KiB = 1024;

Deno.test("tenant quotas", async (t) => {
  const s = await startIamServer();
  try {
    const q = await makeTenant(s, "quota-t", {
      maxBytes: 100 * KiB,
      maxBuckets: 2,
      maxAccessKeys: 3,
    });
    const c = s.s3(q.user.key, q.user.secret);
    await c.send(new CreateBucketCommand({ Bucket: "qb1" }));
    const usage = async () =>
      (await s.api(`/tenants/${q.tenantId}`, { token: s.adminToken })).body.usage;

    await t.step(
      "32 parallel 10 KiB uploads into a 100 KiB quota: exactly 10 succeed",
      async () => {
        const body = randomBytes(10 * KiB, 7);
        const results = await Promise.allSettled(
          Array.from(
            { length: 32 },
            (_, i) => c.send(new PutObjectCommand({ Bucket: "qb1", Key: `obj-${i}`, Body: body })),
          ),
        );
        const ok = results.filter((r) => r.status === "fulfilled").length;
        const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
        for (const f of failed) {
          const e = f.reason as { name?: string; $metadata?: { httpStatusCode?: number } };
          assertEquals(e.name, "QuotaExceeded");
          assertEquals(e.$metadata?.httpStatusCode, 403);
        }
        assertEquals(ok, 10);
        const u = await usage();
        assertEquals(u.bytes, 100 * KiB);
        assertEquals(u.objects, 10);
      },
    );

    await t.step(
      "CopyObject, UploadPart and PutObject refused over quota; Complete of reserved parts fits",
      async () => {
        await assertS3Error(
          () =>
            c.send(new CopyObjectCommand({ Bucket: "qb1", Key: "copy", CopySource: "qb1/obj-x" })),
          "NoSuchKey",
        );
        const first = (await s.api("/s3/qb1?list-type=2", { token: q.user.token })).body as string;
        const key = /<Key>([^<]+)<\/Key>/.exec(first)![1];
        await assertS3Error(
          () =>
            c.send(new CopyObjectCommand({ Bucket: "qb1", Key: "copy", CopySource: `qb1/${key}` })),
          "QuotaExceeded",
          403,
        );
        await assertS3Error(
          () => c.send(new PutObjectCommand({ Bucket: "qb1", Key: "one-more", Body: "x" })),
          "QuotaExceeded",
          403,
        );
        await c.send(new DeleteObjectCommand({ Bucket: "qb1", Key: key }));
        assertEquals((await usage()).bytes, 90 * KiB);
        // Accepted parts reserve their bytes: 9 KiB fits (90 + 9), 2 KiB more does not.
        const mp = await c.send(new CreateMultipartUploadCommand({ Bucket: "qb1", Key: "mp" }));
        const uploadPart = (n: number, size: number) =>
          c.send(
            new UploadPartCommand({
              Bucket: "qb1",
              Key: "mp",
              UploadId: mp.UploadId,
              PartNumber: n,
              Body: randomBytes(size, n),
            }),
          );
        const part = await uploadPart(1, 9 * KiB);
        assertEquals((await usage()).reserved, 9 * KiB);
        await assertS3Error(() => uploadPart(2, 2 * KiB), "QuotaExceeded", 403);
        await assertS3Error(
          () =>
            c.send(
              new PutObjectCommand({ Bucket: "qb1", Key: "filler", Body: randomBytes(2 * KiB) }),
            ),
          "QuotaExceeded",
          403,
        );
        await c.send(
          new CompleteMultipartUploadCommand({
            Bucket: "qb1",
            Key: "mp",
            UploadId: mp.UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          }),
        );
        await eventually(async () => (await usage()).reserved === 0);
        assertEquals((await usage()).bytes, 99 * KiB);
      },
    );

    await t.step("an overwrite that shrinks an object is allowed at the limit", async () => {
      const before = await usage();
      const key = "obj-shrink";
      await c.send(new DeleteObjectCommand({ Bucket: "qb1", Key: "filler" }));
      const free = 100 * KiB - (await usage()).bytes;
      await c.send(new PutObjectCommand({ Bucket: "qb1", Key: key, Body: randomBytes(free) }));
      await c.send(new PutObjectCommand({ Bucket: "qb1", Key: key, Body: randomBytes(10) }));
      const after = await usage();
      assertEquals(after.bytes, 100 * KiB - free + 10);
      assert(before.objects >= 9);
    });

    await t.step("bucket quota: TooManyBuckets at CreateBucket", async () => {
      await c.send(new CreateBucketCommand({ Bucket: "qb2" }));
      await assertS3Error(
        () => c.send(new CreateBucketCommand({ Bucket: "qb3" })),
        "TooManyBuckets",
        400,
      );
      assertEquals((await usage()).buckets, 2);
    });

    await t.step("access-key quota: 409 QuotaExceeded", async () => {
      const k3 = await s.api("/access-keys", { token: q.user.token, body: {} });
      assertEquals(k3.status, 201);
      const k4 = await s.api("/access-keys", { token: q.user.token, body: {} });
      assertEquals(k4.status, 409);
      assertEquals(k4.body.error.code, "QuotaExceeded");
      assertEquals((await usage()).accessKeys, 3);
    });

    await t.step("versioned buckets count every version; delete markers free nothing", async () => {
      await s.api(`/tenants/${q.tenantId}`, {
        method: "PATCH",
        token: s.adminToken,
        body: { quota: { maxBytes: 1024 * KiB } },
      });
      await c.send(
        new PutBucketVersioningCommand({
          Bucket: "qb2",
          VersioningConfiguration: { Status: "Enabled" },
        }),
      );
      const before = (await usage()).bytes;
      await c.send(new PutObjectCommand({ Bucket: "qb2", Key: "v", Body: randomBytes(3 * KiB) }));
      await c.send(new PutObjectCommand({ Bucket: "qb2", Key: "v", Body: randomBytes(2 * KiB) }));
      assertEquals((await usage()).bytes, before + 5 * KiB);
      await c.send(new DeleteObjectCommand({ Bucket: "qb2", Key: "v" }));
      assertEquals((await usage()).bytes, before + 5 * KiB);
      const versions = await c.send(new ListObjectVersionsCommand({ Bucket: "qb2" }));
      for (const v of versions.Versions ?? []) {
        await c.send(new DeleteObjectCommand({ Bucket: "qb2", Key: "v", VersionId: v.VersionId }));
      }
      assertEquals((await usage()).bytes, before);
    });

    await t.step("raising the quota lets writes through again", async () => {
      const r = await s.api(`/tenants/${q.tenantId}`, {
        method: "PATCH",
        token: s.adminToken,
        body: { quota: { maxBytes: 2048 * KiB } },
      });
      assertEquals(r.body.quota.maxBytes, 2048 * KiB);
      assertEquals(r.body.quota.maxBuckets, 2, "a partial quota patch keeps the other limits");
      await c.send(
        new PutObjectCommand({ Bucket: "qb1", Key: "fits-now", Body: randomBytes(KiB) }),
      );
    });

    await t.step("an UploadPart under a quota with a junk upload id is NoSuchUpload", async () => {
      // The reservation is keyed by the upload id: one longer than a KV key allows was a 500.
      for (const UploadId of ["not-an-upload", "x".repeat(3000)]) {
        await assertS3Error(
          () =>
            c.send(
              new UploadPartCommand({
                Bucket: "qb1",
                Key: "k",
                UploadId,
                PartNumber: 1,
                Body: randomBytes(KiB),
              }),
            ),
          "NoSuchUpload",
          404,
        );
      }
      assertEquals((await usage()).reserved, 0);
    });

    await t.step(
      "32 parallel UploadParts cannot reserve past the quota; Abort frees them",
      async () => {
        const u0 = await usage();
        await s.api(`/tenants/${q.tenantId}`, {
          method: "PATCH",
          token: s.adminToken,
          body: { quota: { maxBytes: u0.bytes + 50 * KiB } },
        });
        const mp = await c.send(new CreateMultipartUploadCommand({ Bucket: "qb1", Key: "race" }));
        const results = await Promise.allSettled(
          Array.from({ length: 32 }, (_, i) =>
            c.send(
              new UploadPartCommand({
                Bucket: "qb1",
                Key: "race",
                UploadId: mp.UploadId,
                PartNumber: i + 1,
                Body: randomBytes(10 * KiB, i + 1),
              }),
            )),
        );
        const ok = results.filter((r) => r.status === "fulfilled").length;
        for (const r of results) {
          if (r.status === "rejected") assertEquals(r.reason.name, "QuotaExceeded");
        }
        assertEquals(ok, 5);
        assertEquals((await usage()).reserved, 50 * KiB);
        await c.send(
          new AbortMultipartUploadCommand({ Bucket: "qb1", Key: "race", UploadId: mp.UploadId }),
        );
        await eventually(async () => (await usage()).reserved === 0);
        assertEquals((await usage()).bytes, u0.bytes);
      },
    );

    await t.step(
      "reservation gaps: re-uploaded parts, COPY/POST, mixed PUT/UploadPart race",
      async (t) => {
        const g = await makeTenant(s, "quota-gaps", { maxBytes: 100 * KiB });
        const gc = s.s3(g.user.key, g.user.secret);
        await gc.send(new CreateBucketCommand({ Bucket: "gapb" }));
        const gUsage = async () =>
          (await s.api(`/tenants/${g.tenantId}`, { token: s.adminToken })).body.usage;
        const mp = await gc.send(new CreateMultipartUploadCommand({ Bucket: "gapb", Key: "mp" }));
        const uploadPart = (n: number, size: number) =>
          gc.send(
            new UploadPartCommand({
              Bucket: "gapb",
              Key: "mp",
              UploadId: mp.UploadId,
              PartNumber: n,
              Body: randomBytes(size, n),
            }),
          );

        await t.step(
          "a re-uploaded part number gives back the reservation it replaces",
          async () => {
            for (let i = 0; i < 3; i++) await uploadPart(1, 10 * KiB);
            await eventually(async () => (await gUsage()).reserved === 10 * KiB);
            await uploadPart(1, 4 * KiB);
            await eventually(async () => (await gUsage()).reserved === 4 * KiB);
            // 10 more KiB fit now only because the replaced reservations were released.
            for (let n = 2; n <= 9; n++) await uploadPart(n, 10 * KiB);
            await eventually(async () => (await gUsage()).reserved === 84 * KiB);
          },
        );

        await t.step("CopyObject and PostObject count multipart reservations", async () => {
          await uploadPart(9, 1 * KiB); // reserved: 4 + 70 + 1 = 75 KiB
          await eventually(async () => (await gUsage()).reserved === 75 * KiB);
          await gc.send(
            new PutObjectCommand({ Bucket: "gapb", Key: "src", Body: randomBytes(20 * KiB) }),
          );
          // stored 20 + reserved 75 = 95: a 20 KiB copy or POST would end at 115 KiB.
          await assertS3Error(
            () =>
              gc.send(
                new CopyObjectCommand({ Bucket: "gapb", Key: "copy", CopySource: "gapb/src" }),
              ),
            "QuotaExceeded",
            403,
          );
          const post = () =>
            postObject({
              endpoint: s.srv.endpoint,
              bucket: "gapb",
              key: "posted",
              cred: g.user,
              file: randomBytes(20 * KiB),
            });
          const res = await post();
          assertEquals(res.status, 403);
          assertEquals(await errorCode(res), "QuotaExceeded");
          const u = await gUsage();
          assertEquals(u.bytes + u.reserved, 95 * KiB);
          await gc.send(
            new AbortMultipartUploadCommand({ Bucket: "gapb", Key: "mp", UploadId: mp.UploadId }),
          );
          await eventually(async () => (await gUsage()).reserved === 0);
          await gc.send(
            new CopyObjectCommand({ Bucket: "gapb", Key: "copy", CopySource: "gapb/src" }),
          );
          const ok = await post();
          assertEquals(ok.status, 204);
          assertEquals((await gUsage()).bytes, 60 * KiB);
        });

        await t.step(
          "32 mixed parallel PutObject and UploadPart requests stop at the quota",
          async () => {
            // 40 KiB left: exactly 4 of the 32 10-KiB writes fit, whichever kind wins.
            const up = await gc.send(
              new CreateMultipartUploadCommand({ Bucket: "gapb", Key: "race" }),
            );
            const results = await Promise.allSettled(
              Array.from({ length: 32 }, (_, i) =>
                i % 2
                  ? gc.send(
                    new PutObjectCommand({
                      Bucket: "gapb",
                      Key: `p${i}`,
                      Body: randomBytes(10 * KiB, i),
                    }),
                  )
                  : gc.send(
                    new UploadPartCommand({
                      Bucket: "gapb",
                      Key: "race",
                      UploadId: up.UploadId,
                      PartNumber: i + 1,
                      Body: randomBytes(10 * KiB, i),
                    }),
                  )),
            );
            for (const r of results) {
              if (r.status === "rejected") assertEquals(r.reason.name, "QuotaExceeded");
            }
            assertEquals(results.filter((r) => r.status === "fulfilled").length, 4);
            const u = await gUsage();
            assertEquals(u.bytes + u.reserved, 100 * KiB);
            await gc.send(
              new AbortMultipartUploadCommand({
                Bucket: "gapb",
                Key: "race",
                UploadId: up.UploadId,
              }),
            );
          },
        );
      },
    );

    await t.step("a tenant admin cannot raise its own quota", async () => {
      const r = await s.api(`/tenants/${q.tenantId}`, {
        method: "PATCH",
        token: q.admin.token,
        body: { quota: { maxBytes: null } },
      });
      assertEquals(r.status, 403);
    });
  } finally {
    await s.stop();
  }
});

/** Polls a condition that becomes true shortly after a response (post-response bookkeeping). */
async function eventually(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not met within 5 s");
}
