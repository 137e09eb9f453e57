/**
 * rclone round trips against the real server: mkdir, copy up and down, lsf, check (rclone
 * compares its own MD5 with our ETags), sync with deletions, delete, rmdir.
 */
import { assertEquals } from "./_helpers/assert.ts";
import { startServer, type TestServer } from "./_helpers/server.ts";
import {
  assertSameTree,
  FIXTURE,
  readTree,
  run,
  serverTree,
  toolStep,
  which,
  workDir,
  works,
} from "./_helpers/cli.ts";

const rclonePath = which("rclone");
const available = !!rclonePath && await works(rclonePath, ["version"]);

/** rclone configured purely from the environment: remote `maxio:`. */
function rcloneEnv(srv: TestServer, dir: string): Record<string, string> {
  return {
    RCLONE_CONFIG: `${dir}/rclone.conf`,
    RCLONE_CONFIG_MAXIO_TYPE: "s3",
    RCLONE_CONFIG_MAXIO_PROVIDER: "Other",
    RCLONE_CONFIG_MAXIO_ACCESS_KEY_ID: srv.accessKey,
    RCLONE_CONFIG_MAXIO_SECRET_ACCESS_KEY: srv.secretKey,
    RCLONE_CONFIG_MAXIO_ENDPOINT: srv.endpoint,
    RCLONE_CONFIG_MAXIO_REGION: "us-east-1",
    RCLONE_CONFIG_MAXIO_FORCE_PATH_STYLE: "true",
  };
}

Deno.test("rclone round trips", async (t) => {
  const srv = await startServer();
  try {
    await t.step(toolStep("rclone", available, async () => {
      const w = await workDir();
      const env = rcloneEnv(srv, w.root);
      const rclone = (...args: string[]) =>
        run(rclonePath!, ["--retries", "1", "--low-level-retries", "1", ...args], {
          env,
          unset: ["AWS_CA_BUNDLE"],
          timeoutMs: 120_000,
        });
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
    }));
  } finally {
    await srv.stop();
  }
});
