/**
 * The policy simulator answers with the request path's own evaluator: owners, other users of the
 * tenant, users of another tenant (by `tenant:bucket`), anonymous callers, and bad input.
 */
import { assertEquals, assertRejects } from "../../tests/_helpers/assert.ts";
import { startApp } from "../../tests/_helpers/app.ts";
import { principalOf } from "./access_keys.ts";
import { NO_CLIENT } from "./net.ts";
import { createTenant } from "./tenants.ts";
import { createUser } from "./users.ts";
import { DEFAULT_DENY } from "./evaluate.ts";

Deno.test("simulate: the evaluator's decision and what decided it", async () => {
  const h = await startApp();
  try {
    const { app } = h;
    const core = app.iam.core;
    const sim = createTenant(core, { name: "sim" });
    const other = createTenant(core, { name: "other" });
    const make = (username: string, tenantId: string) =>
      createUser(core, {
        username,
        password: `${username}-Password-1`,
        role: "tenant_user",
        tenantId,
      });
    const owner = await make("sim-owner", sim.id);
    await make("sim-peer", sim.id);
    await make("other-user", other.id);
    const ownerP = principalOf({ id: owner.id, username: owner.username, role: "tenant_user" });
    const created = await app.handleAs(
      new Request("http://127.0.0.1/data", { method: "PUT" }),
      { ...ownerP, tenantId: sim.id },
      NO_CLIENT,
    );
    assertEquals(created.status, 200);
    const ask = (principal: string, op: string, bucket: string, key?: string) =>
      app.iam.simulate({ principal, op, bucket, key }, null);

    const byOwner = await ask("sim-owner", "GetObject", "data", "k");
    assertEquals([byOwner.allowed, byOwner.by], [true, "bucket owner"]);
    assertEquals(byOwner.bucket, { name: "data", account: "sim" });
    const byPeer = await ask("sim-peer", "GetObject", "data", "k");
    assertEquals([byPeer.allowed, byPeer.by], [false, DEFAULT_DENY]);
    // Another tenant's user names the bucket with its tenant; unqualified it names nothing.
    const cross = await ask("other-user", "GetObject", "sim:data", "k");
    assertEquals(cross.allowed, false);
    await assertRejects(() => ask("other-user", "GetObject", "data", "k"));
    const anon = await ask("anonymous", "ListObjectsV2", "sim:data");
    assertEquals([anon.allowed, anon.key], [false, null]);

    // A tenant admin sees only its own tenant's buckets.
    await assertRejects(() =>
      app.iam.simulate(
        { principal: "sim-owner", op: "GetObject", bucket: "data", key: "k" },
        other.id,
      )
    );
    // Bad input.
    await assertRejects(() => ask("nobody-here", "GetObject", "data", "k"));
    await assertRejects(() => ask("sim-owner", "Frobnicate", "data", "k"));
    await assertRejects(() => ask("sim-owner", "GetObject", "data"));
    await assertRejects(() => ask("sim-owner", "GetObject", "Bad_Name", "k"));
    await assertRejects(() =>
      app.iam.simulate({
        principal: "sim-owner",
        op: "GetObject",
        bucket: "data",
        key: "k",
        sourceIp: "not-an-ip",
      }, null)
    );
  } finally {
    await h.stop();
  }
});
