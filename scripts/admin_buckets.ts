/**
 * The admin CLI's `bucket empty` and `bucket force-delete`: online only (`--url`), because they
 * run as S3 requests of the signed-in administrator (the console API's empty and force-delete),
 * so Object Lock, permissions, audit and the change feed apply as to any S3 client.
 */
import { type ConsoleClient, consoleClientOf, type Json } from "./admin_console.ts";

export const BUCKETS_USAGE =
  "  bucket empty|force-delete <name> --yes [--tenant T]   (online only: --url; progress on\n" +
  "                          stderr, the result as JSON; versions under Object Lock are kept)";

/** Runs an empty or force-delete; progress lines go to `progress`, the last one is returned. */
export async function emptyBucketOnline(
  client: ConsoleClient,
  what: "empty" | "force-delete",
  bucket: string,
  tenant: string | undefined,
  progress: (p: Json) => void,
): Promise<Json> {
  let q = "";
  if (tenant) {
    const all = (await client.call("GET", "/tenants")).items as Json[];
    const t = all.find((x) => x.name === tenant || x.id === tenant);
    if (!t) throw new Error(`no tenant "${tenant}"`);
    q = `?tenantId=${encodeURIComponent(t.id as string)}`;
  }
  let last: Json | null = null;
  for await (
    const line of client.lines("POST", `/buckets/${encodeURIComponent(bucket)}/${what}${q}`, {
      confirm: bucket,
    })
  ) {
    last = line;
    if (!line.done) progress(line);
  }
  if (!last) throw new Error("the server ended the answer without a result");
  return last;
}

/** `bucket <cmd> <name>`: 0 when done without error, 1 when S3 refused something, 2 on misuse. */
export async function runBucketCommand(
  cmd: string | undefined,
  name: string | undefined,
  flags: Map<string, string>,
): Promise<number> {
  if (cmd !== "empty" && cmd !== "force-delete") {
    console.error(`Unknown command "bucket ${cmd ?? ""}"\n${BUCKETS_USAGE}`);
    return 2;
  }
  if (!flags.has("url")) {
    console.error(
      "bucket commands need --url: they run as S3 requests of the signed-in administrator",
    );
    return 2;
  }
  if (!name) {
    console.error(`missing bucket name\n${BUCKETS_USAGE}`);
    return 2;
  }
  if (flags.get("yes") !== "true") {
    console.error(`bucket ${cmd} deletes every object version of "${name}": add --yes`);
    return 2;
  }
  const client = await consoleClientOf(flags);
  try {
    const last = await emptyBucketOnline(
      client,
      cmd,
      name,
      flags.get("tenant"),
      (p) => console.error(JSON.stringify(p)),
    );
    console.log(JSON.stringify(last, null, 2));
    return last.error ? 1 : 0;
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  } finally {
    await client.close();
  }
}
