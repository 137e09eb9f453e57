/**
 * s3cmd round trips against the real server (SigV4, path style over plain http): mb, put
 * --recursive, ls, info, get --recursive, sync --delete-removed, del, rb.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import {
  assertSameTree,
  FIXTURE,
  readTree,
  run,
  serverTree,
  workDir,
  writeS3cmdConfig,
} from "./_helpers/cli.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const s3cmdProgram = await findProgram("s3cmd");

Deno.test(needs(s3cmdProgram, {
  name: "s3cmd round trips",
  fn: async (t) => {
    const srv = await startServer();
    try {
      await t.step(s3cmdProgram.installed[0].version, async () => {
        const w = await workDir();
        const cfg = `${w.root}/s3cfg`;
        await writeS3cmdConfig(srv, cfg, [
          "check_ssl_certificate = False",
          "guess_mime_type = False",
        ]);
        const s3cmd = (...args: string[]) =>
          run(s3cmdProgram.path, ["-c", cfg, "--no-progress", ...args], {
            env: { HOME: w.root },
            timeoutMs: 120_000,
          });
        try {
          await s3cmd("mb", "s3://cli-s3cmd");
          await s3cmd("put", "--recursive", `${w.src}/`, "s3://cli-s3cmd/up/");
          assertSameTree(await serverTree(srv, "cli-s3cmd", "up/"), FIXTURE, "uploaded by s3cmd");

          const ls = await s3cmd("ls", "--recursive", "s3://cli-s3cmd/up/");
          const listed = ls.stdout.trim().split("\n").map((l) =>
            l.replace(/^.*?s3:\/\/cli-s3cmd\//, "")
          );
          assertEquals(listed.sort(), Object.keys(FIXTURE).map((k) => `up/${k}`).sort());

          const info = await s3cmd(
            "info",
            "s3://cli-s3cmd/up/nested/odd name + ünï (1) & 100%.txt",
          );
          assert(/File size:\s+8\b/.test(info.stdout), info.stdout);

          await s3cmd("get", "--recursive", "s3://cli-s3cmd/up/", `${w.dl}/`);
          assertSameTree(await readTree(w.dl), FIXTURE, "downloaded by s3cmd");

          const changed = { ...FIXTURE };
          changed["hello.txt"] = new TextEncoder().encode("hello from s3cmd sync, longer\n");
          delete changed["empty.txt"];
          await Deno.writeFile(`${w.src}/hello.txt`, changed["hello.txt"]);
          await Deno.remove(`${w.src}/empty.txt`);
          await s3cmd("sync", "--delete-removed", `${w.src}/`, "s3://cli-s3cmd/up/");
          assertSameTree(await serverTree(srv, "cli-s3cmd", "up/"), changed, "after s3cmd sync");

          await s3cmd("del", "--recursive", "--force", "s3://cli-s3cmd/");
          assertEquals(await serverTree(srv, "cli-s3cmd", ""), {}, "after s3cmd del");
          await s3cmd("rb", "s3://cli-s3cmd");
          const buckets = await s3cmd("ls");
          assertEquals(buckets.stdout.includes("cli-s3cmd"), false, buckets.stdout);
        } finally {
          await Deno.remove(w.root, { recursive: true }).catch(() => {});
        }
      });
    } finally {
      await srv.stop();
    }
  },
}));
