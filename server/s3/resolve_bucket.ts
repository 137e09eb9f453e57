/**
 * The bucket an unauthenticated request names (a CORS preflight carries no credentials; an
 * actual request whose signature failed still gets its CORS headers), resolved as decision 0011
 * says (bucket_ref.ts): `tenant:bucket` names that tenant's bucket; an unqualified name resolves
 * in the namespace of the access key the request names (a presigned URL's `X-Amz-Credential`,
 * whose signature is not checked: the key only picks the namespace, it grants nothing), then in
 * the global namespace; with no known key, in the global namespace.
 */
import { isS3Error } from "./errors.ts";
import { bucketRefOf } from "./names.ts";
import { resolveBucket } from "./bucket_ref.ts";
import { namespaceOf } from "../iam/types.ts";
import type { RequestTarget } from "./endpoint.ts";
import type { S3Deps } from "./context.ts";
import type { BucketRecord } from "../storage/types.ts";

/** The access key id a request names, signed or not: presigned query first, then header. */
export function namedAccessKey(req: Request, target: RequestTarget): string | null {
  const q = target.query;
  const credential = q.get("X-Amz-Credential");
  if (credential) return credential.split("/")[0] || null;
  const v2 = q.get("AWSAccessKeyId");
  if (v2) return v2;
  const auth = req.headers.get("authorization");
  if (!auth) return null;
  const v4 = /Credential=([^/,\s]+)\//.exec(auth);
  if (v4) return v4[1];
  const sigv2 = /^AWS ([^:\s]+):/.exec(auth);
  return sigv2 ? sigv2[1] : null;
}

/**
 * The bucket `name` (as the path or host named it) of an unauthenticated request; null when
 * none exists where the name resolves.
 */
export async function resolveBucketUnsigned(
  deps: Pick<S3Deps, "storage" | "credentials" | "namespaces">,
  req: Request,
  target: RequestTarget,
  name: string,
): Promise<BucketRecord | null> {
  const ref = bucketRefOf(name);
  if (!ref) return null;
  let callerNs: string | null = null;
  if (ref.account === null) {
    const key = namedAccessKey(req, target);
    const cred = key ? await deps.credentials.lookup(key) : null;
    callerNs = cred ? namespaceOf(cred.principal) : null;
  }
  try {
    return await resolveBucket(deps.storage, deps.namespaces, callerNs, ref);
  } catch (e) {
    if (isS3Error(e) && e.code === "NoSuchBucket") return null;
    throw e;
  }
}
