/**
 * Admin CLI for automation: `deno task admin -- <command> [args] [--flags]`.
 *
 * Offline (default): works on `--data-dir` (default ./data) while the server is stopped; it
 * takes the data-dir lock, so it refuses to run next to a live server.
 * Online: `--url http://host:console-port --user U --password P` (or MAXIOFS_ADMIN_USER /
 * MAXIOFS_ADMIN_PASSWORD) drives the console API instead.
 *
 * Commands:
 *   tenant list | tenant create <name> [--max-bytes N] [--max-buckets N] [--max-keys N]
 *   tenant set <name> [--status active|suspended] [--max-bytes N|none] ... | tenant delete <name>
 *   user list [--tenant T] | user create <username> --role R [--tenant T] [--password P]
 *   user delete <username> | user reset-password <username> [--password P] | user unlock <username>
 *   key list [--user U] | key create <username> [--description D]
 *   key enable|disable|delete <accessKeyId>
 *   audit [--limit N] [--action A]
 *   public-access-block get [--tenant T]   (without --tenant: the global default)
 *   public-access-block set [--tenant T] [--block-public-acls] [--ignore-public-acls]
 *                          [--block-public-policy] [--restrict-public-buckets]  (flags not named
 *                          are false, as in PutPublicAccessBlock; `--flag false` also works)
 *   public-access-block delete --tenant T
 *   kms list [--tenant T] | kms create [--id ID] [--description D] [--tenant T]
 *   kms describe|enable|disable|rotate <id or ARN> [--tenant T]   (SSE-KMS keys; scripts/admin_kms.ts)
 *   targets list|create|delete|test ... | notifications dead-letters|retry|discard ...
 *                          (event notifications: webhook targets and dead letters;
 *                          scripts/admin_notify.ts)
 *   shares list [--bucket B] [--tenant T] [--all] | shares revoke <id>
 *                          (share links: scripts/admin_shares.ts; --all: expired, revoked too)
 *   usage recount          (offline only: recompute tenant usage counters from the buckets)
 *   scrub status           the integrity scrubber's pass in progress and last pass, with findings
 *   scrub verify <bucket> [--tenant T]  (or `verify <bucket>`) re-reads and verifies every
 *                          version of one bucket now; prints what it found
 *   inventory run <bucket> <id> [--tenant T]  writes that inventory configuration's report now
 *                          (whatever its schedule) and prints the run: objects, where written
 *   replication destinations|destination-set|destination-delete|status|sync|retry|pause|resume
 *                          (online only; scripts/admin_replication.ts, docs/replication.md)
 *   kv space               (offline only: page size, pages used and free of the KV file)
 *   kv compact [--page-size N]  (offline only: return the KV file's free pages to the file
 *                          system; needs free disk for a second copy; docs/operations.md)
 *   bucket empty|force-delete <name> --yes [--tenant T]  (online only: every version, delete
 *                          marker and upload deleted, then the bucket; scripts/admin_buckets.ts)
 *   keys status | keys rotate | keys export --out F | keys import --in F [--force]
 *                          (master keys: scripts/admin_keys.ts, docs/operations.md)
 * Output is JSON. A generated password is printed once and must be changed at first login.
 */
