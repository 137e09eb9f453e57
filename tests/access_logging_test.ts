/**
 * Server access logging through the SDK: Put/GetBucketLogging round trips and errors, then a
 * logged bucket's requests delivered as log objects into the target bucket (delivered on
 * `app.accessLogs.flush()` here, as the timer and shutdown do), whose lines parse in AWS's field
 * order.
 */
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  CreateBucketCommand,
  GetBucketLoggingCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutBucketLoggingCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { startApp } from "./_helpers/app.ts";
import { parseLogRecord } from "../server/features/access_logging/format.ts";

const AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

async function logObjects(s3: S3Client, Bucket: string, Prefix: string) {
  const r = await s3.send(new ListObjectsV2Command({ Bucket, Prefix }));
  return (r.Contents ?? []).map((c) => c.Key!);
}

async function linesOf(s3: S3Client, Bucket: string, keys: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const Key of keys) {
    const r = await s3.send(new GetObjectCommand({ Bucket, Key }));
    out.push(...(await r.Body!.transformToString()).trimEnd().split("\n"));
  }
  return out;
}

Deno.test("server access logging", async (t) => {
  const { app, s3, stop } = await startApp();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "logged" }));
    await s3.send(new CreateBucketCommand({ Bucket: "log-target" }));
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: "log-target",
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
        },
      }),
    );

    await t.step("logging is off until configured; round trip", async () => {
      const off = await s3.send(new GetBucketLoggingCommand({ Bucket: "logged" }));
      assertEquals(off.LoggingEnabled, undefined);
      await s3.send(
        new PutBucketLoggingCommand({
          Bucket: "logged",
          BucketLoggingStatus: {
            LoggingEnabled: {
              TargetBucket: "log-target",
              TargetPrefix: "logs/",
              TargetGrants: [{
                Grantee: { Type: "Group", URI: AUTHENTICATED },
                Permission: "READ",
              }],
            },
          },
        }),
      );
      const on = await s3.send(new GetBucketLoggingCommand({ Bucket: "logged" }));
      assertEquals(on.LoggingEnabled?.TargetBucket, "log-target");
      assertEquals(on.LoggingEnabled?.TargetPrefix, "logs/");
      assertEquals(on.LoggingEnabled?.TargetGrants?.map((g) => [g.Grantee?.URI, g.Permission]), [
        [AUTHENTICATED, "READ"],
      ]);
    });

    await t.step("a missing target is InvalidTargetBucketForLogging; nothing changes", async () => {
      await assertS3Error(
        () =>
          s3.send(
            new PutBucketLoggingCommand({
              Bucket: "logged",
              BucketLoggingStatus: {
                LoggingEnabled: { TargetBucket: "no-such-target", TargetPrefix: "x/" },
              },
            }),
          ),
        "InvalidTargetBucketForLogging",
        400,
      );
      const on = await s3.send(new GetBucketLoggingCommand({ Bucket: "logged" }));
      assertEquals(on.LoggingEnabled?.TargetBucket, "log-target");
    });

    await t.step("requests become records in AWS's format in log objects", async () => {
      await s3.send(new PutObjectCommand({ Bucket: "logged", Key: "dir/a b.txt", Body: "hello" }));
      const got = await s3.send(new GetObjectCommand({ Bucket: "logged", Key: "dir/a b.txt" }));
      await got.Body!.transformToString();
      await assertS3Error(
        () => s3.send(new HeadObjectCommand({ Bucket: "logged", Key: "missing" })),
        "NotFound",
        404,
      );
      // Requests to other buckets are not logged.
      await s3.send(new PutObjectCommand({ Bucket: "log-target", Key: "other", Body: "x" }));
      await app.accessLogs.flush();
      const keys = await logObjects(s3, "log-target", "logs/");
      assertEquals(keys.length, 1);
      assert(/^logs\/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/.test(keys[0]), keys[0]);
      const records = (await linesOf(s3, "log-target", keys)).map(parseLogRecord);
      // The target's default encryption applies to log objects, as to any PUT without headers.
      const stored = await s3.send(new HeadObjectCommand({ Bucket: "log-target", Key: keys[0] }));
      assertEquals(stored.ServerSideEncryption, "AES256");
      // The target grants are given on each log object, beside its owner's FULL_CONTROL.
      const acl = await s3.send(new GetObjectAclCommand({ Bucket: "log-target", Key: keys[0] }));
      assertEquals(acl.Grants?.map((g) => [g.Grantee?.URI ?? g.Grantee?.ID, g.Permission]), [
        ["root", "FULL_CONTROL"],
        [AUTHENTICATED, "READ"],
      ]);
      // From the PutBucketLogging that turned logging on (the failed one too) to the HEAD.
      assertEquals(records.map((r) => r.operation), [
        "REST.PUT.LOGGING_STATUS",
        "REST.GET.LOGGING_STATUS",
        "REST.PUT.LOGGING_STATUS",
        "REST.GET.LOGGING_STATUS",
        "REST.PUT.OBJECT",
        "REST.GET.OBJECT",
        "REST.HEAD.OBJECT",
      ]);
      assertEquals(records[2].httpStatus, "400");
      assertEquals(records[2].errorCode, "InvalidTargetBucketForLogging");
      assertEquals(records[2].key, "-");
      const [put, get, head] = records.slice(4);
      assertEquals(put.bucket, "logged");
      assertEquals(put.bucketOwner, "root");
      assertEquals(put.requester, "root");
      assertEquals(put.key, "dir/a%20b.txt");
      assertEquals(put.httpStatus, "200");
      assertEquals(put.errorCode, "-");
      assertEquals(put.objectSize, "5");
      assertEquals(put.signatureVersion, "SigV4");
      assertEquals(put.authType, "AuthHeader");
      assertEquals(put.remoteIp, "127.0.0.1");
      assert(
        /^PUT \/logged\/dir\/a%20b\.txt(\?.*)? HTTP\/1\.1$/.test(put.requestUri),
        put.requestUri,
      );
      assert(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/.test(put.time), put.time);
      assert(put.userAgent.includes("aws-sdk-js"), put.userAgent);
      assertEquals(get.bytesSent, "5");
      assertEquals(get.objectSize, "5");
      assertEquals(head.httpStatus, "404");
      assertEquals(head.errorCode, "NoSuchKey");
      assertEquals(head.hostId, head.requestId);
    });

    await t.step("a partitioned prefix; an empty status turns logging off", async () => {
      await s3.send(
        new PutBucketLoggingCommand({
          Bucket: "logged",
          BucketLoggingStatus: {
            LoggingEnabled: {
              TargetBucket: "log-target",
              TargetPrefix: "part/",
              TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: "EventTime" } },
            },
          },
        }),
      );
      const on = await s3.send(new GetBucketLoggingCommand({ Bucket: "logged" }));
      assertEquals(
        on.LoggingEnabled?.TargetObjectKeyFormat?.PartitionedPrefix?.PartitionDateSource,
        "EventTime",
      );
      await s3.send(new PutObjectCommand({ Bucket: "logged", Key: "p", Body: "p" }));
      await app.accessLogs.flush();
      const keys = await logObjects(s3, "log-target", "part/");
      assertEquals(keys.length, 1);
      assert(
        /^part\/root\/us-east-1\/logged\/\d{4}\/\d{2}\/\d{2}\/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/
          .test(keys[0]),
        keys[0],
      );
      // The GetBucketLogging and PutObject of this step, and the PutBucketLogging that began it.
      const ops = (await linesOf(s3, "log-target", keys)).map((l) => parseLogRecord(l).operation);
      assertEquals(ops, ["REST.PUT.LOGGING_STATUS", "REST.GET.LOGGING_STATUS", "REST.PUT.OBJECT"]);

      await s3.send(new PutBucketLoggingCommand({ Bucket: "logged", BucketLoggingStatus: {} }));
      const off = await s3.send(new GetBucketLoggingCommand({ Bucket: "logged" }));
      assertEquals(off.LoggingEnabled, undefined);
      await s3.send(new PutObjectCommand({ Bucket: "logged", Key: "q", Body: "q" }));
      await app.accessLogs.flush();
      const after = [
        ...await logObjects(s3, "log-target", "logs/"),
        ...await logObjects(s3, "log-target", "part/"),
      ];
      // Nothing was recorded once logging was off (the request turning it off included).
      assertEquals(after.length, 2);
    });
  } finally {
    await stop();
  }
});
