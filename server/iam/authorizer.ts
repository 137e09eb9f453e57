/**
 * The default authorizer: authenticated principals act within their namespace; anonymous
 * requests are denied (public access arrives with bucket policies and ACLs).
 */
import { S3Error } from "../s3/errors.ts";
import type { Authorizer } from "../s3/context.ts";

export const ownerOnlyAuthorizer: Authorizer = {
  authorize(ctx, bucket) {
    if (!ctx.principal) return Promise.reject(new S3Error("AccessDenied"));
    if (bucket && bucket.ns !== ctx.ns) return Promise.reject(new S3Error("AccessDenied"));
    if (bucket && !ctx.principal.isAdmin && bucket.ownerId !== ctx.principal.userId) {
      return Promise.reject(new S3Error("AccessDenied"));
    }
    return Promise.resolve();
  },
};