import {
  compactKvFile,
  kvFilePath,
  kvFileSpace,
  lockDataDir,
  openStorage,
  unlockDataDir,
} from "../server/storage/mod.ts";
import { createLogger } from "../server/log.ts";
import { loadOrCreateSecrets, SecretBox } from "../server/iam/secrets.ts";
import { openDb } from "../server/db/mod.ts";
import type { IamCore } from "../server/iam/core.ts";
import { systemClock } from "../server/clock.ts";
import * as tenants from "../server/iam/tenants.ts";
import * as users from "../server/iam/users.ts";
import * as keys from "../server/iam/access_keys.ts";
import { queryAudit, recordAudit } from "../server/iam/audit.ts";
import { generatePassword } from "../server/iam/passwords.ts";
import { IamError } from "../server/iam/errors.ts";
import * as pab from "../server/iam/public_access.ts";
import { Scrubber } from "../server/features/integrity/scrubber.ts";
import { InventoryWorker } from "../server/features/inventory/worker.ts";
import { loadScrubState, passView } from "../server/features/integrity/state.ts";
import { isS3Error } from "../server/s3/errors.ts";
import { Keyring } from "../server/crypto/keyring.ts";
import { BuiltinKms, KmsAdminError } from "../server/crypto/builtin_kms.ts";
import { type KmsOps, offlineKmsOps, onlineKmsOps, runKmsCommand } from "./admin_kms.ts";
import {
  type NotifyOps,
  offlineNotifyOps,
  onlineNotifyOps,
  runNotifyCommand,
} from "./admin_notify.ts";
import { Notifications, TargetError } from "../server/features/notifications/mod.ts";
import {
  offlineShareOps,
  onlineShareOps,
  runSharesCommand,
  type ShareOps,
} from "./admin_shares.ts";
import { ShareLinks } from "../server/features/shares/store.ts";

import { type ConsoleClient, consoleClientOf, type Json } from "./admin_console.ts";
import { KEYS_USAGE, runKeysCommand } from "./admin_keys.ts";
import { BUCKETS_USAGE, runBucketCommand } from "./admin_buckets.ts";
import { REPLICATION_USAGE, runReplicationCommand } from "./admin_replication.ts";

interface Args {
  positional: string[];
  flags: Map<string, string>;
}

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") continue;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else {flags.set(
          a.slice(2),
          argv[i + 1] !== undefined && !argv[i + 1].startsWith("--") ? argv[++i] : "true",
        );}
    } else positional.push(a);
  }
  return { positional, flags };
}

/** The operations the CLI needs, offline (SQLite) or online (console API). */
interface AdminOps extends KmsOps, NotifyOps, ShareOps {
  listTenants(): Promise<Json[]>;
  createTenant(body: Json): Promise<Json>;
  updateTenant(name: string, body: Json): Promise<Json>;
  deleteTenant(name: string): Promise<void>;
  listUsers(tenant?: string): Promise<Json[]>;
  createUser(body: Json): Promise<Json>;
  deleteUser(username: string): Promise<void>;
  resetPassword(username: string, password: string): Promise<void>;
  unlockUser(username: string): Promise<void>;
  listKeys(username?: string): Promise<Json[]>;
  createKey(username: string, description: string): Promise<Json>;
  updateKey(id: string, body: Json): Promise<Json>;
  deleteKey(id: string): Promise<void>;
  audit(limit: number, action?: string): Promise<Json[]>;
  recountUsage(): Promise<Json[]>;
  /** A tenant's block (null: none set), or without a tenant the global default. */
  getPublicAccessBlock(tenant?: string): Promise<Json | null>;
  putPublicAccessBlock(tenant: string | undefined, block: Json): Promise<Json>;
  deletePublicAccessBlock(tenant: string): Promise<void>;
  /** The integrity scrubber's pass in progress and last pass (online: the server's status). */
  scrubStatus(): Promise<Json>;
  /** Verifies every version of one bucket now (`tenant` names its namespace). */
  verifyBucket(bucket: string, tenant?: string): Promise<Json>;
  /** Writes one inventory configuration's report now; the run (history row). */
  runInventory(bucket: string, id: string, tenant?: string): Promise<Json>;
  close(): Promise<void>;
}

