/** What an S3 request tells the change feed about the write it makes (storage/feed). */
import type { ChangeEvent, ChangeOrigin } from "../storage/mod.ts";
import type { OpContext } from "./context.ts";
import { isReplicaRequest } from "./ops/replication.ts";

/** The origin of a write made by the request of `ctx`. */
export function originOf(ctx: OpContext, event: ChangeEvent): ChangeOrigin {
  const o: ChangeOrigin = { event, requestId: ctx.requestId };
  if (ctx.principal) o.principalId = ctx.principal.userId;
  if (ctx.client.ip) o.sourceIp = ctx.client.ip;
  // A replicating server's write: followers that copy data elsewhere skip it (no loops).
  if (isReplicaRequest(ctx)) o.replica = true;
  return o;
}
