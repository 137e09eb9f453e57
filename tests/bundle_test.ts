/**
 * One file: `deno bundle --platform deno` (the `bundle` task) turns main.ts into a single
 * JavaScript file that serves S3 with a plain `deno run`. Builds it into a temp dir, starts it,
 * and does a round trip with the AWS SDK.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { bodyBytes, randomBytes, startServer } from "./_helpers/server.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** The `bundle` task's command with the output redirected, so the test never touches dist/. */
async function bundleCommand(out: string): Promise<string[]> {
  const cfg = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const task: string = cfg.tasks.bundle;
  assert(task.startsWith("deno bundle ") && task.includes("--platform deno"), task);
  assert(task.includes("-o dist/maxiofs.js"), task);
  return task.replace(/^deno /, "").replace("-o dist/maxiofs.js", `-o ${out}`).split(/\s+/);
}

Deno.test("the bundled single file serves S3", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-bundle-" });
  const entry = `${dir}/maxiofs.js`;
  try {
    await t.step("deno bundle builds one file", async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: await bundleCommand(entry),
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(120_000),
      }).output();
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      const st = await Deno.stat(entry);
      assert(st.isFile && st.size > 10_000, `bundle is ${st.size} bytes`);
    });

    await t.step("the bundle runs with deno run and round-trips an object", async () => {
      const srv = await startServer({ entry });
      const s3 = srv.client();
      try {
        await s3.send(new CreateBucketCommand({ Bucket: "bundled" }));
        const data = randomBytes(300_000, 3);
        const put = await s3.send(
          new PutObjectCommand({ Bucket: "bundled", Key: "one/file.bin", Body: data }),
        );
        const got = await s3.send(new GetObjectCommand({ Bucket: "bundled", Key: "one/file.bin" }));
        assertEquals(got.ETag, put.ETag);
        assertEquals(await bodyBytes(got.Body), data);
      } finally {
        s3.destroy();
        await srv.stop();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