async function offlineOps(
  dataDir: string,
  region: string,
  allowPrivateEndpoints: boolean,
): Promise<AdminOps> {
  // Takes the data-dir lock: refuses to run next to a live server.
  const storage = await openStorage({ dataDir, log: createLogger("warn") });
  const secrets = await loadOrCreateSecrets(dataDir);
  const core: IamCore = {
    db: openDb(`${dataDir}/maxiofs.db`),
    box: new SecretBox(secrets.masterKey),
    signingKey: secrets.signingKey,
    clock: systemClock,
    storage: storage.backend,
  };
  const tenantId = (nameOrId: string) => {
    const t = tenants.getTenantByName(core, nameOrId) ?? tenants.getTenant(core, nameOrId);
    if (!t) throw new IamError("NotFound", `no tenant "${nameOrId}"`);
    return t.id;
  };
  const userId = (name: string) => {
    const r = users.getUserByName(core, name);
    if (!r) throw new IamError("NotFound", `no user "${name}"`);
    return r.id as string;
  };
  const log = (action: string, resource: string) =>
    recordAudit(core, { actorName: "admin-cli", action, resource, result: "success" });
  const kms = new BuiltinKms({ db: core.db, keyring: await Keyring.open(dataDir), region });
  const notifications = new Notifications({
    db: core.db,
    box: core.box,
    storage: storage.backend,
    clock: systemClock,
    log: createLogger("warn"),
    region,
    outbound: { allowPrivate: allowPrivateEndpoints },
  });
  const auditIn = (action: string, resource: string, ns: string | null) =>
    recordAudit(core, {
      actorName: "admin-cli",
      tenantId: ns || null,
      action,
      resource,
      result: "success",
    });
  return {
    ...offlineNotifyOps(notifications, (tenant) => tenant ? tenantId(tenant) : null, auditIn),
    ...offlineKmsOps(
      kms,
      (tenant) => tenant ? tenantId(tenant) : "",
      (action, resource, ns) =>
        recordAudit(core, {
          actorName: "admin-cli",
          tenantId: ns === "" ? null : ns,
          action,
          resource,
          result: "success",
        }),
    ),
    ...offlineShareOps(
      new ShareLinks({ db: core.db, clock: systemClock }),
      (tenant) => tenant ? tenantId(tenant) : "",
      (action, resource, ns, detail) =>
        recordAudit(core, {
          actorName: "admin-cli",
          tenantId: ns === "" ? null : ns,
          action,
          resource,
          result: "success",
          detail,
        }),
    ),
    listTenants: () =>
      Promise.all(
        tenants.listTenants(core).map((t) => tenants.withUsage(core, t)),
      ) as unknown as Promise<Json[]>,
    createTenant: (body) => {
      const t = tenants.createTenant(core, body as never);
      log("tenant.create", `tenant/${t.name}`);
      return Promise.resolve(t as unknown as Json);
    },
    updateTenant: (name, body) => {
      const t = tenants.updateTenant(core, tenantId(name), body);
      log("tenant.update", `tenant/${t.name}`);
      return Promise.resolve(t as unknown as Json);
    },
    deleteTenant: async (name) => {
      await tenants.deleteTenant(core, tenantId(name));
      log("tenant.delete", `tenant/${name}`);
    },
    listUsers: (tenant) =>
      Promise.resolve(
        users.listUsers(core, {
          tenantId: tenant ? tenantId(tenant) : undefined,
        }) as unknown as Json[],
      ),
    createUser: async (body) => {
      const u = await users.createUser(core, {
        ...body,
        tenantId: body.tenantId ? tenantId(body.tenantId as string) : undefined,
      } as never);
      log("user.create", `user/${u.username}`);
      return u as unknown as Json;
    },
    deleteUser: (name) => {
      users.deleteUser(core, userId(name));
      log("user.delete", `user/${name}`);
      return Promise.resolve();
    },
    resetPassword: async (name, password) => {
      await users.setPassword(core, userId(name), password, true);
      users.unlockUser(core, userId(name));
      log("password.reset", `user/${name}`);
    },
    unlockUser: (name) => {
      users.unlockUser(core, userId(name));
      log("user.unlock", `user/${name}`);
      return Promise.resolve();
    },
    listKeys: (name) =>
      Promise.resolve(
        keys.listAccessKeys(core, { userId: name ? userId(name) : undefined }) as unknown as Json[],
      ),
    createKey: async (name, description) => {
      const k = await keys.createAccessKey(core, userId(name), description);
      log("access_key.create", `access_key/${k.accessKeyId}`);
      return k as unknown as Json;
    },
    updateKey: (id, body) => {
      const k = keys.updateAccessKey(core, id, body);
      log("access_key.update", `access_key/${id}`);
      return Promise.resolve(k as unknown as Json);
    },
    deleteKey: (id) => {
      keys.deleteAccessKey(core, id);
      log("access_key.delete", `access_key/${id}`);
      return Promise.resolve();
    },
    audit: (limit, action) =>
      Promise.resolve(queryAudit(core, { limit, action }).items as unknown as Json[]),
    recountUsage: async () => {
      await storage.backend.recountUsage();
      log("usage.recount", "tstat");
      return await Promise.all(
        tenants.listTenants(core).map(async (t) => ({
          tenant: t.name,
          usage: (await tenants.withUsage(core, t)).usage,
        })),
      );
    },
    getPublicAccessBlock: (tenant) =>
      Promise.resolve(
        (tenant
          ? pab.getTenantPublicAccessBlock(core, tenantId(tenant))
          : pab.getGlobalPublicAccessBlock(core)) as unknown as Json | null,
      ),
    putPublicAccessBlock: async (tenant, body) => {
      const block = pab.publicAccessBlockFromJson(body);
      if (tenant) pab.putTenantPublicAccessBlock(core, tenantId(tenant), block);
      else await pab.putGlobalPublicAccessBlock(core, block);
      log("public-access-block.put", tenant ? `tenant/${tenant}` : "settings");
      return block as unknown as Json;
    },
    deletePublicAccessBlock: (tenant) => {
      pab.putTenantPublicAccessBlock(core, tenantId(tenant), null);
      log("public-access-block.delete", `tenant/${tenant}`);
      return Promise.resolve();
    },
    scrubStatus: () => {
      const st = loadScrubState(core.db);
      return Promise.resolve({
        current: st.current && passView(st.current.pass),
        last: st.last && passView(st.last),
      });
    },
    verifyBucket: async (name, tenant) => {
      const b = await storage.backend.getBucket(tenant ? tenantId(tenant) : "", name);
      const scrubber = new Scrubber(storage.backend, {
        db: core.db,
        rate: 0,
        intervalMs: 0,
        clock: systemClock,
        log: createLogger("warn"),
        onFinding: (f) =>
          recordAudit(core, {
            actorName: "admin-cli",
            tenantId: f.ns || null,
            action: "integrity.corrupt",
            resource: `bucket/${f.bucket}/${f.key}`,
            result: "failure",
            detail: `verify: version ${f.versionId}: ${f.reason}`.slice(0, 500),
          }),
      });
      const pass = await scrubber.verifyBucket(b);
      log("bucket.verify-integrity", `bucket/${name}`);
      return { bucket: name, tenantId: b.ns || null, ...passView(pass) };
    },
    runInventory: async (name, id, tenant) => {
      const b = await storage.backend.getBucket(tenant ? tenantId(tenant) : "", name);
      const worker = new InventoryWorker({
        storage: storage.backend,
        db: core.db,
        clock: systemClock,
        log: createLogger("warn"),
        intervalMs: 0,
      });
      const run = await worker.runNow(b, id);
      log("bucket.inventory.run", `bucket/${name}`);
      return run as unknown as Json;
    },
    close: async () => {
      core.db.close();
      await storage.close();
    },
  };
}

