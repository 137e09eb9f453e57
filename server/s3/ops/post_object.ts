/**
 * PostObject: browser uploads with a signed policy (multipart/form-data). The handler skips
 * authorization for this op: the form carries the credentials, so this op authenticates the
 * form, checks the policy, authorizes the form's principal, then streams the file into storage.
 */
import { originOf } from "../origin.ts";
import { S3Error } from "../errors.ts";
import { buildXml, child, children, parseXml } from "../xml.ts";
import { MAX_OBJECT_TAGS, validateTags } from "../tags.ts";
import { contentHeadersFrom, expectedChecksumFrom, userMetadataFrom } from "../headers.ts";
import { storageClassFrom, validateKey, writeResponseHeaders } from "./object_put.ts";
import { writeOwnership, writerOf } from "./acl.ts";
import { writeSseOf } from "./encryption.ts";
import { boundaryOf, MultipartReader } from "../auth/multipart_form.ts";
import {
  authenticatePostForm,
  checkPostPolicy,
  type FormFields,
  parsePostPolicy,
} from "../auth/post_policy.ts";
import { namespaceOf } from "../../iam/types.ts";
import { writeReplicationOf } from "./replication.ts";
import type { OpContext, OpResult } from "../context.ts";
import { resolveBucket } from "../bucket_ref.ts";
import { validateBucketRef } from "../names.ts";

/** S3 caps the form fields that precede the file. */
const MAX_PRE_FILE_BYTES = 20 * 1024;
/** A single field value (the policy is the largest in practice). */
const MAX_FIELD_BYTES = 20 * 1024;

/** Reads fields up to the file part; returns them and the file's name. */
async function readFieldsUntilFile(
  form: MultipartReader,
): Promise<{ fields: FormFields; filename: string }> {
  const fields: FormFields = new Map();
  let total = 0;
  const tooLarge = () =>
    new S3Error("MaxPostPreDataLengthExceededError", {
      message: "Your POST request fields preceding the upload file were too large.",
    });
  for (;;) {
    const part = await form.next();
    if (part === null) {
      throw new S3Error("InvalidArgument", {
        message: "POST requires exactly one file upload per request.",
        fields: { ArgumentName: "file", ArgumentValue: "0" },
      });
    }
    const name = part.name.toLowerCase();
    if (name === "file") {
      return { fields, filename: part.filename ?? "" };
    }
    const value = await form.text(MAX_FIELD_BYTES, tooLarge);
    total += part.name.length + value.length;
    if (total > MAX_PRE_FILE_BYTES) throw tooLarge();
    // The first occurrence wins; S3 rejects repeated fields in its policy check anyway.
    if (!fields.has(name)) fields.set(name, value);
  }
}

/** Counts the file bytes against the policy's content-length-range while they stream. */
function lengthChecked(
  body: ReadableStream<Uint8Array>,
  range: { min: number; max: number } | null,
): ReadableStream<Uint8Array> {
  if (!range) return body;
  let n = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctrl) {
        n += chunk.length;
        if (n > range.max) {
          throw new S3Error("EntityTooLarge", {
            fields: { ProposedSize: String(n), MaxSizeAllowed: String(range.max) },
          });
        }
        ctrl.enqueue(chunk);
      },
      flush() {
        if (n < range.min) {
          throw new S3Error("EntityTooSmall", {
            fields: { ProposedSize: String(n), MinSizeAllowed: String(range.min) },
          });
        }
      },
    }),
  );
}

/** The `tagging` form field: a `<Tagging><TagSet><Tag>` document, as PutObjectTagging takes. */
function taggingField(xml: string | undefined): Record<string, string> | undefined {
  if (xml === undefined) return undefined;
  const doc = parseXml(xml);
  const set = doc.name === "Tagging" ? child(doc, "TagSet") : undefined;
  if (!set) throw new S3Error("MalformedXML");
  const tags = children(set, "Tag").map((t): [string, string] => {
    const k = child(t, "Key");
    if (!k) throw new S3Error("MalformedXML");
    return [k.text, child(t, "Value")?.text ?? ""];
  });
  return validateTags(tags, MAX_OBJECT_TAGS);
}

function encodeKeyPath(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/** `success_action_redirect`: the URL with bucket, key and etag appended; null if unusable. */
function redirectTarget(raw: string, bucket: string, key: string, etag: string): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  u.searchParams.append("bucket", bucket);
  u.searchParams.append("key", key);
  u.searchParams.append("etag", etag);
  return u.toString();
}

