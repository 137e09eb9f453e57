/**
 * The multipart family: CreateMultipartUpload, UploadPart, UploadPartCopy,
 * CompleteMultipartUpload, AbortMultipartUpload, ListParts and ListMultipartUploads. Storage
 * (server/storage/multipart*.ts) keeps parts as blobs; Complete lists them without copying.
 */
import { originOf } from "../origin.ts";
import { S3Error } from "../errors.ts";
import {
  buildXml,
  children,
  childText,
  readXmlBody,
  type XmlNode,
  type XmlObject,
} from "../xml.ts";
import {
  contentHeadersFrom,
  declaredDataLength,
  expectedChecksumFrom,
  isoTime,
  objectLockFrom,
  userMetadataFrom,
  writeConditionsFrom,
} from "../headers.ts";
import { parseTaggingHeader } from "../tags.ts";
import { uriEncode } from "../auth/sigv4.ts";
import { setVersionIdHeader, storageClassFrom, validateKey } from "./object_put.ts";
import { encoderFor, parseMaxParam } from "./list.ts";
import { checkCopySourceConditions, parseCopySource } from "./copy.ts";
import { readCopySource } from "./object_get.ts";
import { addExpirationHeader } from "./lifecycle.ts";
import { writeOwnership, writerOf } from "./acl.ts";
import { transportOf, writeSseOf } from "./encryption.ts";
import { checkUploadCustomerKey, customerKeyFrom, sseResponseHeaders } from "../sse.ts";
import { LIFECYCLE_CONFIG, type LifecycleConfig } from "../../features/lifecycle/config.ts";
import { abortOf } from "../../features/lifecycle/rules.ts";
import {
  assertLockAllowed,
  CHECKSUM_ALGORITHMS,
  CHECKSUM_LENGTH,
  type ChecksumAlgorithm,
  checksumHeaderName,
  type ChecksumType,
  checksumTypeAllowed,
  type CompletePart,
  defaultChecksumType,
  fromBase64,
  MAX_PART_SIZE,
  parsePartNumber,
  type PartRecord,
} from "../../storage/mod.ts";
import { writeReplicationOf } from "./replication.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { BucketRecord, ByteRange } from "../../storage/types.ts";

function uploadIdOf(ctx: OpContext): string {
  return ctx.ep.query.get("uploadId") ?? "";
}

function owner(id: string): XmlObject {
  return { ID: id, DisplayName: id };
}