function onlineOps(client: ConsoleClient): AdminOps {
  const call = client.call;
  const tenantByName = async (name: string) => {
    const all = (await call("GET", "/tenants")).items as Json[];
    const t = all.find((x) => x.name === name || x.id === name);
    if (!t) throw new Error(`no tenant "${name}"`);
    return t.id as string;
  };
  const userByName = async (name: string) => {
    const all = (await call("GET", `/users?q=${encodeURIComponent(name)}`)).items as Json[];
    const u = all.find((x) => x.username === name);
    if (!u) throw new Error(`no user "${name}"`);
    return u.id as string;
  };
  return {
    ...onlineKmsOps(call, tenantByName),
    ...onlineNotifyOps(call, tenantByName),
    ...onlineShareOps(call, tenantByName),
    listTenants: async () => (await call("GET", "/tenants")).items as Json[],
    createTenant: (body) => call("POST", "/tenants", body),
    updateTenant: async (name, body) => call("PATCH", `/tenants/${await tenantByName(name)}`, body),
    deleteTenant: async (name) => void await call("DELETE", `/tenants/${await tenantByName(name)}`),
    listUsers: async (tenant) =>
      (await call("GET", `/users${tenant ? `?tenantId=${await tenantByName(tenant)}` : ""}`))
        .items as Json[],
    createUser: async (body) =>
      call("POST", "/users", {
        ...body,
        tenantId: body.tenantId ? await tenantByName(body.tenantId as string) : undefined,
      }),
    deleteUser: async (name) => void await call("DELETE", `/users/${await userByName(name)}`),
    resetPassword: async (name, pw) =>
      void await call("POST", `/users/${await userByName(name)}/password`, {
        password: pw,
        mustChangePassword: true,
      }),
    unlockUser: async (name) => void await call("POST", `/users/${await userByName(name)}/unlock`),
    listKeys: async (name) =>
      (await call("GET", `/access-keys${name ? `?userId=${await userByName(name)}` : ""}`))
        .items as Json[],
    createKey: async (name, description) =>
      call("POST", "/access-keys", { userId: await userByName(name), description }),
    updateKey: (id, body) => call("PATCH", `/access-keys/${id}`, body),
    deleteKey: async (id) => void await call("DELETE", `/access-keys/${id}`),
    audit: async (limit, action) =>
      (await call(
        "GET",
        `/audit?limit=${limit}${action ? `&action=${encodeURIComponent(action)}` : ""}`,
      ))
        .items as Json[],
    recountUsage: () =>
      Promise.reject(new Error("usage recount works on a stopped server's data dir only")),
    getPublicAccessBlock: async (tenant) =>
      tenant
        ? (await call("GET", `/tenants/${await tenantByName(tenant)}/public-access-block`))
          .publicAccessBlock as Json | null
        : (await call("GET", "/settings")).publicAccessBlock as Json,
    putPublicAccessBlock: async (tenant, block) =>
      tenant
        ? (await call("PUT", `/tenants/${await tenantByName(tenant)}/public-access-block`, block))
          .publicAccessBlock as Json
        : (await call("PATCH", "/settings", { publicAccessBlock: block }))
          .publicAccessBlock as Json,
    deletePublicAccessBlock: async (tenant) =>
      void await call("DELETE", `/tenants/${await tenantByName(tenant)}/public-access-block`),
    scrubStatus: () => call("GET", "/integrity"),
    verifyBucket: async (name, tenant) =>
      call(
        "POST",
        `/buckets/${encodeURIComponent(name)}/verify-integrity${
          tenant ? `?tenantId=${await tenantByName(tenant)}` : ""
        }`,
      ),
    runInventory: async (name, id, tenant) =>
      (await call(
        "POST",
        `/buckets/${encodeURIComponent(name)}/inventory/${encodeURIComponent(id)}/run${
          tenant ? `?tenantId=${await tenantByName(tenant)}` : ""
        }`,
      )).run as Json,
    close: () => client.close(),
  };
}

