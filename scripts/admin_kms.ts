/**
 * The admin CLI's `kms` commands (scripts/admin.ts): the key service's keys of the global
 * namespace, or of a tenant with `--tenant T`, offline on a stopped server's data dir or online
 * through the console API (`/api/v1/kms/keys`).
 *
 *   kms list [--tenant T]
 *   kms create [--id ID] [--description D] [--tenant T]   (no --id: a generated UUID)
 *   kms describe|enable|disable|rotate <id or ARN> [--tenant T]
 */
import type { KeyService } from "../server/crypto/types.ts";

type Json = Record<string, unknown>;

export type KmsChange = "describe" | "enable" | "disable" | "rotate";

export interface KmsOps {
  listKmsKeys(tenant?: string): Promise<Json[]>;
  createKmsKey(tenant: string | undefined, opts: { id?: string; description?: string }): Promise<
    Json
  >;
  changeKmsKey(tenant: string | undefined, id: string, change: KmsChange): Promise<Json>;
}

/**
 * Offline: the data dir's key service. `nsOf` turns `--tenant` (a name or id) into a namespace;
 * `audit` records a change (actor `admin-cli`).
 */
export function offlineKmsOps(
  kms: KeyService,
  nsOf: (tenant: string | undefined) => string,
  audit: (action: string, resource: string, ns: string) => void,
): KmsOps {
  return {
    listKmsKeys: async (tenant) => await kms.listKeys(nsOf(tenant)) as unknown as Json[],
    createKmsKey: async (tenant, opts) => {
      const ns = nsOf(tenant);
      const k = await kms.createKey(ns, opts);
      audit("kms.key.create", `kms-key/${k.id}`, ns);
      return k as unknown as Json;
    },
    changeKmsKey: async (tenant, id, change) => {
      const ns = nsOf(tenant);
      const k = change === "describe"
        ? await kms.describeKey(ns, id)
        : change === "rotate"
        ? await kms.rotateKey(ns, id)
        : await kms.setKeyState(ns, id, change === "enable" ? "Enabled" : "Disabled");
      if (change !== "describe") audit(`kms.key.${change}`, `kms-key/${k.id}`, ns);
      return k as unknown as Json;
    },
  };
}

/** Online: the console API, as the signed-in administrator. */
export function onlineKmsOps(
  call: (method: string, path: string, body?: unknown) => Promise<Json>,
  tenantIdOf: (tenant: string) => Promise<string>,
): KmsOps {
  const scope = async (tenant: string | undefined) =>
    tenant ? `?tenantId=${encodeURIComponent(await tenantIdOf(tenant))}` : "";
  return {
    listKmsKeys: async (tenant) =>
      (await call("GET", `/kms/keys${await scope(tenant)}`)).items as Json[],
    createKmsKey: async (tenant, opts) =>
      call("POST", "/kms/keys", {
        ...opts,
        tenantId: tenant ? await tenantIdOf(tenant) : undefined,
      }),
    changeKmsKey: async (tenant, id, change) => {
      const path = `/kms/keys/${encodeURIComponent(id)}`;
      return change === "describe"
        ? await call("GET", `${path}${await scope(tenant)}`)
        : await call("POST", `${path}/${change}${await scope(tenant)}`);
    },
  };
}

/** Runs `kms <cmd>`; what to print, or null for an unknown command. */
export async function runKmsCommand(
  ops: KmsOps,
  cmd: string | undefined,
  arg: string | undefined,
  flags: Map<string, string>,
): Promise<unknown | null> {
  const tenant = flags.get("tenant");
  switch (cmd) {
    case "list":
      return await ops.listKmsKeys(tenant);
    case "create":
      return await ops.createKmsKey(tenant, {
        id: flags.get("id") ?? arg,
        description: flags.get("description"),
      });
    case "describe":
    case "enable":
    case "disable":
    case "rotate":
      if (!arg) throw new Error(`missing key id: kms ${cmd} <id or ARN> [--tenant T]`);
      return await ops.changeKmsKey(tenant, arg, cmd);
    default:
      return null;
  }
}
