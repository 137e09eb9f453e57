/** DeleteObject and DeleteObjects (multi-object delete). */
import { originOf } from "../origin.ts";
import { isS3Error, S3Error } from "../errors.ts";
import { buildXml, child, children, childText, parseXml, type XmlObject } from "../xml.ts";
import { writeConditionsFrom } from "../headers.ts";
import { readIntegrityCheckedBody, utf8Text } from "../body.ts";
import { validateKey } from "../names.ts";
import { bypassGovernance } from "./lock.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { BucketRecord, WriteConditions } from "../../storage/types.ts";

/** S3 accepts at most this many keys in one DeleteObjects request. */
export const MAX_DELETE_KEYS = 1000;
/** 1000 keys of 1024 bytes with their XML comfortably fit; more is not a valid request. */
const MAX_DELETE_BODY = 4 * 1024 * 1024;
/** Keys deleted at the same time within one DeleteObjects request. */
const DELETE_PARALLELISM = 16;

export interface DeletedKey {
  versionId?: string;
  deleteMarker?: boolean;
  deleteMarkerVersionId?: string;
}

/**
 * The one place that deletes `(key, versionId)` from a bucket, for DeleteObject and each key of
 * DeleteObjects. Idempotent: a missing key is a success. Versioned deletes plug in here.
 */
export async function deleteKey(
  ctx: OpContext,
  bucket: BucketRecord,
  key: string,
  versionId: string | null,
  opts: { conditions?: WriteConditions; bypassGovernance: boolean },
): Promise<DeletedKey> {
  // Versioning and Object Lock are decided by the storage layer (versions.ts): a marker on
  // versioned buckets, removal of the version for good with a versionId, locks permitting.
  const r = await ctx.deps.storage.deleteObject(bucket, key, {
    conditions: opts.conditions,
    versionId: versionId ?? undefined,
    bypassGovernance: opts.bypassGovernance,
    ownerId: ctx.principal?.userId,
    origin: originOf(ctx, "ObjectRemoved:Delete"),
  });
  if (versionId !== null) {
    return r?.deleteMarker
      ? { versionId, deleteMarker: true, deleteMarkerVersionId: versionId }
      : { versionId };
  }
  if (r?.deleteMarker) return { deleteMarker: true, deleteMarkerVersionId: r.versionId };
  return {};
}

function deletedHeaders(d: DeletedKey): Record<string, string> {
  const h: Record<string, string> = {};
  const v = d.versionId ?? d.deleteMarkerVersionId;
  if (v !== undefined) h["x-amz-version-id"] = v;
  if (d.deleteMarker) h["x-amz-delete-marker"] = "true";
  return h;
}

export async function deleteObject(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const d = await deleteKey(
    ctx,
    bucket,
    ctx.ep.key!,
    ctx.ep.query.get("versionId"),
    {
      conditions: writeConditionsFrom(ctx.req.headers),
      bypassGovernance: await bypassGovernance(ctx),
    },
  );
  return { status: 204, headers: deletedHeaders(d) };
}

export interface DeleteRequest {
  quiet: boolean;
  objects: { key: string; versionId: string | null }[];
}

/** Parses `<Delete><Quiet/><Object><Key/><VersionId/></Object>...</Delete>`. */
export function parseDeleteRequest(text: string): DeleteRequest {
  if (!text.trim()) throw new S3Error("MalformedXML");
  const doc = parseXml(text);
  if (doc.name !== "Delete") throw new S3Error("MalformedXML");
  const quietText = childText(doc, "Quiet")?.trim().toLowerCase();
  if (quietText !== undefined && quietText !== "true" && quietText !== "false") {
    throw new S3Error("MalformedXML");
  }
  const nodes = children(doc, "Object");
  if (nodes.length === 0 || nodes.length > MAX_DELETE_KEYS) throw new S3Error("MalformedXML");
  const objects = nodes.map((o) => {
    const keyNode = child(o, "Key");
    if (!keyNode || keyNode.text === "") throw new S3Error("MalformedXML");
    const v = childText(o, "VersionId");
    return { key: keyNode.text, versionId: v === undefined || v === "" ? null : v };
  });
  return { quiet: quietText === "true", objects };
}

export async function deleteObjects(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const bytes = await readIntegrityCheckedBody(
    ctx.req,
    ctx.auth.body,
    ctx.auth.trailers,
    MAX_DELETE_BODY,
  );
  const req = parseDeleteRequest(utf8Text(bytes));
  // Asked once for the request, not once per key (it may consult the authorizer).
  const bypass = await bypassGovernance(ctx);
  const results: XmlObject[] = new Array(req.objects.length);
  const failed: boolean[] = new Array(req.objects.length).fill(false);
  let next = 0;
  const worker = async () => {
    while (next < req.objects.length) {
      const i = next++;
      const { key, versionId } = req.objects[i];
      try {
        validateKey(key);
        const d = await deleteKey(ctx, bucket, key, versionId, { bypassGovernance: bypass });
        const entry: XmlObject = { Key: key };
        if (d.versionId !== undefined) entry.VersionId = d.versionId;
        if (d.deleteMarker) entry.DeleteMarker = true;
        if (d.deleteMarkerVersionId !== undefined) {
          entry.DeleteMarkerVersionId = d.deleteMarkerVersionId;
        }
        results[i] = entry;
      } catch (e) {
        let err: S3Error;
        if (isS3Error(e)) err = e;
        else {
          ctx.deps.log.error("delete failed", { key, error: String((e as Error)?.stack ?? e) });
          err = new S3Error("InternalError");
        }
        const entry: XmlObject = { Key: key };
        if (versionId !== null) entry.VersionId = versionId;
        entry.Code = err.code;
        entry.Message = err.message;
        results[i] = entry;
        failed[i] = true;
      }
    }
  };
  await Promise.all(Array.from({ length: DELETE_PARALLELISM }, worker));
  const deleted = req.quiet ? [] : results.filter((_, i) => !failed[i]);
  const errors = results.filter((_, i) => failed[i]);
  return { xml: buildXml("DeleteResult", { Deleted: deleted, Error: errors }) };
}