function quotaFlags(flags: Map<string, string>): Json | undefined {
  const q: Json = {};
  for (
    const [flag, field] of [["max-bytes", "maxBytes"], ["max-buckets", "maxBuckets"], [
      "max-keys",
      "maxAccessKeys",
    ]]
  ) {
    const v = flags.get(flag);
    if (v !== undefined) q[field] = v === "none" ? null : Number(v);
  }
  return Object.keys(q).length ? q : undefined;
}

/** `--block-public-acls` ... as a whole block: a flag not named is false. */
function publicAccessFlags(flags: Map<string, string>): Json {
  const block: Json = {};
  for (
    const [flag, field] of [
      ["block-public-acls", "blockPublicAcls"],
      ["ignore-public-acls", "ignorePublicAcls"],
      ["block-public-policy", "blockPublicPolicy"],
      ["restrict-public-buckets", "restrictPublicBuckets"],
    ]
  ) {
    const v = flags.get(flag);
    if (v !== undefined && v !== "true" && v !== "false") {
      throw new Error(`--${flag} takes true or false, not "${v}"`);
    }
    block[field] = v === "true";
  }
  return block;
}

const USAGE =
  "Usage: deno task admin -- <tenant|user|key|kms|shares|keys|targets|notifications|audit|usage|public-access-block|scrub|verify|bucket|inventory|kv|replication> <command> [args] [--data-dir D | --url U --user U --password P]\n" +
  KEYS_USAGE + "\n" + BUCKETS_USAGE + "\n" + REPLICATION_USAGE;

