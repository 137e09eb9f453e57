/**
 * A bucket's Settings tab: versioning, lifecycle rules, Object Lock default retention (lock
 * buckets only), tags, and emptying or force-deleting the bucket. Each editor is S3 operations
 * through the console's S3 passthrough with AWS's own documents; empty and force-delete use the
 * console API (`/buckets/:bucket/empty|force-delete`).
 */
import { useSignal } from "@preact/signals";
import { BucketTagsEditor } from "./lib/BucketTagsEditor.tsx";
import { EmptyBucketDialog } from "./lib/EmptyBucketDialog.tsx";
import { LifecycleEditor } from "./lib/LifecycleEditor.tsx";
import { ObjectLockDefaults } from "./lib/ObjectLockDefaults.tsx";
import type { BucketRef } from "./lib/s3.ts";
import { VersioningSetting } from "./lib/VersioningSetting.tsx";

export interface BucketSettingsProps extends Record<string, unknown> {
  bucket: string;
  /** A tenant's namespace (global administrators), "" for the caller's own. */
  tenantId: string;
}

export default function BucketSettings({ bucket, tenantId }: BucketSettingsProps) {
  const ref: BucketRef = tenantId ? { name: bucket, tenantId } : bucket;
  /** Whether the bucket has Object Lock; undefined until GetObjectLockConfiguration answered. */
  const objectLock = useSignal<boolean | undefined>(undefined);
  const emptying = useSignal<"empty" | "force-delete" | null>(null);
  const q = tenantId ? `?tenantId=${encodeURIComponent(tenantId)}` : "";
  return (
    <div id="bucket-settings" data-bucket={bucket}>
      <VersioningSetting bucket={ref} objectLock={objectLock.value} />
      <LifecycleEditor bucket={ref} />
      <ObjectLockDefaults bucket={ref} objectLock={objectLock} />
      <BucketTagsEditor bucket={ref} />
      <section class="panel stack-wide" id="bucket-danger">
        <h2>Empty or delete</h2>
        <p class="hint">
          Deletes every object version and delete marker and aborts unfinished uploads, in batches
          of 1,000. Versions under Object Lock are kept.
        </p>
        <div class="row">
          <button type="button" class="danger" onClick={() => emptying.value = "empty"}>
            Empty bucket
          </button>
          <button type="button" class="danger" onClick={() => emptying.value = "force-delete"}>
            Delete bucket and contents
          </button>
        </div>
      </section>
      {emptying.value && (
        <EmptyBucketDialog
          bucket={bucket}
          tenantId={tenantId}
          what={emptying.value}
          onClose={() => emptying.value = null}
          onDone={(p) => {
            if (p.bucketDeleted) location.href = `/buckets${q}`;
          }}
        />
      )}
    </div>
  );
}
