/**
 * Bucket inventory through the SDK: configuration round trips and AWS's errors, then reports
 * written by the worker with an injected time (`app.inventory.runDue(now)` "a day later"), read
 * back from the destination: the manifest, its checksum, the gzip CSV rows and the hive symlink.
 */
import { createHash } from "node:crypto";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  CreateBucketCommand,
  DeleteBucketInventoryConfigurationCommand,
  DeleteObjectCommand,
  GetBucketInventoryConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type InventoryConfiguration,
  ListBucketInventoryConfigurationsCommand,
  ListObjectsV2Command,
  PutBucketInventoryConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { startApp } from "./_helpers/app.ts";
import { InventoryWorker } from "../server/features/inventory/worker.ts";
import { signedFetch } from "./_helpers/signed_fetch.ts";
import { TEST_ACCESS_KEY, TEST_SECRET_KEY, type TestServer } from "./_helpers/server.ts";

const DAY = 86_400_000;

function config(id: string, over: Partial<InventoryConfiguration> = {}): InventoryConfiguration {
  return {
    Id: id,
    IsEnabled: true,
    Destination: {
      S3BucketDestination: { Bucket: "arn:aws:s3:::inv-dest", Format: "CSV", Prefix: "reports" },
    },
    IncludedObjectVersions: "Current",
    Schedule: { Frequency: "Daily" },
    ...over,
  };
}

async function text(s3: S3Client, Bucket: string, Key: string): Promise<string> {
  const r = await s3.send(new GetObjectCommand({ Bucket, Key }));
  return await r.Body!.transformToString();
}

async function gunzip(s3: S3Client, Bucket: string, Key: string): Promise<string> {
  const r = await s3.send(new GetObjectCommand({ Bucket, Key }));
  const bytes = await r.Body!.transformToByteArray();
  const out = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("gzip") as ReadableWritablePair<Uint8Array, Uint8Array>,
  );
  return await new Response(out).text();
}

async function keysUnder(s3: S3Client, Bucket: string, Prefix: string): Promise<string[]> {
  const r = await s3.send(new ListObjectsV2Command({ Bucket, Prefix }));
  return (r.Contents ?? []).map((c) => c.Key!);
}

