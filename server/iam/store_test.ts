/**
 * Unit tests of the IAM store on an in-memory SQLite and KV with an injected clock: lockout
 * expiry, session expiry and revocation, key lookups without stale state, grant expiry, audit
 * queries and retention, settings validation, and tenant deletion next to its buckets.
 */
import { Buffer } from "node:buffer";
import { assert, assertEquals, assertRejects } from "../../tests/_helpers/assert.ts";
import { openDb } from "../db/mod.ts";
import { withStorage } from "../../tests/_helpers/storage.ts";
import type { IamCore } from "./core.ts";
import { isSettingsProblem, updateSettings } from "./settings.ts";
import { SecretBox } from "./secrets.ts";
import { createTenant, deleteTenant, updateTenant } from "./tenants.ts";
import { createUser, updateUser } from "./users.ts";
import { login } from "./auth.ts";
import { IamError } from "./errors.ts";
import { accessKeyStore, createAccessKey, updateAccessKey } from "./access_keys.ts";
import { createSession, revokeSession, sessionOfToken } from "./sessions.ts";
import { createGrant, grantedAccess } from "./grants.ts";
import { purgeAudit, queryAudit, recordAudit } from "./audit.ts";

function testCore(): IamCore & { clock: { now(): number; t: number } } {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
  const clock = {
    t: 1_800_000_000_000,
    now() {
      return this.t;
    },
  };
  return {
    db: openDb(":memory:"),
    box: new SecretBox(key),
    signingKey: key,
    clock,
  };
}

const client = { ip: "192.0.2.1", userAgent: "test" };

Deno.test("lockout ends after lockoutMinutes on the injected clock", async () => {
  const core = await testCore();
  await updateSettings(core, { lockoutThreshold: 2, lockoutMinutes: 10 });
  const t = createTenant(core, { name: "lk" });
  await createUser(core, {
    username: "u1",
    password: "Password-1",
    role: "tenant_user",
    tenantId: t.id,
  });
  for (let i = 0; i < 2; i++) {
    await assertRejects(() => login(core, { username: "u1", password: "wrong-pass" }, client));
  }
  const e = await assertRejects(() =>
    login(core, { username: "u1", password: "Password-1" }, client)
  );
  assertEquals((e as IamError).code, "AccountLocked");
  core.clock.t += 10 * 60_000 + 1;
  const ok = await login(core, { username: "u1", password: "Password-1" }, client);
  assertEquals(ok.kind, "session");
});

Deno.test("sessions expire and revoke; tokens cannot be forged", async () => {
  const core = await testCore();
  const u = await createUser(core, {
    username: "s1",
    password: "Password-1",
    role: "global_admin",
  });
  const s = createSession(core, u.id, client);
  assertEquals(sessionOfToken(core, s.token)?.userId, u.id);
  assertEquals(sessionOfToken(core, s.token.slice(0, -2) + "xx"), null);
  assertEquals(sessionOfToken(core, s.session.id + ".bogus"), null);
  core.clock.t += 12 * 3_600_000 + 1;
  assertEquals(sessionOfToken(core, s.token), null, "expired");
  const s2 = createSession(core, u.id, client);
  revokeSession(core, s2.session.id);
  assertEquals(sessionOfToken(core, s2.token), null, "revoked");
});

Deno.test("access key lookups see status changes immediately", async () => {
  const core = await testCore();
  const t = createTenant(core, { name: "kt" });
  const u = await createUser(core, {
    username: "k1",
    password: "Password-1",
    role: "tenant_user",
    tenantId: t.id,
  });
  const k = await createAccessKey(core, u.id);
  const store = accessKeyStore(core);
  const c = await store.lookup(k.accessKeyId);
  assertEquals(c?.secretAccessKey, k.secretAccessKey);
  assertEquals(c?.principal.tenantId, t.id);
  updateAccessKey(core, k.accessKeyId, { status: "inactive" });
  assertEquals(await store.lookup(k.accessKeyId), null);
  updateAccessKey(core, k.accessKeyId, { status: "active" });
  updateUser(core, u.id, { status: "disabled" });
  assertEquals(await store.lookup(k.accessKeyId), null);
  updateUser(core, u.id, { status: "active" });
  updateTenant(core, t.id, { status: "suspended" });
  assertEquals(await store.lookup(k.accessKeyId), null);
  const raw = core.db.prepare("SELECT sealed_secret FROM access_keys").get() as {
    sealed_secret: string;
  };
  assert(!raw.sealed_secret.includes(k.secretAccessKey), "secret sealed at rest");
});

