/**
 * Copies a metadata-only change of a version to the destination's current object, without its
 * bytes: the tag set (PutObjectTagging, or DeleteObjectTagging when the source has none), the
 * Object Lock retention (PutObjectRetention) or the legal hold (PutObjectLegalHold). AWS
 * replicates these changes too; retention and legal hold only where the destination bucket has
 * Object Lock, so a destination that refuses them (no Object Lock) leaves the copy as it is.
 */
import {
  DeleteObjectTaggingCommand,
  type ObjectLockRetentionMode,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { Destination } from "./destinations.ts";
import type { ObjectRecord } from "../../storage/types.ts";
import type { MetadataOp } from "./queue.ts";
import { copyError } from "./copier.ts";

/**
 * Sends `rec`'s `what` to the destination's object of the same key. False when the destination
 * holds no such object (the caller copies the whole version instead); throws CopyError.
 */
export async function copyMetadata(
  client: S3Client,
  dest: Destination,
  rec: ObjectRecord,
  what: MetadataOp,
): Promise<boolean> {
  const at = { Bucket: dest.bucket, Key: rec.key };
  try {
    if (what === "tags") {
      const tags = Object.entries(rec.tags ?? {});
      if (tags.length) {
        await client.send(
          new PutObjectTaggingCommand({
            ...at,
            Tagging: { TagSet: tags.map(([Key, Value]) => ({ Key, Value })) },
          }),
        );
      } else await client.send(new DeleteObjectTaggingCommand(at));
    } else if (what === "retention") {
      // A removed or shortened GOVERNANCE retention needs the bypass at the destination as it
      // did at the source (the destination's credentials must be allowed it).
      await client.send(
        new PutObjectRetentionCommand({
          ...at,
          Retention: rec.retention
            ? {
              Mode: rec.retention.mode as ObjectLockRetentionMode,
              RetainUntilDate: new Date(rec.retention.until),
            }
            : {},
          BypassGovernanceRetention: true,
        }),
      );
    } else {
      await client.send(
        new PutObjectLegalHoldCommand({
          ...at,
          LegalHold: { Status: rec.legalHold ? "ON" : "OFF" },
        }),
      );
    }
    return true;
  } catch (e) {
    const err = copyError(e);
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (err.code === "NoSuchKey" || (status === 404 && err.code !== "NoSuchBucket")) return false;
    // No Object Lock at the destination: its copies carry no lock settings (as a whole copy).
    if (what !== "tags" && err.code === "InvalidRequest") return true;
    throw err;
  }
}
