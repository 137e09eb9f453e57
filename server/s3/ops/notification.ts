/**
 * Put/GetBucketNotificationConfiguration. A configuration's destinations are webhook targets
 * (features/notifications/targets.ts); a document naming one the bucket may not use is refused
 * whole, as AWS refuses one whose destinations it cannot validate, and the previous configuration
 * stays. A bucket with a configuration follows the change feed as "notifications". Once saved,
 * each target the configuration newly names gets AWS's `s3:TestEvent` through the delivery queue.
 */
import { S3Error } from "../errors.ts";
import { buildXml, readXmlBody } from "../xml.ts";
import {
  NOTIFICATION_CONFIG,
  type NotificationConfig,
  NOTIFICATIONS_FOLLOWER,
  notificationXml,
  parseNotificationConfiguration,
} from "../../features/notifications/config.ts";
import { setFollowing } from "../../features/feed/dispatcher.ts";
import type { OpContext, OpResult } from "../context.ts";

/** A configuration document's size limit (100 configurations fit well within it). */
const MAX_NOTIFICATION_BYTES = 256 * 1024;

/**
 * What AWS answers for a destination that does not exist, per configuration kind
 * (`ArgumentName<n>`, `ArgumentValue<n>`); a function's name carries its qualifier, `null`.
 * A target the bucket may not use (another tenant's) is one that does not exist for it: the
 * answer does not tell a tenant that another's target exists.
 */
const DESTINATION_MISSING: Record<
  "Queue" | "Topic" | "CloudFunction",
  (arn: string) => [string, string]
> = {
  Queue: (arn) => [arn, "The destination queue does not exist"],
  Topic: (arn) => [arn, "The destination topic does not exist"],
  CloudFunction: (arn) => [`${arn}, null`, `Not authorized to invoke function [${arn}]`],
};

export async function getBucketNotificationConfiguration(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const cfg = await ctx.deps.storage.getBucketConfig<NotificationConfig>(b.id, NOTIFICATION_CONFIG);
  return { xml: buildXml("NotificationConfiguration", notificationXml(cfg)) };
}

export async function putBucketNotificationConfiguration(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const doc = await readXmlBody(ctx.auth.body, {
    root: "NotificationConfiguration",
    limit: MAX_NOTIFICATION_BYTES,
  });
  const cfg = parseNotificationConfiguration(doc);
  const targets = ctx.deps.notificationTargets;
  const refused: Record<string, string> = {};
  let n = 0;
  // AWS's opt-out of the destination check; deliveries still go only to the bucket's own
  // namespace's targets (the follower checks), so skipping it reaches no one else's endpoint.
  const skip = ctx.req.headers.get("x-amz-skip-destination-validation")?.toLowerCase() === "true";
  for (const r of cfg.rules) {
    if (skip || targets?.usableBy(b.ns, r.arn, r.kind)) continue;
    n++;
    [refused[`ArgumentName${n}`], refused[`ArgumentValue${n}`]] = DESTINATION_MISSING[r.kind](
      r.arn,
    );
  }
  if (n > 0) {
    throw new S3Error("InvalidArgument", {
      message: "Unable to validate the following destination configurations",
      fields: refused,
    });
  }
  const previous = await ctx.deps.storage.getBucketConfig<NotificationConfig>(
    b.id,
    NOTIFICATION_CONFIG,
  );
  const on = cfg.rules.length > 0;
  // Following first and unfollowing last: a crash between the two steps leaves a bucket that
  // follows without a configuration (its changes are skipped), never a configuration unheard.
  if (on) {
    await setFollowing(ctx.deps.storage, b, NOTIFICATIONS_FOLLOWER, true);
    await ctx.deps.storage.putBucketConfig(b.id, NOTIFICATION_CONFIG, cfg);
  } else {
    await ctx.deps.storage.putBucketConfig(b.id, NOTIFICATION_CONFIG, null);
    await setFollowing(ctx.deps.storage, b, NOTIFICATIONS_FOLLOWER, false);
  }
  // AWS's test message is part of its destination check: none when the check is skipped.
  if (!skip && targets) {
    targets.queueTestEvents(b, cfg.rules, previous?.rules ?? [], ctx.requestId);
  }
  return {};
}
