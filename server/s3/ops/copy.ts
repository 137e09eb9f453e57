/**
 * CopyObject: reads the source record's bytes through storage.openObject and writes them as a
 * new single-blob object with storage.putObject, so a copy is published exactly like a PUT.
 */
import { originOf } from "../origin.ts";
import { S3Error } from "../errors.ts";
import { buildXml, type XmlObject } from "../xml.ts";
import {
  checkRedirectLocation,
  contentHeadersFrom,
  isoTime,
  objectLockFrom,
  userMetadataFrom,
  writeConditionsFrom,
} from "../headers.ts";
import { parseTaggingHeader } from "../tags.ts";
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from "../../storage/mod.ts";
import { failedCondition, readCopySource } from "./object_get.ts";
import { storageClassFrom } from "./object_put.ts";
import { validateBucketRef, validateKey } from "../names.ts";
import { writeOwnership, writerOf } from "./acl.ts";
import { writeSseOf } from "./encryption.ts";
import { sseResponseHeaders } from "../sse.ts";
import { writeReplicationOf } from "./replication.ts";
import type { OpContext, OpResult } from "../context.ts";
import type {
  BucketRecord,
  ContentHeaders,
  ExpectedChecksum,
  ObjectRecord,
} from "../../storage/types.ts";

/** A single CopyObject source may not exceed 5 GiB (larger objects need UploadPartCopy). */
export const MAX_COPY_SOURCE = 5 * 1024 ** 3;

export interface CopySource {
  bucket: string;
  key: string;
  versionId: string | null;
}

function badSource(message: string): S3Error {
  return new S3Error("InvalidArgument", {
    message,
    fields: { ArgumentName: "x-amz-copy-source" },
  });
}

/**
 * Parses `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded, optionally followed by
 * `?versionId=...`. The split happens before decoding, so an encoded `%3F` stays part of the key.
 */
export function parseCopySource(header: string): CopySource {
  const q = header.indexOf("?");
  const rawPath = q < 0 ? header : header.slice(0, q);
  let versionId: string | null = null;
  if (q >= 0) {
    const params = new URLSearchParams(header.slice(q + 1));
    versionId = params.get("versionId");
    if (versionId === "") throw badSource("Version id cannot be the empty string");
  }
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw badSource("Invalid copy source encoding");
  }
  if (path.startsWith("/")) path = path.slice(1);
  const slash = path.indexOf("/");
  if (slash <= 0 || slash === path.length - 1) {
    throw badSource(
      "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
    );
  }
  const src = { bucket: path.slice(0, slash), key: path.slice(slash + 1), versionId };
  // Checked before the source is looked up, like the request's own bucket and key.
  validateBucketRef(src.bucket, "copy source bucket");
  validateKey(src.key);
  return src;
}

/**
 * `x-amz-copy-source-if-*` with the precedence of GET's conditionals; every failure is 412
 * (a copy never answers 304).
 */
export function checkCopySourceConditions(h: Headers, rec: ObjectRecord): void {
  const failed = failedCondition({
    ifMatch: h.get("x-amz-copy-source-if-match"),
    ifNoneMatch: h.get("x-amz-copy-source-if-none-match"),
    ifUnmodifiedSince: h.get("x-amz-copy-source-if-unmodified-since"),
    ifModifiedSince: h.get("x-amz-copy-source-if-modified-since"),
  }, rec);
  if (failed !== null) {
    throw new S3Error("PreconditionFailed", {
      fields: { Condition: `x-amz-copy-source-${failed}` },
    });
  }
}

function directive(h: Headers, name: string): "COPY" | "REPLACE" {
  const v = h.get(name);
  if (v === null) return "COPY";
  const u = v.toUpperCase();
  if (u !== "COPY" && u !== "REPLACE") {
    throw new S3Error("InvalidArgument", {
      message: name === "x-amz-metadata-directive"
        ? "Unknown metadata directive."
        : "Unknown tagging directive.",
      fields: { ArgumentName: name, ArgumentValue: v },
    });
  }
  return u;
}

/** Resolves the source bucket and checks the caller may read from it. */
async function sourceBucket(ctx: OpContext, src: CopySource): Promise<BucketRecord> {
  const bucket = src.bucket === ctx.ep.bucket
    ? await ctx.bucket()
    : await ctx.bucketNamed(src.bucket);
  // Reading the source is its own permission (s3:GetObject on the source bucket).
  const readCtx: OpContext = {
    ...ctx,
    ep: {
      op: "GetObject",
      bucket: src.bucket,
      key: src.key,
      query: new URLSearchParams(src.versionId ? { versionId: src.versionId } : {}),
      style: ctx.ep.style,
    },
    bucket: () => Promise.resolve(bucket),
  };
  await ctx.deps.authorizer.authorize(readCtx, bucket);
  return bucket;
}

/** The checksum the copy computes: the requested algorithm, else the source's. */
function copyChecksum(h: Headers, src: ObjectRecord): ExpectedChecksum | undefined {
  const requested = h.get("x-amz-checksum-algorithm")?.toUpperCase();
  if (requested) {
    if (!CHECKSUM_ALGORITHMS.includes(requested as ChecksumAlgorithm)) {
      throw new S3Error("InvalidRequest", {
        message: "Checksum algorithm provided is unsupported.",
      });
    }
    const alg = requested as ChecksumAlgorithm;
    const same = src.checksum?.algorithm === alg && src.checksum.type === "FULL_OBJECT";
    return { algorithm: alg, expected: () => (same ? src.checksum!.value : undefined) };
  }
  if (!src.checksum) return undefined;
  // A full-object checksum of the source must come out identical: a free integrity check.
  const full = src.checksum.type === "FULL_OBJECT" ? src.checksum.value : undefined;
  return { algorithm: src.checksum.algorithm, expected: () => full };
}

