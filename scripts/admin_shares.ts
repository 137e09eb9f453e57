/**
 * The admin CLI's `shares` commands (scripts/admin.ts): share links, offline on a stopped
 * server's data dir or online through the console API (`/api/v1/shares`).
 *
 *   shares list [--bucket B] [--tenant T] [--all]   (--all: expired and revoked links too)
 *   shares revoke <id>
 */
import type { ShareLinks } from "../server/features/shares/store.ts";

type Json = Record<string, unknown>;

export interface ShareFilterFlags {
  bucket?: string;
  tenant?: string;
  all: boolean;
}

export interface ShareOps {
  listShares(f: ShareFilterFlags): Promise<Json[]>;
  revokeShare(id: string): Promise<void>;
}

/**
 * Offline: the data dir's share links. `nsOf` turns `--tenant` (a name or id) into a namespace;
 * `audit` records a revocation (actor `admin-cli`).
 */
export function offlineShareOps(
  links: ShareLinks,
  nsOf: (tenant: string | undefined) => string,
  audit: (action: string, resource: string, ns: string, detail: string) => void,
): ShareOps {
  return {
    listShares: (f) => {
      const ns = f.tenant !== undefined || f.bucket !== undefined ? nsOf(f.tenant) : undefined;
      return Promise.resolve(
        links.list({ ns, bucket: f.bucket, all: f.all }).map((l) => ({
          ...l,
          status: links.status(l),
        })),
      );
    },
    revokeShare: (id) => {
      const l = links.get(id);
      if (!l) throw new Error(`no share link "${id}"`);
      links.revoke(id, "admin-cli");
      audit("share.revoke", `bucket/${l.bucket}/${l.key}`, l.ns, `share ${id}`);
      return Promise.resolve();
    },
  };
}

/** Online: the console API, as the signed-in administrator. */
export function onlineShareOps(
  call: (method: string, path: string, body?: unknown) => Promise<Json>,
  tenantIdOf: (tenant: string) => Promise<string>,
): ShareOps {
  return {
    listShares: async (f) => {
      const q = new URLSearchParams();
      if (f.all) q.set("all", "1");
      const tenantId = f.tenant ? await tenantIdOf(f.tenant) : null;
      if (f.bucket) {
        if (tenantId) q.set("tenantId", tenantId);
        return (await call("GET", `/buckets/${encodeURIComponent(f.bucket)}/shares?${q}`))
          .items as Json[];
      }
      const items = (await call("GET", `/shares?${q}`)).items as Json[];
      return f.tenant ? items.filter((l) => l.tenantId === tenantId) : items;
    },
    revokeShare: async (id) => void await call("DELETE", `/shares/${encodeURIComponent(id)}`),
  };
}

/** Runs `shares <cmd>`; what to print, or null for an unknown command. */
export async function runSharesCommand(
  ops: ShareOps,
  cmd: string | undefined,
  arg: string | undefined,
  flags: Map<string, string>,
): Promise<unknown | null> {
  switch (cmd) {
    case "list":
      return await ops.listShares({
        bucket: flags.get("bucket"),
        tenant: flags.get("tenant"),
        all: flags.has("all") && flags.get("all") !== "false",
      });
    case "revoke":
      if (!arg) throw new Error("missing share id: shares revoke <id>");
      await ops.revokeShare(arg);
      return { revoked: arg };
    default:
      return null;
  }
}
