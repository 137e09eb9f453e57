/**
 * Bucket inventory and access logging through the console API (`/buckets/:bucket/inventory`,
 * `/buckets/:bucket/logging`, running S3's operations as the session user) and the admin CLI's
 * `inventory run`, on the real server: a tenant's destination must be its own, bad input leaves
 * the configuration, a report written now shows up in the history, and logs reach the target
 * when the server stops.
 */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { ADMIN_PASSWORD, ADMIN_USER, makeTenant, startIamServer } from "./iam_fixture.ts";
import { cli } from "./_helpers/admin_cli.ts";
import { parseLogRecord } from "../server/features/access_logging/format.ts";
import { REGION, startServer } from "./_helpers/server.ts";

Deno.test("console API and admin CLI: bucket inventory and access logging", async (t) => {
  const s = await startIamServer();
  let dataDir = "";
  let a: Awaited<ReturnType<typeof makeTenant>>;
  try {
    a = await makeTenant(s, "invt");
    const b = await makeTenant(s, "invu");
    const token = a.admin.token;
    for (const name of ["csrc", "cdst"]) {
      assertEquals((await s.api("/buckets", { token, body: { name } })).status, 201);
    }
    assertEquals(
      (await s.api("/buckets", { token: b.admin.token, body: { name: "other" } }))
        .status,
      201,
    );
    const s3 = s.s3(a.admin.key, a.admin.secret);
    await s3.send(new PutObjectCommand({ Bucket: "csrc", Key: "one", Body: "1" }));
    const cfg = {
      enabled: true,
      destination: { bucketArn: "arn:aws:s3:::cdst", format: "CSV", prefix: "inv" },
      includedVersions: "Current",
      optionalFields: ["Size"],
      frequency: "Weekly",
    };

    await t.step("configurations: put, list, refuse bad input and foreign buckets", async () => {
      const put = await s.api("/buckets/csrc/inventory/weekly", {
        method: "PUT",
        token,
        body: cfg,
      });
      assertEquals(put.status, 204, JSON.stringify(put.body));
      const got = await s.api("/buckets/csrc/inventory", { token });
      assertEquals(got.status, 200);
      assertEquals(got.body.configurations.length, 1);
      assertEquals(got.body.configurations[0].id, "weekly");
      assertEquals(got.body.configurations[0].frequency, "Weekly");
      assertEquals(got.body.runs, []);
      const bad = await s.api("/buckets/csrc/inventory/weekly", {
        method: "PUT",
        token,
        body: { ...cfg, frequency: "Hourly" },
      });
      assertEquals(bad.status, 400);
      assertEquals(bad.body.error.s3Code, "MalformedXML");
      const foreign = await s.api("/buckets/csrc/inventory/weekly", {
        method: "PUT",
        token,
        body: { ...cfg, destination: { ...cfg.destination, bucketArn: "arn:aws:s3:::other" } },
      });
      assertEquals(foreign.status, 400);
      assertEquals(foreign.body.error.s3Code, "InvalidS3DestinationBucket");
      const notArn = await s.api("/buckets/csrc/inventory/weekly", {
        method: "PUT",
        token,
        body: { ...cfg, destination: { ...cfg.destination, bucketArn: "cdst" } },
      });
      assertEquals(notArn.status, 400);
      assertEquals(notArn.body.error.s3Code, "InvalidS3DestinationBucket");
      const still = await s.api("/buckets/csrc/inventory", { token });
      assertEquals(still.body.configurations[0].frequency, "Weekly");
      assertEquals(still.body.configurations[0].destination.bucketArn, "arn:aws:s3:::cdst");
      // Another tenant's administrator does not see the bucket.
      const other = await s.api("/buckets/csrc/inventory", { token: b.admin.token });
      assert(other.status === 404 || other.status === 403, String(other.status));
    });

    await t.step("Run now writes the report and the history shows it", async () => {
      const run = await s.api("/buckets/csrc/inventory/weekly/run", { method: "POST", token });
      assertEquals(run.status, 200, JSON.stringify(run.body));
      assertEquals(run.body.run.status, "done");
      assertEquals(run.body.run.objects, 1);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: "cdst", Prefix: "inv/" }));
      const keys = (listed.Contents ?? []).map((c) => c.Key!);
      assert(keys.includes(run.body.run.manifestKey), keys.join(","));
      const history = await s.api("/buckets/csrc/inventory", { token });
      assertEquals(history.body.runs.length, 1);
      assertEquals(history.body.runs[0].manifestKey, run.body.run.manifestKey);
      const missing = await s.api("/buckets/csrc/inventory/nope/run", { method: "POST", token });
      assertEquals(missing.status, 404);
    });

    await t.step("the admin CLI runs a report through the API", async () => {
      const r = await cli(
        "inventory",
        "run",
        "csrc",
        "weekly",
        "--tenant",
        "invt",
        "--url",
        s.srv.consoleUrl,
        "--user",
        ADMIN_USER,
        "--password",
        ADMIN_PASSWORD,
      );
      assertEquals(r.code, 0, r.stderr);
      assertEquals((r.json as { status: string }).status, "done");
      const history = await s.api("/buckets/csrc/inventory", { token });
      assertEquals(history.body.runs.length, 2);
    });

    await t.step("logging: set, read, refuse a foreign target, deliver at shutdown", async () => {
      const get = () => s.api("/buckets/csrc/logging", { token });
      assertEquals((await get()).body, { logging: null });
      const on = await s.api("/buckets/csrc/logging", {
        method: "PUT",
        token,
        body: { targetBucket: "cdst", targetPrefix: "access/" },
      });
      assertEquals(on.status, 204, JSON.stringify(on.body));
      assertEquals((await get()).body, {
        logging: { targetBucket: "cdst", targetPrefix: "access/", keyFormat: "SimplePrefix" },
      });
      const foreign = await s.api("/buckets/csrc/logging", {
        method: "PUT",
        token,
        body: { targetBucket: "other", targetPrefix: "x/" },
      });
      assertEquals(foreign.status, 400);
      assertEquals(foreign.body.error.s3Code, "InvalidTargetBucketForLogging");
      assertEquals((await get()).body.logging.targetBucket, "cdst");
      await s3.send(new PutObjectCommand({ Bucket: "csrc", Key: "logged", Body: "x" }));
      s3.destroy();
    });

    dataDir = s.srv.dataDir;
    await s.srv.stop({ keepData: true });
    // Offline, on the stopped server's data dir.
    const offline = await cli(
      "inventory",
      "run",
      "csrc",
      "weekly",
      "--tenant",
      "invt",
      "--data-dir",
      dataDir,
    );
    assertEquals(offline.code, 0, offline.stderr);
    assertEquals((offline.json as { status: string }).status, "done");
    // The records buffered at the stop were delivered: read them back after a restart.
    const again = await startServer({ dataDir });
    try {
      const root = new S3Client({
        endpoint: again.endpoint,
        region: REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: a.admin.key, secretAccessKey: a.admin.secret },
        maxAttempts: 1,
      });
      const listed = await root.send(
        new ListObjectsV2Command({ Bucket: "cdst", Prefix: "access/" }),
      );
      assertEquals(listed.Contents?.length, 1);
      // A data file each from Run now, the CLI through the API and the CLI offline (their
      // manifests share the minute's folder: the last one written stays).
      const data = await root.send(
        new ListObjectsV2Command({ Bucket: "cdst", Prefix: "inv/csrc/weekly/data/" }),
      );
      assertEquals(data.Contents?.length, 3);
      const body = await (await root.send(
        new GetObjectCommand({ Bucket: "cdst", Key: listed.Contents![0].Key! }),
      )).Body!.transformToString();
      const ops = body.trimEnd().split("\n").map((l) => parseLogRecord(l));
      assert(ops.some((r) => r.operation === "REST.PUT.OBJECT" && r.key === "logged"));
      assert(ops.every((r) => r.bucket === "csrc"));
      root.destroy();
    } finally {
      await again.stop();
    }
  } finally {
    await s.stop();
    if (dataDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
