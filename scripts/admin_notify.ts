/**
 * The admin CLI's event notification commands (scripts/admin.ts): webhook targets and the
 * dead-letter list, of the global namespace or of a tenant with `--tenant T`, offline on a
 * stopped server's data dir or online through the console API (`/api/v1/notifications/...`).
 *
 *   targets list [--tenant T]
 *   targets create <name> --target-url U [--auth-header H --auth-value V] [--secret S]
 *                  [--tenant T]
 *                  (offline, a loopback or private URL needs --allow-private-endpoints)
 *   targets delete <name> [--tenant T]
 *   targets test <name> [--tenant T]          (sends s3:TestEvent now)
 *   notifications dead-letters [--tenant T]
 *   notifications retry [<id>...] [--tenant T]  (no id: every dead letter in scope)
 *   notifications discard [<id>...] [--tenant T]
 */
import type { Notifications } from "../server/features/notifications/mod.ts";

type Json = Record<string, unknown>;

export interface NotifyOps {
  listTargets(tenant?: string): Promise<Json[]>;
  createTarget(tenant: string | undefined, body: Json): Promise<Json>;
  deleteTarget(tenant: string | undefined, name: string): Promise<void>;
  testTarget(tenant: string | undefined, name: string): Promise<Json>;
  deadLetters(tenant?: string): Promise<Json[]>;
  /** Retries (or discards) dead letters: `ids` null for all in scope; how many. */
  deadLetterAction(
    tenant: string | undefined,
    action: "retry" | "discard",
    ids: number[] | null,
  ): Promise<number>;
}

/**
 * Offline: the data dir's registry and queue. `nsOf` turns `--tenant` (a name or id) into a
 * namespace, null without it where a list may show every namespace; `audit` records a change.
 */
export function offlineNotifyOps(
  n: Notifications,
  nsOf: (tenant: string | undefined) => string | null,
  audit: (action: string, resource: string, ns: string | null) => void,
): NotifyOps {
  const ns = (tenant: string | undefined) => nsOf(tenant) ?? "";
  return {
    listTargets: (tenant) => Promise.resolve(n.listTargets(nsOf(tenant)) as unknown as Json[]),
    createTarget: async (tenant, body) => {
      const t = await n.targets.create(ns(tenant), body as never);
      audit("notification.target.create", `webhook-target/${t.name}`, t.ns);
      return t as unknown as Json;
    },
    deleteTarget: (tenant, name) => {
      n.targets.delete(ns(tenant), name);
      audit("notification.target.delete", `webhook-target/${name}`, ns(tenant));
      return Promise.resolve();
    },
    testTarget: async (tenant, name) => await n.testTarget(ns(tenant), name) as unknown as Json,
    deadLetters: (tenant) => Promise.resolve(n.deadLetters(nsOf(tenant)) as unknown as Json[]),
    deadLetterAction: (tenant, action, ids) => {
      const scope = nsOf(tenant);
      const count = action === "retry" ? n.retryDead(ids, scope) : n.discardDead(ids, scope);
      audit(`notification.dead.${action}`, "notification-dead-letters", scope);
      return Promise.resolve(count);
    },
  };
}

/** Online: the console API, as the signed-in administrator. */
export function onlineNotifyOps(
  call: (method: string, path: string, body?: unknown) => Promise<Json>,
  tenantIdOf: (tenant: string) => Promise<string>,
): NotifyOps {
  const scope = async (tenant: string | undefined) =>
    tenant ? `?tenantId=${encodeURIComponent(await tenantIdOf(tenant))}` : "";
  const tenantId = async (tenant: string | undefined) =>
    tenant ? await tenantIdOf(tenant) : undefined;
  const base = "/notifications";
  return {
    listTargets: async (tenant) =>
      (await call("GET", `${base}/targets${await scope(tenant)}`)).items as Json[],
    createTarget: async (tenant, body) =>
      call("POST", `${base}/targets`, { ...body, tenantId: await tenantId(tenant) }),
    deleteTarget: async (tenant, name) =>
      void await call(
        "DELETE",
        `${base}/targets/${encodeURIComponent(name)}${await scope(tenant)}`,
      ),
    testTarget: async (tenant, name) =>
      call("POST", `${base}/targets/${encodeURIComponent(name)}/test${await scope(tenant)}`),
    deadLetters: async (tenant) =>
      (await call("GET", `${base}/dead-letters${await scope(tenant)}`)).items as Json[],
    deadLetterAction: async (tenant, action, ids) => {
      const r = await call("POST", `${base}/dead-letters/${action}`, {
        ids: ids ?? undefined,
        tenantId: await tenantId(tenant),
      });
      return (action === "retry" ? r.retried : r.discarded) as number;
    },
  };
}

/** Runs `targets <cmd>` or `notifications <cmd>`; what to print, or null for an unknown one. */
export async function runNotifyCommand(
  ops: NotifyOps,
  area: string,
  cmd: string | undefined,
  args: string[],
  flags: Map<string, string>,
): Promise<unknown | null> {
  const tenant = flags.get("tenant");
  const name = () => {
    if (!args[0]) throw new Error(`missing target name: targets ${cmd} <name> [--tenant T]`);
    return args[0];
  };
  switch (`${area} ${cmd ?? ""}`) {
    case "targets list":
      return await ops.listTargets(tenant);
    case "targets create":
      return await ops.createTarget(tenant, {
        name: name(),
        url: flags.get("target-url") ?? "",
        authHeader: flags.get("auth-header"),
        authValue: flags.get("auth-value"),
        secret: flags.get("secret"),
      });
    case "targets delete":
      await ops.deleteTarget(tenant, name());
      return { deleted: name() };
    case "targets test":
      return await ops.testTarget(tenant, name());
    case "notifications dead-letters":
      return await ops.deadLetters(tenant);
    case "notifications retry":
    case "notifications discard": {
      const ids = args.length ? args.map(Number) : null;
      if (ids?.some((i) => !Number.isSafeInteger(i))) {
        throw new Error(`dead-letter ids are numbers: notifications ${cmd} [<id>...]`);
      }
      const action = cmd === "retry" ? "retry" : "discard";
      const count = await ops.deadLetterAction(tenant, action, ids);
      return cmd === "retry" ? { retried: count } : { discarded: count };
    }
    default:
      return null;
  }
}
