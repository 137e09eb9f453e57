/**
 * Multipart uploads from real clients: `@aws-sdk/lib-storage` (100 MiB, 4 parts in parallel),
 * `aws s3 cp` of a 200 MiB file up and back, rclone with 5 MiB chunks, s3cmd and boto3. Bytes are compared
 * by MD5 of the streamed data; temp files are removed.
 */
import { createHash } from "node:crypto";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { randomBytes, startServer, type TestServer } from "./_helpers/server.ts";
import { awsEnv, rcloneRunner, run, writeS3cmdConfig } from "./_helpers/cli.ts";
import { copiesOf, findProgram, needs } from "./_helpers/programs.ts";

const MiB = 1024 * 1024;
const BUCKET = "mp-clients";

/** Every aws cli on PATH is tested (a pip-installed v1 and Debian's v2 may differ). */
const awsCli = await findProgram("aws");
const s3cmdProgram = await findProgram("s3cmd");
const boto3 = await findProgram("boto3");
const rcloneProgram = await findProgram("rclone");

/** Writes `mib` MiB of pseudo-random data to a file; returns its MD5 (hex). */
async function writeRandomFile(path: string, mib: number): Promise<string> {
  const h = createHash("md5");
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const block = randomBytes(MiB, 77);
    for (let i = 0; i < mib; i++) {
      // Vary each MiB cheaply so parts differ (a repeated block would hide misordering).
      new DataView(block.buffer).setUint32(0, i);
      h.update(block);
      let off = 0;
      while (off < block.length) off += await f.write(block.subarray(off));
    }
  } finally {
    f.close();
  }
  return h.digest("hex");
}

async function fileMd5(path: string): Promise<string> {
  const h = createHash("md5");
  const f = await Deno.open(path);
  for await (const c of f.readable) h.update(c);
  return h.digest("hex");
}

async function objectMd5(srv: TestServer, key: string): Promise<string> {
  const s3 = srv.client();
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const h = createHash("md5");
    for await (const c of got.Body as AsyncIterable<Uint8Array>) h.update(c);
    return h.digest("hex");
  } finally {
    s3.destroy();
  }
}

async function partsCount(srv: TestServer, key: string): Promise<number> {
  const s3 = srv.client();
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: 1 }));
    return head.PartsCount ?? 1;
  } finally {
    s3.destroy();
  }
}