export async function postObject(ctx: OpContext): Promise<OpResult> {
  const bucketName = ctx.ep.bucket!;
  const body = ctx.auth.body ?? ctx.req.body;
  if (!body) throw new S3Error("MalformedPOSTRequest");
  const form = new MultipartReader(body, boundaryOf(ctx.req.headers.get("content-type") ?? ""));
  try {
    const { fields, filename } = await readFieldsUntilFile(form);
    const auth = await authenticatePostForm(fields, ctx.deps.credentials);
    const rawKey = fields.get("key");
    if (rawKey === undefined) {
      throw new S3Error("InvalidArgument", {
        message:
          "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
        fields: { ArgumentName: "key", ArgumentValue: "" },
      });
    }
    // Browsers may send a full client path; S3 substitutes the base name.
    const baseName = filename.split(/[\\/]/).pop() ?? "";
    const key = rawKey.replaceAll("${filename}", baseName);
    if (key === "") {
      throw new S3Error("InvalidArgument", {
        message: "User key must have a length greater than 0.",
        fields: { ArgumentName: "key", ArgumentValue: "" },
      });
    }
    validateKey(key);

    let range: { min: number; max: number } | null = null;
    if (auth.principal) {
      const policy = parsePostPolicy(fields.get("policy")!);
      const values: FormFields = new Map(fields);
      values.set("bucket", bucketName);
      range = checkPostPolicy(policy, values, {
        now: ctx.deps.clock.now(),
        keyAlternatives: [...new Set([rawKey, key])],
      });
    }

    const ns = auth.principal ? namespaceOf(auth.principal) : "";
    const bucket = await resolveBucket(
      ctx.deps.storage,
      ctx.deps.namespaces,
      auth.principal ? ns : null,
      validateBucketRef(bucketName),
    );
    const authCtx: OpContext = {
      ...ctx,
      principal: auth.principal,
      ns,
      auth: { ...ctx.auth, principal: auth.principal, accessKeyId: auth.accessKeyId },
      bucket: () => Promise.resolve(bucket),
    };
    await ctx.deps.authorizer.authorize(authCtx, bucket);

    // Form fields stand in for the request headers a PUT would carry.
    const h = new Headers();
    for (const [k, v] of fields) {
      try {
        h.set(k, v);
      } catch { /* not a valid header name: never stored metadata */ }
    }
    // The `acl` form field is the `x-amz-acl` of a PUT.
    const aclHeaders = new Headers(h);
    if (fields.has("acl")) aclHeaders.set("x-amz-acl", fields.get("acl")!);
    const owned = await writeOwnership(authCtx, bucket, aclHeaders, writerOf(authCtx, bucket));
    // The `x-amz-server-side-encryption*` fields ask for an encryption as a PUT's headers do.
    const sse = await writeSseOf(authCtx, bucket, h);
    const tags = taggingField(fields.get("tagging"));
    const repl = await writeReplicationOf(authCtx, bucket, key, tags);
    const rec = await ctx.deps.storage.putObject(bucket, {
      key,
      body: lengthChecked(form.stream(), range),
      contentLength: null,
      contentMd5: fields.get("content-md5"),
      checksum: expectedChecksumFrom(h, new Map()),
      content: contentHeadersFrom(h),
      meta: userMetadataFrom(h),
      tags,
      storageClass: storageClassFrom(h),
      ...owned,
      ...(sse ? { sse } : {}),
      origin: originOf(authCtx, "ObjectCreated:Post"),
      ...(repl.replication && !repl.replica ? { replication: repl.replication } : {}),
    });

    const origin = new URL(ctx.req.url).origin;
    const location = `${origin}/${encodeURIComponent(bucketName)}/${encodeKeyPath(key)}`;
    const headers: Record<string, string> = { ...writeResponseHeaders(rec), location };
    const redirect = fields.get("success_action_redirect") ?? fields.get("redirect");
    if (redirect) {
      const to = redirectTarget(redirect, bucketName, key, rec.etag);
      if (to) return { status: 303, headers: { ...headers, location: to } };
    }
    const status = fields.get("success_action_status");
    if (status === "201") {
      return {
        status: 201,
        headers,
        xml: buildXml("PostResponse", {
          Location: location,
          Bucket: bucketName,
          Key: key,
          ETag: rec.etag,
        }, { ns: null }),
      };
    }
    if (status === "200") return { status: 200, headers };
    return { status: 204, headers };
  } finally {
    await form.close();
  }
}
