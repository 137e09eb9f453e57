/**
 * Unit tests of the IAM store on an in-memory SQLite and KV with an injected clock: lockout
 * expiry, session expiry and revocation, key lookups without stale state, grant expiry, audit
 * queries and retention, settings validation, and the quota commit hook under concurrency.
 */
import { Buffer } from "node:buffer";
import { assert, assertEquals, assertRejects } from "../../tests/_helpers/assert.ts";
import { openDb } from "../db/mod.ts";
import { S3Error } from "../s3/errors.ts";
import { commitWithHooks, noteStatChange } from "../storage/core.ts";
import { type IamCore, updateSettings } from "./core.ts";
import { SecretBox } from "./secrets.ts";
import { createTenant, deleteTenant, updateTenant } from "./tenants.ts";
import { createUser, updateUser } from "./users.ts";
import { login } from "./auth.ts";
import { IamError } from "./errors.ts";
import { accessKeyStore, createAccessKey, updateAccessKey } from "./access_keys.ts";
import { createSession, revokeSession, sessionOfToken } from "./sessions.ts";
import { createGrant, grantedAccess } from "./grants.ts";
import { purgeAudit, queryAudit, recordAudit } from "./audit.ts";
import {
  readUsage,
  reconcileReservations,
  releaseReservation,
  reservePart,
  settlePart,
  tenantQuotaHook,
} from "./quota.ts";
import { limitsOf } from "./tenants.ts";

async function testCore(): Promise<IamCore & { clock: { now(): number; t: number } }> {
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
    kv: await Deno.openKv(":memory:"),
  };
}

const client = { ip: "192.0.2.1", userAgent: "test" };

Deno.test("lockout ends after lockoutMinutes on the injected clock", async () => {
  const core = await testCore();
  updateSettings(core, { lockoutThreshold: 2, lockoutMinutes: 10 });
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
  core.kv!.close();
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
  core.kv!.close();
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
  core.kv!.close();
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
  core.kv!.close();
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
  core.kv!.close();
});

Deno.test("settings are validated", async () => {
  const core = await testCore();
  assertEquals(
    updateSettings(core, { lockoutThreshold: "5" }),
    "lockoutThreshold must be a non-negative integer",
  );
  assertEquals(updateSettings(core, { nope: 1 }), 'unknown setting "nope"');
  assertEquals(updateSettings(core, { passwordRequireDigit: true }), null);
  core.kv!.close();
});

Deno.test("quota hook: concurrent commits never exceed the limit; deletes always pass", async () => {
  const core = await testCore();
  const kv = core.kv!;
  const t = createTenant(core, { name: "qt", quota: { maxBytes: 1000, maxBuckets: 1 } });
  const fakeCore = {
    kv,
    commitHooks: [tenantQuotaHook(kv, (ns) => limitsOf(core, ns))],
  } as unknown as Parameters<typeof commitWithHooks>[0];
  const write = async (i: number, bytes: number) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const op = kv.atomic().set(["w", i, attempt], 1);
      noteStatChange(op, { bucketId: "b1", ns: t.id, objects: 1, bytes });
      if ((await commitWithHooks(fakeCore, op)).ok) return true;
    }
    return false;
  };
  const results = await Promise.allSettled(Array.from({ length: 32 }, (_, i) => write(i, 100)));
  const ok = results.filter((r) => r.status === "fulfilled" && r.value).length;
  const refused =
    results.filter((r) =>
      r.status === "rejected" && r.reason instanceof S3Error && r.reason.code === "QuotaExceeded"
    ).length;
  assertEquals([ok, refused], [10, 22]);
  assertEquals((await readUsage(kv, t.id)).bytes, 1000);
  const del = kv.atomic();
  noteStatChange(del, { bucketId: "b1", ns: t.id, objects: -1, bytes: -100 });
  assert((await commitWithHooks(fakeCore, del)).ok);
  assertEquals((await readUsage(kv, t.id)).bytes, 900);
  const b1 = kv.atomic();
  noteStatChange(b1, { bucketId: "b1", ns: t.id, buckets: 1 });
  await commitWithHooks(fakeCore, b1);
  const b2 = kv.atomic();
  noteStatChange(b2, { bucketId: "b2", ns: t.id, buckets: 1 });
  const e = await assertRejects(() => commitWithHooks(fakeCore, b2));
  assertEquals((e as S3Error).code, "TooManyBuckets");
  kv.close();
});

