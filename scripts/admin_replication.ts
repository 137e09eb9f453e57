/**
 * The admin CLI's `replication` commands (docs/replication.md), online through the console API
 * (`--url`): the worker that copies runs in the server, so there is no data-dir mode.
 *
 *   replication destinations [--tenant T]
 *   replication destination-set <name> --endpoint URL --bucket B --access-key K
 *       [--secret-key S | --secret-key-file F] [--region R] [--virtual-host]
 *       [--conflict source|newer] [--tenant T]
 *   replication destination-delete <name> | destination-test <name> [--tenant T]
 *   replication destination-test <name> [--tenant T]   HeadBucket with its credentials
 *   replication status <bucket> [--tenant T]           rules, queue, failures
 *   replication sync <bucket> [--rule ID] [--tenant T] sync now: queue what the destination lacks
 *   replication retry <bucket> [--id N] [--tenant T]   dead-lettered tasks queued again
 *   replication pause|resume <bucket> --rule ID [--tenant T]
 *   replication mode <bucket> realtime|manual|scheduled [--interval SECONDS] [--tenant T]
 */
import { consoleClientOf, type Json } from "./admin_console.ts";

export const REPLICATION_USAGE =
  `  replication destinations | destination-set <name> --endpoint URL --bucket B --access-key K
      [--secret-key-file F | --secret-key S] [--region R] [--virtual-host] [--conflict source|newer]
  replication destination-delete <name>
  replication status|sync|retry <bucket> [--rule ID] [--id N] | pause|resume <bucket> --rule ID
  replication mode <bucket> realtime|manual|scheduled [--interval SECONDS]
      (online only: --url; --tenant T for a tenant's namespace)`;

type Call = (method: string, path: string, body?: unknown) => Promise<Json>;

/**
 * Runs `replication <args>` (the command, then its operands) with a console client; what to
 * print (null: unknown command).
 */
export async function replicationCommand(
  call: Call,
  args: string[],
  flags: Map<string, string>,
  tenantIdOf: (tenant: string) => Promise<string>,
): Promise<unknown | null> {
  const [cmd, arg] = args;
  const tenant = flags.get("tenant");
  const scope = tenant ? `?tenantId=${encodeURIComponent(await tenantIdOf(tenant))}` : "";
  const need = (v: string | undefined, what: string) => {
    if (!v) throw new Error(`missing ${what}: replication ${cmd} ...\n${REPLICATION_USAGE}`);
    return v;
  };
  const bucketPath = () => `/buckets/${encodeURIComponent(need(arg, "bucket"))}/replication`;
  switch (cmd) {
    case "destinations":
      return (await call("GET", `/replication/destinations${scope}`)).destinations;
    case "destination-set": {
      const file = flags.get("secret-key-file");
      const secret = file
        ? (await Deno.readTextFile(file)).split(/\r?\n/)[0]
        : flags.get("secret-key");
      return (await call(
        "PUT",
        `/replication/destinations/${encodeURIComponent(need(arg, "name"))}${scope}`,
        {
          endpoint: need(flags.get("endpoint"), "--endpoint"),
          bucket: need(flags.get("bucket"), "--bucket"),
          accessKey: need(flags.get("access-key"), "--access-key"),
          secretKey: secret,
          region: flags.get("region"),
          pathStyle: !flags.has("virtual-host"),
          conflict: flags.get("conflict"),
        },
      )).destination;
    }
    case "destination-delete":
      await call(
        "DELETE",
        `/replication/destinations/${encodeURIComponent(need(arg, "name"))}${scope}`,
      );
      return { deleted: arg };
    case "destination-test":
      return await call(
        "POST",
        `/replication/destinations/${encodeURIComponent(need(arg, "name"))}/test${scope}`,
      );
    case "status":
      return await call("GET", `${bucketPath()}${scope}`);
    case "sync":
      return await call("POST", `${bucketPath()}/sync${scope}`, { ruleId: flags.get("rule") });
    case "retry": {
      const id = flags.get("id");
      return await call("POST", `${bucketPath()}/retry${scope}`, id ? { id: Number(id) } : {});
    }
    case "mode": {
      const interval = flags.get("interval");
      const mode = await call("PUT", `${bucketPath()}/mode${scope}`, {
        mode: need(args[2], "mode"),
        intervalSeconds: interval === undefined ? null : Number(interval),
      });
      return mode.mode;
    }
    case "pause":
    case "resume": {
      const rule = encodeURIComponent(need(flags.get("rule"), "--rule"));
      return await call("POST", `${bucketPath()}/rules/${rule}/${cmd}${scope}`);
    }
    default:
      return null;
  }
}

/** `replication ...` from the command line: online only. The exit status. */
export async function runReplicationCommand(
  args: string[],
  flags: Map<string, string>,
): Promise<number> {
  const cmd = args[0];
  if (!flags.has("url")) {
    console.error("replication commands talk to the running server: add --url (and --user)");
    return 2;
  }
  const client = await consoleClientOf(flags);
  try {
    const tenantIdOf = async (name: string) => {
      const items = (await client.call("GET", "/tenants")).items as Json[];
      const t = items.find((x) => x.name === name || x.id === name);
      if (!t) throw new Error(`no tenant "${name}"`);
      return t.id as string;
    };
    const result = await replicationCommand(client.call, args, flags, tenantIdOf);
    if (result === null) {
      console.error(`Unknown command "replication ${cmd ?? ""}"\n${REPLICATION_USAGE}`);
      return 2;
    }
    console.log(JSON.stringify(result, null, 2));
    return 0;
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  } finally {
    await client.close();
  }
}
