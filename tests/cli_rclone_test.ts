/**
 * rclone round trips against the real server: mkdir, copy up and down, lsf, check (rclone
 * compares its own MD5 with our ETags), sync with deletions, delete, rmdir.
 */
import { assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import {
  assertSameTree,
  FIXTURE,
  rcloneRunner,
  readTree,
  serverTree,
  workDir,
} from "./_helpers/cli.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const rcloneProgram = await findProgram("rclone");

Deno.test(needs(rcloneProgram, {
  name: "rclone round trips",
  fn: async (t) => {
    const srv = await startServer();
    try {
      await t.step(rcloneProgram.installed[0].version, async () => {
        const w = await workDir();
        const rclone = rcloneRunner(rcloneProgram.path, srv, w.root, "maxio");
        try {
          await rclone("mkdir", "maxio:cli-rclone");
          await rclone("copy", w.src, "maxio:cli-rclone/up");
          assertSameTree(await serverTree(srv, "cli-rclone", "up/"), FIXTURE, "uploaded by rclone");

          const lsf = await rclone("lsf", "-R", "--files-only", "maxio:cli-rclone/up");
          assertEquals(lsf.stdout.trim().split("\n").sort(), Object.keys(FIXTURE).sort());
          // rclone check compares sizes and MD5 hashes (our ETags) of both sides.
          await rclone("check", w.src, "maxio:cli-rclone/up");

          await rclone("copy", "maxio:cli-rclone/up", w.dl);
          assertSameTree(await readTree(w.dl), FIXTURE, "downloaded by rclone");

          const changed = { ...FIXTURE };
          changed["hello.txt"] = new TextEncoder().encode("hello from rclone sync, longer\n");
          delete changed["nested/deeper/leaf.bin"];
          await Deno.writeFile(`${w.src}/hello.txt`, changed["hello.txt"]);
          await Deno.remove(`${w.src}/nested/deeper`, { recursive: true });
          await rclone("sync", w.src, "maxio:cli-rclone/up");
          assertSameTree(await serverTree(srv, "cli-rclone", "up/"), changed, "after rclone sync");
          await rclone("check", w.src, "maxio:cli-rclone/up");

          await rclone("delete", "maxio:cli-rclone");
          assertEquals(await serverTree(srv, "cli-rclone", ""), {}, "after rclone delete");
          await rclone("rmdir", "maxio:cli-rclone");
          const buckets = await rclone("lsd", "maxio:");
          assertEquals(buckets.stdout.includes("cli-rclone"), false, buckets.stdout);
        } finally {
          await Deno.remove(w.root, { recursive: true }).catch(() => {});
        }
      });
    } finally {
      await srv.stop();
    }
  },
}));