Deno.test("multipart uploads from real clients", async (t) => {
  const srv = await startServer();
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-mp-clients-" });
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));

    await t.step("lib-storage Upload: 100 MiB, 4 parallel parts", async () => {
      const data = randomBytes(100 * MiB, 5);
      const up = new Upload({
        client: s3,
        params: { Bucket: BUCKET, Key: "lib-storage/100m", Body: data },
        queueSize: 4,
        partSize: 8 * MiB,
      });
      const res = await up.done();
      assert(/-13"$/.test(res.ETag ?? ""), `multipart ETag, got ${res.ETag}`);
      assertEquals(
        await objectMd5(srv, "lib-storage/100m"),
        createHash("md5").update(data).digest("hex"),
      );
      assertEquals(await partsCount(srv, "lib-storage/100m"), 13);
    });

    for (const [n, { path: awsPath }] of copiesOf(awsCli).entries()) {
      await t.step(needs(awsCli, {
        name: `${awsPath} s3 cp: 200 MiB up and back`,
        fn: async () => {
          const src = `${dir}/aws-src.bin`;
          const back = `${dir}/aws-back.bin`;
          const md5 = await writeRandomFile(src, 200);
          const env = await awsEnv(srv, dir);
          const aws = (...args: string[]) =>
            run(awsPath, ["--endpoint-url", srv.endpoint, ...args], { env, timeoutMs: 180_000 });
          try {
            await aws("s3", "cp", "--no-progress", src, `s3://${BUCKET}/aws/${n}/200m.bin`);
            // 8 MiB default chunks: 25 parts.
            assertEquals(await partsCount(srv, `aws/${n}/200m.bin`), 25);
            await aws("s3", "cp", "--no-progress", `s3://${BUCKET}/aws/${n}/200m.bin`, back);
            assertEquals(await fileMd5(back), md5);
            assertEquals(await objectMd5(srv, `aws/${n}/200m.bin`), md5);
          } finally {
            await Deno.remove(src).catch(() => {});
            await Deno.remove(back).catch(() => {});
          }
        },
      }));
    }

    await t.step(needs(rcloneProgram, {
      name: "rclone with --s3-chunk-size 5M",
      fn: async () => {
        await Deno.mkdir(`${dir}/rc`);
        const src = `${dir}/rc/23m.bin`;
        const back = `${dir}/rclone-back.bin`;
        const md5 = await writeRandomFile(src, 23);
        const rclone = rcloneRunner(rcloneProgram.path, srv, dir, "T");
        try {
          await rclone(
            "copyto",
            "--s3-chunk-size",
            "5M",
            "--s3-upload-cutoff",
            "5M",
            "--s3-upload-concurrency",
            "4",
            src,
            `T:${BUCKET}/rclone/23m.bin`,
          );
          assertEquals(await partsCount(srv, "rclone/23m.bin"), 5);
          await rclone("copyto", `T:${BUCKET}/rclone/23m.bin`, back);
          assertEquals(await fileMd5(back), md5);
          // rclone's own verification against the MD5 it stored with the upload.
          await rclone("check", "--download", `${dir}/rc`, `T:${BUCKET}/rclone/`);
        } finally {
          await Deno.remove(src).catch(() => {});
          await Deno.remove(back).catch(() => {});
        }
      },
    }));

    await t.step(needs(s3cmdProgram, {
      name: "s3cmd with --multipart-chunk-size-mb=5",
      fn: async () => {
        const src = `${dir}/s3cmd-src.bin`;
        const back = `${dir}/s3cmd-back.bin`;
        const md5 = await writeRandomFile(src, 12);
        const cfg = `${dir}/s3cfg`;
        await writeS3cmdConfig(srv, cfg);
        const s3cmd = (...args: string[]) =>
          run(s3cmdProgram.path, ["-c", cfg, ...args], { timeoutMs: 120_000 });
        try {
          await s3cmd("put", "--multipart-chunk-size-mb=5", src, `s3://${BUCKET}/s3cmd/12m.bin`);
          assertEquals(await partsCount(srv, "s3cmd/12m.bin"), 3);
          await s3cmd("get", "--force", `s3://${BUCKET}/s3cmd/12m.bin`, back);
          assertEquals(await fileMd5(back), md5);
          // ListMultipartUploads through s3cmd: nothing is left open.
          const open = await s3cmd("multipart", `s3://${BUCKET}`);
          assert(!open.stdout.includes("s3cmd/12m.bin"), open.stdout);
        } finally {
          await Deno.remove(src).catch(() => {});
          await Deno.remove(back).catch(() => {});
        }
      },
    }));

    await t.step(needs(boto3, {
      name: "boto3 upload_file / download_file, 5 MiB parts x4",
      fn: async () => {
        const src = `${dir}/boto3-src.bin`;
        const back = `${dir}/boto3-back.bin`;
        const md5 = await writeRandomFile(src, 33);
        const script = [
          "import sys, boto3",
          "from boto3.s3.transfer import TransferConfig",
          "from botocore.config import Config",
          "s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',",
          "    aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],",
          "    config=Config(s3={'addressing_style': 'path'}))",
          "cfg = TransferConfig(multipart_threshold=5*1024*1024, multipart_chunksize=5*1024*1024,",
          "    max_concurrency=4)",
          "s3.upload_file(sys.argv[4], sys.argv[6], 'boto3/33m.bin', Config=cfg)",
          "s3.download_file(sys.argv[6], 'boto3/33m.bin', sys.argv[5], Config=cfg)",
        ].join("\n");
        try {
          await run(boto3.path, [
            "-c",
            script,
            srv.endpoint,
            srv.accessKey,
            srv.secretKey,
            src,
            back,
            BUCKET,
          ], { timeoutMs: 120_000, unset: ["AWS_CA_BUNDLE"] });
          assertEquals(await partsCount(srv, "boto3/33m.bin"), 7);
          assertEquals(await fileMd5(back), md5);
          assertEquals(await objectMd5(srv, "boto3/33m.bin"), md5);
        } finally {
          await Deno.remove(src).catch(() => {});
          await Deno.remove(back).catch(() => {});
        }
      },
    }));
  } finally {
    s3.destroy();
    await srv.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
