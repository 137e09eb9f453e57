/**
 * First start: a generated admin password is printed once and must be changed at first login;
 * a migration that fails stops the server with a clear message and leaves the database as it
 * was.
 */
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals, assertRejects } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";

Deno.test("generated bootstrap admin must change the password at first login", async () => {
  const srv = await startServer();
  try {
    const line = srv.output.find((l) => /^\s*Password: /.test(l));
    assert(line, srv.output.join("\n"));
    const password = line.trim().slice("Password: ".length);
    const user = srv.output.find((l) => /^\s*Username: /.test(l))!.trim().slice(10);
    assertEquals(user, "admin");
    const api = (path: string, init: { token?: string; body?: unknown } = {}) =>
      fetch(`${srv.consoleUrl}/api/v1${path}`, {
        method: init.body === undefined ? "GET" : "POST",
        headers: {
          "content-type": "application/json",
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));
    const login = await api("/auth/login", { body: { username: user, password } });
    assertEquals(login.status, 200);
    assertEquals(login.body.mustChangePassword, true);
    const token = login.body.token;
    const blocked = await api("/tenants", { token });
    assertEquals([blocked.status, blocked.body.error.code], [403, "PasswordChangeRequired"]);
    const changed = await api("/auth/password", {
      token,
      body: { currentPassword: password, newPassword: "A-new-admin-password-1" },
    });
    assertEquals(changed.status, 204);
    assertEquals((await api("/tenants", { token })).status, 200);
  } finally {
    await srv.stop();
  }
});

Deno.test("a failing migration stops the server and changes nothing", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-mig-" });
  try {
    // A stray table makes migration 1 fail half-way through its script.
    const db = new DatabaseSync(`${dataDir}/maxiofs.db`);
    db.exec("CREATE TABLE access_keys (x INTEGER); INSERT INTO access_keys VALUES (42);");
    db.close();
    const e = await assertRejects(() => startServer({ dataDir })) as Error;
    assert(/Cannot migrate database to version 1 \(iam\)/.test(e.message), e.message);
    const after = new DatabaseSync(`${dataDir}/maxiofs.db`);
    const tables = after.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    )
      .all().map((r) => (r as { name: string }).name);
    assertEquals(tables, ["access_keys"], "no table was created, not even schema_version");
    assertEquals(after.prepare("SELECT x FROM access_keys").all().length, 1);
    after.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
