/**
 * The bucket list's "Public" badge: a bucket is public when its policy status says so
 * (GetBucketPolicyStatus `IsPublic`) or its ACL grants anything to everyone (AllUsers) or to every
 * signed caller (AuthenticatedUsers), AWS's definition. Both are asked of S3 in-process as the
 * session user, so the badge shows what that user may read; any error (no policy, 501 where an
 * operation is missing, access denied) counts as "not public".
 */
import { type Authed } from "./http.ts";
import { nsParam, runS3 } from "./s3_call.ts";

/**
 * Buckets past this many in one list get no badge (`null`): two in-process requests per bucket
 * would make a long list slow, and the console shows the first rows first.
 */
export const PUBLIC_BADGE_LIMIT = 100;

const PUBLIC_GROUP =
  /<URI>\s*http:\/\/acs\.amazonaws\.com\/groups\/global\/(AllUsers|AuthenticatedUsers)\s*<\/URI>/;

/** Whether a GetBucketPolicyStatus document says the policy is public. */
export function policyStatusIsPublic(xml: string): boolean {
  return /<IsPublic>\s*true\s*<\/IsPublic>/i.test(xml);
}

/** Whether an AccessControlPolicy document grants to AllUsers or AuthenticatedUsers. */
export function aclIsPublic(xml: string): boolean {
  return PUBLIC_GROUP.test(xml);
}

async function ask(ctx: Authed, ns: string, bucket: string, sub: string): Promise<string | null> {
  const res = await runS3(ctx, {
    method: "GET",
    path: `/${encodeURIComponent(bucket)}`,
    query: [[sub, ""]],
    headers: new Headers(),
    body: null,
    tenantId: nsParam(ctx, ns),
  });
  if (!res.ok) {
    await res.body?.cancel();
    return null;
  }
  return await res.text();
}

/** Whether one bucket of namespace `ns` is public, as the session user sees it. */
export async function bucketIsPublic(ctx: Authed, ns: string, bucket: string): Promise<boolean> {
  const status = await ask(ctx, ns, bucket, "policyStatus");
  if (status !== null && policyStatusIsPublic(status)) return true;
  const acl = await ask(ctx, ns, bucket, "acl");
  return acl !== null && aclIsPublic(acl);
}

/** The badge of each bucket in order: true/false for the first PUBLIC_BADGE_LIMIT, then null. */
export function publicFlags(ctx: Authed, ns: string, names: string[]): Promise<(boolean | null)[]> {
  return Promise.all(
    names.map((name, i) => i < PUBLIC_BADGE_LIMIT ? bucketIsPublic(ctx, ns, name) : null),
  );
}
