/** Bucket versioning state and ListObjectVersions. */
import { S3Error } from "../errors.ts";
import {
  buildXml,
  buildXmlWithTail,
  childText,
  escapeXml,
  readXmlBody,
  type XmlObject,
} from "../xml.ts";
import { etagXml, listParams, ListTimes } from "./list.ts";
import { REPLICATION_CONFIG } from "../../features/replication/config.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { VersionEntry } from "../../storage/types.ts";

export async function getBucketVersioning(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const body: XmlObject = {};
  // A bucket that was never versioned answers an empty configuration, as S3 does.
  if (b.versioning !== "Unversioned") body.Status = b.versioning;
  return { xml: buildXml("VersioningConfiguration", body) };
}

export async function putBucketVersioning(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const doc = await readXmlBody(ctx.auth.body, {
    root: "VersioningConfiguration",
    limit: 64 * 1024,
  });
  const status = childText(doc, "Status");
  const mfa = childText(doc, "MfaDelete");
  if (status !== undefined && status !== "Enabled" && status !== "Suspended") {
    throw new S3Error("MalformedXML");
  }
  if (mfa !== undefined && mfa !== "Enabled" && mfa !== "Disabled") {
    throw new S3Error("MalformedXML");
  }
  if (mfa === "Enabled") {
    throw new S3Error("InvalidRequest", { message: "MFA Delete is not supported by this server" });
  }
  if (status === undefined) return {};
  if (
    status === "Suspended" &&
    await ctx.deps.storage.getBucketConfig(bucket.id, REPLICATION_CONFIG) !== null
  ) {
    throw new S3Error("InvalidBucketState", {
      message:
        "A replication configuration is present on this bucket, so the versioning state cannot be changed.",
    });
  }
  await ctx.deps.storage.updateBucket(bucket, (b) => {
    if (b.objectLock && status !== "Enabled") {
      throw new S3Error("InvalidBucketState", {
        message:
          "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
      });
    }
    // Once versioned, a bucket never returns to Unversioned; Suspended keeps its versions.
    return { ...b, versioning: status };
  });
  return {};
}

/**
 * One `<Version>` or `<DeleteMarker>` element, written directly like ListObjects' `<Contents>`
 * (`contentsXml`): through the generic builder, with a Date formatted per entry, a page of 1000
 * cost more than reading it.
 */
export function versionXml(
  v: VersionEntry,
  encode: (s: string) => string,
  times: ListTimes,
): string {
  const r = v.rec;
  const tag = r.deleteMarker ? "DeleteMarker" : "Version";
  let s = `<${tag}><Key>${escapeXml(encode(r.key))}</Key><VersionId>${
    escapeXml(r.versionId)
  }</VersionId><IsLatest>${v.isLatest}</IsLatest><LastModified>${
    times.format(r.lastModified)
  }</LastModified>`;
  if (!r.deleteMarker) {
    s += `<ETag>${etagXml(r.etag)}</ETag><Size>${r.size}</Size><StorageClass>${
      escapeXml(r.storageClass || "STANDARD")
    }</StorageClass>`;
  }
  const id = escapeXml(r.ownerId);
  s += `<Owner><ID>${id}</ID><DisplayName>${id}</DisplayName></Owner>`;
  if (!r.deleteMarker && r.checksum) {
    s += `<ChecksumAlgorithm>${escapeXml(r.checksum.algorithm)}</ChecksumAlgorithm><ChecksumType>${
      escapeXml(r.checksum.type)
    }</ChecksumType>`;
  }
  return s + `</${tag}>`;
}

export async function listObjectVersions(ctx: OpContext): Promise<OpResult> {
  const q = ctx.ep.query;
  const bucket = await ctx.bucket();
  const { prefix, delimiter, maxKeys, encode, encodingType: type } = listParams(q);
  const keyMarker = q.get("key-marker") ?? "";
  const versionIdMarker = q.get("version-id-marker") ?? "";
  const page = await ctx.deps.storage.listObjectVersions(bucket, {
    prefix,
    delimiter,
    keyMarker,
    versionIdMarker,
    maxKeys: maxKeys.page,
  });
  const head: XmlObject = {
    Name: bucket.name,
    Prefix: encode(prefix),
    KeyMarker: encode(keyMarker),
    VersionIdMarker: versionIdMarker,
  };
  if (page.truncated && page.nextKeyMarker !== null) {
    head.NextKeyMarker = encode(page.nextKeyMarker);
    if (page.nextVersionIdMarker !== null) head.NextVersionIdMarker = page.nextVersionIdMarker;
  }
  head.MaxKeys = maxKeys.requested;
  if (delimiter) head.Delimiter = encode(delimiter);
  head.IsTruncated = page.truncated;
  if (type) head.EncodingType = type;
  // Versions and delete markers interleave in listing order, as S3 returns them.
  const times = new ListTimes();
  let tail = "";
  for (const v of page.versions) tail += versionXml(v, encode, times);
  for (const p of page.commonPrefixes) {
    tail += `<CommonPrefixes><Prefix>${escapeXml(encode(p))}</Prefix></CommonPrefixes>`;
  }
  return { xml: buildXmlWithTail("ListVersionsResult", head, tail) };
}
