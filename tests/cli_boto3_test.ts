/**
 * boto3 round trips against the real server: a small Python script creates a bucket, uploads
 * the fixture with upload_file, lists with the ListObjectsV2 paginator, reads a range, downloads
 * with download_file, deletes with delete_objects and removes the bucket. Every python3 that
 * can import boto3 is tested (Debian's python3-boto3 and a pip install differ in version).
 */
import { assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { assertSameTree, FIXTURE, readTree, run, serverTree, workDir } from "./_helpers/cli.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const SCRIPT = `
import json, os, sys
import boto3
from botocore.config import Config

endpoint, access_key, secret_key, bucket, src, dl, phase = sys.argv[1:8]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    aws_access_key_id=access_key,
    aws_secret_access_key=secret_key,
    region_name="us-east-1",
    # One attempt and a bounded read: a stalled response must fail here, not hide behind a retry.
    config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}, read_timeout=20),
)
out = {}
if phase == "upload":
    s3.create_bucket(Bucket=bucket)
    for root, _dirs, files in os.walk(src):
        for name in files:
            path = os.path.join(root, name)
            key = "up/" + os.path.relpath(path, src)
            s3.upload_file(path, bucket, key)
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="up/", PaginationConfig={"PageSize": 2}):
        keys += [c["Key"] for c in page.get("Contents", [])]
    out["keys"] = keys
    r = s3.get_object(Bucket=bucket, Key="up/hello.txt", Range="bytes=0-4")
    out["range"] = r["Body"].read().decode()
    out["contentRange"] = r["ContentRange"]
    for key in keys:
        dest = os.path.join(dl, key[len("up/"):])
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        s3.download_file(bucket, key, dest)
elif phase == "delete":
    keys = [c["Key"] for c in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    res = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    out["deleted"] = sorted(d["Key"] for d in res.get("Deleted", []))
    out["errors"] = res.get("Errors", [])
    s3.delete_bucket(Bucket=bucket)
    out["buckets"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]
print(json.dumps(out))
`;

/** Every python3 on PATH that can import boto3 (Debian's and a pip install differ in version). */
const boto3 = await findProgram("boto3");

Deno.test(needs(boto3, {
  name: "boto3 round trips",
  fn: async (t) => {
    const srv = await startServer();
    try {
      for (const [i, py] of boto3.installed.entries()) {
        await t.step(`${py.version} (${py.path})`, async () => {
          const w = await workDir();
          const bucket = `cli-boto3-${i}`;
          const script = `${w.root}/roundtrip.py`;
          await Deno.writeTextFile(script, SCRIPT);
          const phase = async (name: string) => {
            const res = await run(py.path, [
              script,
              srv.endpoint,
              srv.accessKey,
              srv.secretKey,
              bucket,
              w.src,
              w.dl,
              name,
            ], { env: { AWS_CONFIG_FILE: `${w.root}/none`, AWS_EC2_METADATA_DISABLED: "true" } });
            return JSON.parse(res.stdout.trim().split("\n").at(-1)!);
          };
          try {
            const up = await phase("upload");
            const expected = Object.keys(FIXTURE).map((k) => `up/${k}`).sort();
            // ListObjectsV2 returns keys in UTF-8 byte order, which is what sort() gives here.
            assertEquals(up.keys, expected);
            assertEquals(up.range, "hello");
            assertEquals(up.contentRange, `bytes 0-4/${FIXTURE["hello.txt"].length}`);
            assertSameTree(await serverTree(srv, bucket, "up/"), FIXTURE, "uploaded by boto3");
            assertSameTree(await readTree(w.dl), FIXTURE, "downloaded by boto3");

            const del = await phase("delete");
            assertEquals(del.deleted, expected);
            assertEquals(del.errors, []);
            assertEquals(del.buckets.includes(bucket), false);
          } finally {
            await Deno.remove(w.root, { recursive: true }).catch(() => {});
          }
        });
      }
    } finally {
      await srv.stop();
    }
  },
}));
