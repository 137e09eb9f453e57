/**
 * aws cli with server-side encryption against the real server: `aws s3 cp --sse AES256` and
 * `--sse-c AES256 --sse-c-key` up and down (single PUT and multipart), `s3api head-object`
 * showing the encryption, and a download of an SSE-C object without its key failing.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { randomBytes, startServer } from "./_helpers/server.ts";
import { awsEnv, run, workDir } from "./_helpers/cli.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const awsCli = await findProgram("aws");
/** The cli base64-encodes a key given as text: 32 ASCII characters are a 256-bit key. */
const SSE_C_KEY = "0123456789abcdef0123456789ABCDEF";

Deno.test(needs(awsCli, {
  name: "aws cli: SSE-S3 and SSE-C copies",
  fn: async (t) => {
    const srv = await startServer({ args: ["--sse-c-over-http"] });
    try {
      for (const [i, tool] of awsCli.installed.entries()) {
        await t.step(`${tool.version} (${tool.path})`, async () => {
          const w = await workDir();
          const bucket = `cli-sse-${i}`;
          const env = await awsEnv(srv, w.root, { oneAttempt: true });
          const aws = (...args: string[]) =>
            run(tool.path, ["--endpoint-url", srv.endpoint, "--cli-read-timeout", "20", ...args], {
              env,
              timeoutMs: 120_000,
            });
          const small = randomBytes(100_000, 5);
          // Above the cli's 8 MiB multipart threshold: CreateMultipartUpload and parts.
          const large = randomBytes(9 * 1024 * 1024 + 17, 6);
          await Deno.writeFile(`${w.src}/small.bin`, small);
          await Deno.writeFile(`${w.src}/large.bin`, large);
          const sseC = ["--sse-c", "AES256", "--sse-c-key", SSE_C_KEY];
          await aws("s3", "mb", `s3://${bucket}`);

          for (const name of ["small.bin", "large.bin"]) {
            await aws(
              "s3",
              "cp",
              "--no-progress",
              "--sse",
              "AES256",
              `${w.src}/${name}`,
              `s3://${bucket}/s3/${name}`,
            );
            const head = JSON.parse(
              (await aws("s3api", "head-object", "--bucket", bucket, "--key", `s3/${name}`)).stdout,
            );
            assertEquals(head.ServerSideEncryption, "AES256", name);
            await aws(
              "s3",
              "cp",
              "--no-progress",
              `s3://${bucket}/s3/${name}`,
              `${w.dl}/s3-${name}`,
            );
            assertEquals(
              await Deno.readFile(`${w.dl}/s3-${name}`),
              await Deno.readFile(`${w.src}/${name}`),
            );

            await aws(
              "s3",
              "cp",
              "--no-progress",
              ...sseC,
              `${w.src}/${name}`,
              `s3://${bucket}/c/${name}`,
            );
            const headC = JSON.parse(
              (await aws(
                "s3api",
                "head-object",
                "--bucket",
                bucket,
                "--key",
                `c/${name}`,
                "--sse-customer-algorithm",
                "AES256",
                "--sse-customer-key",
                SSE_C_KEY,
              )).stdout,
            );
            assertEquals(headC.SSECustomerAlgorithm, "AES256", name);
            await aws(
              "s3",
              "cp",
              "--no-progress",
              ...sseC,
              `s3://${bucket}/c/${name}`,
              `${w.dl}/c-${name}`,
            );
            assertEquals(
              await Deno.readFile(`${w.dl}/c-${name}`),
              await Deno.readFile(`${w.src}/${name}`),
            );
          }

          // Without the key the download fails (400) and writes nothing.
          const failed = await run(
            tool.path,
            [
              "--endpoint-url",
              srv.endpoint,
              "s3",
              "cp",
              "--no-progress",
              `s3://${bucket}/c/small.bin`,
              `${w.dl}/nokey.bin`,
            ],
            { env, timeoutMs: 120_000, check: false },
          );
          assert(failed.code !== 0, "a download without the key fails");
          assert(/400|Bad Request/.test(failed.stderr), failed.stderr);
          const exists = await Deno.stat(`${w.dl}/nokey.bin`).then(() => true, () => false);
          assertEquals(exists, false);
        });
      }
    } finally {
      await srv.stop();
    }
  },
}));