Deno.test("inventory configurations and reports", async (t) => {
  const { app, s3, endpoint, stop } = await startApp();
  const srv = { endpoint, accessKey: TEST_ACCESS_KEY, secretKey: TEST_SECRET_KEY } as TestServer;
  const now = Date.now();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "inv-src" }));
    await s3.send(new CreateBucketCommand({ Bucket: "inv-dest" }));

    await t.step("put, get, list and delete round trip", async () => {
      const cfg = config("daily-1", {
        Filter: { Prefix: "docs/" },
        OptionalFields: ["ETag", "Size", "LastModifiedDate", "StorageClass"],
        Destination: {
          S3BucketDestination: {
            Bucket: "arn:aws:s3:::inv-dest",
            Format: "CSV",
            Prefix: "reports",
            Encryption: { SSES3: {} },
          },
        },
      });
      await s3.send(
        new PutBucketInventoryConfigurationCommand({
          Bucket: "inv-src",
          Id: "daily-1",
          InventoryConfiguration: cfg,
        }),
      );
      const got = await s3.send(
        new GetBucketInventoryConfigurationCommand({ Bucket: "inv-src", Id: "daily-1" }),
      );
      const c = got.InventoryConfiguration!;
      assertEquals(c.Id, "daily-1");
      assertEquals(c.IsEnabled, true);
      assertEquals(c.Filter?.Prefix, "docs/");
      assertEquals(c.Destination?.S3BucketDestination?.Bucket, "arn:aws:s3:::inv-dest");
      assertEquals(c.Destination?.S3BucketDestination?.Prefix, "reports");
      assert(c.Destination?.S3BucketDestination?.Encryption?.SSES3 !== undefined);
      // Listed in AWS's report order, whatever order they were sent in.
      assertEquals(c.OptionalFields, ["Size", "LastModifiedDate", "ETag", "StorageClass"]);
      assertEquals(c.Schedule?.Frequency, "Daily");
      await s3.send(
        new DeleteBucketInventoryConfigurationCommand({ Bucket: "inv-src", Id: "daily-1" }),
      );
      await assertS3Error(
        () =>
          s3.send(new GetBucketInventoryConfigurationCommand({ Bucket: "inv-src", Id: "daily-1" })),
        "NoSuchConfiguration",
        404,
      );
      await assertS3Error(
        () =>
          s3.send(
            new DeleteBucketInventoryConfigurationCommand({ Bucket: "inv-src", Id: "daily-1" }),
          ),
        "NoSuchConfiguration",
        404,
      );
    });

    await t.step("list pages of 100 with continuation tokens", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "inv-many" }));
      for (let i = 0; i < 105; i++) {
        const id = `c${String(i).padStart(3, "0")}`;
        await s3.send(
          new PutBucketInventoryConfigurationCommand({
            Bucket: "inv-many",
            Id: id,
            InventoryConfiguration: config(id, { IsEnabled: false }),
          }),
        );
      }
      const first = await s3.send(
        new ListBucketInventoryConfigurationsCommand({ Bucket: "inv-many" }),
      );
      assertEquals(first.InventoryConfigurationList?.length, 100);
      assertEquals(first.IsTruncated, true);
      assert(first.NextContinuationToken);
      const second = await s3.send(
        new ListBucketInventoryConfigurationsCommand({
          Bucket: "inv-many",
          ContinuationToken: first.NextContinuationToken,
        }),
      );
      assertEquals(second.InventoryConfigurationList?.map((c) => c.Id), [
        "c100",
        "c101",
        "c102",
        "c103",
        "c104",
      ]);
      assertEquals(second.IsTruncated, false);
      assertEquals(second.ContinuationToken, first.NextContinuationToken);
      const empty = await s3.send(
        new ListBucketInventoryConfigurationsCommand({ Bucket: "inv-src" }),
      );
      assertEquals(empty.InventoryConfigurationList ?? [], []);
    });

    await t.step("bad configurations get AWS's errors and change nothing", async () => {
      const put = (cfg: InventoryConfiguration, Id = cfg.Id!) =>
        s3.send(
          new PutBucketInventoryConfigurationCommand({
            Bucket: "inv-src",
            Id,
            InventoryConfiguration: cfg,
          }),
        );
      await put(config("keep"));
      await assertS3Error(() => put(config("other"), "keep"), "IdMismatch", 400);
      // A destination that does not exist, and one that is not a bucket ARN.
      await assertS3Error(
        () =>
          put(config("keep", {
            Destination: { S3BucketDestination: { Bucket: "arn:aws:s3:::nope", Format: "CSV" } },
          })),
        "InvalidS3DestinationBucket",
        400,
      );
      await assertS3Error(
        () =>
          put(config("keep", {
            Destination: { S3BucketDestination: { Bucket: "inv-dest", Format: "CSV" } },
          })),
        "InvalidS3DestinationBucket",
        400,
      );
      await assertS3Error(
        () =>
          put(config("keep", {
            Destination: {
              S3BucketDestination: { Bucket: "arn:aws:s3:::inv-dest", Format: "ORC" },
            },
          })),
        "NotImplemented",
        501,
      );
      await assertS3Error(
        () => put(config("keep", { Schedule: { Frequency: "Hourly" as "Daily" } })),
        "MalformedXML",
        400,
      );
      await assertS3Error(
        () => put(config("keep", { OptionalFields: ["Colour" as "Size"] })),
        "MalformedXML",
        400,
      );
      await assertS3Error(() => put(config("bad id!")), "InvalidArgument", 400);
      const res = await signedFetch(srv, {
        method: "PUT",
        path: "/inv-src",
        query: { inventory: "", id: "keep" },
        body: "<InventoryConfiguration><Id>keep</Id></InventoryConfiguration>",
      });
      assertEquals(res.status, 400);
      assert((await res.text()).includes("<Code>MalformedXML</Code>"));
      const kept = await s3.send(
        new GetBucketInventoryConfigurationCommand({ Bucket: "inv-src", Id: "keep" }),
      );
      assertEquals(kept.InventoryConfiguration?.Destination?.S3BucketDestination?.Format, "CSV");
      assertEquals(kept.InventoryConfiguration?.Schedule?.Frequency, "Daily");
      await s3.send(
        new DeleteBucketInventoryConfigurationCommand({ Bucket: "inv-src", Id: "keep" }),
      );
    });

    await t.step("a due report is written as AWS lays it out", async () => {
      await s3.send(new PutObjectCommand({ Bucket: "inv-src", Key: "a.txt", Body: "hello" }));
      await s3.send(
        new PutObjectCommand({ Bucket: "inv-src", Key: "dir/b c.txt", Body: "world!" }),
      );
      await s3.send(
        new PutBucketInventoryConfigurationCommand({
          Bucket: "inv-src",
          Id: "full",
          InventoryConfiguration: config("full", {
            OptionalFields: ["Size", "ETag", "EncryptionStatus"],
          }),
        }),
      );
      const pass = await app.inventory.runDue(now);
      assertEquals(pass, { reports: 1, failed: 0 });
      const base = "reports/inv-src/full/";
      const keys = await keysUnder(s3, "inv-dest", base);
      const data = keys.filter((k) => k.startsWith(`${base}data/`));
      assertEquals(data.length, 1);
      assert(/^reports\/inv-src\/full\/data\/[0-9a-f-]{36}\.csv\.gz$/.test(data[0]), data[0]);
      const d = new Date(now);
      const p = (n: number) => String(n).padStart(2, "0");
      const folder = `${base}${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${
        p(d.getUTCHours())
      }-${p(d.getUTCMinutes())}Z/`;
      assert(keys.includes(`${folder}manifest.json`), keys.join("\n"));
      assert(keys.includes(`${folder}manifest.checksum`));
      const hive = keys.filter((k) => k.startsWith(`${base}hive/dt=`));
      assertEquals(hive.length, 1);
      assert(hive[0].endsWith("/symlink.txt"));

      const manifestText = await text(s3, "inv-dest", `${folder}manifest.json`);
      const manifest = JSON.parse(manifestText);
      assertEquals(manifest.sourceBucket, "inv-src");
      assertEquals(manifest.destinationBucket, "arn:aws:s3:::inv-dest");
      assertEquals(manifest.version, "2016-11-30");
      assertEquals(manifest.creationTimestamp, String(now));
      assertEquals(manifest.fileFormat, "CSV");
      assertEquals(manifest.fileSchema, "Bucket, Key, Size, ETag, EncryptionStatus");
      assertEquals(manifest.files.length, 1);
      assertEquals(manifest.files[0].key, data[0]);
      const checksum = await text(s3, "inv-dest", `${folder}manifest.checksum`);
      assertEquals(checksum, createHash("md5").update(manifestText).digest("hex"));
      const gz = await s3.send(new GetObjectCommand({ Bucket: "inv-dest", Key: data[0] }));
      assertEquals(manifest.files[0].size, gz.ContentLength);
      assertEquals(manifest.files[0].MD5checksum, gz.ETag!.replace(/"/g, ""));
      await gz.Body!.transformToByteArray();

      const rows = (await gunzip(s3, "inv-dest", data[0])).trimEnd().split("\n");
      assertEquals(rows, [
        `"inv-src","a.txt","5","${md5("hello")}","NOT-SSE"`,
        `"inv-src","dir/b%20c.txt","6","${md5("world!")}","NOT-SSE"`,
      ]);
      assertEquals(
        (await text(s3, "inv-dest", hive[0])).trim(),
        `s3://inv-dest/${data[0]}`,
      );
      const history = app.inventory.runs.list(
        (await app.storage.backend.getBucket("", "inv-src")).id,
      );
      assertEquals(history[0].status, "done");
      assertEquals(history[0].objects, 2);
      assertEquals(history[0].bytes, 11);
      assertEquals(history[0].manifestKey, `${folder}manifest.json`);
    });

    await t.step("the next daily report is due a day later, not before", async () => {
      assertEquals(await app.inventory.runDue(now + 3600_000), { reports: 0, failed: 0 });
      assertEquals(await app.inventory.runDue(now + DAY), { reports: 1, failed: 0 });
      const manifests = (await keysUnder(s3, "inv-dest", "reports/inv-src/full/"))
        .filter((k) => k.endsWith("manifest.json"));
      assertEquals(manifests.length, 2);
    });

    await t.step("All versions: version id, latest and delete marker columns", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "inv-ver" }));
      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: "inv-ver",
          VersioningConfiguration: { Status: "Enabled" },
        }),
      );
      const v1 = await s3.send(new PutObjectCommand({ Bucket: "inv-ver", Key: "k", Body: "1" }));
      const v2 = await s3.send(new PutObjectCommand({ Bucket: "inv-ver", Key: "k", Body: "22" }));
      const g = await s3.send(new PutObjectCommand({ Bucket: "inv-ver", Key: "gone", Body: "g" }));
      const marker = await s3.send(new DeleteObjectCommand({ Bucket: "inv-ver", Key: "gone" }));
      await s3.send(
        new PutBucketInventoryConfigurationCommand({
          Bucket: "inv-ver",
          Id: "weekly",
          InventoryConfiguration: config("weekly", {
            IncludedObjectVersions: "All",
            Schedule: { Frequency: "Weekly" },
            OptionalFields: ["Size"],
            Destination: {
              S3BucketDestination: {
                Bucket: "arn:aws:s3:::inv-dest",
                Format: "CSV",
                Encryption: { SSES3: {} },
              },
            },
          }),
        }),
      );
      const run = await app.inventory.runNow(
        await app.storage.backend.getBucket("", "inv-ver"),
        "weekly",
        now,
      );
      assertEquals(run.status, "done");
      const data = await keysUnder(s3, "inv-dest", "inv-ver/weekly/data/");
      assertEquals(data.length, 1);
      const manifest = JSON.parse(await text(s3, "inv-dest", run.manifestKey!));
      assertEquals(manifest.fileSchema, "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size");
      // The configuration's SSE-S3 encrypts the report's objects.
      for (const Key of [data[0], run.manifestKey!]) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: "inv-dest", Key }));
        assertEquals(head.ServerSideEncryption, "AES256", Key);
      }
      const rows = (await gunzip(s3, "inv-dest", data[0])).trimEnd().split("\n");
      assertEquals(rows, [
        `"inv-ver","gone","${marker.VersionId}","true","true",""`,
        `"inv-ver","gone","${g.VersionId}","false","false","1"`,
        `"inv-ver","k","${v2.VersionId}","true","false","2"`,
        `"inv-ver","k","${v1.VersionId}","false","false","1"`,
      ]);
      // Weekly: not due six days later, due seven days later.
      const ver = (await app.storage.backend.getBucket("", "inv-ver")).id;
      await app.inventory.runDue(now + 6 * DAY);
      assertEquals(app.inventory.runs.list(ver).length, 1);
      await app.inventory.runDue(now + 7 * DAY);
      assertEquals(app.inventory.runs.list(ver).length, 2);
    });

    await t.step(
      "large reports split into data files; no empty file after a full one",
      async () => {
        await s3.send(new CreateBucketCommand({ Bucket: "inv-split" }));
        const keys = ["k1", "k2", "k3", "k4", "k5"];
        for (const Key of keys) {
          await s3.send(new PutObjectCommand({ Bucket: "inv-split", Key, Body: Key }));
        }
        // The same worker with two rows per file (the server's writes 1,000,000).
        const worker = new InventoryWorker({
          storage: app.storage.backend,
          db: app.iam.core.db,
          clock: { now: () => now },
          log: { debug() {}, info() {}, warn() {}, error() {} },
          intervalMs: 0,
          fileRows: 2,
        });
        const split = await app.storage.backend.getBucket("", "inv-split");
        const report = async (id: string) => {
          await s3.send(
            new PutBucketInventoryConfigurationCommand({
              Bucket: "inv-split",
              Id: id,
              InventoryConfiguration: config(id),
            }),
          );
          const run = await worker.runNow(split, id);
          assertEquals(run.status, "done", run.error ?? "");
          const manifest = JSON.parse(await text(s3, "inv-dest", run.manifestKey!));
          const rows: string[] = [];
          for (const f of manifest.files) {
            rows.push(...(await gunzip(s3, "inv-dest", f.key)).trimEnd().split("\n"));
          }
          return { files: manifest.files.length, rows, run };
        };
        const five = await report("five");
        assertEquals(five.files, 3);
        assertEquals(five.run.files, 3);
        assertEquals(five.rows, keys.map((k) => `"inv-split","${k}"`));
        await s3.send(new DeleteObjectCommand({ Bucket: "inv-split", Key: "k5" }));
        const four = await report("four");
        assertEquals(four.files, 2);
        assertEquals(four.rows.length, 4);
      },
    );
  } finally {
    await stop();
  }
});

function md5(s: string): string {
  return createHash("md5").update(s).digest("hex");
}
