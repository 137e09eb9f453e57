/**
 * x-amz-abort-date / x-amz-abort-rule-id on CreateMultipartUpload and ListParts when an enabled
 * lifecycle AbortIncompleteMultipartUpload rule covers the key (the earliest rule wins; days
 * after initiation rounded up to midnight UTC, as the lifecycle worker aborts).
 */
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutBucketLifecycleConfigurationCommand,
} from "@aws-sdk/client-s3";
import { assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";

const B = "mp-abort-date";
const DAY = 86_400_000;

Deno.test("abort date headers from lifecycle rules", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await s3.send(new CreateBucketCommand({ Bucket: `${B}-none` }));
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: B,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: "all-7",
              Status: "Enabled",
              Filter: { Prefix: "" },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            },
            {
              ID: "tmp-3",
              Status: "Enabled",
              Filter: { Prefix: "tmp/" },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 },
            },
            {
              ID: "off-1",
              Status: "Disabled",
              Filter: { Prefix: "tmp/" },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            },
            { ID: "exp", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 1 } },
          ],
        },
      }),
    );
    const initiated = async (Bucket: string, UploadId: string) => {
      const l = await s3.send(new ListMultipartUploadsCommand({ Bucket }));
      return l.Uploads!.find((u) => u.UploadId === UploadId)!.Initiated!.getTime();
    };
    const due = (at: number, days: number) => Math.ceil((at + days * DAY) / DAY) * DAY;

    await t.step("CreateMultipartUpload and ListParts name the earliest rule", async () => {
      for (const [Key, rule, days] of [["tmp/x", "tmp-3", 3], ["other", "all-7", 7]] as const) {
        const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key }));
        const want = due(await initiated(B, c.UploadId!), days);
        assertEquals([c.AbortDate?.getTime(), c.AbortRuleId], [want, rule], Key);
        const lp = await s3.send(new ListPartsCommand({ Bucket: B, Key, UploadId: c.UploadId }));
        assertEquals([lp.AbortDate?.getTime(), lp.AbortRuleId], [want, rule], Key);
      }
    });

    await t.step("no abort rule, no headers", async () => {
      const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: `${B}-none`, Key: "k" }));
      assertEquals([c.AbortDate, c.AbortRuleId], [undefined, undefined]);
      const lp = await s3.send(
        new ListPartsCommand({ Bucket: `${B}-none`, Key: "k", UploadId: c.UploadId }),
      );
      assertEquals([lp.AbortDate, lp.AbortRuleId], [undefined, undefined]);
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