/** `x-amz-checksum-algorithm` / `x-amz-checksum-type` of CreateMultipartUpload. */
function uploadChecksumFrom(
  h: Headers,
): { algorithm: ChecksumAlgorithm; type: ChecksumType } | undefined {
  const a = h.get("x-amz-checksum-algorithm")?.trim().toUpperCase();
  const t = h.get("x-amz-checksum-type")?.trim().toUpperCase();
  if (!a) {
    if (t) {
      throw new S3Error("InvalidRequest", {
        message:
          "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
      });
    }
    return undefined;
  }
  if (!CHECKSUM_ALGORITHMS.includes(a as ChecksumAlgorithm)) {
    throw new S3Error("InvalidRequest", { message: "Checksum algorithm provided is unsupported." });
  }
  const algorithm = a as ChecksumAlgorithm;
  if (t && t !== "COMPOSITE" && t !== "FULL_OBJECT") {
    throw new S3Error("InvalidRequest", {
      message: "Value for x-amz-checksum-type header is invalid.",
    });
  }
  const type = (t as ChecksumType | undefined) ?? defaultChecksumType(algorithm);
  if (!checksumTypeAllowed(algorithm, type)) {
    throw new S3Error("InvalidRequest", {
      message:
        `The ${type} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    });
  }
  return { algorithm, type };
}

/**
 * `x-amz-abort-date` / `x-amz-abort-rule-id` of CreateMultipartUpload and ListParts: when an
 * enabled lifecycle rule with AbortIncompleteMultipartUpload covers the key, the date the
 * lifecycle worker aborts the upload (same matching: the rule's prefix; days after initiation,
 * rounded up to midnight UTC) and that rule's id; the earliest when several match.
 */
async function addAbortHeaders(
  ctx: OpContext,
  bucket: BucketRecord,
  up: { key: string; initiated: number },
  headers: Record<string, string>,
): Promise<void> {
  const cfg = await ctx.deps.storage.getBucketConfig<LifecycleConfig>(bucket.id, LIFECYCLE_CONFIG);
  const best = abortOf(cfg, up);
  if (!best) return;
  headers["x-amz-abort-date"] = new Date(best.at).toUTCString();
  headers["x-amz-abort-rule-id"] = best.ruleId;
}

function partChecksumHeaders(p: PartRecord, out: Record<string, string>): void {
  if (p.checksum) out[checksumHeaderName(p.checksum.algorithm)] = p.checksum.value;
}

export async function createMultipartUpload(ctx: OpContext): Promise<OpResult> {
  const key = ctx.ep.key!;
  validateKey(key);
  const h = ctx.req.headers;
  const bucket = await ctx.bucket();
  // Lock settings are refused up front on a bucket without Object Lock, as S3 does.
  const lock = objectLockFrom(h, ctx.deps.clock.now());
  assertLockAllowed(lock, bucket.objectLock);
  // Kept on the upload and applied by Complete.
  const owned = await writeOwnership(ctx, bucket, h, writerOf(ctx, bucket));
  const sse = await writeSseOf(ctx, bucket);
  const up = await ctx.deps.storage.createMultipartUpload(bucket, {
    key,
    content: contentHeadersFrom(h),
    meta: userMetadataFrom(h),
    tags: parseTaggingHeader(h.get("x-amz-tagging")),
    storageClass: storageClassFrom(h),
    checksum: uploadChecksumFrom(h),
    ...lock,
    ...owned,
    ...(sse ? { sse } : {}),
  });
  const headers: Record<string, string> = sseResponseHeaders(up.enc, { context: true });
  if (up.checksum) {
    headers["x-amz-checksum-algorithm"] = up.checksum.algorithm;
    headers["x-amz-checksum-type"] = up.checksum.type;
  }
  await addAbortHeaders(ctx, bucket, up, headers);
  return {
    headers,
    xml: buildXml("InitiateMultipartUploadResult", {
      Bucket: bucket.name,
      Key: key,
      UploadId: up.uploadId,
    }),
  };
}

export async function uploadPart(ctx: OpContext): Promise<OpResult> {
  const h = ctx.req.headers;
  const partNumber = parsePartNumber(ctx.ep.query.get("partNumber"));
  const bucket = await ctx.bucket();
  const contentLength = declaredDataLength(h, ctx.auth.contentLength);
  if (contentLength !== null && contentLength > MAX_PART_SIZE) throw new S3Error("EntityTooLarge");
  const customer = customerKeyFrom(h, transportOf(ctx), { forWrite: true });
  // The part is encrypted as its upload is, checked before its body is read; the upload's
  // encryption is also what the answer echoes.
  const up = await ctx.deps.storage.getMultipartUpload(bucket, ctx.ep.key!, uploadIdOf(ctx));
  checkUploadCustomerKey(up.enc, customer);
  const body = ctx.auth.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  const part = await ctx.deps.storage.uploadPart(bucket, {
    key: ctx.ep.key!,
    uploadId: uploadIdOf(ctx),
    partNumber,
    body,
    contentLength,
    contentMd5: h.get("content-md5") ?? undefined,
    checksum: expectedChecksumFrom(h, ctx.auth.trailers),
    ...(customer ? { customer } : {}),
  });
  const headers: Record<string, string> = { etag: part.etag, ...sseResponseHeaders(up.enc) };
  partChecksumHeaders(part, headers);
  return { headers };
}

/** `x-amz-copy-source-range: bytes=first-last`, both given and within the source. */
export function parseCopySourceRange(v: string | null, size: number): ByteRange | null {
  if (v === null) return null;
  const m = /^bytes=(\d+)-(\d+)$/.exec(v.trim());
  if (!m || Number(m[2]) < Number(m[1])) {
    throw new S3Error("InvalidArgument", {
      message:
        "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
      fields: { ArgumentName: "x-amz-copy-source-range", ArgumentValue: v },
    });
  }
  const start = Number(m[1]), end = Number(m[2]);
  if (end >= size) {
    throw new S3Error("InvalidArgument", {
      message: `Range specified is not valid for source object of size: ${size}`,
      fields: { ArgumentName: "x-amz-copy-source-range", ArgumentValue: v },
    });
  }
  return { start, end };
}

/** The source bucket of a copy, after checking the caller may read from it. */
async function copySourceBucket(
  ctx: OpContext,
  name: string,
  key: string,
  versionId: string | null,
) {
  const bucket: BucketRecord = name === ctx.ep.bucket
    ? await ctx.bucket()
    : await ctx.bucketNamed(name);
  await ctx.deps.authorizer.authorize({
    ...ctx,
    ep: {
      op: "GetObject",
      bucket: name,
      key,
      query: new URLSearchParams(versionId ? { versionId } : {}),
      style: ctx.ep.style,
    },
    bucket: () => Promise.resolve(bucket),
  }, bucket);
  return bucket;
}

export async function uploadPartCopy(ctx: OpContext): Promise<OpResult> {
  const h = ctx.req.headers;
  const partNumber = parsePartNumber(ctx.ep.query.get("partNumber"));
  const uploadId = uploadIdOf(ctx);
  const bucket = await ctx.bucket();
  // The upload must exist before any source bytes are read, and the part's key (SSE-C) match it.
  const up = await ctx.deps.storage.getMultipartUpload(bucket, ctx.ep.key!, uploadId);
  const customer = customerKeyFrom(h, transportOf(ctx), { forWrite: true });
  checkUploadCustomerKey(up.enc, customer);
  const src = parseCopySource(h.get("x-amz-copy-source") ?? "");
  const srcBucket = await copySourceBucket(ctx, src.bucket, src.key, src.versionId);
  return await readCopySource(ctx, srcBucket, src.key, src.versionId, async (rec, open) => {
    checkCopySourceConditions(h, rec);
    const range = parseCopySourceRange(h.get("x-amz-copy-source-range"), rec.size);
    const length = range ? range.end - range.start + 1 : rec.size;
    if (length > MAX_PART_SIZE) {
      // S3's answer when a copy source (or its range) exceeds the 5 GiB part limit.
      throw new S3Error("InvalidRequest", {
        message:
          `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PART_SIZE}`,
      });
    }
    const part = await ctx.deps.storage.uploadPart(bucket, {
      key: ctx.ep.key!,
      uploadId,
      partNumber,
      body: length === 0
        ? new ReadableStream({ start: (c) => c.close() })
        : await open(range ?? undefined),
      contentLength: length,
      ...(customer ? { customer } : {}),
    });
    const result: XmlObject = { LastModified: isoTime(part.lastModified), ETag: part.etag };
    if (part.checksum) result[`Checksum${part.checksum.algorithm}`] = part.checksum.value;
    const headers: Record<string, string> = sseResponseHeaders(up.enc);
    if (rec.versionId !== "null") headers["x-amz-copy-source-version-id"] = rec.versionId;
    return { headers, xml: buildXml("CopyPartResult", result) };
  });
}

/** The `<Part>` list of a CompleteMultipartUpload body. */
export function parseCompleteParts(doc: XmlNode): CompletePart[] {
  return children(doc, "Part").map((p) => {
    const n = childText(p, "PartNumber")?.trim();
    const etag = childText(p, "ETag")?.trim();
    if (!n || !/^\d{1,5}$/.test(n) || etag === undefined) throw new S3Error("MalformedXML");
    const checksums: CompletePart["checksums"] = {};
    for (const alg of CHECKSUM_ALGORITHMS) {
      const v = childText(p, `Checksum${alg}`)?.trim();
      if (v !== undefined) checksums[alg] = v;
    }
    const num = Number(n);
    if (num < 1 || num > 10000) {
      throw new S3Error("InvalidArgument", {
        message: "Part number must be an integer between 1 and 10000, inclusive",
        fields: { ArgumentName: "partNumber", ArgumentValue: n },
      });
    }
    return { n: num, etag, checksums };
  });
}

/** A whole-object `x-amz-checksum-<alg>` header sent with Complete. */
function completeChecksumHeader(h: Headers) {
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = h.get(checksumHeaderName(alg))?.trim();
    if (!v) continue;
    const raw = fromBase64(v.replace(/-\d+$/, ""));
    if (!raw || raw.length !== CHECKSUM_LENGTH[alg]) {
      throw new S3Error("InvalidRequest", {
        message: `Value for ${checksumHeaderName(alg)} header is invalid.`,
      });
    }
    return { algorithm: alg, value: v };
  }
  return undefined;
}

export async function completeMultipartUpload(ctx: OpContext): Promise<OpResult> {
  const h = ctx.req.headers;
  const key = ctx.ep.key!;
  const bucket = await ctx.bucket();
  const uploadId = uploadIdOf(ctx);
  let parts: CompletePart[];
  try {
    parts = parseCompleteParts(
      await readXmlBody(ctx.auth.body, { root: "CompleteMultipartUpload" }),
    );
  } catch (e) {
    if (e instanceof S3Error && e.code === "MissingRequestBodyError") {
      throw new S3Error("MalformedXML");
    }
    throw e;
  }
  // A Complete may carry the upload's customer key (AWS asks for it with checksums): it must be
  // the upload's; the parts were checked as they came.
  const customer = customerKeyFrom(h, transportOf(ctx));
  if (customer) {
    const up = await ctx.deps.storage.getMultipartUpload(bucket, key, uploadId);
    checkUploadCustomerKey(up.enc, customer);
  }
  const repl = await writeReplicationOf(
    ctx,
    bucket,
    key,
    async () => (await ctx.deps.storage.getMultipartUpload(bucket, key, uploadId)).tags,
  );
  const rec = await ctx.deps.storage.completeMultipartUpload(bucket, {
    key,
    uploadId,
    parts,
    conditions: writeConditionsFrom(h),
    expectedChecksum: completeChecksumHeader(h),
    origin: originOf(ctx, "ObjectCreated:CompleteMultipartUpload"),
    ...(repl.replication ? { replication: repl.replication } : {}),
  });
  const origin = new URL(ctx.req.url).origin;
  const result: XmlObject = {
    Location: `${origin}/${bucket.name}/${uriEncode(key, true)}`,
    Bucket: bucket.name,
    Key: key,
    ETag: rec.etag,
  };
  if (rec.checksum) {
    result[`Checksum${rec.checksum.algorithm}`] = rec.checksum.value;
    result.ChecksumType = rec.checksum.type;
  }
  // Complete echoes SSE-S3 and SSE-KMS, not the customer key headers (AWS's response shape).
  const headers: Record<string, string> = sseResponseHeaders(rec.enc, { customer: false });
  setVersionIdHeader(headers, rec);
  await addExpirationHeader(ctx, bucket, rec, headers);
  return { headers, xml: buildXml("CompleteMultipartUploadResult", result) };
}

export async function abortMultipartUpload(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  await ctx.deps.storage.abortMultipartUpload(bucket, ctx.ep.key!, uploadIdOf(ctx));
  return { status: 204 };
}

function intParam(q: URLSearchParams, name: string, max: number): number {
  const v = q.get(name);
  if (v === null || v === "") return 0;
  if (!/^\d+$/.test(v) || Number(v) > 2 ** 31 - 1) {
    throw new S3Error("InvalidArgument", {
      message: `Provided ${name} not an integer or within integer range`,
      fields: { ArgumentName: name, ArgumentValue: v },
    });
  }
  return Math.min(Number(v), max);
}

export async function listParts(ctx: OpContext): Promise<OpResult> {
  const q = ctx.ep.query;
  const key = ctx.ep.key!;
  const bucket = await ctx.bucket();
  const maxParts = parseMaxParam(q, "max-parts");
  const marker = intParam(q, "part-number-marker", 10000);
  const page = await ctx.deps.storage.listParts(bucket, key, uploadIdOf(ctx), {
    marker,
    maxParts,
  });
  const up = page.upload;
  const body: XmlObject = {
    Bucket: bucket.name,
    Key: key,
    UploadId: up.uploadId,
    PartNumberMarker: marker,
  };
  if (page.parts.length) body.NextPartNumberMarker = page.parts[page.parts.length - 1].n;
  body.MaxParts = maxParts;
  body.IsTruncated = page.truncated;
  body.Part = page.parts.map((p) => {
    const e: XmlObject = {
      PartNumber: p.n,
      LastModified: isoTime(p.lastModified),
      ETag: p.etag,
      Size: p.size,
    };
    if (p.checksum) e[`Checksum${p.checksum.algorithm}`] = p.checksum.value;
    return e;
  });
  body.Initiator = owner(up.ownerId);
  body.Owner = owner(up.ownerId);
  body.StorageClass = up.storageClass;
  if (up.checksum) {
    body.ChecksumAlgorithm = up.checksum.algorithm;
    body.ChecksumType = up.checksum.type;
  }
  const headers: Record<string, string> = {};
  await addAbortHeaders(ctx, bucket, up, headers);
  return { headers, xml: buildXml("ListPartsResult", body) };
}

export async function listMultipartUploads(ctx: OpContext): Promise<OpResult> {
  const q = ctx.ep.query;
  const bucket = await ctx.bucket();
  const { encode, type } = encoderFor(q);
  const prefix = q.get("prefix") ?? "";
  const delimiter = q.get("delimiter") ?? "";
  const keyMarker = q.get("key-marker") ?? "";
  const uploadIdMarker = keyMarker ? q.get("upload-id-marker") ?? "" : "";
  const maxUploads = parseMaxParam(q, "max-uploads");
  const page = await ctx.deps.storage.listMultipartUploads(bucket, {
    prefix,
    delimiter,
    keyMarker,
    uploadIdMarker,
    maxUploads,
  });
  const body: XmlObject = {
    Bucket: bucket.name,
    KeyMarker: encode(keyMarker),
    UploadIdMarker: uploadIdMarker,
  };
  if (page.truncated) {
    body.NextKeyMarker = encode(page.nextKeyMarker ?? "");
    body.NextUploadIdMarker = page.nextUploadIdMarker ?? "";
  }
  if (type) body.EncodingType = type;
  if (delimiter) body.Delimiter = encode(delimiter);
  body.Prefix = encode(prefix);
  body.MaxUploads = maxUploads;
  body.IsTruncated = page.truncated;
  body.Upload = page.uploads.map((u) => {
    const e: XmlObject = {
      Key: encode(u.key),
      UploadId: u.uploadId,
      Initiator: owner(u.ownerId),
      Owner: owner(u.ownerId),
      StorageClass: u.storageClass,
      Initiated: isoTime(u.initiated),
    };
    if (u.checksum) {
      e.ChecksumAlgorithm = u.checksum.algorithm;
      e.ChecksumType = u.checksum.type;
    }
    return e;
  });
  body.CommonPrefixes = page.commonPrefixes.map((p) => ({ Prefix: encode(p) }));
  return { xml: buildXml("ListMultipartUploadsResult", body) };
}
