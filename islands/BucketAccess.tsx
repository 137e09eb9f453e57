/**
 * A bucket's Permissions page: bucket policy, ACL, CORS, public access block, object ownership,
 * default encryption (all S3 operations through the console's S3 passthrough, with S3's own
 * documents) and, for administrators, the policy simulator on this bucket.
 */
import {
  CORS_SAMPLE,
  parsePublicAccessBlock,
  policySample,
  publicAccessBlockXml,
} from "./lib/access_xml.ts";
import type { ApiError } from "./lib/api.ts";
import { AclEditor } from "./lib/AclEditor.tsx";
import { DocumentEditor } from "./lib/DocumentEditor.tsx";
import { OwnershipSetting } from "./lib/OwnershipSetting.tsx";
import { BucketQuotaSetting } from "./lib/BucketQuotaSetting.tsx";
import { EncryptionSetting } from "./lib/EncryptionSetting.tsx";
import { PolicySimulator } from "./lib/PolicySimulator.tsx";
import { PublicAccessSwitches } from "./lib/PublicAccessSwitches.tsx";
import { type BucketRef, documentBody, s3 } from "./lib/s3.ts";

export interface BucketAccessProps extends Record<string, unknown> {
  bucket: string;
  /** A tenant's namespace (global administrators), "" for the caller's own. */
  tenantId: string;
  /** The simulator's operations; empty for callers who may not simulate (tenant users). */
  ops: string[];
}

export default function BucketAccess({ bucket, tenantId, ops }: BucketAccessProps) {
  const ref: BucketRef = tenantId ? { name: bucket, tenantId } : bucket;
  const q = tenantId ? `?tenantId=${encodeURIComponent(tenantId)}` : "";
  return (
    <div id="bucket-access" data-bucket={bucket}>
      <p>
        <a href={`/buckets/${encodeURIComponent(bucket)}${q}`}>← Objects of {bucket}</a>
      </p>
      <DocumentEditor
        id="policy-editor"
        title="Bucket policy"
        bucket={ref}
        sub="policy"
        contentType="application/json"
        missingCode="NoSuchBucketPolicy"
        sample={policySample(bucket)}
        hint="An AWS bucket policy (JSON, up to 20 KB)."
      />
      <AclEditor bucket={ref} />
      <PublicAccessSwitches
        id="bucket-public-access"
        title="Block public access (bucket)"
        load={async () => {
          try {
            return parsePublicAccessBlock(
              await (await s3("GET", ref, "", { publicAccessBlock: "" })).text(),
            );
          } catch (e) {
            // No configuration: every switch off.
            if ((e as ApiError).code === "NoSuchPublicAccessBlockConfiguration") {
              return parsePublicAccessBlock("");
            }
            throw e;
          }
        }}
        save={async (pab) => {
          await s3(
            "PUT",
            ref,
            "",
            { publicAccessBlock: "" },
            await documentBody(publicAccessBlockXml(pab)),
          );
        }}
        remove={async () => {
          await s3("DELETE", ref, "", { publicAccessBlock: "" });
        }}
      />
      <OwnershipSetting bucket={ref} />
      {ops.length > 0 && <BucketQuotaSetting bucket={bucket} tenantId={tenantId} />}
      <EncryptionSetting bucket={ref} />
      <DocumentEditor
        id="cors-editor"
        title="CORS configuration"
        bucket={ref}
        sub="cors"
        contentType="application/xml"
        missingCode="NoSuchCORSConfiguration"
        sample={CORS_SAMPLE}
        hint="CORSConfiguration XML: up to 100 rules."
      />
      {ops.length > 0 && <PolicySimulator ops={ops} bucket={bucket} tenantId={tenantId} />}
    </div>
  );
}
