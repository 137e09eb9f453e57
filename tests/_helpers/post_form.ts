/**
 * Browser-style POST uploads signed with SigV4 the way AWS documents it (the SDK's presigned-post
 * package is not available offline): a policy limited to the bucket, the key and the given
 * fields, signed with the key's signing key.
 */
import { createHmac } from "node:crypto";
import { REGION } from "./server.ts";

export interface PostUpload {
  endpoint: string;
  bucket: string;
  key: string;
  cred: { key: string; secret: string };
  /** Form fields before the file, each allowed by an exact-match condition. */
  fields?: Record<string, string>;
  file: Uint8Array | string;
}

/** The signed form of a POST upload. */
export function v4PostForm(u: PostUpload): FormData {
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const credential = `${u.cred.key}/${day}/${REGION}/s3/aws4_request`;
  const fields = u.fields ?? {};
  const policy = btoa(JSON.stringify({
    expiration: new Date(Date.now() + 600_000).toISOString(),
    conditions: [
      { bucket: u.bucket },
      { key: u.key },
      ...Object.entries(fields).map(([k, v]) => ({ [k]: v })),
      { "x-amz-algorithm": "AWS4-HMAC-SHA256" },
      { "x-amz-credential": credential },
      { "x-amz-date": amzDate },
    ],
  }));
  let k: Uint8Array = createHmac("sha256", "AWS4" + u.cred.secret).update(day).digest();
  for (const part of [REGION, "s3", "aws4_request"]) {
    k = createHmac("sha256", k).update(part).digest();
  }
  const form = new FormData();
  form.append("key", u.key);
  for (const [name, v] of Object.entries(fields)) form.append(name, v);
  form.append("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  form.append("X-Amz-Credential", credential);
  form.append("X-Amz-Date", amzDate);
  form.append("Policy", policy);
  form.append("X-Amz-Signature", createHmac("sha256", k).update(policy).digest("hex"));
  form.append("file", new Blob([u.file as BlobPart]), "upload.bin");
  return form;
}

/** Sends a POST upload to its bucket. */
export async function postObject(u: PostUpload): Promise<Response> {
  return await fetch(`${u.endpoint}/${u.bucket}`, { method: "POST", body: v4PostForm(u) });
}