Deno.test("tenant deletion is refused while it owns buckets", async () => {
  const core = await testCore();
  const t = createTenant(core, { name: "dt" });
  await core.kv!.set(["bucket", t.id, "somebucket"], { v: 1 });
  const e = await assertRejects(() => deleteTenant(core, t.id));
  assertEquals((e as IamError).code, "Conflict");
  await core.kv!.delete(["bucket", t.id, "somebucket"]);
  await deleteTenant(core, t.id);
  core.kv!.close();
});

Deno.test("part reservations: atomic under concurrency, released per part, reconciled", async () => {
  const core = await testCore();
  const kv = core.kv!;
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, () => reservePart(kv, "t1", "up1", 100, 1000)),
  );
  assertEquals(results.filter((r) => r.status === "fulfilled").length, 10);
  assertEquals((await readUsage(kv, "t1")).reserved, 1000);
  await releaseReservation(kv, "t1", "up1", 300);
  assertEquals((await readUsage(kv, "t1")).reserved, 700);
  // The upload does not exist (no ["mpu", "up1"]): the reconcile frees the rest.
  await kv.set(["mpu", "up2"], { v: 1 });
  await reservePart(kv, "t1", "up2", 50, 1000);
  assertEquals(await reconcileReservations(kv), 1);
  assertEquals((await readUsage(kv, "t1")).reserved, 50);
  kv.close();
});

Deno.test("quota hook: reservations count; a completing upload converts its own", async () => {
  const core = await testCore();
  const kv = core.kv!;
  const t = createTenant(core, { name: "rq", quota: { maxBytes: 1000 } });
  const fakeCore = {
    kv,
    commitHooks: [tenantQuotaHook(kv, (ns) => limitsOf(core, ns))],
  } as unknown as Parameters<typeof commitWithHooks>[0];
  await reservePart(kv, t.id, "up1", 600, 1000);
  // A re-uploaded part number gives the replaced reservation back once it is stored.
  await settlePart(kv, t.id, "up1", 1, 600);
  await reservePart(kv, t.id, "up1", 300, 1000);
  assertEquals((await readUsage(kv, t.id)).reserved, 900);
  await settlePart(kv, t.id, "up1", 1, 300);
  assertEquals((await readUsage(kv, t.id)).reserved, 300);
  // Stored + reserved: a 800-byte object does not fit next to the 300 reserved bytes.
  const put = kv.atomic().set(["w", 1], 1);
  noteStatChange(put, { bucketId: "b1", ns: t.id, objects: 1, bytes: 800 });
  const e = await assertRejects(() => commitWithHooks(fakeCore, put));
  assertEquals((e as S3Error).code, "QuotaExceeded");
  // Completing the upload (300 bytes) moves its reservation to stored bytes in one commit.
  const done = kv.atomic().set(["w", 2], 1);
  noteStatChange(done, { bucketId: "b1", ns: t.id, objects: 1, bytes: 300, uploadId: "up1" });
  assert((await commitWithHooks(fakeCore, done)).ok);
  assertEquals((await readUsage(kv, t.id)).reserved, 0);
  assertEquals((await readUsage(kv, t.id)).bytes, 300);
  await releaseReservation(kv, t.id, "up1", null);
  assertEquals((await kv.get(["tresvp", t.id, "up1", 1])).value, null);
  kv.close();
});