Deno.test("grants expire on the injected clock and never cross tenants", async () => {
  const core = await testCore();
  const a = createTenant(core, { name: "ga" });
  const b = createTenant(core, { name: "gb" });
  const ua = await createUser(core, {
    username: "ga1",
    password: "Password-1",
    role: "tenant_user",
    tenantId: a.id,
  });
  const ub = await createUser(core, {
    username: "gb1",
    password: "Password-1",
    role: "tenant_user",
    tenantId: b.id,
  });
  createGrant(core, {
    ns: a.id,
    bucket: "x",
    bucketId: "bid",
    subjectType: "user",
    subjectId: ua.id,
    access: "write",
    expiresAt: core.clock.now() + 1000,
    createdBy: "test",
  });
  const who = { id: ua.id, tenantId: a.id, groupIds: [] };
  assertEquals(grantedAccess(core, "bid", who), "write");
  core.clock.t += 1001;
  assertEquals(grantedAccess(core, "bid", who), null);
  let err: unknown = null;
  try {
    createGrant(core, {
      ns: a.id,
      bucket: "x",
      bucketId: "bid",
      subjectType: "user",
      subjectId: ub.id,
      access: "read",
      createdBy: "test",
    });
  } catch (e) {
    err = e;
  }
  assertEquals((err as IamError).code, "InvalidRequest");
});

Deno.test("audit filters, pagination and retention purge", async () => {
  const core = await testCore();
  for (let i = 0; i < 5; i++) {
    recordAudit(core, {
      action: i % 2 ? "login.failure" : "login.success",
      actorName: "x",
      result: "success",
    });
    core.clock.t += 86_400_000;
  }
  recordAudit(core, { action: "tenant.create", actorName: "y", tenantId: "t1", result: "success" });
  const page1 = queryAudit(core, { action: "login", limit: 2 });
  assertEquals(page1.items.length, 2);
  assert(page1.nextCursor);
  const page2 = queryAudit(core, { action: "login", limit: 10, before: Number(page1.nextCursor) });
  assertEquals(page1.items.length + page2.items.length, 5);
  assertEquals(page2.nextCursor, null);
  assertEquals(queryAudit(core, { tenantId: "t1" }).items.map((e) => e.action), ["tenant.create"]);
  assertEquals(queryAudit(core, { action: "login.failure" }).items.length, 2);
  // Now is day 5: a 3-day retention drops the entries of days 0 and 1.
  assertEquals(purgeAudit(core, 3), 2);
  assertEquals(queryAudit(core, {}).items.length, 4);
});

Deno.test("settings are validated", async () => {
  const core = await testCore();
  assertEquals(
    problemOf(await updateSettings(core, { lockoutThreshold: "5" })),
    "lockoutThreshold must be a non-negative integer",
  );
  assertEquals(problemOf(await updateSettings(core, { nope: 1 })), 'unknown setting "nope"');
  assert(!isSettingsProblem(await updateSettings(core, { passwordRequireDigit: true })));
});

Deno.test("tenant deletion is refused while it owns buckets", async () => {
  await withStorage("maxiofs-iam-", async (s) => {
    const core = { ...testCore(), storage: s.backend };
    const t = createTenant(core, { name: "dt" });
    await s.backend.createBucket({ ns: t.id, name: "somebucket", ownerId: "u", region: "r" });
    const e = await assertRejects(() => deleteTenant(core, t.id));
    assertEquals((e as IamError).code, "Conflict");
    await s.backend.deleteBucket(t.id, "somebucket");
    // The tenant's key service keys (sealed material rows) go with it.
    core.db.exec(
      `INSERT INTO kms_keys (ns, id, state, created_at) VALUES ('${t.id}', 'k', 'Enabled', 1);
       INSERT INTO kms_key_versions (ns, key_id, version, kek, sealed, created_at)
       VALUES ('${t.id}', 'k', 1, 'm:x', x'00', 1);
       INSERT INTO webhook_targets (ns, name, url, created_at) VALUES ('${t.id}', 'w', 'http://x/', 1);
       INSERT INTO notification_queue (seq, config_id, ns, bucket, key, event, target_ns, target,
         payload, next_at, state, created_at)
       VALUES ('1', 'c', '${t.id}', 'b', 'k', 'ObjectCreated:Put', '${t.id}', 'w', '{}', 1, 'dead', 1)`,
    );
    await deleteTenant(core, t.id);
    for (const table of ["kms_keys", "kms_key_versions", "webhook_targets", "notification_queue"]) {
      assertEquals({ ...core.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() }, { n: 0 });
    }
  });
});

/** The message of a refused settings change; null when it was stored. */
function problemOf(out: Awaited<ReturnType<typeof updateSettings>>): string | null {
  return isSettingsProblem(out) ? out.message : null;
}