/**
 * `kv space` and `kv compact`: they work on the KV file through node:sqlite, so no Deno KV handle
 * may be open on it in this process or any other (server/storage/meta/kv_compact.ts): they take
 * the data dir's lock and open nothing else.
 */
async function runKvCommand(cmd: string | undefined, flags: Map<string, string>): Promise<number> {
  if (flags.has("url")) {
    console.error("kv commands work on a stopped server's data dir only (--data-dir)");
    return 2;
  }
  if (cmd !== "space" && cmd !== "compact") {
    console.error(`Unknown command "kv ${cmd ?? ""}"\n${USAGE}`);
    return 2;
  }
  const dataDir = flags.get("data-dir") ?? Deno.env.get("MAXIOFS_DATA_DIR") ?? "./data";
  const lock = await lockDataDir(dataDir);
  try {
    const path = kvFilePath(dataDir);
    const pageSize = flags.has("page-size") ? Number(flags.get("page-size")) : undefined;
    const result = cmd === "space"
      ? await kvFileSpace(path)
      : await compactKvFile(path, { pageSize });
    console.log(JSON.stringify(result, null, 2));
    return 0;
  } finally {
    await unlockDataDir(lock);
  }
}

export async function runAdmin(argv: string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv);
  const [area, cmd, arg] = positional;
  if (!area || flags.has("help")) {
    console.log(USAGE);
    return area ? 0 : 2;
  }
  if (area === "kv") return await runKvCommand(cmd, flags);
  if (area === "keys") return await runKeysCommand(cmd, flags);
  if (area === "bucket") return await runBucketCommand(cmd, arg, flags);
  if (area === "replication") return await runReplicationCommand(positional.slice(1), flags);
  const ops = flags.has("url") ? onlineOps(await consoleClientOf(flags)) : await offlineOps(
    flags.get("data-dir") ?? Deno.env.get("MAXIOFS_DATA_DIR") ?? "./data",
    flags.get("region") ?? Deno.env.get("MAXIOFS_REGION") ?? "us-east-1",
    flags.get("allow-private-endpoints") === "true",
  );
  const out = (v: unknown) => console.log(JSON.stringify(v, null, 2));
  const need = (v: string | undefined, what: string) => {
    if (!v) throw new Error(`missing ${what}\n${USAGE}`);
    return v;
  };
  try {
    if (area === "targets" || area === "notifications") {
      const result = await runNotifyCommand(ops, area, cmd, positional.slice(2), flags);
      if (result === null) {
        console.error(`Unknown command "${positional.join(" ")}"\n${USAGE}`);
        return 2;
      }
      out(result);
      return 0;
    }
    if (area === "kms" || area === "shares") {
      const result = area === "kms"
        ? await runKmsCommand(ops, cmd, arg, flags)
        : await runSharesCommand(ops, cmd, arg, flags);
      if (result === null) {
        console.error(`Unknown command "${positional.join(" ")}"\n${USAGE}`);
        return 2;
      }
      out(result);
      return 0;
    }
    switch (`${area} ${cmd ?? ""}`.trim()) {
      case "tenant list":
        out(await ops.listTenants());
        break;
      case "tenant create":
        out(
          await ops.createTenant({
            name: need(arg, "tenant name"),
            displayName: flags.get("display-name"),
            quota: quotaFlags(flags),
          }),
        );
        break;
      case "tenant set":
        out(
          await ops.updateTenant(need(arg, "tenant name"), {
            status: flags.get("status"),
            quota: quotaFlags(flags),
          }),
        );
        break;
      case "tenant delete":
        await ops.deleteTenant(need(arg, "tenant name"));
        out({ deleted: arg });
        break;
      case "user list":
        out(await ops.listUsers(flags.get("tenant")));
        break;
      case "user create": {
        const generated = !flags.has("password");
        const password = flags.get("password") ?? generatePassword();
        const u = await ops.createUser({
          username: need(arg, "username"),
          password,
          role: flags.get("role") ?? "tenant_user",
          tenantId: flags.get("tenant"),
          mustChangePassword: generated,
        });
        out(generated ? { ...u, password } : u);
        break;
      }
      case "user delete":
        await ops.deleteUser(need(arg, "username"));
        out({ deleted: arg });
        break;
      case "user reset-password": {
        const password = flags.get("password") ?? generatePassword();
        await ops.resetPassword(need(arg, "username"), password);
        out({ username: arg, password, mustChangePassword: true });
        break;
      }
      case "user unlock":
        await ops.unlockUser(need(arg, "username"));
        out({ unlocked: arg });
        break;
      case "key list":
        out(await ops.listKeys(flags.get("user")));
        break;
      case "key create":
        out(await ops.createKey(need(arg, "username"), flags.get("description") ?? ""));
        break;
      case "key enable":
      case "key disable":
        out(
          await ops.updateKey(need(arg, "access key id"), {
            status: cmd === "enable" ? "active" : "inactive",
          }),
        );
        break;
      case "key delete":
        await ops.deleteKey(need(arg, "access key id"));
        out({ deleted: arg });
        break;
      case "usage recount":
        out(await ops.recountUsage());
        break;
      case "audit":
        out(await ops.audit(Number(flags.get("limit") ?? 50), flags.get("action")));
        break;
      case "public-access-block get":
        out(await ops.getPublicAccessBlock(flags.get("tenant")));
        break;
      case "public-access-block set":
        out(await ops.putPublicAccessBlock(flags.get("tenant"), publicAccessFlags(flags)));
        break;
      case "inventory run":
        out(
          await ops.runInventory(
            need(arg, "bucket name"),
            need(positional[3], "inventory configuration id"),
            flags.get("tenant"),
          ),
        );
        break;
      case "scrub status":
        out(await ops.scrubStatus());
        break;
      case "scrub verify":
        out(await ops.verifyBucket(need(arg, "bucket name"), flags.get("tenant")));
        break;
      case `verify ${cmd}`:
        out(await ops.verifyBucket(need(cmd, "bucket name"), flags.get("tenant")));
        break;
      case "public-access-block delete":
        await ops.deletePublicAccessBlock(need(flags.get("tenant"), "--tenant"));
        out({ deleted: flags.get("tenant") });
        break;
      default:
        console.error(`Unknown command "${positional.join(" ")}"\n${USAGE}`);
        return 2;
    }
    return 0;
  } catch (e) {
    const coded = e instanceof IamError || e instanceof KmsAdminError ||
      e instanceof TargetError || isS3Error(e);
    console.error(coded ? `${e.code}: ${e.message}` : (e as Error).message);
    return 1;
  } finally {
    await ops.close();
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await runAdmin(Deno.args));
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}
