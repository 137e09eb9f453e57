/**
 * The IAM services wired together: SQLite store, S3 credentials (users' access keys; the console
 * needs none, it calls S3 in-process as the session's principal), the S3 authorizer, tenant
 * quotas in the storage commit, the bootstrap admin and the daily maintenance (audit retention,
 * expired sessions).
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import type { Backend } from "../storage/mod.ts";
import type { QuotaPolicy } from "../storage/types.ts";
import type { SecretBox } from "./secrets.ts";
import type { CredentialStore } from "./types.ts";
import { type IamCore } from "./core.ts";
import { getSettings, LiveSettings } from "./settings.ts";
import { accessKeyStore } from "./access_keys.ts";
import { type IamAuthorizer, iamAuthorizer } from "./s3_authorizer.ts";
import { simulate, type SimulationInput, type SimulationResult } from "./simulate.ts";
import { getTenant, getTenantByName, limitsOf } from "./tenants.ts";
import { dropBucketGrants } from "./grants.ts";
import { BucketQuotas } from "./bucket_quotas.ts";
import { createUser, getUserByName, granteeLookup } from "./users.ts";
import type { GranteeLookup } from "./acl.ts";
import { generatePassword } from "./passwords.ts";
import { purgeAudit, recordAudit } from "./audit.ts";
import { auditS3Request } from "./audit_s3.ts";
import { purgeSessions } from "./sessions.ts";
import { LoginRateLimiter } from "./auth.ts";
import type { RequestInfo } from "../s3/context.ts";
import type { Namespaces } from "../s3/bucket_ref.ts";
import type { PrincipalLookup } from "./policy.ts";

export interface IamOptions {
  /** IAM's database (`openDb(data_dir/maxiofs.db)`); IAM closes it. */
  db: Db;
  box: SecretBox;
  signingKey: string;
  clock: Clock;
  log: Logger;
  /** Storage of the running server; it enforces the quotas of `tenantQuotas(db, bucketQuotas)`. */
  storage?: { backend: Backend };
  /** The bucket quotas storage enforces (made over `db` when absent). */
  bucketQuotas?: BucketQuotas;
}

export interface Iam {
  core: IamCore;
  credentials: CredentialStore;
  authorizer: IamAuthorizer;
  /** Tenant names to namespaces (`tenant:bucket` names). */
  namespaces: Namespaces;
  /** Whether a principal ARN a bucket policy names exists (PutBucketPolicy refuses others). */
  principals: PrincipalLookup;
  /**
   * The policy simulator (simulate.ts): the evaluator's decision on a request described by the
   * console, and what decided it. `visibleNs`: the asking admin's namespace (null: all).
   */
  simulate(input: SimulationInput, visibleNs: string | null): Promise<SimulationResult>;
  /** ACL grantees: canonical ids and email addresses resolved to users. */
  grantees: GranteeLookup;
  limiter: LoginRateLimiter;
  /** The server's settings as they are now; changes go through it (settings.ts). */
  settings: LiveSettings;
  /** Per-bucket quotas (bucket_quotas.ts); changes go through it. */
  bucketQuotas: BucketQuotas;
  /**
   * The S3 request hook: the authorizer's bookkeeping, and the audit of bucket changes (and of
   * object writes and deletes when the setting is on, audit_s3.ts).
   */
  onS3Request(info: RequestInfo): void;
  /** Creates the first admin if there is no user; returns what to print. */
  bootstrap(opts: { user: string | null; password: string | null }): Promise<
    { username: string; password: string | null; generated: boolean } | null
  >;
  maintenance(): void;
  close(): void;
}

export function createIam(opts: IamOptions): Iam {
  const db = opts.db;
  const core: IamCore = {
    db,
    box: opts.box,
    signingKey: opts.signingKey,
    clock: opts.clock,
    storage: opts.storage?.backend,
  };

  const credentials = accessKeyStore(core);

  // A tenant's name never changes and its id is never reused: names are kept once read.
  const accounts = new Map<string, string>();
  const namespaces: Namespaces = {
    nsOf: (account) => getTenantByName(core, account)?.id ?? null,
    accountOf: (ns) => {
      if (ns === "") return "";
      const known = accounts.get(ns);
      if (known !== undefined) return known;
      const name = getTenant(core, ns)?.name ?? null;
      if (name !== null) accounts.set(ns, name);
      return name;
    },
  };

  const grantees = granteeLookup(core);
  const settings = new LiveSettings(core);
  const bucketQuotas = opts.bucketQuotas ?? new BucketQuotas(core);
  settings.onChange((s, changed) => {
    if (changed.some((f) => f.startsWith("storage."))) bucketQuotas.setDefaults(s.storage);
  });
  const authorizer = iamAuthorizer(core, { namespaces });

  return {
    core,
    credentials,
    authorizer,
    namespaces,
    principals: {
      principalExists(arn) {
        const m = /^arn:aws:iam::([a-z0-9-]*):(root|user\/(.+))$/.exec(arn);
        if (!m) return false;
        const ns = m[1] === "" ? "" : namespaces.nsOf(m[1]);
        if (ns === null) return false;
        if (m[2] === "root") return true;
        const row = getUserByName(core, m[3]);
        return row !== null && ((row.tenant_id as string | null) ?? "") === ns;
      },
    },
    simulate(input, visibleNs) {
      if (!core.storage) throw new Error("the simulator needs the server's storage");
      return simulate({ core, storage: core.storage, namespaces, authorizer }, input, visibleNs);
    },
    grantees,
    limiter: new LoginRateLimiter(core),
    settings,
    bucketQuotas,
    onS3Request(info) {
      authorizer.finish(info);
      try {
        if (info.op === "DeleteBucket" && info.status < 300 && info.bucket) {
          dropBucketGrants(core, info.principal?.tenantId ?? "", info.bucket);
          bucketQuotas.drop(info.principal?.tenantId ?? "", info.bucket);
        }
        auditS3Request(core, info, settings.current().audit.s3ObjectEvents);
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
      db.close();
    },
  };
}

/**
 * The tenants' quota limits as IAM's database holds them, and the buckets' (the table IAM is
 * then given), for storage to enforce in its publishing commits (`openStorage({ quota })`).
 * Storage is opened before IAM, over the same database.
 */
export function tenantQuotas(db: Db, buckets?: BucketQuotas): QuotaPolicy {
  return {
    limitsOf: (ns) => limitsOf({ db }, ns),
    bucketLimitsOf: buckets ? (bucketId) => buckets.limitsOf(bucketId) : undefined,
  };
}
