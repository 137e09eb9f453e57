/**
 * aws cli round trips against the real server: mb, cp --recursive up and down, ls, s3api
 * head-object, sync (incl. --delete), rm, rb. Every installed aws cli is tested (Debian's v2
 * and a pip-installed v1 send different signing and checksum headers).
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import {
  assertSameTree,
  awsEnv,
  FIXTURE,
  readTree,
  run,
  serverTree,
  workDir,
} from "./_helpers/cli.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const awsCli = await findProgram("aws");

Deno.test(needs(awsCli, {
  name: "aws cli round trips",
  fn: async (t) => {
    const srv = await startServer();
    try {
      for (const [i, tool] of awsCli.installed.entries()) {
        await t.step(`${tool.version} (${tool.path})`, async () => {
          const w = await workDir();
          const bucket = `cli-aws-${i}`;
          const env = await awsEnv(srv, w.root, { oneAttempt: true });
          const aws = (...args: string[]) =>
            run(tool.path, ["--endpoint-url", srv.endpoint, "--cli-read-timeout", "20", ...args], {
              env,
              timeoutMs: 120_000,
            });
          try {
            await aws("s3", "mb", `s3://${bucket}`);
            await aws("s3", "cp", "--recursive", "--no-progress", w.src, `s3://${bucket}/up/`);
            assertSameTree(await serverTree(srv, bucket, "up/"), FIXTURE, "uploaded by aws s3 cp");

            const ls = await aws("s3", "ls", "--recursive", `s3://${bucket}/up/`);
            const listed = ls.stdout.trim().split("\n").map((l) =>
              l.replace(/^\S+\s+\S+\s+\d+\s+/, "")
            );
            assertEquals(listed.sort(), Object.keys(FIXTURE).map((k) => `up/${k}`).sort());

            const odd = "up/nested/odd name + ünï (1) & 100%.txt";
            const head = JSON.parse(
              (await aws("s3api", "head-object", "--bucket", bucket, "--key", odd)).stdout,
            );
            assertEquals(
              head.ContentLength,
              FIXTURE["nested/odd name + ünï (1) & 100%.txt"].length,
            );

            await aws("s3", "cp", "--recursive", "--no-progress", `s3://${bucket}/up/`, w.dl);
            assertSameTree(await readTree(w.dl), FIXTURE, "downloaded by aws s3 cp");

            // sync: first a full upload, then a change, an addition and a removal with --delete.
            await aws("s3", "sync", "--no-progress", w.src, `s3://${bucket}/sync/`);
            assertSameTree(await serverTree(srv, bucket, "sync/"), FIXTURE, "after first sync");
            const changed = { ...FIXTURE };
            changed["hello.txt"] = new TextEncoder().encode("hello again, a longer world\n");
            changed["nested/new.txt"] = new TextEncoder().encode("new\n");
            delete changed["data.bin"];
            await Deno.writeFile(`${w.src}/hello.txt`, changed["hello.txt"]);
            await Deno.writeFile(`${w.src}/nested/new.txt`, changed["nested/new.txt"]);
            await Deno.remove(`${w.src}/data.bin`);
            const second = await aws(
              "s3",
              "sync",
              "--delete",
              "--no-progress",
              w.src,
              `s3://${bucket}/sync/`,
            );
            assert(second.stdout.includes("delete: s3://"), second.stdout);
            assertSameTree(await serverTree(srv, bucket, "sync/"), changed, "after sync --delete");
            const back = `${w.root}/back`;
            await aws("s3", "sync", "--no-progress", `s3://${bucket}/sync/`, back);
            assertSameTree(await readTree(back), changed, "synced back down");

            await aws("s3", "rm", "--recursive", `s3://${bucket}/`);
            assertEquals(await serverTree(srv, bucket, ""), {}, "after aws s3 rm --recursive");
            await aws("s3", "rb", `s3://${bucket}`);
            const buckets = JSON.parse((await aws("s3api", "list-buckets")).stdout);
            assertEquals(
              (buckets.Buckets ?? []).some((b: { Name: string }) => b.Name === bucket),
              false,
            );
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