/**
 * The content headers a copy keeps of its source (metadata directive COPY): all but the website
 * redirect location, which S3 never copies; the request's own applies instead.
 */
function copiedContent(h: Headers, src: ObjectRecord): ContentHeaders {
  const { websiteRedirectLocation: _dropped, ...content } = src.content;
  const own = h.get("x-amz-website-redirect-location");
  return own === null
    ? content
    : { ...content, websiteRedirectLocation: checkRedirectLocation(own) };
}

/** Whether the request changes anything, which a copy onto itself requires. */
function changesSomething(h: Headers, src: ObjectRecord, metadataReplace: boolean): boolean {
  if (metadataReplace) return true;
  const sc = h.get("x-amz-storage-class");
  if (sc !== null && sc !== (src.storageClass || "STANDARD")) return true;
  return h.has("x-amz-checksum-algorithm") ||
    h.has("x-amz-server-side-encryption") ||
    h.has("x-amz-server-side-encryption-customer-algorithm") ||
    h.has("x-amz-website-redirect-location");
}

export async function copyObject(ctx: OpContext): Promise<OpResult> {
  const h = ctx.req.headers;
  const destKey = ctx.ep.key!;
  validateKey(destKey);
  const src = parseCopySource(h.get("x-amz-copy-source") ?? "");
  const metadataDirective = directive(h, "x-amz-metadata-directive");
  const taggingDirective = directive(h, "x-amz-tagging-directive");
  const destBucket = await ctx.bucket();
  const srcBucket = await sourceBucket(ctx, src);
  // Validate the request's own headers before touching any bytes.
  const storageClass = storageClassFrom(h) ?? "STANDARD";
  const replaceContent = metadataDirective === "REPLACE"
    ? { content: contentHeadersFrom(h), meta: userMetadataFrom(h) }
    : null;
  const replaceTags = taggingDirective === "REPLACE"
    ? parseTaggingHeader(h.get("x-amz-tagging")) ?? {}
    : null;
  // The source's retention is not copied: the request's lock headers or the bucket default apply.
  const lock = objectLockFrom(h, ctx.deps.clock.now());
  // A copy gets the ACL of its request, not the source's.
  const owned = await writeOwnership(ctx, destBucket, h, writerOf(ctx, destBucket));
  // Nor its encryption: the request's, else the destination bucket's default (AWS). An SSE-C
  // source's key comes in the copy-source headers (readCopySource).
  const sse = await writeSseOf(ctx, destBucket);

  return await readCopySource(ctx, srcBucket, src.key, src.versionId, async (rec, open) => {
    checkCopySourceConditions(h, rec);
    // A copy that names the source's version is how S3 restores an older version (AWS's
    // "Restoring previous versions"): only a copy of the current object onto itself is refused.
    if (
      srcBucket.id === destBucket.id && src.key === destKey && src.versionId === null &&
      !changesSomething(h, rec, metadataDirective === "REPLACE")
    ) {
      throw new S3Error("InvalidRequest", {
        message:
          "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      });
    }
    if (rec.size > MAX_COPY_SOURCE) {
      throw new S3Error("InvalidRequest", {
        message:
          `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_COPY_SOURCE}`,
      });
    }
    // A source replaced under the copy (before opening, or a multipart source losing its later
    // parts mid-copy) is read again by storage, and the new version copied.
    const tags = replaceTags ?? (rec.tags ? { ...rec.tags } : undefined);
    const repl = await writeReplicationOf(ctx, destBucket, destKey, tags);
    const written = await ctx.deps.storage.putObject(destBucket, {
      key: destKey,
      body: await open(),
      contentLength: rec.size,
      checksum: copyChecksum(h, rec),
      content: replaceContent ? replaceContent.content : copiedContent(h, rec),
      meta: replaceContent ? replaceContent.meta : { ...rec.meta },
      tags,
      storageClass,
      conditions: writeConditionsFrom(h),
      maxSize: MAX_COPY_SOURCE,
      ...lock,
      ...owned,
      ...(sse ? { sse } : {}),
      origin: originOf(ctx, "ObjectCreated:Copy"),
      ...(repl.replication ? { replication: repl.replication } : {}),
    });
    return copyResult(written, rec);
  });
}

function copyResult(written: ObjectRecord, source: ObjectRecord): OpResult {
  const result: XmlObject = {
    ETag: written.etag,
    LastModified: isoTime(written.lastModified),
  };
  if (written.checksum) {
    result.ChecksumType = written.checksum.type;
    result[`Checksum${written.checksum.algorithm}`] = written.checksum.value;
  }
  // ETag and checksum travel in the XML; only version ids are headers.
  const headers: Record<string, string> = sseResponseHeaders(written.enc, { context: true });
  if (written.versionId !== "null") headers["x-amz-version-id"] = written.versionId;
  if (source.versionId !== "null") headers["x-amz-copy-source-version-id"] = source.versionId;
  return { headers, xml: buildXml("CopyObjectResult", result) };
}
