/**
 * The admin CLI's `shares` commands: online through the console API while the server runs (list,
 * revoke: the link answers 403 at once), then offline on the stopped server's data dir.
 */
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { cli } from "./_helpers/admin_cli.ts";
import { startServer } from "./_helpers/server.ts";
import { ADMIN_PASSWORD, ADMIN_USER } from "./iam_fixture.ts";

interface Link {
  id: string;
  bucket: string;
  key: string;
  status: string;
}

Deno.test("admin CLI: shares list and revoke, online and offline", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-shares-cli-" });
  const env = { MAXIOFS_ROOT_USER: ADMIN_USER, MAXIOFS_ROOT_PASSWORD: ADMIN_PASSWORD };
  const srv = await startServer({ dataDir, env });
  let stopped = false;
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "cli-shares" }));
    await s3.send(new PutObjectCommand({ Bucket: "cli-shares", Key: "a.txt", Body: "a" }));
    const login = await fetch(`${srv.consoleUrl}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: ADMIN_USER, password: ADMIN_PASSWORD }),
    });
    const { token } = await login.json();
    const share = async (key: string) => {
      const r = await fetch(`${srv.consoleUrl}/api/v1/buckets/cli-shares/shares`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ key, expiresInSeconds: 3600 }),
      });
      assertEquals(r.status, 201);
      return await r.json() as { share: Link; url: string };
    };
    const first = await share("a.txt");
    const second = await share("a.txt");
    const online = ["--url", srv.consoleUrl, "--user", ADMIN_USER, "--password", ADMIN_PASSWORD];

    const listed = await cli("shares", "list", "--bucket", "cli-shares", ...online);
    assertEquals(listed.code, 0, listed.stderr);
    assertEquals(
      (listed.json as Link[]).map((l) => l.id).sort(),
      [first.share.id, second.share.id].sort(),
    );
    const revoked = await cli("shares", "revoke", first.share.id, ...online);
    assertEquals(revoked.code, 0, revoked.stderr);
    const res = await fetch(first.url);
    assertEquals(res.status, 403);
    await res.body?.cancel();
    const ok = await fetch(second.url);
    assertEquals(ok.status, 200);
    await ok.body?.cancel();

    s3.destroy();
    await srv.stop({ keepData: true });
    stopped = true;
    const offline = ["--data-dir", dataDir];
    const active = await cli("shares", "list", ...offline);
    assertEquals(active.code, 0, active.stderr);
    assertEquals((active.json as Link[]).map((l) => l.id), [second.share.id]);
    assertEquals((await cli("shares", "revoke", second.share.id, ...offline)).code, 0);
    const all = await cli("shares", "list", "--all", ...offline);
    assertEquals((all.json as Link[]).map((l) => l.status), ["revoked", "revoked"]);
    const missing = await cli("shares", "revoke", "nope", ...offline);
    assertEquals(missing.code, 1);
    assert(missing.stderr.includes("no share link"), missing.stderr);
    const audit = await cli("audit", "--action", "share.revoke", ...offline);
    const actors = (audit.json as { actorName: string; result: string }[])
      .filter((e) => e.result === "success").map((e) => e.actorName).sort();
    assertEquals(actors, [ADMIN_USER, "admin-cli"]);
  } finally {
    if (!stopped) {
      s3.destroy();
      await srv.stop({ keepData: true });
    }
    await Deno.remove(dataDir, { recursive: true });
  }
});
