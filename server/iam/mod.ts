/**
 * The IAM services wired together: SQLite store, S3 credentials (users' access keys; the console
 * needs none, it calls S3 in-process as the session's principal), the S3 authorizer, tenant
 * quotas in the storage commit, the bootstrap admin and the daily maintenance (audit retention,
 * expired sessions).
 */
import { openDb } from "../db/mod.ts";
import type { Clock, Logger, StorageCore } from "../storage/core.ts";
import type { Backend } from "../storage/backend.ts";
import type { Authorizer } from "../s3/context.ts";
import type { SecretBox } from "./secrets.ts";
import type { CredentialStore } from "./types.ts";
import { getSettings, type IamCore } from "./core.ts";
import { accessKeyStore } from "./access_keys.ts";
import { iamAuthorizer } from "./s3_authorizer.ts";
import { initTenantUsage, reconcileReservations, tenantQuotaHook } from "./quota.ts";
import { limitsOf } from "./tenants.ts";
import { dropBucketGrants } from "./grants.ts";
import { createUser } from "./users.ts";
import { generatePassword } from "./passwords.ts";
import { purgeAudit, recordAudit } from "./audit.ts";
import { purgeSessions } from "./sessions.ts";
import { LoginRateLimiter } from "./auth.ts";
import type { RequestInfo } from "../s3/context.ts";

export interface IamOptions {
  dataDir: string;
  box: SecretBox;
  signingKey: string;
  clock: Clock;
  log: Logger;
  /** Storage of the running server (absent in the offline admin CLI without KV). */
  storage?: { backend: Backend; core: StorageCore };
}

export interface Iam {
  core: IamCore;
  credentials: CredentialStore;
  authorizer: Authorizer;
  limiter: LoginRateLimiter;
  /** Audit hook for S3 requests (bucket create/delete). */
  onS3Request(info: RequestInfo): void;
  /** Creates the first admin if there is no user; returns what to print. */
  bootstrap(opts: { user: string | null; password: string | null }): Promise<
    { username: string; password: string | null; generated: boolean } | null
  >;
  maintenance(): void;
  close(): void;
}

export async function createIam(opts: IamOptions): Promise<Iam> {
  const db = openDb(`${opts.dataDir}/maxiofs.db`);
  const core: IamCore = {
    db,
    box: opts.box,
    signingKey: opts.signingKey,
    clock: opts.clock,
    storage: opts.storage?.backend,
    kv: opts.storage?.core.kv,
  };
  const timers: ReturnType<typeof setInterval>[] = [];
  if (opts.storage) {
    const kv = opts.storage.core.kv;
    await initTenantUsage(kv);
    // Reservations of uploads that expired or went with their bucket are released here.
    const reconcile = () =>
      reconcileReservations(kv).catch((e) =>
        opts.log.warn("reservation reconcile failed", { error: String(e) })
      );
    await reconcile();
    timers.push(setInterval(reconcile, 3600 * 1000));
    opts.storage.core.commitHooks.push(
      tenantQuotaHook(opts.storage.core.kv, (ns) => limitsOf(core, ns)),
    );
  }

  const credentials = accessKeyStore(core);

  const authorizer = iamAuthorizer(core);

  return {
    core,
    credentials,
    authorizer,
    limiter: new LoginRateLimiter(core),
    onS3Request(info) {
      authorizer.finish(info);
      if (info.op !== "CreateBucket" && info.op !== "DeleteBucket") return;
      // From the request itself: also for requests refused before authorization (no such
      // bucket, bad signature), which are audited too.
      const p = info.principal;
      try {
        if (info.op === "DeleteBucket" && info.status < 300 && info.bucket) {
          dropBucketGrants(core, p?.tenantId ?? "", info.bucket);
        }
        recordAudit(core, {
          actorId: p?.userId ?? null,
          actorName: p?.displayName ?? null,
          tenantId: p?.tenantId ?? null,
          action: info.op === "CreateBucket" ? "bucket.create" : "bucket.delete",
          resource: `bucket/${info.bucket}`,
          ip: info.client.ip,
          userAgent: info.req.headers.get("user-agent"),
          result: info.status < 300 ? "success" : info.status === 403 ? "denied" : "failure",
          detail: `status ${info.status}`,
        });
      } catch (e) {
        opts.log.warn("audit write failed", { error: String(e) });
      }
    },
    async bootstrap(b) {
      const any = db.prepare("SELECT 1 FROM users LIMIT 1").get();
      if (any) return null;
      const username = b.user ?? "admin";
      const generated = !b.password;
      const password = b.password ?? generatePassword();
      await createUser(core, {
        username,
        password,
        role: "global_admin",
        displayName: "Administrator",
        mustChangePassword: generated,
      }, { skipPolicy: true });
      recordAudit(core, {
        actorName: "system",
        action: "user.create",
        resource: `user/${username}`,
        result: "success",
        detail: "bootstrap admin",
      });
      return { username, password: generated ? password : null, generated };
    },
    maintenance() {
      try {
        const purged = purgeAudit(core, getSettings(core).auditRetentionDays);
        purgeSessions(core);
        if (purged) opts.log.info("audit retention purge", { entries: purged });
      } catch (e) {
        opts.log.error("IAM maintenance failed", { error: String(e) });
      }
    },
    close() {
      for (const t of timers) clearInterval(t);
      db.close();
    },
  };
}
