/**
 * The admin CLI: offline on a stopped server's data dir (refused while the server runs), and
 * online against the console API. Keys it creates work for S3 right away.
 */
import {
  CreateBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { cli } from "./_helpers/admin_cli.ts";
import { REGION, startServer } from "./_helpers/server.ts";
import { ADMIN_PASSWORD, ADMIN_USER } from "./iam_fixture.ts";

Deno.test("admin CLI offline and online", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-cli-" });
  const env = { MAXIOFS_ROOT_USER: ADMIN_USER, MAXIOFS_ROOT_PASSWORD: ADMIN_PASSWORD };
  try {
    // First start creates the database; then stop it and work offline.
    let srv = await startServer({ dataDir, env });
    await srv.stop({ keepData: true });
    let key = { accessKeyId: "", secretAccessKey: "" };

    await t.step("offline: tenant, user with generated password, key", async () => {
      const t1 = await cli(
        "tenant",
        "create",
        "cli-t",
        "--max-buckets",
        "3",
        "--data-dir",
        dataDir,
      );
      assertEquals(t1.code, 0, t1.stderr);
      assertEquals((t1.json as { quota: { maxBuckets: number } }).quota.maxBuckets, 3);
      const u = await cli("user", "create", "cli-user", "--tenant", "cli-t", "--data-dir", dataDir);
      assertEquals(u.code, 0, u.stderr);
      const user = u.json as { password: string; mustChangePassword: boolean };
      assert(user.password.length >= 12);
      assertEquals(user.mustChangePassword, true);
      const k = await cli("key", "create", "cli-user", "--data-dir", dataDir);
      assertEquals(k.code, 0, k.stderr);
      key = k.json as typeof key;
      assert(/^AKIA[A-Z0-9]{16}$/.test(key.accessKeyId));
      assertEquals(key.secretAccessKey.length, 40);
      const bad = await cli("user", "create", "x", "--role", "wizard", "--data-dir", dataDir);
      assertEquals(bad.code, 1);
      assert(bad.stderr.includes("InvalidRequest"));
    });

    srv = await startServer({ dataDir, env });
    await t.step(
      "the offline key works over S3; offline mode refuses a running server",
      async () => {
        const c = new S3Client({
          endpoint: srv.endpoint,
          region: REGION,
          forcePathStyle: true,
          credentials: key,
          maxAttempts: 1,
        });
        await c.send(new ListBucketsCommand({}));
        await c.send(new CreateBucketCommand({ Bucket: "cli-bucket" }));
        await c.send(new PutObjectCommand({ Bucket: "cli-bucket", Key: "k", Body: "12345" }));
        const locked = await cli("tenant", "list", "--data-dir", dataDir);
        assertEquals(locked.code, 1);
        assert(/in use by another MaxIOFS process/.test(locked.stderr), locked.stderr);
      },
    );

    await t.step("online: list, disable a key through the console API", async () => {
      const online = ["--url", srv.consoleUrl, "--user", ADMIN_USER, "--password", ADMIN_PASSWORD];
      const tl = await cli("tenant", "list", ...online);
      assertEquals(tl.code, 0, tl.stderr);
      assertEquals((tl.json as { name: string }[]).map((x) => x.name), ["cli-t"]);
      const off = await cli("key", "disable", key.accessKeyId, ...online);
      assertEquals(off.code, 0, off.stderr);
      assertEquals((off.json as { status: string }).status, "inactive");
      const audit = await cli("audit", "--action", "access_key", ...online);
      const actions = (audit.json as { action: string }[]).map((e) => e.action);
      assert(actions.includes("access_key.update") && actions.includes("access_key.create"));
    });
    await srv.stop({ keepData: true });

    await t.step("offline usage recount matches the stored data", async () => {
      const r = await cli("usage", "recount", "--data-dir", dataDir);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.json, [{
        tenant: "cli-t",
        usage: { bytes: 5, objects: 1, buckets: 1, reserved: 0, accessKeys: 1 },
      }]);
    });
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
