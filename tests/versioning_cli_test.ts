/**
 * Real clients against versioned and locked buckets: `aws s3api list-object-versions` (aws cli)
 * and a restic backup + restore into a bucket with Object Lock default retention.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
} from "@aws-sdk/client-s3";
import { randomBytes, startServer, type TestServer } from "./_helpers/server.ts";
import { run as runChecked } from "./_helpers/cli.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const awsCli = await findProgram("aws");
const restic = await findProgram("restic");

/** Runs a client with a time limit; the caller checks the exit code (its stderr in the message). */
function run(cmd: string, args: string[], env: Record<string, string>) {
  return runChecked(cmd, args, { env, check: false, timeoutMs: 120_000 });
}

function awsEnv(srv: TestServer): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: srv.accessKey,
    AWS_SECRET_ACCESS_KEY: srv.secretKey,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
}

Deno.test(needs(awsCli, {
  name: "aws s3api list-object-versions",
  fn: async () => {
    const srv = await startServer();
    const s3 = srv.client();
    try {
      const B = "cliver";
      await s3.send(new CreateBucketCommand({ Bucket: B }));
      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: B,
          VersioningConfiguration: { Status: "Enabled" },
        }),
      );
      const ids: string[] = [];
      for (const body of ["a", "bb", "ccc"]) {
        ids.push(
          (await s3.send(new PutObjectCommand({ Bucket: B, Key: "dir/f", Body: body })))
            .VersionId!,
        );
      }
      const marker = (await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "dir/f" })))
        .VersionId!;
      const top = (await s3.send(new PutObjectCommand({ Bucket: B, Key: "top", Body: "t" })))
        .VersionId!;
      // --max-items 2 with a page size of 1 exercises the CLI's own marker paging.
      const r = await run(awsCli.path, [
        "s3api",
        "list-object-versions",
        "--bucket",
        B,
        "--endpoint-url",
        srv.endpoint,
        "--page-size",
        "1",
        "--output",
        "json",
      ], awsEnv(srv));
      assertEquals(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assertEquals(
        out.Versions.map((v: { Key: string; VersionId: string; IsLatest: boolean }) => [
          v.Key,
          v.VersionId,
          v.IsLatest,
        ]),
        [
          ["dir/f", ids[2], false],
          ["dir/f", ids[1], false],
          ["dir/f", ids[0], false],
          ["top", top, true],
        ],
      );
      assertEquals(
        out.DeleteMarkers.map((m: { VersionId: string; IsLatest: boolean }) => [
          m.VersionId,
          m.IsLatest,
        ]),
        [[marker, true]],
      );
      const d = await run(awsCli.path, [
        "s3api",
        "list-object-versions",
        "--bucket",
        B,
        "--endpoint-url",
        srv.endpoint,
        "--delimiter",
        "/",
        "--output",
        "json",
      ], awsEnv(srv));
      assertEquals(d.code, 0, d.stderr);
      const dj = JSON.parse(d.stdout);
      assertEquals(dj.CommonPrefixes, [{ Prefix: "dir/" }]);
      assertEquals(dj.Versions.map((v: { Key: string }) => v.Key), ["top"]);
    } finally {
      s3.destroy();
      await srv.stop();
    }
  },
}));

Deno.test(needs(restic, {
  name: "restic backup and restore into a bucket with Object Lock",
  fn: async () => {
    const srv = await startServer();
    const s3 = srv.client();
    const work = await Deno.makeTempDir({ prefix: "maxiofs-restic-" });
    try {
      const B = "resticlock";
      await s3.send(new CreateBucketCommand({ Bucket: B, ObjectLockEnabledForBucket: true }));
      await s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: B,
          ObjectLockConfiguration: {
            ObjectLockEnabled: "Enabled",
            Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 1 } },
          },
        }),
      );
      const src = `${work}/src`;
      await Deno.mkdir(`${src}/sub`, { recursive: true });
      const big = randomBytes(3 * 1024 * 1024, 7);
      await Deno.writeFile(`${src}/big.bin`, big);
      await Deno.writeTextFile(`${src}/sub/note.txt`, "hello restic\n");
      const env = {
        ...awsEnv(srv),
        RESTIC_REPOSITORY: `s3:${srv.endpoint}/${B}`,
        RESTIC_PASSWORD: "test-password",
        RESTIC_CACHE_DIR: `${work}/cache`,
        HOME: work,
      };
      const init = await run(restic.path, ["init"], env);
      assertEquals(init.code, 0, init.stderr);
      const backup = await run(restic.path, ["backup", src], env);
      assertEquals(backup.code, 0, backup.stderr);
      const restore = await run(restic.path, ["restore", "latest", "--target", `${work}/out`], env);
      assertEquals(restore.code, 0, restore.stderr);
      assertEquals(await Deno.readFile(`${work}/out${src}/big.bin`), big);
      assertEquals(await Deno.readTextFile(`${work}/out${src}/sub/note.txt`), "hello restic\n");
      const check = await run(restic.path, ["check"], env);
      assertEquals(check.code, 0, check.stderr);
      // restic removed its lock files: they are delete markers over retained versions.
      const l = await s3.send(new ListObjectVersionsCommand({ Bucket: B, Prefix: "locks/" }));
      assert((l.DeleteMarkers?.length ?? 0) >= 1);
      for (const v of l.Versions ?? []) {
        const del = await s3.send(
          new DeleteObjectCommand({ Bucket: B, Key: v.Key!, VersionId: v.VersionId }),
        ).then(() => "deleted", (e) => e.name);
        assertEquals(del, "AccessDenied");
      }
    } finally {
      s3.destroy();
      await srv.stop();
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
}));
